//! Prints the JA4 of every ClientHello in pcap/pcapng files:
//! `cargo run -p interloper-wire --example ja4_of_capture -- FILE...`.
//! Used to write data/hello-stacks.toml from real captures.

use interloper_wire::capture::read_capture;
use interloper_wire::{Transport, ja4};

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        match read_capture(&bytes) {
            Ok(capture) => {
                for stream in &capture.streams {
                    for hello in &stream.client_hellos {
                        println!(
                            "{path}\t{}\t{}",
                            ja4(hello, Transport::Tcp).ja4,
                            stream.dst_port
                        );
                    }
                }
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
