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
    /// Prometheus exporter-toolkit web configuration (YAML): TLS certificate and key, client
    /// CA, basic-auth users with bcrypt hashes (docs/fleet.md).
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<PathBuf>,
    #[command(flatten)]
    pub log: crate::logging::LogArgs,
}

/// Serves until stopped (clean); a bad configuration or a busy address is an input error.
pub async fn run(args: Args) -> anyhow::Result<Exit> {
    crate::logging::install(&args.log);
    let config = ServeConfig::load(&args.config)?;
    let modules: Vec<String> = config.modules.keys().cloned().collect();
    let web = match &args.web_config_file {
        Some(path) => {
            Some(interloper_serve::web::WebConfig::load(path).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let scheme = match web.as_ref().and_then(|w| w.tls.as_ref()) {
        Some(_) => "https",
        None => "http",
    };
    let mut server = Server::bind(args.listen, config)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {}: {e}", args.listen))?;
    if let Some(web) = web {
        server = server.with_web(web);
    }
    let address = server.local_addr()?;
    log::info!(
        address:% = address,
        probe = format!("{scheme}://{address}/probe?target=URL&module=NAME"),
        metrics = format!("{scheme}://{address}/metrics"),
        modules = modules.join(",");
        "interloper serve listening"
    );
    server.exporter().set_config_path(args.config.clone());
    tokio::spawn(reload_on_hangup(server.exporter()));
    server.run(crate::out::stop_signal()).await;
    Ok(Exit::Clean)
}

/// On each SIGHUP: `results_log` reopened (logrotate's `postrotate`), then the configuration
/// read again; a bad file keeps the running one, with an error line and
/// `interloper_serve_config_last_reload_successful 0` (the exporter logs either outcome).
async fn reload_on_hangup(exporter: std::sync::Arc<interloper_serve::Exporter>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            log::debug!(signal = "SIGHUP"; "reloading");
            let _ = exporter.reload_file();
        }
    }
    #[cfg(not(unix))]
    let _ = exporter;
}
