//! A witness with a self-signed certificate for `localhost`, until Ctrl-C:
//! `cargo run -p interloper-echo --example witness -- 127.0.0.1:8443`.

use interloper_echo::{CertSource, EchoConfig, EchoServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".into())
        .parse()?;
    let config = EchoConfig::new(
        listen,
        CertSource::SelfSigned {
            names: vec!["localhost".into()],
        },
    );
    let server = EchoServer::bind(config).await?;
    eprintln!("witness on https://{}/", server.local_addr());
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    Ok(())
}
