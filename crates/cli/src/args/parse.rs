//! Every value parser of the command line, each turning text into the typed value the commands
//! use. Clap calls them, so a bad value is a usage error that names the flag (exit 2), and the
//! commands never see text they must check again.
//!
//! Each error says what was expected, with an example, because clap prints it after
//! "invalid value 'X' for '--flag <VALUE>':".

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use interloper_chain::Pin;
use interloper_check::Samples;
use interloper_findings::Severity;
use interloper_logs::{FieldPlan, Format};
use interloper_probe::{HelloShape, ResolveOverride};

/// A duration: a number with an optional unit, `ms`, `s` (the default), `m`/`min` or `h`;
/// fractions allowed (`1.5s`).
pub fn duration(s: &str) -> Result<Duration, String> {
    interloper_model::units::parse_duration(s)
}

/// A [`duration`] that is more than zero (a zero limit would stop everything at once).
pub fn positive_duration(s: &str) -> Result<Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err("must be more than zero (e.g. 500ms, 10s)".into()),
        d => Ok(d),
    }
}

/// A size in bytes: a whole number with an optional binary unit, `K`, `M` or `G` (`KB`, `KiB`
/// alike, any case).
pub fn bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| "not a size (try 1048576, 512K, 10M, 1G)".to_string())?;
    let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => return Err(format!("unknown unit {other:?} (use K, M or G)")),
    };
    n.checked_mul(multiplier)
        .ok_or_else(|| "too large a size".to_string())
}

/// The shapes of `--hello-shapes`, classic first (one value for clap, not one per shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloShapeList(pub Vec<HelloShape>);

/// A comma-separated list of ClientHello shapes, `classic,pq,large` (classic is always sent,
/// so `classic` alone means no other shape).
pub fn hello_shapes(s: &str) -> Result<HelloShapeList, String> {
    let mut shapes = vec![HelloShape::Classic];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let shape = HelloShape::parse(part).ok_or_else(|| {
            format!("unknown hello shape {part:?} (use classic, pq, large, e.g. classic,pq)")
        })?;
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    Ok(HelloShapeList(shapes))
}

/// `HOST:PORT:ADDR`, as curl's `--resolve` (an IPv6 ADDR may be bracketed).
pub fn resolve(s: &str) -> Result<ResolveOverride, String> {
    s.parse()
        .map_err(|_| "expected HOST:PORT:ADDR, e.g. example.com:443:127.0.0.1".to_string())
}

/// `Name: value`, a request header whose name and value HTTP accepts.
pub fn header(s: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| "expected 'Name: value', e.g. 'Cookie: a=b'".to_string())?;
    let name = name.trim();
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a header name (letters, digits, '-')"))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| "the value holds a character a header cannot carry".to_string())?;
    Ok((name, value))
}

/// A proxy URL; without a scheme it is `http://` (as curl reads it).
pub fn proxy(s: &str) -> Result<url::Url, String> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| format!("not a proxy URL: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the proxy URL names no host (e.g. http://proxy:3128)".into());
    }
    Ok(url)
}

/// An SPKI pin, `sha256//BASE64` (as curl's `--pinnedpubkey`; `interloper pin` prints them).
pub fn pin(s: &str) -> Result<Pin, String> {
    Pin::parse(s).map_err(|e| format!("{e} (`interloper pin FILE|URL` prints pins)"))
}

/// `info`, `warning`, `error` or `critical`.
pub fn severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s).ok_or_else(|| "expected info, warning, error or critical".to_string())
}

/// Requests per asset, 1 to 10000, or `auto`.
pub fn samples(s: &str) -> Result<Samples, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Samples::Auto);
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(Samples::PerAsset(n)),
        _ => Err("expected a number from 1 to 10000, or auto".to_string()),
    }
}

/// An access-log format: `combined`, `haproxy` or `json` (and their aliases).
pub fn log_format(s: &str) -> Result<LogFormat, String> {
    if let Some(f) = Format::parse(s) {
        return Ok(LogFormat::Builtin(f));
    }
    match FieldPlan::from_arg(s) {
        Some(Ok(plan)) => Ok(LogFormat::Plan(std::sync::Arc::new(plan))),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("expected combined, haproxy, json, nginx:'<log_format string>' or \
             haproxy:'<log-format string>', e.g. nginx:'$remote_addr [$time_local] \"$request\" $status'"
            .to_string()),
    }
}

/// A `--format` of `interloper logs`: a format it knows, or the user's own.
#[derive(Debug, Clone)]
pub enum LogFormat {
    /// `combined`, `haproxy`, `json`.
    Builtin(Format),
    /// `nginx:'…'` or `haproxy:'…'`, compiled once.
    Plan(std::sync::Arc<FieldPlan>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_shape_lists() {
        use HelloShape::*;
        let list = |s| hello_shapes(s).map(|l| l.0);
        assert_eq!(list("classic,pq,large"), Ok(vec![Classic, Pq, Large]));
        assert_eq!(list("large, pq"), Ok(vec![Classic, Large, Pq]));
        assert_eq!(list("classic"), Ok(vec![Classic]));
        assert!(
            hello_shapes("kyber")
                .unwrap_err()
                .contains("classic, pq, large")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration(" 1.5s "), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1min"), Ok(Duration::from_secs(60)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        for bad in [
            "",
            "soon",
            "5y",
            "-1s",
            "1e3",
            "..",
            "1.2.3s",
            "99999999999999999999999h",
        ] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(positive_duration("0.5"), Ok(Duration::from_millis(500)));
        assert!(positive_duration("0s").is_err());
        assert!(positive_duration("0ms").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes("1048576"), Ok(1 << 20));
        assert_eq!(bytes("10M"), Ok(10 << 20));
        assert_eq!(bytes("512k"), Ok(512 << 10));
        assert_eq!(bytes("2GiB"), Ok(2 << 30));
        assert_eq!(bytes("7B"), Ok(7));
        for bad in [
            "",
            "M",
            "1.5M",
            "10T",
            "-1",
            "99999999999999999999G",
            "18446744073709551615K",
        ] {
            assert!(bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resolve_entries() {
        let r = resolve("Example.com:443:127.0.0.1").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("example.com", 443));
        assert_eq!(r.addr, std::net::IpAddr::from([127, 0, 0, 1]));
        let v6 = resolve("a.test:8443:[::1]").unwrap();
        assert_eq!(
            v6.addr,
            std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
        );
        for bad in [
            "bad",
            "host:443",
            ":443:127.0.0.1",
            "h:port:127.0.0.1",
            "h:443:not-an-ip",
            "h:70000:127.0.0.1",
        ] {
            assert!(resolve(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers() {
        let (name, value) = header("X-Trace:  abc def ").unwrap();
        assert_eq!(name, HeaderName::from_static("x-trace"));
        assert_eq!(value, HeaderValue::from_static("abc def"));
        assert_eq!(header("Empty:").unwrap().1, HeaderValue::from_static(""));
        // Only the first colon splits: values may hold more.
        assert_eq!(header("Referer: https://a/").unwrap().1, "https://a/");
        for bad in ["nocolon", ": value", "bad name: v", "X-A: line\nbreak"] {
            assert!(header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn proxies() {
        assert_eq!(proxy("proxy:3128").unwrap().as_str(), "http://proxy:3128/");
        assert_eq!(proxy("https://p.example").unwrap().scheme(), "https");
        for bad in ["http://", "::", "http://[bad"] {
            assert!(proxy(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pins() {
        let good = Pin::of_spki(b"any key").to_string();
        assert_eq!(pin(&good).unwrap().to_string(), good);
        for bad in [
            "md5//abc",
            "sha256//",
            "sha256//AAAA",
            "sha256//not base64!",
        ] {
            let e = pin(bad).unwrap_err();
            assert!(e.contains("interloper pin"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(severity("WARN"), Ok(Severity::Warning));
        assert_eq!(severity("critical"), Ok(Severity::Critical));
        assert!(severity("sometimes").is_err());
        assert_eq!(samples("auto"), Ok(Samples::Auto));
        assert_eq!(samples("40"), Ok(Samples::PerAsset(40)));
        for bad in ["0", "zero", "10001", "-3"] {
            assert!(samples(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            log_format("nginx"),
            Ok(LogFormat::Builtin(Format::Combined))
        ));
        assert!(matches!(
            log_format("HAProxy"),
            Ok(LogFormat::Builtin(Format::Haproxy))
        ));
        assert!(matches!(
            log_format("nginx:$remote_addr \"$request\" $status"),
            Ok(LogFormat::Plan(_))
        ));
        assert!(log_format("syslog").is_err());
        assert!(log_format("nginx:$remote_addr").is_err());
    }
}
