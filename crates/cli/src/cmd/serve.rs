//! `interloper serve`: the Prometheus exporter. Everything is in `interloper_serve`; this reads
//! the configuration, binds, reloads on SIGHUP and stops on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use interloper_serve::{DEFAULT_LISTEN, ServeConfig, Server};

use crate::exit::Exit;

/// Arguments of `interloper serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The configuration (TOML: `[server]` and `[module.NAME]` tables; see docs/fleet.md).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address to listen on (keep it on loopback or a monitoring network: /probe makes this
    /// host send requests to the targets it is given, within the modules' allowed_hosts).
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
}

/// Serves until stopped (clean); a bad configuration or a busy address is an input error.
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    let config = ServeConfig::load(&args.config)?;
    let modules: Vec<String> = config.modules.keys().cloned().collect();
    let server = Server::bind(args.listen, config)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {}: {e}", args.listen))?;
    eprintln!(
        "interloper serve: on http://{}/probe?target=URL&module=NAME (modules: {}); /metrics for the exporter",
        server.local_addr()?,
        modules.join(", ")
    );
    tokio::spawn(reload_on_hangup(server.exporter(), args.config.clone()));
    server.run(crate::out::stop_signal()).await;
    Ok(Exit::Clean)
}

/// Reloads the configuration on each SIGHUP; a bad file keeps the running one, with a warning.
async fn reload_on_hangup(exporter: std::sync::Arc<interloper_serve::Exporter>, path: PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match ServeConfig::load(&path) {
                Ok(config) => {
                    exporter.reload(config);
                    eprintln!("interloper serve: reloaded {}", path.display());
                }
                Err(e) => eprintln!(
                    "interloper serve: reload refused, keeping the running configuration: {e}"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (exporter, path);
}
