//! The one scan worker every source feeds: per blob it owns the size limit, Git LFS pointers,
//! de-duplication by blob id, the text/binary/key-container decision (through the scanner),
//! the counters, and placing candidates on lines before they go to the collector.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::progress::Counters;
use crate::collect::Collector;
use crate::finding::{Candidate, Skipped, Stats};
use crate::rules::RuleSet;
use crate::scan::{BlobKind, Scanner};
use crate::source::archive;
use crate::source::git::is_lfs_pointer;
use crate::source::{Blob, BlobSink, Located, Origin, Window, locate, overlaps};

/// What every worker of a run shares.
pub struct Pipeline<'r> {
    pub rules: &'r RuleSet,
    pub collector: &'r Collector<'r>,
    /// Blobs larger than this are skipped and listed.
    pub max_file_size: u64,
    /// Candidates of every blob scanned so far, by git blob id (empty for clean blobs), so a
    /// blob met again under another origin is placed without being scanned again.
    seen: Mutex<HashMap<gix::ObjectId, Arc<[Candidate]>>>,
    /// Live counters for a progress display (sweeps).
    counters: Option<&'r Counters>,
    /// Open archives and scan their members (sweeps), within these limits.
    archives: Option<archive::Limits>,
}

impl<'r> Pipeline<'r> {
    pub fn new(rules: &'r RuleSet, collector: &'r Collector<'r>, max_file_size: u64) -> Self {
        Pipeline {
            rules,
            collector,
            max_file_size,
            seen: Mutex::new(HashMap::new()),
            counters: None,
            archives: None,
        }
    }

    /// Open archives (zip family, tar, gzip) and scan their members within `limits`.
    pub fn with_archives(mut self, limits: archive::Limits) -> Self {
        self.archives = Some(limits);
        self
    }

    /// Count every blob into `counters` as it is read.
    pub fn with_counters(mut self, counters: &'r Counters) -> Self {
        self.counters = Some(counters);
        self
    }

    /// A worker for one thread.
    pub fn worker(&self) -> ScanWorker<'_> {
        ScanWorker {
            scanner: Scanner::new(self.rules),
            pipeline: self,
            stats: Stats::default(),
            candidates: Vec::new(),
        }
    }

    /// Forget every blob seen so far (between the repositories of a list, so memory follows
    /// the largest repository, not the list). The cache also holds each blob's candidates,
    /// secret text included, so keeping the blobs with findings grew a 63-repository list to
    /// 200 MiB of held candidates; a blob met again in a later repository (a fork) is scanned
    /// again, and its findings merge by fingerprint as before.
    pub fn forget_blobs(&self) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *seen = HashMap::new();
    }

    fn seen(&self, id: &gix::ObjectId) -> Option<Arc<[Candidate]>> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
    }

    fn remember(&self, id: gix::ObjectId, candidates: &[Candidate]) {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id, candidates.into());
    }
}

/// A per-thread scanner fed by sources; its counters go to the collector when it is dropped.
pub struct ScanWorker<'p> {
    scanner: Scanner<'p>,
    pipeline: &'p Pipeline<'p>,
    stats: Stats,
    candidates: Vec<Candidate>,
}

impl ScanWorker<'_> {
    /// The path used in a skip entry: history blobs also name their blob id.
    fn skip_path(blob: &Blob<'_>) -> String {
        match (&blob.origin, &blob.id) {
            (Origin::History { .. }, Some(id)) => format!("{} (blob {id})", blob.origin.path()),
            _ => blob.origin.path().into_owned(),
        }
    }

    fn skip_blob(&mut self, blob: &Blob<'_>, reason: String) {
        self.pipeline.collector.skip(
            Skipped {
                path: Self::skip_path(blob),
                reason,
            },
            true,
        );
    }

    /// Scan a blob, or take the candidates of an earlier blob with the same id.
    fn candidates_of(&mut self, blob: &Blob<'_>, path: &str) -> Option<Vec<Candidate>> {
        if let Some(id) = &blob.id
            && let Some(known) = self.pipeline.seen(id)
        {
            self.stats.blobs_deduplicated += 1;
            return Some(known.to_vec());
        }
        self.candidates.clear();
        if self
            .scanner
            .scan_blob(blob.bytes, path, &mut self.candidates)
            == BlobKind::Binary
        {
            self.stats.files_binary += 1;
            self.pipeline.collector.binary(Self::skip_path(blob));
            return None;
        }
        self.stats.files_scanned += 1;
        self.stats.bytes_scanned += blob.bytes.len() as u64;
        if let Some(id) = blob.id {
            self.pipeline.remember(id, &self.candidates);
        }
        Some(std::mem::take(&mut self.candidates))
    }
}

impl ScanWorker<'_> {
    /// When archives are opened and `blob` is one, scan its members instead of it. An archive
    /// is known by its magic bytes, or by its name when its content is binary (a jar behind a
    /// launcher script); a text file named `.gz` is still scanned as text.
    fn open_archive(&mut self, blob: &Blob<'_>) -> bool {
        let Some(limits) = self.pipeline.archives.clone() else {
            return false;
        };
        let head = &blob.bytes[..blob.bytes.len().min(archive::HEAD_LEN)];
        let path = blob.origin.path();
        let by_magic = archive::archive_kind("", head).is_some();
        let by_name = || {
            archive::archive_kind(&path, head).is_some() && memchr::memchr(0, blob.bytes).is_some()
        };
        if !by_magic && !by_name() {
            return false;
        }
        if let Some(counters) = self.pipeline.counters {
            counters
                .archives
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        archive::expand(&path, blob.bytes, &limits, self);
        true
    }
}

impl BlobSink for ScanWorker<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        if let Some(counters) = self.pipeline.counters {
            counters.blob(blob.bytes.len());
        }
        let size = blob.bytes.len() as u64;
        if size > self.pipeline.max_file_size {
            let limit = self.pipeline.max_file_size;
            self.skip_blob(
                &blob,
                format!("{size} bytes is over --max-file-size ({limit} bytes)"),
            );
            return;
        }
        if is_lfs_pointer(blob.bytes) {
            self.skip_blob(
                &blob,
                "git-lfs pointer, content not in the repository".into(),
            );
            return;
        }
        if self.open_archive(&blob) {
            return;
        }
        // UTF-16 text (with a byte order mark) is scanned and placed as UTF-8.
        let raw_bytes = blob.bytes;
        let decoded = crate::encoding::utf16_with_bom(raw_bytes);
        let blob = Blob {
            bytes: decoded.as_deref().unwrap_or(blob.bytes),
            ..blob
        };
        let path = blob.origin.path();
        let Some(candidates) = self.candidates_of(&blob, &path) else {
            return;
        };
        if candidates.is_empty() {
            return;
        }
        let blob_id = match &blob.id {
            Some(id) => Some(id.to_string()),
            None => git_blob_id(raw_bytes),
        };
        let mut located: Vec<Located> = Vec::new();
        locate(
            blob.bytes,
            candidates,
            &blob.origin,
            blob_id.as_deref(),
            &mut located,
        );
        if let Some(lines) = &blob.lines {
            located.retain(|l| overlaps(lines, l.location.line, l.location.end_line));
        }
        if !located.is_empty() {
            self.pipeline.collector.add(located);
        }
    }

    /// A window of a large file: judged text or binary on the first window only, candidates
    /// kept where the window owns their start, lines and columns shifted to the whole file. No
    /// blob id (the whole content is never in memory) and no UTF-16 decoding.
    fn window(&mut self, blob: Blob<'_>, window: &Window) -> bool {
        if let Some(counters) = self.pipeline.counters
            && !window.continued
        {
            counters.blob(blob.bytes.len());
        }
        let path = blob.origin.path();
        self.candidates.clear();
        let mut more = true;
        if window.continued {
            self.scanner.scan(blob.bytes, &path, &mut self.candidates);
        } else {
            let kind = self
                .scanner
                .scan_blob(blob.bytes, &path, &mut self.candidates);
            if kind == BlobKind::Binary {
                self.stats.files_binary += 1;
                self.pipeline.collector.binary(Self::skip_path(&blob));
                return false;
            }
            self.stats.files_scanned += 1;
            more = kind == BlobKind::Text; // a key container is examined on its first window
        }
        self.stats.bytes_scanned += window.owned.len() as u64;
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.retain(|c| window.owned.contains(&c.start));
        let mut located: Vec<Located> = Vec::new();
        locate(blob.bytes, candidates, &blob.origin, None, &mut located);
        for l in &mut located {
            let location = &mut l.location;
            if location.line == 1 {
                location.column += window.columns_before;
            }
            if location.end_line == 1 {
                location.end_column += window.columns_before;
            }
            location.line += window.lines_before;
            location.end_line += window.lines_before;
        }
        if !located.is_empty() {
            self.pipeline.collector.add(located);
        }
        more
    }

    fn skip(&mut self, skipped: Skipped) {
        self.pipeline.collector.skip(skipped, true);
    }

    fn ignored(&mut self, paths: u64) {
        self.stats.ignored += paths;
    }
}

impl Drop for ScanWorker<'_> {
    fn drop(&mut self) {
        self.pipeline.collector.add_stats(&self.stats);
    }
}

/// Git's blob id for content whose source did not name it, so files and history findings can
/// be matched. Computed only for blobs with findings (hashing every file would cost throughput).
fn git_blob_id(bytes: &[u8]) -> Option<String> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .ok()
        .map(|id| id.to_string())
}
