//! Sources produce blobs (bytes plus where they came from). They know nothing about rules or
//! findings; `locate` turns a byte span into a 1-based line and column.

pub mod fs;
pub mod git;
pub mod staged;

use crate::finding::{Candidate, Location};
use crate::suppress;

/// Where a blob came from.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// `file`, `git`, `staged`, `stdin`.
    pub source: &'static str,
    /// Path relative to the scan root, with `/`.
    pub path: String,
    pub commit: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    /// Git blob id of the content, where known.
    pub blob: Option<String>,
    /// In history scans: how many commits carry this blob at this path.
    pub commits: Option<u64>,
}

/// A candidate placed in its blob.
#[derive(Clone, Debug)]
pub struct Located {
    pub candidate: Candidate,
    pub location: Location,
}

/// Place candidates found in `bytes`: line and column (UTF-16 code units, as SARIF's
/// `columnKind` says), and whether an inline allow comment covers the line.
pub fn locate(bytes: &[u8], candidates: Vec<Candidate>, origin: &Origin, out: &mut Vec<Located>) {
    let mut index = LineIndex::new(bytes);
    for candidate in candidates {
        let start = candidate.start.min(bytes.len());
        let end = candidate.end.clamp(start, bytes.len());
        let (line, column, line_start) = index.position(start);
        let (end_line, end_column, _) = index.position(end);
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let allowed = suppress::line_allows(&bytes[line_start..line_end])
            || (line_start > 0 && suppress::line_allows(previous_line(bytes, line_start)));
        let location = Location {
            source: origin.source.to_string(),
            path: origin.path.clone(),
            line,
            column,
            end_line,
            end_column,
            format: candidate.format.clone(),
            commit: origin.commit.clone(),
            author: origin.author.clone(),
            date: origin.date.clone(),
            blob: origin.blob.clone(),
            commits: origin.commits,
            rule_id: candidate.rule_id.clone(),
            allowed,
        };
        out.push(Located {
            candidate,
            location,
        });
    }
}

fn previous_line(bytes: &[u8], line_start: usize) -> &[u8] {
    let end = line_start - 1;
    let start = memchr::memrchr(b'\n', &bytes[..end]).map_or(0, |i| i + 1);
    &bytes[start..end]
}

/// Offset → (line, column) with a cursor, so ascending queries cost one pass over the blob.
struct LineIndex<'a> {
    bytes: &'a [u8],
    cursor: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> LineIndex<'a> {
        LineIndex {
            bytes,
            cursor: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// 1-based line and column of `offset`, and the offset where its line starts.
    fn position(&mut self, offset: usize) -> (usize, usize, usize) {
        if offset < self.cursor {
            *self = LineIndex::new(self.bytes);
        }
        for newline in memchr::memchr_iter(b'\n', &self.bytes[self.cursor..offset]) {
            self.line += 1;
            self.line_start = self.cursor + newline + 1;
        }
        self.cursor = offset;
        let prefix = &self.bytes[self.line_start..offset];
        let column = match std::str::from_utf8(prefix) {
            Ok(text) => text.encode_utf16().count(),
            Err(_) => prefix.len(),
        };
        (self.line, column + 1, self.line_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_utf16_columns() {
        let text = "ab\ncé𝄞x\n".as_bytes();
        let mut index = LineIndex::new(text);
        assert_eq!(index.position(0), (1, 1, 0));
        assert_eq!(index.position(4), (2, 2, 3));
        let x = text.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(index.position(x), (2, 5, 3));
        assert_eq!(index.position(1), (1, 2, 0));
    }
}
