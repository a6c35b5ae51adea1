//! Argument groups shared by the commands, and every value parser.
//!
//! Commands flatten these groups into their own `Args`, so a flag has one declaration, one
//! default and one meaning wherever it appears. Nothing here imports a command.

pub mod connect;
pub mod parse;
pub mod report;
pub mod trust;

pub use connect::ConnectArgs;
pub use report::{JsonFailOn, ReportArgs};
pub use trust::{Insecure, Roots, Trust};
