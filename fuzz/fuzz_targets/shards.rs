//! Any bytes as a shard report (`keysweep merge` input), a repository list (`--repos`) and a
//! sealed value: read as far as they go, never a panic.
#![no_main]

use std::path::Path;

use keysweep::report::read::parse;
use keysweep::seal::SealKey;
use keysweep::source::repos::RepoList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = parse(Path::new("shard.jsonl"), data);
    assert!(file.is_complete() || !file.problems.is_empty() || file.summary.is_none());
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(list) = RepoList::parse(text, Path::new("/lists")) {
            assert!(list.digest.starts_with("sha256:"));
        }
        let key = SealKey::derive("fuzzing key, long enough").expect("a valid key");
        let _ = key.open("fingerprint", text);
    }
});
