//! Sources produce blobs: bytes plus where they came from. Every source (files, git history,
//! the index, archive members) pushes into a [`BlobSink`]; sources know nothing about rules or
//! findings. `locate` turns a candidate's byte span into a 1-based line and column.

pub mod archive;
pub mod fs;
pub mod git;
pub mod repos;
pub mod staged;

use std::ops::Range;

use crate::finding::{Candidate, Location, Skipped};
use crate::suppress;

/// One unit of content from any source.
pub struct Blob<'a> {
    /// Git's blob id of the bytes, where the source knows it without hashing (history, index).
    /// The scan worker de-duplicates by it across sources.
    pub id: Option<gix::ObjectId>,
    pub bytes: &'a [u8],
    pub origin: Origin,
    /// When set, only findings overlapping these 1-based line ranges count (`staged`: the
    /// lines the commit adds).
    pub lines: Option<Vec<Range<usize>>>,
}

/// Where a blob came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file in a walked tree; the path is relative to the scan root, with `/`.
    File { path: String },
    /// A blob in git history: the path and commit that first introduced it (no commit for an
    /// object no commit reaches).
    History {
        path: String,
        commit: Option<gix::ObjectId>,
    },
    /// A staged blob in the index.
    Index { path: String },
    /// A member of an archive: the archive's path and the member's path inside it.
    ArchiveMember { outer: String, member: String },
}

impl Origin {
    /// The `source` name every report uses: `file`, `git`, `staged`, `archive`.
    pub fn source(&self) -> &'static str {
        match self {
            Origin::File { .. } => "file",
            Origin::History { .. } => "git",
            Origin::Index { .. } => "staged",
            Origin::ArchiveMember { .. } => "archive",
        }
    }

    /// The path shown to users; archive members are joined with `!` (`a.zip!keys/k.pem`).
    pub fn path(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Origin::File { path } | Origin::History { path, .. } | Origin::Index { path } => {
                std::borrow::Cow::Borrowed(path)
            }
            Origin::ArchiveMember { outer, member } => format!("{outer}!{member}").into(),
        }
    }

    /// The commit that introduced the blob, for history blobs.
    pub fn commit(&self) -> Option<&gix::ObjectId> {
        match self {
            Origin::History { commit, .. } => commit.as_ref(),
            _ => None,
        }
    }
}

/// Where one window of a file too large to read whole sits in that file (`source::fs` reads
/// such files window by window, each overlapping the one before).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Lines of the file before the window's first byte.
    pub lines_before: usize,
    /// UTF-16 columns of the window's first line that lie before the window (0 when the window
    /// starts a line).
    pub columns_before: usize,
    /// The window's own part: candidates starting outside it belong to a neighbour (the overlap
    /// is scanned twice, its findings reported once).
    pub owned: Range<usize>,
    /// Not the file's first window: its text/binary judgement was made on the first one.
    pub continued: bool,
}

/// Where sources push what they produce. One sink per worker thread.
pub trait BlobSink: Send {
    /// Content to scan.
    fn blob(&mut self, blob: Blob<'_>);
    /// One window of a large file, in order; `false`: the sink wants no more of this file (the
    /// first window was binary).
    fn window(&mut self, blob: Blob<'_>, window: &Window) -> bool;
    /// Paths a walk did not visit because ignore rules hid them (an ignored directory counts
    /// once). Only walks report them.
    fn ignored(&mut self, _paths: u64) {}
    /// Something that could not be read, and why.
    fn skip(&mut self, skipped: Skipped);
}

/// Whether a location spanning `line..=end_line` overlaps any of `ranges` (1-based, half-open).
pub fn overlaps(ranges: &[Range<usize>], line: usize, end_line: usize) -> bool {
    let end_line = end_line.max(line);
    ranges
        .iter()
        .any(|range| range.start <= end_line && line < range.end)
}

/// A candidate placed in its blob.
#[derive(Clone, Debug)]
pub struct Located {
    pub candidate: Candidate,
    pub location: Location,
}

/// Place candidates found in `bytes`: line and column (UTF-16 code units, as SARIF's
/// `columnKind` says), and whether an inline allow comment covers the line.
pub fn locate(
    bytes: &[u8],
    candidates: Vec<Candidate>,
    origin: &Origin,
    blob: Option<&str>,
    out: &mut Vec<Located>,
) {
    let mut index = LineIndex::new(bytes);
    let path = origin.path();
    let commit = origin.commit().map(ToString::to_string);
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
            source: origin.source().to_string(),
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            format: candidate.format.clone(),
            commit: commit.clone(),
            author: None,
            date: None,
            blob: blob.map(str::to_string),
            commits: None,
            related: candidate.related.clone(),
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
