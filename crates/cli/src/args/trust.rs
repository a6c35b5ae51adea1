//! Which certificates are trusted and expected: the trust flags, declared once.
//!
//! Three groups, so that each command offers only the flags that mean something to it:
//! [`Roots`] (every command that verifies a chain: `check`, `tls`, `probe`), [`Trust`] (roots
//! plus the chain-analysis flags: `check`, `tls`) and [`Insecure`] (`check`, `probe`; `tls`
//! and `pin` examine any chain anyway).

use std::path::PathBuf;

use interloper_chain::Pin;
use interloper_chain::{TlsPath, TlsPathOptions, TrustFiles};
use interloper_probe::ProbeConfig;

use super::parse;

/// The roots a connection trusts.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Trust")]
pub struct Roots {
    /// Also trust the CA certificates in this PEM file (counted as a local root); repeatable.
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Do not trust the OS store (nor read it as the local roots): only --cacert (and
    /// --public-roots) anchors.
    #[arg(long)]
    pub no_os_roots: bool,
}

impl Roots {
    /// Puts these roots into a probe configuration; a `--cacert` that is not a file is an
    /// input error.
    pub fn apply(&self, cfg: &mut ProbeConfig) -> anyhow::Result<()> {
        for f in &self.cacert {
            if !f.is_file() {
                anyhow::bail!("--cacert {}: no such file", f.display());
            }
        }
        cfg.cacert_files.clone_from(&self.cacert);
        cfg.use_os_roots = !self.no_os_roots;
        Ok(())
    }
}

/// The roots, what counts as public, and the pins a chain is judged against.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Trust")]
pub struct Trust {
    #[command(flatten)]
    pub roots: Roots,
    /// Public roots to use instead of Mozilla's list (PEM), e.g. a test CA; also trusted for
    /// connecting.
    #[arg(long, value_name = "FILE")]
    pub public_roots: Option<PathBuf>,
    /// A root your organisation runs (PEM): trusted, and a chain that ends in it is your own
    /// PKI, not an unknown local root that could be inspection; repeatable.
    #[arg(long = "private-root", value_name = "FILE")]
    pub private_roots: Vec<PathBuf>,
    /// Expected SPKI pin, sha256//BASE64 (as curl's --pinnedpubkey; `interloper pin` prints
    /// them); repeatable.
    #[arg(long, value_name = "sha256//BASE64", value_parser = parse::pin)]
    pub expect_pin: Vec<Pin>,
}

impl Trust {
    /// Puts the roots into a probe configuration: the user's public and private roots are
    /// trusted for connecting too; a `--private-root` that is not a file is an input error.
    pub fn apply(&self, cfg: &mut ProbeConfig) -> anyhow::Result<()> {
        self.roots.apply(cfg)?;
        self.check_private_roots()?;
        cfg.cacert_files.extend(self.public_roots.iter().cloned());
        cfg.cacert_files.extend(self.private_roots.iter().cloned());
        Ok(())
    }

    /// Every `--private-root` names a file.
    pub fn check_private_roots(&self) -> anyhow::Result<()> {
        for f in &self.private_roots {
            if !f.is_file() {
                anyhow::bail!("--private-root {}: no such file", f.display());
            }
        }
        Ok(())
    }

    /// The chain analysis options these flags describe (no expected leaf, built-in products).
    pub fn tls_path_options(&self) -> TlsPathOptions {
        TlsPathOptions {
            public_roots: self.public_roots.clone(),
            cacert: self.roots.cacert.clone(),
            private_roots: self.private_roots.clone(),
            use_os_roots: !self.roots.no_os_roots,
            pins: self.expect_pin.clone(),
            expect_cert: None,
            products: None,
        }
    }
}

/// This machine's files and OS trust store, read for the chain judgement (`tls`, `pcap`):
/// the binary reads, `interloper_chain::TlsPath` judges.
pub(crate) struct LocalTrustFiles;

impl TrustFiles for LocalTrustFiles {
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn os_roots(&self) -> (Vec<Vec<u8>>, Vec<String>) {
        let loaded = rustls_native_certs::load_native_certs();
        (
            loaded.certs.iter().map(|c| c.as_ref().to_vec()).collect(),
            loaded.errors.iter().map(ToString::to_string).collect(),
        )
    }
}

/// The chain judgement `opts` describes, its files read from this machine.
pub fn load_tls_path(opts: &TlsPathOptions) -> anyhow::Result<TlsPath> {
    Ok(TlsPath::load(opts, &LocalTrustFiles)?)
}

/// `-k`: carry on when the chain does not verify.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Trust")]
pub struct Insecure {
    /// Proceed when a certificate does not verify (the chain and the error are still
    /// recorded and analysed; no header given with -H is sent over it).
    #[arg(short = 'k', long)]
    pub insecure_skip_verify: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        trust: Trust,
        #[command(flatten)]
        insecure: Insecure,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
    }

    #[test]
    fn trust_reaches_the_probe_and_the_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "").unwrap();
        let ca = ca.to_str().unwrap();
        let pin = Pin::of_spki(b"any key").to_string();
        let cli = parse(&[
            "--cacert",
            ca,
            "--public-roots",
            "/pub.pem",
            "--no-os-roots",
            "--expect-pin",
            &pin,
            "-k",
        ])
        .unwrap();
        assert!(cli.insecure.insecure_skip_verify);
        let mut cfg = ProbeConfig::default();
        cli.trust.apply(&mut cfg).unwrap();
        assert!(!cfg.use_os_roots);
        assert_eq!(
            cfg.cacert_files,
            [PathBuf::from(ca), PathBuf::from("/pub.pem")]
        );
        let opts = cli.trust.tls_path_options();
        assert_eq!(
            opts.pins
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [pin]
        );
        assert!(!opts.use_os_roots);
        assert_eq!(opts.public_roots, Some(PathBuf::from("/pub.pem")));
    }

    #[test]
    fn defaults_trust_the_os_store_and_verify() {
        let cli = parse(&[]).unwrap();
        let mut cfg = ProbeConfig::default();
        cli.trust.apply(&mut cfg).unwrap();
        assert!(cfg.use_os_roots && cfg.cacert_files.is_empty());
        assert!(!cli.insecure.insecure_skip_verify);
        assert!(cli.trust.tls_path_options().use_os_roots);
    }

    #[test]
    fn a_missing_cacert_is_an_input_error_and_a_bad_pin_a_usage_error() {
        let cli = parse(&["--cacert", "/nonexistent.pem"]).unwrap();
        let e = cli.trust.apply(&mut ProbeConfig::default()).unwrap_err();
        assert!(e.to_string().contains("--cacert /nonexistent.pem"), "{e}");
        let e = parse(&["--expect-pin", "md5//abc"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--expect-pin"), "{e}");
    }
}
