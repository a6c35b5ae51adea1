//! What the lab starts, as data: the same structures come from Rust (tests), from the built-in
//! scenarios and from TOML files (`interloper lab --config FILE`, `tests/scenarios/*.toml`).
//! Unknown keys are refused, so a misspelt fault never silently does nothing.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Faults a middlebox injects per request. Decisions are drawn from a PRNG seeded with the
/// lab's seed and the request's index, so a scenario injects the same faults each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Only requests whose path starts with this are touched (default `/static/`).
    pub only_prefix: String,
    /// Only requests on client connections that negotiated this protocol are touched.
    pub only_protocol: Option<Protocol>,
    /// Share of requests that stall before the response headers.
    pub stall_probability: f64,
    /// How long a stall lasts (`"2s"`, `"500ms"`).
    #[serde(with = "duration_text")]
    pub stall: Duration,
    /// Stall after the first chunk of the body instead of before the headers.
    pub stall_mid_body: bool,
    /// Stall only responses of at least `large_from` bytes.
    pub stall_large_only: bool,
    /// What counts as a large response, in bytes.
    pub large_from: usize,
    /// Send bodies at this rate (bytes per second).
    pub trickle_bytes_per_sec: Option<u64>,
    /// Share of requests truncated at `truncate_at`.
    pub truncate_probability: f64,
    /// Byte offset at which a truncated body stops (then the connection closes).
    pub truncate_at: Option<usize>,
    /// Share of requests answered by dropping the connection.
    pub reset_probability: f64,
    /// Drop only responses of at least `large_from` bytes.
    pub reset_large_only: bool,
    /// Share of requests whose body has one byte changed (length kept), as a scanner that
    /// rewrites content does.
    pub tamper_probability: f64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            only_prefix: "/static/".to_string(),
            only_protocol: None,
            stall_probability: 0.0,
            stall: Duration::from_secs(2),
            stall_mid_body: false,
            stall_large_only: false,
            large_from: 64 * 1024,
            trickle_bytes_per_sec: None,
            truncate_probability: 0.0,
            truncate_at: None,
            reset_probability: 0.0,
            reset_large_only: false,
            tamper_probability: 0.0,
        }
    }
}

/// An application protocol a client connection negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// HTTP/2.
    #[serde(rename = "h2")]
    Http2,
    /// HTTP/1.1.
    #[serde(rename = "http/1.1")]
    Http1,
}

/// What a middlebox does to a ClientHello it cannot handle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HelloAction {
    /// Reset the connection (TCP RST), as FortiGate flow-based deep inspection does to ML-KEM
    /// hellos.
    #[default]
    Reset,
    /// Hold the hello for `stall`, then handle it: an inspection engine that takes seconds
    /// over a hello it has to reassemble.
    Stall,
    /// Answer with a fatal handshake_failure alert and close.
    Alert,
}

/// The post-quantum / large-hello fault: hellos above a size, or carrying a key share for a
/// given group, are reset, held or refused before the box's TLS sees them. Classic hellos
/// pass untouched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HelloFault {
    /// Hit hellos whose handshake message is longer than this many bytes (a classic hello
    /// is about 500, a post-quantum one about 1500).
    pub above_bytes: Option<usize>,
    /// Hit hellos carrying a key share for this group: an IANA name (`"X25519MLKEM768"`) or
    /// a number (`"0x11ec"`).
    pub key_share_group: Option<String>,
    /// What happens to a hit hello.
    pub action: HelloAction,
    /// How long `action = "stall"` holds it.
    #[serde(with = "duration_text")]
    pub stall: Duration,
}

impl Default for HelloFault {
    fn default() -> HelloFault {
        HelloFault {
            above_bytes: None,
            key_share_group: None,
            action: HelloAction::Reset,
            stall: Duration::from_secs(2),
        }
    }
}

impl HelloFault {
    /// The group code of `key_share_group`, if set (an error for a name nobody knows).
    pub fn group_code(&self) -> Result<Option<u16>, String> {
        let Some(name) = self.key_share_group.as_deref() else {
            return Ok(None);
        };
        let hex = name
            .strip_prefix("0x")
            .or_else(|| name.strip_prefix("0X"))
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        hex.or_else(|| name.parse().ok())
            .or_else(|| {
                (0..=u16::MAX).find(|v| {
                    interloper_wire::group_name(*v).is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            })
            .map(Some)
            .ok_or_else(|| format!("key_share_group {name:?}: not a TLS group name or number"))
    }
}

/// An intercepting middlebox in front of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiddleboxConfig {
    /// The inspection CA's subject common name, e.g. "FortiGate CA" or "Corp Gateway CA".
    pub ca_common_name: String,
    /// The inspection CA's subject organisation, e.g. "Fortinet".
    pub ca_organisation: String,
    /// Offer HTTP/1.1 only to clients (no h2 in ALPN).
    #[serde(default)]
    pub http1_only: bool,
    /// Speak TLS 1.2 only to clients.
    #[serde(default)]
    pub tls12_only: bool,
    /// Faults injected per request.
    #[serde(default)]
    pub faults: Faults,
    /// What it does to post-quantum or large ClientHellos (nothing when absent).
    #[serde(default)]
    pub hello: Option<HelloFault>,
}

impl MiddleboxConfig {
    /// An inspection box with this CA name and no faults.
    pub fn named(common_name: &str, organisation: &str) -> MiddleboxConfig {
        MiddleboxConfig {
            ca_common_name: common_name.to_string(),
            ca_organisation: organisation.to_string(),
            http1_only: false,
            tls12_only: false,
            faults: Faults::default(),
            hello: None,
        }
    }
}

/// A private CA's subject, and whether the user knows it as their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaName {
    /// Subject common name.
    pub common_name: String,
    /// Subject organisation.
    pub organisation: String,
    /// The user declares this root their organisation's own (`--private-root`): a chain to it
    /// is their PKI, clean. Undeclared, it is only installed on the machine (`--cacert`), which
    /// from one vantage point looks like inspection: the verdict is unverified.
    #[serde(default)]
    pub declared: bool,
}

/// How the origin itself misbehaves (no middlebox needed). Names are the site's logical
/// static names, as in `staticfiles.json`: `site.css`, `app.js`, `img/logo.svg`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OriginConfig {
    /// Answered 404 (the page and manifest still name them).
    pub missing: Vec<String>,
    /// Answered 403.
    pub forbidden: Vec<String>,
    /// Served as `text/plain` (every answer carries `X-Content-Type-Options: nosniff`).
    pub wrong_type: Vec<String>,
    /// Answered 500.
    pub server_error: Vec<String>,
    /// Hashed files carry `Cache-Control: max-age=60` instead of a year, immutable.
    pub short_cache: bool,
    /// Build of the static files: instances with different versions serve different hashed
    /// names (a deploy that reached only some instances).
    pub site_version: u32,
    /// Bodies that never end: the file's bytes, then more, until the client leaves.
    pub endless: Vec<String>,
    /// Served as a gzip decompression bomb (about 100 kB expanding to 80 MB of zeros).
    pub bomb: Vec<String>,
    /// Answered with a redirect to themselves, forever.
    pub redirect_loop: Vec<String>,
    /// Answered with a redirect to an `ftp:` URL, which no browser follows for a stylesheet.
    pub redirect_away: Vec<String>,
}

/// Connection-level faults on an instance's second address (127.0.0.2, same port): a relay
/// standing for a second load-balancer node or an IPv6 path that misbehaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressFaults {
    /// Share of connections whose first bytes are held back this long (`stall`).
    pub stall_probability: f64,
    /// How long a held connection waits.
    #[serde(with = "duration_text")]
    pub stall: Duration,
    /// Share of connections reset on accept.
    pub reset_probability: f64,
}

impl Default for AddressFaults {
    fn default() -> AddressFaults {
        AddressFaults {
            stall_probability: 0.0,
            stall: Duration::from_secs(2),
            reset_probability: 0.0,
        }
    }
}

/// One origin instance, maybe behind a middlebox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// The middlebox in front, if any.
    pub middlebox: Option<MiddleboxConfig>,
    /// The origin's certificate comes from this private CA instead of the lab public CA: a
    /// private PKI, no interception.
    pub private_ca: Option<CaName>,
    /// How the origin itself misbehaves.
    pub origin: OriginConfig,
    /// The instance also answers on a second address, through a relay with these faults.
    pub second_address: Option<AddressFaults>,
    /// Run a witness (`interloper echo`) beside this instance, on the same path (behind the
    /// same middlebox, which inspects it too).
    pub witness: bool,
}

/// What the lab starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabConfig {
    /// The instances, in order (numbered from 1 in output and host names).
    #[serde(rename = "instance")]
    pub instances: Vec<InstanceConfig>,
    /// Seed for every fault decision.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    1
}

impl Default for LabConfig {
    fn default() -> LabConfig {
        LabConfig {
            instances: vec![InstanceConfig::default()],
            seed: default_seed(),
        }
    }
}

/// A scenario file: a line saying what it shows and the lab. Other top-level tables (a test's
/// expectations, say) are left to whoever reads them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScenarioFile {
    /// What the scenario shows, one line.
    pub about: String,
    /// The lab.
    pub lab: LabConfig,
}

impl ScenarioFile {
    /// Parses a scenario file, or says which key is wrong.
    pub fn from_toml(text: &str) -> Result<ScenarioFile, String> {
        let f: ScenarioFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        f.lab.validate()?;
        Ok(f)
    }
}

impl LabConfig {
    /// Refuses configurations that cannot mean anything.
    pub fn validate(&self) -> Result<(), String> {
        if self.instances.is_empty() {
            return Err("the lab needs at least one [[lab.instance]]".into());
        }
        if self.instances.len() > 16 {
            return Err("the lab runs at most 16 instances".into());
        }
        let share = |what: &str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("{what} = {p}: a share must be from 0 to 1"))
            }
        };
        for (i, inst) in self.instances.iter().enumerate() {
            let n = i + 1;
            if let Some(mb) = &inst.middlebox {
                let f = &mb.faults;
                share(
                    &format!("instance {n}: stall_probability"),
                    f.stall_probability,
                )?;
                share(
                    &format!("instance {n}: truncate_probability"),
                    f.truncate_probability,
                )?;
                share(
                    &format!("instance {n}: reset_probability"),
                    f.reset_probability,
                )?;
                share(
                    &format!("instance {n}: tamper_probability"),
                    f.tamper_probability,
                )?;
                if f.stall > Duration::from_secs(60) {
                    return Err(format!("instance {n}: a stall is at most 60s"));
                }
                if f.trickle_bytes_per_sec == Some(0) {
                    return Err(format!("instance {n}: trickle_bytes_per_sec must be > 0"));
                }
                if let Some(h) = &mb.hello {
                    h.group_code()
                        .map_err(|e| format!("instance {n}: hello: {e}"))?;
                    if h.above_bytes.is_none() && h.key_share_group.is_none() {
                        return Err(format!(
                            "instance {n}: hello: say which hellos it hits (above_bytes or \
                             key_share_group)"
                        ));
                    }
                    if h.stall > Duration::from_secs(60) {
                        return Err(format!("instance {n}: hello: a stall is at most 60s"));
                    }
                }
            }
            if let Some(a) = &inst.second_address {
                share(
                    &format!("instance {n}: second_address.stall_probability"),
                    a.stall_probability,
                )?;
                share(
                    &format!("instance {n}: second_address.reset_probability"),
                    a.reset_probability,
                )?;
                if a.stall > Duration::from_secs(60) {
                    return Err(format!("instance {n}: a stall is at most 60s"));
                }
            }
        }
        Ok(())
    }
}

/// Durations written as `"2s"`, `"250ms"`, `"1.5s"`, `"1m"`.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    /// Parses `"2s"`, `"250ms"`, `"1.5s"`, `"1m"`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let d = interloper_model::units::parse_duration(s)?;
        if d > Duration::from_secs(86_400) {
            return Err(format!("{s:?}: at most a day"));
        }
        Ok(d)
    }

    /// Serde: writes milliseconds, e.g. `"2000ms"`.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", d.as_millis()))
    }

    /// Serde: reads [`parse`]'s forms.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ScenarioFile, duration_text};

    #[test]
    fn durations_read_as_written() {
        assert_eq!(duration_text::parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(
            duration_text::parse("250ms"),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(
            duration_text::parse("1.5s"),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(duration_text::parse("1m"), Ok(Duration::from_secs(60)));
        // Read as every flag and config file reads them: a bare number is seconds.
        assert_eq!(duration_text::parse("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration_text::parse("1h"), Ok(Duration::from_secs(3600)));
        assert!(duration_text::parse("-1s").is_err());
        assert!(duration_text::parse("2d").is_err());
        assert!(duration_text::parse("25h").is_err(), "at most a day");
    }

    #[test]
    fn a_hello_fault_reads_and_names_its_group() {
        let f = ScenarioFile::from_toml(
            r#"
about = "pq"
[lab]
[[lab.instance]]
[lab.instance.middlebox]
ca_common_name = "X"
ca_organisation = "Y"
[lab.instance.middlebox.hello]
key_share_group = "x25519mlkem768"
action = "stall"
stall = "3s"
"#,
        )
        .unwrap();
        let mb = f.lab.instances[0].middlebox.as_ref().unwrap();
        let h = mb.hello.as_ref().unwrap();
        assert_eq!(h.group_code(), Ok(Some(0x11ec)));
        assert_eq!(h.action, super::HelloAction::Stall);
        assert_eq!(h.stall, Duration::from_secs(3));
        assert!(f.lab.validate().is_ok());
        let numbered = super::HelloFault {
            key_share_group: Some("0x11EC".into()),
            ..Default::default()
        };
        assert_eq!(numbered.group_code(), Ok(Some(0x11ec)));

        let with_group = |group: Option<&str>| {
            let mut lab = f.lab.clone();
            if let Some(h) = lab.instances[0]
                .middlebox
                .as_mut()
                .and_then(|m| m.hello.as_mut())
            {
                h.key_share_group = group.map(str::to_string);
            }
            lab.validate()
        };
        assert!(
            with_group(Some("Kyber9000"))
                .unwrap_err()
                .contains("Kyber9000")
        );
        assert!(with_group(None).unwrap_err().contains("which hellos"));
    }

    #[test]
    fn a_scenario_file_reads_and_misspellings_are_refused() {
        let f = ScenarioFile::from_toml(
            r#"
about = "two instances"
[lab]
seed = 9
[[lab.instance]]
[[lab.instance]]
witness = true
[lab.instance.middlebox]
ca_common_name = "Corp CA"
ca_organisation = "Corp"
[lab.instance.middlebox.faults]
stall_probability = 0.1
stall = "1.5s"
only_protocol = "h2"
[expect]
anything = "is left to the reader"
"#,
        )
        .unwrap();
        assert_eq!(f.lab.instances.len(), 2);
        assert_eq!(f.lab.seed, 9);
        let mb = f.lab.instances[1].middlebox.as_ref().unwrap();
        assert_eq!(mb.faults.stall, Duration::from_millis(1500));
        assert_eq!(mb.faults.only_prefix, "/static/");
        assert!(f.lab.instances[1].witness);

        let e = ScenarioFile::from_toml(
            "about = \"x\"\n[lab]\n[[lab.instance]]\n[lab.instance.middlebox]\nca_common_name = \"a\"\nca_organisation = \"b\"\n[lab.instance.middlebox.faults]\nstal_probability = 0.1\n",
        )
        .unwrap_err();
        assert!(e.contains("stal_probability"), "{e}");
        let e = ScenarioFile::from_toml(
            "about = \"x\"\n[lab]\n[[lab.instance]]\n[lab.instance.middlebox]\nca_common_name = \"a\"\nca_organisation = \"b\"\n[lab.instance.middlebox.faults]\nreset_probability = 2.0\n",
        )
        .unwrap_err();
        assert!(e.contains("share"), "{e}");
    }
}
