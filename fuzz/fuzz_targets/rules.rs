//! Any text as a user rule file: TOML parsing, validation, regex compilation, and (when it
//! loads) every example run through the scanner it makes.
#![no_main]

use keysweep::app::selfcheck::check_examples;
use keysweep::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = RuleSet::from_texts(vec![("fuzz.toml".into(), text.into())]) {
        let _ = check_examples(&rules);
    }
});
