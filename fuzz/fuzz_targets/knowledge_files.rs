//! The two knowledge files a user may replace or a peer may feed: a products file
//! (`--products`) and a JA4 reaching `identify` from a witness answer.
#![no_main]

use interloper_chain::ProductDb;
use interloper_wire::stacks::{HelloStacks, identify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = identify(&text);
    if let Ok(stacks) = HelloStacks::from_toml_str(&text) {
        let _ = stacks.identify("t13d1516h2_8daaf6152771_e5627efa2ab1");
    }
    let _ = ProductDb::from_toml_str(&text);
});
