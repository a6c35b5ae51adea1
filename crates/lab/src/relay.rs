//! A TCP relay standing for an instance's second address (another load-balancer node, an IPv6
//! path): it listens on 127.0.0.2 at the instance's port and forwards to the main address,
//! resetting or holding some connections, seeded per connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::AddressFaults;
use crate::rng::SplitMix;

/// Connections relayed at once; more wait for a slot (the lab is for one user).
const MAX_RELAYED: usize = 256;
/// A relayed connection lives at most this long.
const MAX_AGE: Duration = Duration::from_secs(120);

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Relay,
    Hold(Duration),
    Reset,
}

fn fate(faults: &AddressFaults, seed: u64, n: u64) -> Fate {
    let mut rng = SplitMix::for_request(seed, n);
    // Fixed order of draws, so one setting never shifts the other's decisions.
    let reset = rng.chance(faults.reset_probability);
    let hold = rng.chance(faults.stall_probability);
    if reset {
        Fate::Reset
    } else if hold {
        Fate::Hold(faults.stall)
    } else {
        Fate::Relay
    }
}

/// Binds 127.0.0.2 at `main`'s port and relays to `main`.
pub(crate) async fn start(
    main: SocketAddr,
    faults: AddressFaults,
    seed: u64,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<SocketAddr> {
    let want = SocketAddr::from(([127, 0, 0, 2], main.port()));
    let listener = TcpListener::bind(want).await.map_err(|e| {
        anyhow::anyhow!("lab: second address {want}: {e} (127.0.0.2 must be a loopback address)")
    })?;
    let addr = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(MAX_RELAYED));
    let count = AtomicU64::new(0);
    tasks.spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            let Ok((client, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            while conns.try_join_next().is_some() {}
            let n = count.fetch_add(1, Ordering::Relaxed);
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let faults = faults.clone();
            conns.spawn(async move {
                let _slot = slot;
                relay(client, main, fate(&faults, seed, n)).await;
            });
        }
    });
    Ok(addr)
}

async fn relay(mut client: TcpStream, main: SocketAddr, fate: Fate) {
    match fate {
        Fate::Reset => {
            // Linger 0: closing sends RST, as a broken node does.
            let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
            return;
        }
        Fate::Hold(d) => tokio::time::sleep(d).await,
        Fate::Relay => {}
    }
    let Ok(mut upstream) = TcpStream::connect(main).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let _ = tokio::time::timeout(
        MAX_AGE,
        tokio::io::copy_bidirectional(&mut client, &mut upstream),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Fate, fate};
    use crate::AddressFaults;

    #[test]
    fn fates_repeat_and_follow_the_shares() {
        let f = AddressFaults {
            stall_probability: 0.3,
            stall: Duration::from_secs(2),
            reset_probability: 0.1,
        };
        let a: Vec<Fate> = (0..200).map(|n| fate(&f, 5, n)).collect();
        let b: Vec<Fate> = (0..200).map(|n| fate(&f, 5, n)).collect();
        assert_eq!(a, b);
        let resets = a.iter().filter(|x| **x == Fate::Reset).count();
        let holds = a.iter().filter(|x| matches!(x, Fate::Hold(_))).count();
        assert!((5..=40).contains(&resets), "{resets}");
        assert!((30..=100).contains(&holds), "{holds}");
        let clean = AddressFaults::default();
        assert!((0..100).all(|n| fate(&clean, 5, n) == Fate::Relay));
    }
}
