//! IL621: the file behind each `ssl_certificate` of the nginx configuration holds the chain up
//! to a public or declared root — what a server that sends an incomplete chain (IL113) has in
//! its configuration. The files are read here (bounded); the walk by issuer name is
//! `interloper_chain::chain_gap`, the same one `check` and `tls` use.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use interloper_chain::{ChainGap, Roots, certs_from_pem, chain_gap};
use interloper_findings::{Code, Finding};
use interloper_nginxconf::{Config, Directive};

use crate::finding::LintFinding;

/// Largest certificate file read (a chain of a dozen certificates is under 32 KiB).
const MAX_CERT_FILE: u64 = 1 << 20;

/// What the certificate rules hold besides the configuration: the roots a chain may end at.
pub(crate) struct ChainRoots {
    /// Mozilla's roots, as built in.
    pub(crate) public: Roots,
    /// Roots declared with `--private-root` (a private CA).
    pub(crate) declared: Roots,
}

/// What judging the certificate files gave: findings, and a line for each file that could
/// not be read (the report's inputs).
#[derive(Default)]
pub(crate) struct CertReading {
    pub(crate) findings: Vec<Finding>,
    pub(crate) unread: Vec<String>,
    pub(crate) files: usize,
}

/// Every `ssl_certificate` of the servers in `http` (a server's own, else its `http` block's),
/// each file once, judged by the rules below.
pub(crate) fn certificate_findings(config: &Config, roots: &ChainRoots) -> CertReading {
    let base = config
        .files
        .first()
        .and_then(|f| Path::new(f).parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut reading = CertReading::default();
    let mut seen: Vec<PathBuf> = Vec::new();
    for (http, server) in config.http_servers() {
        let own: Vec<&Directive> = server.all("ssl_certificate").collect();
        let directives = if own.is_empty() {
            http.all("ssl_certificate").collect()
        } else {
            own
        };
        for d in directives {
            let Some(path) = certificate_path(d, &base) else {
                continue;
            };
            if seen.contains(&path) {
                continue;
            }
            seen.push(path.clone());
            match read_certificates(&path) {
                Ok(chain) => {
                    reading.files += 1;
                    reading
                        .findings
                        .extend(incomplete_chain_finding(d, &path, &chain, roots));
                }
                Err(why) => reading.unread.push(format!("{}: {why}", path.display())),
            }
        }
    }
    reading
}

/// The file a directive names, as nginx resolves it (relative to its configuration
/// directory); none for a name with a variable (chosen per connection) or inline `data:`.
fn certificate_path(d: &Directive, base: &Path) -> Option<PathBuf> {
    let name = d.arg(0)?;
    if name.contains('$') || name.starts_with("data:") || name.is_empty() {
        return None;
    }
    let path = Path::new(name);
    Some(if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    })
}

/// The DER certificates of a PEM file (a key in the same file is skipped), bounded.
fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut pem = Vec::new();
    file.take(MAX_CERT_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| e.to_string())?;
    if pem.len() as u64 > MAX_CERT_FILE {
        return Err(format!("larger than {} KiB", MAX_CERT_FILE >> 10));
    }
    certs_from_pem(&pem).map_err(|e| e.to_string())
}

/// IL621: the chain in the file stops at a certificate whose issuer is not in it, not itself
/// and not a public or declared root — judged when that certificate names where its issuer can
/// be downloaded (every public CA's does) or roots were declared (the file then does not reach
/// them); a private CA's certificate with neither is not judged.
fn incomplete_chain_finding(
    d: &Directive,
    path: &Path,
    chain: &[Vec<u8>],
    roots: &ChainRoots,
) -> Option<Finding> {
    let gap = chain_gap(chain, &[&roots.public, &roots.declared])?;
    if !gap.names_its_issuer() && roots.declared.is_empty() {
        return None;
    }
    let summary = format!(
        "{} holds {} certificate(s) and stops at {}, issued by {}, which is not in the file: nginx sends an incomplete chain",
        path.display(),
        chain.len(),
        gap.subject,
        gap.missing_issuer
    );
    let mut f = LintFinding::new(Code::IL621, summary)
        .at(d.at())
        .fix(fix_for(path))
        .config_line(d.at(), d.text())
        .stat("certificate file", path.display().to_string())
        .stat("missing issuer", gap.missing_issuer.clone());
    if let Some(url) = first_ca_issuers(&gap) {
        f = f.stat("the certificate names its issuer at (not fetched)", url);
    }
    Some(f.build())
}

fn first_ca_issuers(gap: &ChainGap) -> Option<String> {
    gap.ca_issuers.first().cloned()
}

/// The change: the fullchain file beside it when there is one (certbot's layout), else the
/// certificate followed by its intermediates.
fn fix_for(path: &Path) -> String {
    let fullchain = path.with_file_name("fullchain.pem");
    if fullchain != path && fullchain.is_file() {
        format!("`ssl_certificate {};`", fullchain.display())
    } else {
        format!(
            "append the intermediate certificate(s) after the certificate in {} (or point `ssl_certificate` at the CA's fullchain file)",
            path.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive(arg: &str) -> Directive {
        let text = format!("ssl_certificate {arg};\n");
        let (mut ds, _) = interloper_nginxconf::parse_file("/etc/nginx/nginx.conf", &text);
        ds.remove(0)
    }

    #[test]
    fn paths_resolve_as_nginx_does_and_per_connection_names_are_skipped() {
        let base = Path::new("/etc/nginx");
        assert_eq!(
            certificate_path(&directive("certs/site.pem"), base),
            Some(PathBuf::from("/etc/nginx/certs/site.pem"))
        );
        assert_eq!(
            certificate_path(&directive("/srv/tls/fullchain.pem"), base),
            Some(PathBuf::from("/srv/tls/fullchain.pem"))
        );
        assert_eq!(
            certificate_path(&directive("/srv/tls/$ssl_server_name.pem"), base),
            None
        );
        assert_eq!(certificate_path(&directive("data:$cert"), base), None);
    }

    #[test]
    fn an_unreadable_or_empty_file_is_said_not_judged() {
        let dir = tempfile::tempdir().expect("tmp");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        assert!(read_certificates(&empty).is_err());
        assert!(read_certificates(&dir.path().join("missing.pem")).is_err());
    }
}
