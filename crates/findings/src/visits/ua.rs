//! The browser a User-Agent claims to be, reduced to what decides its TLS hello: the engine's
//! network stack. Every browser on iOS uses WebKit's, so an iOS "Chrome" sends Safari's hello.

use serde::{Deserialize, Serialize};

/// A family of TLS client stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackFamily {
    /// Chromium's BoringSSL: Chrome, Edge, Opera, Brave, Vivaldi, Samsung Internet…
    Chromium,
    /// Firefox's NSS.
    Firefox,
    /// Apple's network stack: Safari, and every browser on iOS.
    Safari,
    /// Anything else: OpenSSL, Go, Java, Python, curl, rustls, a middlebox's own stack.
    NonBrowser,
}

impl StackFamily {
    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            StackFamily::Chromium => "Chromium",
            StackFamily::Firefox => "Firefox",
            StackFamily::Safari => "Safari/WebKit",
            StackFamily::NonBrowser => "a non-browser TLS stack",
        }
    }
}

/// What a User-Agent claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    /// The stack family the claimed browser sends hellos with; `None` when the User-Agent
    /// names no browser (a script, a crawler, nothing).
    pub family: Option<StackFamily>,
    /// The browser and major version as claimed (`Chrome 131`), for people.
    pub name: String,
}

/// Reads a User-Agent header.
pub fn claimed_browser(user_agent: &str) -> Claimed {
    let ua = user_agent;
    let major = |token: &str| -> Option<String> {
        let rest = &ua[ua.find(token)? + token.len()..];
        let v: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!v.is_empty()).then_some(v)
    };
    let named = |name: &str, token: &str| match major(token) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    };
    let ios = ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod");
    if ios && ua.contains("AppleWebKit/") {
        let name = if ua.contains("CriOS/") {
            named("Chrome on iOS", "CriOS/")
        } else if ua.contains("FxiOS/") {
            named("Firefox on iOS", "FxiOS/")
        } else {
            named("Safari", "Version/")
        };
        return Claimed {
            family: Some(StackFamily::Safari),
            name,
        };
    }
    if ua.contains("Firefox/") && ua.starts_with("Mozilla/") {
        return Claimed {
            family: Some(StackFamily::Firefox),
            name: named("Firefox", "Firefox/"),
        };
    }
    if ua.starts_with("Mozilla/") && (ua.contains("Chrome/") || ua.contains("Chromium/")) {
        let name = if ua.contains("Edg/") {
            named("Edge", "Edg/")
        } else if ua.contains("OPR/") {
            named("Opera", "OPR/")
        } else if ua.contains("HeadlessChrome/") {
            named("Headless Chrome", "HeadlessChrome/")
        } else if ua.contains("Chromium/") {
            named("Chromium", "Chromium/")
        } else {
            named("Chrome", "Chrome/")
        };
        return Claimed {
            family: Some(StackFamily::Chromium),
            name,
        };
    }
    if ua.starts_with("Mozilla/") && ua.contains("Safari/") && ua.contains("Version/") {
        return Claimed {
            family: Some(StackFamily::Safari),
            name: named("Safari", "Version/"),
        };
    }
    let product: String = ua
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    Claimed {
        family: None,
        name: if product.is_empty() {
            "no browser named".into()
        } else {
            product
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_user_agents() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(
            claimed_browser(chrome),
            Claimed {
                family: Some(StackFamily::Chromium),
                name: "Chrome 131".into()
            }
        );
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
        assert_eq!(claimed_browser(edge).name, "Edge 130");
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36";
        assert_eq!(
            claimed_browser(headless).family,
            Some(StackFamily::Chromium)
        );
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(claimed_browser(firefox).name, "Firefox 128");
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        assert_eq!(claimed_browser(safari).family, Some(StackFamily::Safari));
        let ios_chrome = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1";
        assert_eq!(
            claimed_browser(ios_chrome),
            Claimed {
                family: Some(StackFamily::Safari),
                name: "Chrome on iOS 123".into()
            }
        );
        assert_eq!(claimed_browser("curl/8.5.0").family, None);
        assert_eq!(claimed_browser("curl/8.5.0").name, "curl");
        assert_eq!(claimed_browser("").name, "no browser named");
        // Nothing but letters, digits and `-_.` survives into the name.
        assert_eq!(
            claimed_browser("<script>alert(1)</script>").name,
            "scriptalert1"
        );
    }
}
