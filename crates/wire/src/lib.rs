//! TLS wire formats: ClientHello/ServerHello parsing, JA3/JA3S/JA4 fingerprints, the JA4
//! knowledge file (pure, no I/O). Captures are read by `interloper-flows`, which uses this crate
//! for the hellos it finds.
//!
//! ```
//! use interloper_wire::{ClientHello, HelloAssembler, Transport, ja4};
//! # fn demo(stream: &[u8]) -> Result<(), interloper_wire::WireError> {
//! let mut asm = HelloAssembler::new(64 * 1024);
//! if let Some(msg) = asm.push(stream)? {
//!     let hello = ClientHello::parse(&msg)?;
//!     println!("{} {}", hello.sni().unwrap_or_default(), ja4(&hello, Transport::Tcp).ja4);
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod assemble;
mod cursor;
mod error;
mod fingerprint;
mod hello;
mod names;
pub mod stacks;

pub use assemble::{
    CONTENT_TYPE_ALERT, CONTENT_TYPE_APPLICATION_DATA, CONTENT_TYPE_CHANGE_CIPHER_SPEC,
    CONTENT_TYPE_HANDSHAKE, HandshakeMessages, HelloAssembler, MAX_RECORD_LEN, RECORD_HEADER_LEN,
    RecordHeader,
};
pub use error::WireError;
pub use fingerprint::{Ja3, Ja4, Transport, ja3, ja3s, ja4, ja4_only};
pub use hello::{
    ClientHello, Extension, HANDSHAKE_CLIENT_HELLO, HANDSHAKE_SERVER_HELLO, ServerHello, ext,
};
pub use names::{
    cipher_name, extension_name, group_name, is_grease, is_post_quantum_group, version_name,
};
