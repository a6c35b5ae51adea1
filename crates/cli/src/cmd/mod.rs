//! One module per subcommand; adding one is a module here plus a line in `main.rs`'s enum.

pub mod check;
pub mod connect;
pub mod demo;
pub mod echo;
pub mod lab;
pub mod logs;
pub mod pin;
pub mod probe;
pub mod tls;
