//! The harness pieces every crate's tests share: a spawned process is killed with what it
//! started, its waits end with its output quoted, a log is waited for by its lines, and the
//! recording TLS client reports the chain a real server presented and the random it sent.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use interloper_testkit::{
    Nginx, NginxOptions, Spawned, free_port, recording_client_config, wait_for_lines,
};
use rustls::pki_types::ServerName;

/// Whether `pid` is a live process (a zombie is not: it waits only to be reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses.
            let after = stat.rsplit_once(") ")?.1;
            after.chars().next()
        })
        .is_some_and(|state| state != 'Z')
}

fn sh(script: &str) -> Spawned {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    Spawned::start(cmd).expect("sh starts")
}

#[test]
fn dropping_a_spawned_process_kills_it_and_the_children_it_started() {
    let mut parent = sh("sleep 300 & echo \"child $!\"; wait");
    let line = parent
        .wait_for_line("child ", Duration::from_secs(10))
        .expect("the shell names its child");
    let child: u32 = line
        .trim_start_matches("child ")
        .trim()
        .parse()
        .expect("a pid");
    let shell = parent.pid();
    assert!(alive(shell) && alive(child));
    drop(parent);
    let deadline = Instant::now() + Duration::from_secs(5);
    while (alive(shell) || alive(child)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(shell), "the process itself is gone");
    assert!(!alive(child), "and the child it started");
}

#[test]
fn waiting_for_a_line_ends_when_the_process_exits_quoting_its_output() {
    let mut quitter = sh("echo started; echo 'bad flag' >&2; exit 3");
    let err = quitter
        .wait_for_line("ready", Duration::from_secs(10))
        .expect_err("it never prints the line");
    let text = format!("{err:#}");
    assert!(text.contains("exited"), "{text}");
    assert!(
        text.contains("started") && text.contains("bad flag"),
        "{text}"
    );
}

#[test]
fn waiting_for_a_line_finds_it_on_stderr_and_for_ports_gives_up_in_time() {
    let mut talker = sh("echo 'listening soon' >&2; sleep 300");
    let line = talker
        .wait_for_line("listening", Duration::from_secs(10))
        .expect("stderr is read too");
    assert_eq!(line, "listening soon");
    assert_eq!(talker.stderr(), "listening soon\n");
    assert_eq!(talker.stdout(), "");

    let started = Instant::now();
    let err = talker
        .wait_for_ports(&[free_port()], Duration::from_millis(300))
        .expect_err("nothing listens there");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(format!("{err:#}").contains("did not listen"), "{err:#}");
}

#[test]
fn a_spawned_listener_is_waited_for_by_its_port() {
    let port = free_port();
    let script = format!(
        "exec python3 -c 'import socket,time; s=socket.socket(); \
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
         s.bind((\"127.0.0.1\", {port})); s.listen(); time.sleep(300)'"
    );
    let mut listener = sh(&script);
    listener
        .wait_for_ports(&[port], Duration::from_secs(20))
        .expect("python listens");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(listener);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn wait_for_lines_returns_once_the_file_has_them_or_when_time_is_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("access.log");
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for i in 0..5 {
                std::thread::sleep(Duration::from_millis(50));
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("open");
                writeln!(f, "line {i}").expect("write");
            }
        })
    };
    assert_eq!(wait_for_lines(&log, 5, Duration::from_secs(10)), 5);
    writer.join().expect("writer");

    let started = Instant::now();
    assert_eq!(wait_for_lines(&log, 6, Duration::from_millis(200)), 5);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let missing = dir.path().join("never-written.log");
    assert_eq!(wait_for_lines(&missing, 1, Duration::from_millis(50)), 0);
}

#[test]
fn the_recording_client_sees_the_chain_nginx_serves_and_its_own_random() {
    let nginx = Nginx::start(NginxOptions::default()).expect("nginx");
    let (mut config, recording) = recording_client_config().expect("config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from("localhost").expect("name"),
    )
    .expect("connection");
    let sock = TcpStream::connect(("127.0.0.1", nginx.https_port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    write!(
        tls,
        "GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    assert!(response.starts_with(b"HTTP/1.1 200"), "{response:?}");

    let seen = recording.seen();
    let served = nginx.pki.served_chain_der().expect("served chain");
    assert_eq!(served.len(), 2, "leaf and CA");
    assert_eq!(seen.chain, served);
    assert_eq!(seen.client_random.as_ref().map(Vec::len), Some(32));
}

#[test]
fn a_process_that_exits_leaves_nothing_behind_and_takes_no_more_signals() {
    let mut parent = sh("sleep 300 & echo \"child $!\"");
    let status = parent
        .wait_for_exit(Duration::from_secs(10))
        .expect("the shell ends by itself");
    assert!(status.success());
    let child: u32 = parent
        .stdout()
        .trim()
        .trim_start_matches("child ")
        .parse()
        .expect("a pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(child), "the child it left in its group is killed");
    assert!(
        parent.signal("HUP").is_err(),
        "its pid may name another process now"
    );
    assert_eq!(parent.exit_status(), Some(status));

    let mut sleeper = sh("sleep 300");
    let err = sleeper
        .wait_for_exit(Duration::from_millis(200))
        .expect_err("it does not end in time");
    assert!(format!("{err:#}").contains("did not finish"), "{err:#}");
    assert_eq!(sleeper.exit_status(), None);
}
