//! The evidence model shared by probe, analysis, findings and reports (pure, no I/O).
#![forbid(unsafe_code)]
