//! Static asset discovery (HTML, CSS, Django manifest) and integrity checks (pure, no I/O).
#![forbid(unsafe_code)]
