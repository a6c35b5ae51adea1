#![no_main]
//! The nginx configuration reader on arbitrary bytes, as one file and as an `nginx -T` dump
//! whose files include each other: no panic, bounded time and memory.
use interloper_nginxconf::{Config, parse_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (directives, _) = parse_file("/fuzz.conf", &text);
    for d in &directives {
        let _ = d.text();
    }
    let config = Config::from_dump(&text);
    let _ = config.http_servers();
});
