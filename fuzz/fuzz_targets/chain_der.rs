#![no_main]
//! Arbitrary bytes split into DER certificates, then the whole chain analysis.
use libfuzzer_sys::fuzz_target;

use interloper_chain::{ChainInput, ProductDb, Roots, analyse};
use std::sync::OnceLock;

static DB: OnceLock<ProductDb> = OnceLock::new();
static PUBLIC: OnceLock<Roots> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // Split on a 0xff 0x00 separator so the fuzzer can grow chains of any length; each piece is
    // handed over as one "certificate". The first byte picks the server name form.
    let (first, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut chain = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < rest.len() {
        if rest[i] == 0xff && rest[i + 1] == 0x00 {
            chain.push(rest[start..i].to_vec());
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    chain.push(rest[start..].to_vec());
    let name = match first % 3 {
        0 => "www.example.com",
        1 => "10.0.0.1",
        _ => "",
    };
    let db = DB.get_or_init(ProductDb::builtin);
    let public = PUBLIC.get_or_init(Roots::webpki);
    // The chain's own pieces also serve as local anchors, so path building gets exercised.
    let (local, _) = Roots::from_der(chain.iter().skip(1));
    let input = ChainInput::new(chain, name, interloper_chain::time::OffsetDateTime::UNIX_EPOCH + interloper_chain::time::Duration::days(20_000), public, &local, db);
    let _ = analyse(&input);
});
