//! GREASE detection and a compact table of IANA names for reports.
//!
//! Only the values a report is likely to show are named: TLS 1.3 suites, the usual TLS 1.2
//! ECDHE/DHE/RSA suites, SCSVs, the common groups (classic and post-quantum hybrids) and the
//! extensions browsers send. Anything else is shown by the caller as hex.

/// True for the 16 GREASE values of RFC 8701 (`0x0a0a`, `0x1a1a`, … `0xfafa`), which clients
/// insert into cipher, extension, group, version and signature lists to keep servers tolerant.
pub fn is_grease(v: u16) -> bool {
    let [hi, lo] = v.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

/// Lookup over a sorted table; a binary search keeps it cheap for per-hello rendering.
fn lookup(table: &'static [(u16, &'static str)], v: u16) -> Option<&'static str> {
    table
        .binary_search_by_key(&v, |&(k, _)| k)
        .ok()
        .and_then(|i| table.get(i))
        .map(|&(_, name)| name)
}

const CIPHERS: &[(u16, &str)] = &[
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0x1304, "TLS_AES_128_CCM_SHA256"),
    (0x1305, "TLS_AES_128_CCM_8_SHA256"),
    (0x5600, "TLS_FALLBACK_SCSV"),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
];

const GROUPS: &[(u16, &str)] = &[
    (0x0015, "secp224r1"),
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
    (0x001a, "brainpoolP256r1"),
    (0x001b, "brainpoolP384r1"),
    (0x001c, "brainpoolP512r1"),
    (0x001d, "x25519"),
    (0x001e, "x448"),
    (0x0100, "ffdhe2048"),
    (0x0101, "ffdhe3072"),
    (0x0102, "ffdhe4096"),
    (0x0103, "ffdhe6144"),
    (0x0104, "ffdhe8192"),
    (0x0200, "MLKEM512"),
    (0x0201, "MLKEM768"),
    (0x0202, "MLKEM1024"),
    (0x11eb, "SecP256r1MLKEM768"),
    (0x11ec, "X25519MLKEM768"),
    (0x11ed, "SecP384r1MLKEM1024"),
    (0x6399, "X25519Kyber768Draft00"),
];

const EXTENSIONS: &[(u16, &str)] = &[
    (0x0000, "server_name"),
    (0x0001, "max_fragment_length"),
    (0x0005, "status_request"),
    (0x000a, "supported_groups"),
    (0x000b, "ec_point_formats"),
    (0x000d, "signature_algorithms"),
    (0x000e, "use_srtp"),
    (0x000f, "heartbeat"),
    (0x0010, "application_layer_protocol_negotiation"),
    (0x0011, "status_request_v2"),
    (0x0012, "signed_certificate_timestamp"),
    (0x0015, "padding"),
    (0x0016, "encrypt_then_mac"),
    (0x0017, "extended_master_secret"),
    (0x001b, "compress_certificate"),
    (0x001c, "record_size_limit"),
    (0x0023, "session_ticket"),
    (0x0029, "pre_shared_key"),
    (0x002a, "early_data"),
    (0x002b, "supported_versions"),
    (0x002c, "cookie"),
    (0x002d, "psk_key_exchange_modes"),
    (0x0031, "post_handshake_auth"),
    (0x0032, "signature_algorithms_cert"),
    (0x0033, "key_share"),
    (0x0039, "quic_transport_parameters"),
    (0x4469, "application_settings_old"),
    (0x44cd, "application_settings"),
    (0xfe0d, "encrypted_client_hello"),
    (0xff01, "renegotiation_info"),
];

/// IANA name of a cipher suite, e.g. `0x1301` → `TLS_AES_128_GCM_SHA256`.
pub fn cipher_name(v: u16) -> Option<&'static str> {
    if is_grease(v) {
        return Some("GREASE");
    }
    lookup(CIPHERS, v)
}

/// IANA name of a named group, e.g. `0x11ec` → `X25519MLKEM768`.
pub fn group_name(v: u16) -> Option<&'static str> {
    if is_grease(v) {
        return Some("GREASE");
    }
    lookup(GROUPS, v)
}

/// IANA name of an extension type, e.g. `0x002b` → `supported_versions`.
pub fn extension_name(v: u16) -> Option<&'static str> {
    if is_grease(v) {
        return Some("GREASE");
    }
    lookup(EXTENSIONS, v)
}

/// Human name of a protocol version, e.g. `0x0303` → `TLS 1.2`.
pub fn version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0002 => "SSL 2.0",
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ if is_grease(v) => "GREASE",
        _ => return None,
    })
}

/// Whether a group is a post-quantum (ML-KEM / Kyber) key exchange or hybrid.
pub fn is_post_quantum_group(v: u16) -> bool {
    matches!(v, 0x0200..=0x0202 | 0x11eb..=0x11ed | 0x6399)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for t in [CIPHERS, GROUPS, EXTENSIONS] {
            assert!(t.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        }
    }

    #[test]
    fn grease_values() {
        let all: Vec<u16> = (0..=u16::MAX).filter(|&v| is_grease(v)).collect();
        assert_eq!(all.len(), 16);
        assert!(all.contains(&0x0a0a) && all.contains(&0xfafa) && all.contains(&0x7a7a));
        assert!(!is_grease(0x0a1a) && !is_grease(0xeeee) && !is_grease(0x1301));
    }

    #[test]
    fn names() {
        assert_eq!(cipher_name(0x1301), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(
            cipher_name(0xc02f),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        assert_eq!(group_name(0x11ec), Some("X25519MLKEM768"));
        assert_eq!(group_name(0x001d), Some("x25519"));
        assert_eq!(group_name(0x1234), None);
        assert_eq!(extension_name(0xfe0d), Some("encrypted_client_hello"));
        assert_eq!(version_name(0x0304), Some("TLS 1.3"));
        assert!(is_post_quantum_group(0x11ec) && !is_post_quantum_group(0x001d));
    }
}
