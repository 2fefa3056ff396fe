//! Any bytes as an archive (zip, tar, gzip, nested; by magic bytes) expanded with small
//! limits: no panic, and every limit holds.
#![no_main]

use keysweep::finding::Skipped;
use keysweep::source::archive::{Limits, expand};
use keysweep::source::{Blob, BlobSink};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_depth: 4,
    max_total_bytes: 4 << 20,
    max_ratio: 100,
    max_members: 256,
    max_member_bytes: 1 << 20,
};

#[derive(Default)]
struct Count {
    blobs: u64,
    skips: u64,
}

impl BlobSink for Count {
    fn blob(&mut self, blob: Blob<'_>) {
        assert!(blob.bytes.len() as u64 <= LIMITS.max_member_bytes);
        self.blobs += 1;
    }

    fn window(&mut self, _blob: Blob<'_>, _window: &keysweep::source::Window) -> bool {
        panic!("archive members are whole blobs, never windows");
    }

    fn skip(&mut self, skipped: Skipped) {
        assert!(skipped.path.starts_with("fuzz"));
        self.skips += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut sink = Count::default();
    let stats = expand("fuzz", data, &LIMITS, &mut sink);
    assert_eq!((stats.blobs, stats.skipped), (sink.blobs, sink.skips));
    assert!(stats.members <= LIMITS.max_members);
    assert!(stats.archives <= stats.members + 1);
    // Checked as bytes arrive: at most one read (a member or a tar extension) past the budget.
    assert!(stats.expanded_bytes <= LIMITS.max_total_bytes + (1 << 20) + 1);
});
