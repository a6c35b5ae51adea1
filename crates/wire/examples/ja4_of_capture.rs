//! Prints the JA4 of every ClientHello in pcap/pcapng files, or of the hello at the start of a
//! raw client→server byte dump (`*.bin`):
//! `cargo run -p interloper-wire --example ja4_of_capture -- FILE...`.
//! Used to write data/hello-stacks.toml from real captures.

use interloper_wire::capture::read_capture;
use interloper_wire::{ClientHello, HelloAssembler, Transport, ja4};

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        if path.ends_with(".bin") {
            let mut assembler = HelloAssembler::new(64 * 1024);
            match assembler
                .push(&bytes)
                .map(|m| m.map(|m| ClientHello::parse(&m)))
            {
                Ok(Some(Ok(hello))) => println!("{path}\t{}", ja4(&hello, Transport::Tcp).ja4),
                Ok(Some(Err(e))) | Err(e) => eprintln!("{path}: {e}"),
                Ok(None) => eprintln!("{path}: incomplete hello"),
            }
            continue;
        }
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
