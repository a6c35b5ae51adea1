//! One module per subcommand; adding one is a module here plus a line in `main.rs`'s enum.

pub mod demo;
pub mod probe;
