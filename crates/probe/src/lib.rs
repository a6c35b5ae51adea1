//! Timed HTTP(S) client: DNS, TCP, TLS, TTFB and body phases measured separately (I/O).
#![forbid(unsafe_code)]
