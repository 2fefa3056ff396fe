//! Any bytes through the whole scanner (prefilter, regexes, every detector, decoders).
#![no_main]

use std::sync::LazyLock;

use keysweep::rules::RuleSet;
use keysweep::scan::Scanner;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::builtin().expect("built-in rules"));

fuzz_target!(|data: &[u8]| {
    let mut scanner = Scanner::new(&RULES);
    let mut out = Vec::new();
    scanner.scan(data, "fuzz.env", &mut out);
    for candidate in &out {
        assert!(candidate.start <= candidate.end && candidate.end <= data.len());
    }
});
