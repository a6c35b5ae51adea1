//! A path with latency: a TCP relay on loopback that delivers every byte, and every close, a
//! fixed time after it was sent, in both directions — what a long-distance link does and
//! loopback never does. On loopback a server's close reaches the client at once, so a client
//! always sees a closed keep-alive connection before reusing it; over a slow path the close and
//! the next request can cross on the wire, which is the race the probe must survive.
//!
//! Like the fault servers, it runs its own single-threaded tokio runtime on a background
//! thread, listens on `127.0.0.1:0` and stops on `Drop`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Chunks in flight per direction before the reader waits.
const IN_FLIGHT: usize = 256;
/// Upper bound on a relayed connection's life, so a broken test cannot hang.
const MAX_LIFETIME: Duration = Duration::from_secs(60);

/// A running relay to one upstream address with a one-way delay.
#[derive(Debug)]
pub struct SlowPath {
    /// Where clients connect (127.0.0.1).
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowPath {
    /// Relays each connection to `upstream`, every byte and close arriving `one_way` after it
    /// was sent.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> anyhow::Result<SlowPath> {
        let std_listener =
            std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the relay runtime")?;
        let thread = std::thread::Builder::new()
            .name(format!("slow-path-{addr}"))
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    let accept_loop = async {
                        while let Ok((client, _)) = listener.accept().await {
                            tokio::spawn(async move {
                                let _ = tokio::time::timeout(
                                    MAX_LIFETIME,
                                    relay(client, upstream, one_way),
                                )
                                .await;
                            });
                        }
                    };
                    tokio::select! {
                        _ = accept_loop => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .context("spawning the relay thread")?;
        Ok(SlowPath {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for SlowPath {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, one_way: Duration) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        delayed(client_read, server_write, one_way),
        delayed(server_read, client_write, one_way),
    );
}

/// Copies `from` to `to`, each chunk (and the end of the stream, as a FIN) written `delay`
/// after it was read.
async fn delayed(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>(IN_FLIGHT);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let chunk = match from.read(&mut buf).await {
                Ok(n) if n > 0 => buf.get(..n).map(<[u8]>::to_vec),
                // End of stream or reset: the far side sees the connection end, later.
                _ => None,
            };
            let end = chunk.is_none();
            if tx.send((Instant::now() + delay, chunk)).await.is_err() || end {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            match chunk {
                Some(bytes) => {
                    if to.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    return;
                }
            }
        }
    };
    tokio::join!(reader, writer);
}
