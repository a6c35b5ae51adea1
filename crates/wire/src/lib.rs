//! TLS wire formats: ClientHello/ServerHello parsing, JA3/JA3S/JA4 fingerprints, pcap/pcapng reading with TCP reassembly (pure, no I/O).
#![forbid(unsafe_code)]
