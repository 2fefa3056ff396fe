//! Bytes in, candidates out: the keyword prefilter, windowed rule regexes, and the detectors.
//!
//! One `Scanner` per thread; it owns reusable buffers and does no I/O.

use crate::detect::{self, MatchContext};
use crate::encoding::base64_standard;
use crate::finding::Candidate;
use crate::rules::{Detector, RuleSet};

/// Bytes sniffed for a NUL to call content binary.
pub const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// What `Scanner::scan_blob` made of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobKind {
    /// Text: scanned with the rules.
    Text,
    /// Binary, but a key container by name or magic: examined by the container detector.
    KeyContainer,
    /// Binary and not a key container: not examined.
    Binary,
}

/// Whether content is binary: a NUL in its first block.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)]).is_some()
}

/// How far a line window may grow on each side of a keyword hit (minified files have huge lines).
const MAX_LINE_EXTENSION: usize = 4096;
/// How deep decoded content (base64 inside base64 ...) is scanned again.
pub const MAX_DECODE_DEPTH: u8 = 2;

/// A per-thread scanner over one rule set.
pub struct Scanner<'r> {
    rules: &'r RuleSet,
}

impl<'r> Scanner<'r> {
    pub fn new(rules: &'r RuleSet) -> Scanner<'r> {
        Scanner { rules }
    }

    /// Scan a blob from any source: text with the rules, binary only when it is a key container
    /// (DER, PKCS#12, JKS, judged by `path` or magic). Says which it was.
    pub fn scan_blob(&mut self, bytes: &[u8], path: &str, out: &mut Vec<Candidate>) -> BlobKind {
        if !is_binary(bytes) {
            self.scan(bytes, path, out);
            return BlobKind::Text;
        }
        if !crate::detect::container::is_key_container(path, bytes) {
            return BlobKind::Binary;
        }
        out.extend(crate::detect::container::detect(bytes, "container/binary"));
        BlobKind::KeyContainer
    }

    /// Scan one text blob. `path` is used by detectors that judge by file type (e.g. `.env`).
    pub fn scan(&mut self, bytes: &[u8], path: &str, out: &mut Vec<Candidate>) {
        self.scan_at_depth(bytes, path, 0, out);
    }

    /// Scan decoded content found inside another blob.
    fn scan_at_depth(&mut self, bytes: &[u8], path: &str, depth: u8, out: &mut Vec<Candidate>) {
        let rules = self.rules;
        let mut hits = self.collect_hits(bytes);
        if depth == 0 && !rules.path_rules.is_empty() && !bytes.is_empty() {
            // Rules with `paths` run on the files they name from the first byte, keyword or not.
            let mut selected = Vec::new();
            rules.path_rules.matching(path, &mut selected);
            for rule_index in selected {
                hits[rule_index].insert(0, (0, 0));
            }
        }
        for (rule_index, rule_hits) in hits.iter_mut().enumerate() {
            if rule_hits.is_empty() {
                continue;
            }
            let rule = &rules.rules[rule_index];
            let windows = merge_windows(
                bytes,
                rule_hits,
                rule.spec.window.before,
                rule.spec.window.after,
            );
            let mut last_end = 0usize;
            for (window_start, window_end) in windows {
                let window = &bytes[window_start..window_end];
                for caps in rule.regex.captures_iter(window) {
                    let Some(whole) = caps.get(0) else { continue };
                    let match_start = window_start + whole.start();
                    if match_start < last_end {
                        continue;
                    }
                    last_end = window_start + whole.end();
                    let (secret_start, secret_end) = rule.secret_span(&caps);
                    let ctx = MatchContext {
                        blob: bytes,
                        path,
                        rule,
                        caps: &caps,
                        window_start,
                        match_start,
                        match_end: window_start + whole.end(),
                        secret_start: window_start + secret_start,
                        secret_end: window_start + secret_end,
                        depth,
                    };
                    if !passes_entropy(rule.spec.entropy, &bytes[ctx.secret_start..ctx.secret_end])
                    {
                        continue;
                    }
                    if rule.spec.detect == Detector::Base64 {
                        self.scan_base64_wrapped(&ctx, out);
                    } else {
                        detect::run(&ctx, out);
                    }
                }
            }
        }
    }

    /// Base64 text that may hold PEM: decode it, scan the decoded bytes one level deeper, and
    /// place what is found at the encoded string.
    fn scan_base64_wrapped(&mut self, ctx: &MatchContext<'_>, out: &mut Vec<Candidate>) {
        if ctx.depth >= MAX_DECODE_DEPTH {
            return;
        }
        let Some(decoded) = base64_standard(ctx.secret()) else {
            return;
        };
        let mut inner = Vec::new();
        self.scan_at_depth(&decoded, ctx.path, ctx.depth + 1, &mut inner);
        for mut candidate in inner {
            candidate.start = ctx.secret_start;
            candidate.end = ctx.secret_end;
            candidate.format = format!("base64({})", candidate.format);
            candidate.related = None;
            candidate.rule_id = ctx.rule.spec.id.clone();
            out.push(candidate);
        }
    }

    /// Keyword hits per rule: (start, end) byte offsets.
    fn collect_hits(&self, bytes: &[u8]) -> Vec<Vec<(usize, usize)>> {
        let mut hits = vec![Vec::new(); self.rules.rules.len()];
        for m in self.rules.prefilter.find_iter(bytes) {
            for &rule_index in &self.rules.keyword_rules[m.pattern().as_usize()] {
                hits[rule_index].push((m.start(), m.end()));
            }
        }
        hits
    }
}

fn passes_entropy(minimum: Option<f64>, secret: &[u8]) -> bool {
    match minimum {
        Some(min) => shannon_entropy(secret) >= min,
        None => true,
    }
}

/// Shannon entropy in bits per byte (0 to 8).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            p * (1.0 / p).log2()
        })
        .sum()
}

/// Turn keyword hits into merged windows: `before`/`after` bytes around each hit, widened to
/// whole lines (bounded), overlapping windows joined. Hits must be in ascending order.
fn merge_windows(
    bytes: &[u8],
    hits: &mut [(usize, usize)],
    before: usize,
    after: usize,
) -> Vec<(usize, usize)> {
    hits.sort_unstable();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for &(hit_start, hit_end) in hits.iter() {
        let start = line_start(bytes, hit_start.saturating_sub(before));
        let end = line_end(bytes, (hit_end + after).min(bytes.len()));
        match windows.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => windows.push((start, end)),
        }
    }
    windows
}

fn line_start(bytes: &[u8], from: usize) -> usize {
    let floor = from.saturating_sub(MAX_LINE_EXTENSION);
    match memchr::memrchr(b'\n', &bytes[floor..from]) {
        Some(i) => floor + i + 1,
        None => floor,
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    let ceiling = (from + MAX_LINE_EXTENSION).min(bytes.len());
    match memchr::memchr(b'\n', &bytes[from..ceiling]) {
        Some(i) => from + i,
        None => ceiling,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_merge_and_widen_to_lines() {
        let text = b"aaa\nbbb key ccc\nddd key eee\nfff";
        let mut hits = vec![(20, 23), (8, 11)];
        let windows = merge_windows(text, &mut hits, 0, 0);
        assert_eq!(windows, vec![(4, 15), (16, 27)]);
        let mut hits = vec![(8, 11), (20, 23)];
        let windows = merge_windows(text, &mut hits, 0, 6);
        assert_eq!(windows, vec![(4, 31)]);
    }

    #[test]
    fn entropy_of_known_strings() {
        assert!((shannon_entropy(b"hello") - 1.9219).abs() < 1e-3);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    }
}
