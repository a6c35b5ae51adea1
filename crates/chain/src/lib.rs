//! Certificate chain analysis: trust against root sets, interception products, minted-certificate traits, pins (pure, no I/O).
#![forbid(unsafe_code)]
