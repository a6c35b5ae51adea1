//! Test harness: real nginx, Django and mitmproxy on loopback, plus fault servers (tests only).
#![forbid(unsafe_code)]

pub mod faults;
