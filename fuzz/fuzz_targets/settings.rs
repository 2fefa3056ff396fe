//! Any text as the user's files: `keysweep.toml`, `.keysweepignore` and a baseline.
#![no_main]

use keysweep::config::parse_settings;
use keysweep::suppress::{Baseline, IgnoreFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_settings(text);
    let _ = IgnoreFile::parse(text);
    let _ = serde_json::from_str::<Baseline>(text);
});
