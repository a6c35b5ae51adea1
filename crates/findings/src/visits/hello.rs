//! Which family of TLS stack a ClientHello comes from, read from traits each family has shown
//! for years rather than from a list of exact fingerprints (which age with every release):
//!
//! - Chromium (BoringSSL): GREASE values (RFC 8701) and ALPS (17513/17613) or ECH (65037).
//! - Safari/WebKit: GREASE, certificate compression (27), no ALPS.
//! - Firefox (NSS): no GREASE, record_size_limit (28) and delegated_credentials (34).
//! - Everything else — OpenSSL, Go, Java, Python, curl, rustls, the inspection products built
//!   on them — has none of those combinations.
//!
//! An exact JA4 match in the knowledge file names the stack more precisely when there is one.

use super::ua::StackFamily;

/// The code lists of a ClientHello that its family is read from (the witness fills them in
/// from the hello it parsed).
#[derive(Debug, Clone, Copy, Default)]
pub struct HelloCodes<'a> {
    /// Cipher suites offered.
    pub cipher_suites: &'a [u16],
    /// Extension types, in order.
    pub extensions: &'a [u16],
    /// Supported groups.
    pub supported_groups: &'a [u16],
    /// Groups of the key shares sent.
    pub key_share_groups: &'a [u16],
}

/// RFC 8701 GREASE values: 0x?A?A with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The traits that decided, for the evidence.
pub fn traits(h: &HelloCodes<'_>) -> Vec<&'static str> {
    let mut t = Vec::new();
    let has = |ext: u16| h.extensions.contains(&ext);
    if grease(h) {
        t.push("GREASE");
    }
    if has(17513) || has(17613) {
        t.push("ALPS");
    }
    if has(65037) {
        t.push("ECH");
    }
    if has(27) {
        t.push("certificate compression");
    }
    if has(28) {
        t.push("record_size_limit");
    }
    if has(34) {
        t.push("delegated_credentials");
    }
    if h.key_share_groups.contains(&0x11ec) {
        t.push("X25519MLKEM768 key share");
    }
    t
}

fn grease(h: &HelloCodes<'_>) -> bool {
    h.cipher_suites.iter().any(|&v| is_grease(v))
        || h.extensions.iter().any(|&v| is_grease(v))
        || h.supported_groups.iter().any(|&v| is_grease(v))
}

/// The stack family a hello comes from.
pub fn family(h: &HelloCodes<'_>) -> StackFamily {
    let has = |ext: u16| h.extensions.contains(&ext);
    let g = grease(h);
    if g && (has(17513) || has(17613) || has(65037)) {
        StackFamily::Chromium
    } else if g && has(27) {
        StackFamily::Safari
    } else if !g && has(28) && has(34) {
        StackFamily::Firefox
    } else {
        StackFamily::NonBrowser
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello<'a>(ciphers: &'a [u16], exts: &'a [u16]) -> HelloCodes<'a> {
        HelloCodes {
            cipher_suites: ciphers,
            extensions: exts,
            ..Default::default()
        }
    }

    #[test]
    fn families_by_their_traits() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a));
        // Chrome 131 (extension order is randomised; the set is what counts).
        let chrome = hello(
            &[0x2a2a, 0x1301, 0x1302],
            &[
                0x3a3a, 0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27, 17513, 65037,
                0x4a4a,
            ],
        );
        assert_eq!(family(&chrome), StackFamily::Chromium);
        let safari = hello(
            &[0x5a5a, 0x1301],
            &[
                0x6a6a, 0, 23, 65281, 10, 11, 16, 5, 13, 18, 51, 45, 43, 27, 21,
            ],
        );
        assert_eq!(family(&safari), StackFamily::Safari);
        // Debian firefox-esr 153.8 headless, captured here on loopback (tshark's extension
        // and cipher lists of its ClientHello, 1 958 bytes with the ML-KEM key share).
        let firefox = hello(
            &[
                0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            &[
                0, 23, 65281, 10, 11, 35, 16, 5, 34, 18, 51, 43, 13, 45, 28, 27, 65037,
            ],
        );
        assert_eq!(family(&firefox), StackFamily::Firefox);
        // Python 3.11 / OpenSSL 3: no GREASE, encrypt_then_mac, post_handshake_auth.
        let openssl = hello(
            &[0x1302, 0x1303, 0x1301],
            &[0, 11, 10, 35, 22, 23, 13, 43, 45, 49, 51],
        );
        assert_eq!(family(&openssl), StackFamily::NonBrowser);
        assert_eq!(traits(&openssl), Vec::<&str>::new());
        assert_eq!(
            traits(&chrome),
            vec!["GREASE", "ALPS", "ECH", "certificate compression"]
        );
    }
}
