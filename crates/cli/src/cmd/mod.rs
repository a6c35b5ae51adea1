//! One module per subcommand; adding one is a module here plus a line in `main.rs`'s enum.
//! Commands use `crate::args`, `crate::exit` and `crate::out`, never the crate root.

pub mod check;
pub mod completions;
pub mod demo;
pub mod echo;
pub mod har;
pub mod lab;
pub mod lint;
pub mod logs;
pub mod man;
pub mod pcap;
pub mod pin;
pub mod probe;
pub mod rum;
pub mod serve;
pub mod tls;
pub mod visits;
