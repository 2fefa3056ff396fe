//! Any bytes as a published key set: JWKS parsing, thumbprints and the hygiene audit.
#![no_main]

use keysweep::verify::audit::audit;
use keysweep::verify::jwks::{KeySet, parse_set};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(keys) = parse_set(data) {
        let set = KeySet {
            location: "fuzz.json".into(),
            configured: "fuzz.json".into(),
            keys,
        };
        let report = audit("fuzz.json", &set, &[]);
        assert!(report.defects.len() <= 16 * set.keys.len() + 16);
    }
});
