//! Archives read in memory, never extracted to disk: the zip family (zip, jar, war, ear, apk,
//! aar, the Office and OpenDocument formats, whl, nupkg, …), tar, gzip (tar.gz / tgz is a tar
//! inside a gzip stream; any other `.gz` holds one member named like the file without `.gz`).
//!
//! [`expand`] pushes every leaf member into a [`BlobSink`] as an [`Origin::ArchiveMember`];
//! archives inside archives are opened recursively, their member paths joined with `!`
//! (`backups/old.zip!inner.tgz!keys/signing.pem`). Only leaves reach the sink.
//!
//! Archive bombs are bounded by [`Limits`], checked as bytes arrive: every decompressed byte is
//! charged to one budget per top-level archive (total and ratio), members are read through
//! `Read::take(limit + 1)` so a lying header never makes us allocate past the limit, and the
//! tar extension headers the `tar` crate would read whole (GNU long names, pax records) are read
//! here, capped. A limit hit, a corrupt entry or an encrypted member is a listed skip; what was
//! read before it is kept.
//!
//! Memory: one leaf member at a time, plus every nested zip on the current path (zip needs random
//! access, so a nested zip is held as bytes, each at most `max_member_bytes`); tar and gzip
//! members are streamed. The zip central directory is parsed whole (the `zip` crate cannot stop
//! early): its metadata, a few hundred bytes per entry, is bounded by the zip's size because the
//! crate checks that the claimed entry count fits the file (46 bytes per entry at least), so the
//! caller should bound the size of the top-level archives it hands over.

mod budget;
mod tar;
mod zip;

#[cfg(test)]
mod tests;

use std::io::{self, Read};

use budget::{Budget, Metered};

use super::{Blob, BlobSink, Origin};
use crate::finding::Skipped;

/// How many leading bytes [`archive_kind`] looks at: the tar magic sits at offset 257.
pub const HEAD_LEN: usize = 512;

/// Expanded bytes allowed whatever the ratio, so that small, highly compressible archives (a
/// few KiB of gzip holding a log file) are read whole.
pub const RATIO_FLOOR_BYTES: u64 = 1 << 20;

/// Limits against archive bombs, per top-level archive (the file [`expand`] is given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How many archives deep members are read: the archive given to [`expand`] is depth 1, a
    /// zip inside it depth 2. Default 5: the deepest real nesting we know is four
    /// (`backup.tgz!app.ear!web.war!WEB-INF/lib/x.jar`); TruffleHog stops at 10, Kingfisher at 2.
    pub max_depth: u32,
    /// Decompressed bytes (every level: a gzip stream's output, every zip member's content; a
    /// plain tar's entries are slices of bytes already counted). Default 1 GiB: the budget
    /// bounds time, not memory, and a GiB is a few seconds of scanning; an archive that expands
    /// past it is a backup or a data set, listed as a skip rather than silently "hung".
    pub max_total_bytes: u64,
    /// Decompressed bytes per byte of the top-level archive, checked once past
    /// [`RATIO_FLOOR_BYTES`]. Default 100: Apache POI's zip-bomb threshold; source, text and
    /// class files compress 3–20×, deflate's ceiling is about 1032× (long runs of one byte).
    pub max_ratio: u64,
    /// Entries of any kind (files, directories, links) across all levels. Default 65,536: a
    /// zip without Zip64 holds at most 65,535; a fat jar with its libraries holds ~50,000.
    pub max_members: u64,
    /// One member's decompressed size, and the size of a nested zip held in memory. Default
    /// 64 MiB, the default `--max-file-size`: the scan worker would skip a larger blob anyway.
    pub max_member_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 5,
            max_total_bytes: 1 << 30,
            max_ratio: 100,
            max_members: 65_536,
            max_member_bytes: 64 << 20,
        }
    }
}

/// Which limit ended (or trimmed) the reading of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `max_depth`: one nested archive not opened; reading goes on.
    Depth,
    /// `max_total_bytes`: the rest of the top-level archive is not read.
    TotalBytes,
    /// `max_ratio`: the rest of the top-level archive is not read.
    Ratio,
    /// `max_members`: the rest of the top-level archive is not read.
    Members,
    /// `max_member_bytes`: one member not read; reading goes on.
    MemberBytes,
}

impl Limit {
    /// The skip reason: what was exceeded, the limit's name and its value.
    fn reason(self, limits: &Limits) -> String {
        match self {
            Limit::Depth => format!(
                "nested deeper than {0} archives (max_depth = {0})",
                limits.max_depth
            ),
            Limit::TotalBytes => format!(
                "archive expands to more than {0} bytes (max_total_bytes = {0}); the rest is not read",
                limits.max_total_bytes
            ),
            Limit::Ratio => format!(
                "archive expands more than {0}:1 (max_ratio = {0}), a possible archive bomb; the rest is not read",
                limits.max_ratio
            ),
            Limit::Members => format!(
                "archive holds more than {0} members (max_members = {0}); the rest is not read",
                limits.max_members
            ),
            Limit::MemberBytes => format!(
                "member larger than {0} bytes (max_member_bytes = {0})",
                limits.max_member_bytes
            ),
        }
    }
}

/// An archive format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// The zip family (jar, war, apk, docx, whl, …).
    Zip,
    /// A tar stream.
    Tar,
    /// A gzip stream: a tar inside it is read as a tar (tar.gz, tgz), anything else is one
    /// member.
    Gzip,
}

/// Extensions of the zip family.
const ZIP_EXTENSIONS: &[&str] = &[
    "zip", "jar", "war", "ear", "apk", "aar", "docx", "xlsx", "pptx", "odt", "ods", "odp", "whl",
    "nupkg", "epub", "ipa", "egg", "vsix",
];

/// Which archive format `head` (the first [`HEAD_LEN`] bytes, or all of a shorter file) named
/// `path` is, if any: by magic bytes first, extension second (a zip with a prepended launcher
/// script, as Spring Boot writes, is found by its `.jar`).
pub fn archive_kind(path: &str, head: &[u8]) -> Option<ArchiveKind> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(ArchiveKind::Zip);
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(ArchiveKind::Gzip);
    }
    if is_tar(head) {
        return Some(ArchiveKind::Tar);
    }
    let name = file_name(path).to_ascii_lowercase();
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension {
        "tar" => Some(ArchiveKind::Tar),
        "gz" | "tgz" => Some(ArchiveKind::Gzip),
        _ if ZIP_EXTENSIONS.contains(&extension) => Some(ArchiveKind::Zip),
        _ => None,
    }
}

/// The ustar magic (`ustar\0` POSIX, `ustar  \0` GNU) at offset 257.
fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// The last component of a path (or member path).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\', '!']).next().unwrap_or(path)
}

/// What [`expand`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    /// Archives opened, the top-level one included.
    pub archives: u64,
    /// Entries met (files, directories, links), at every level.
    pub members: u64,
    /// Leaf members pushed into the sink.
    pub blobs: u64,
    /// Skips listed (limits, corrupt entries, encrypted members).
    pub skipped: u64,
    /// Decompressed bytes charged to the budget.
    pub expanded_bytes: u64,
    /// The limit that ended reading before the end, if one did.
    pub stopped_by: Option<Limit>,
}

/// Expand `bytes` (an archive found at `outer`, the user-facing path), pushing every leaf member
/// into `sink` as `Blob { id: None, bytes, origin: Origin::ArchiveMember { outer, member }, lines:
/// None }` (member = inner path, nested members joined with `!`), and every limit hit, corrupt
/// entry or encrypted member as `sink.skip(Skipped { path: "<outer>!<member>", reason })`; an
/// error about a whole archive names the archive itself. Returns counts.
pub fn expand(outer: &str, bytes: &[u8], limits: &Limits, sink: &mut dyn BlobSink) -> ArchiveStats {
    let budget = Budget::new(limits, bytes.len() as u64);
    let mut walker = Walker {
        outer,
        limits,
        sink,
        budget: &budget,
        stats: ArchiveStats::default(),
        leaf: Vec::new(),
    };
    let head = &bytes[..bytes.len().min(HEAD_LEN)];
    match archive_kind(outer, head) {
        Some(kind) => {
            let _ = walker.archive("", file_name(outer), kind, Source::Bytes(bytes), 1);
        }
        None => walker.skip("", "not an archive (no zip, tar or gzip signature)".into()),
    }
    let mut stats = walker.stats;
    stats.expanded_bytes = budget.expanded();
    stats
}

/// A limit that ends the whole top-level archive was hit and listed; unwind.
struct Stop;

type Flow = Result<(), Stop>;

/// After one member: whether the enclosing stream can still be read. `false` after a read error
/// there: a tar or gzip stream is broken from that point on (a zip's next member is not).
type Intact = Result<bool, Stop>;

/// Where an archive's bytes come from: zip needs them all, tar and gzip are streamed.
enum Source<'a> {
    Bytes(&'a [u8]),
    Stream(&'a mut dyn Read),
}

/// The state of one [`expand`] call.
struct Walker<'a> {
    outer: &'a str,
    limits: &'a Limits,
    sink: &'a mut dyn BlobSink,
    budget: &'a Budget,
    stats: ArchiveStats,
    /// The buffer leaf members are read into, reused.
    leaf: Vec<u8>,
}

impl<'a> Walker<'a> {
    /// Read one archive. `at` is its member path ("" for the top-level archive), `name` its
    /// file name (for a gzip's member name), `depth` its nesting level (1 at the top).
    /// Corruption inside a nested tar or gzip leaves the enclosing stream counted as intact:
    /// where the damage lies is unknown, and the enclosing archive says so at its next entry.
    fn archive(
        &mut self,
        at: &str,
        name: &str,
        kind: ArchiveKind,
        source: Source<'_>,
        depth: u32,
    ) -> Intact {
        if depth > self.limits.max_depth {
            return self.limit_skip(at, Limit::Depth).map(|()| true);
        }
        self.stats.archives += 1;
        match (kind, source) {
            (ArchiveKind::Zip, Source::Bytes(bytes)) => self.zip(at, bytes, depth),
            (ArchiveKind::Zip, Source::Stream(reader)) => {
                let mut bytes = Vec::new();
                match self.read_capped(reader, &mut bytes) {
                    Ok(true) => self.zip(at, &bytes, depth),
                    Ok(false) => self.limit_skip(at, Limit::MemberBytes),
                    Err(error) => return self.read_failed(at, &error),
                }
            }
            (ArchiveKind::Tar, Source::Bytes(mut bytes)) => self.tar(at, &mut bytes, depth),
            (ArchiveKind::Tar, Source::Stream(reader)) => self.tar(at, reader, depth),
            (ArchiveKind::Gzip, Source::Bytes(mut bytes)) => self.gzip(at, name, &mut bytes, depth),
            (ArchiveKind::Gzip, Source::Stream(reader)) => self.gzip(at, name, reader, depth),
        }
        .map(|()| true)
    }

    /// Count one entry of any kind; past `max_members`, list the limit and stop.
    fn count_member(&mut self, at: &str, name: &str) -> Flow {
        if self.stats.members >= self.limits.max_members {
            return self.stop(&join(at, name), Limit::Members);
        }
        self.stats.members += 1;
        Ok(())
    }

    /// One file member of the archive at `at`: a nested archive is opened (depth + 1), anything
    /// else is pushed into the sink. `declared` is the size its header gives, if any.
    fn member(
        &mut self,
        at: &str,
        name: &str,
        declared: Option<u64>,
        reader: &mut dyn Read,
        depth: u32,
    ) -> Intact {
        let path = join(at, name);
        let mut head = Vec::with_capacity(HEAD_LEN);
        if let Err(error) = reader.take(HEAD_LEN as u64).read_to_end(&mut head) {
            return self.read_failed(&path, &error);
        }
        let too_big = declared.is_some_and(|size| size > self.limits.max_member_bytes);
        match archive_kind(name, &head) {
            None if too_big => self.limit_skip(&path, Limit::MemberBytes).map(|()| true),
            None => self.leaf(&path, &head, reader),
            Some(_) if depth >= self.limits.max_depth => {
                self.limit_skip(&path, Limit::Depth).map(|()| true)
            }
            Some(ArchiveKind::Zip) if too_big => {
                self.limit_skip(&path, Limit::MemberBytes).map(|()| true)
            }
            Some(kind) => {
                let mut stream = io::Cursor::new(head).chain(reader);
                self.archive(
                    &path,
                    file_name(name),
                    kind,
                    Source::Stream(&mut stream),
                    depth + 1,
                )
            }
        }
    }

    /// Read a leaf member (its first bytes already in `head`) and push it into the sink.
    fn leaf(&mut self, path: &str, head: &[u8], reader: &mut dyn Read) -> Intact {
        let mut buffer = std::mem::take(&mut self.leaf);
        buffer.clear();
        buffer.extend_from_slice(head);
        let flow = match self.read_capped(reader, &mut buffer) {
            Ok(true) => {
                self.sink.blob(Blob {
                    id: None,
                    bytes: &buffer,
                    origin: Origin::ArchiveMember {
                        outer: self.outer.to_string(),
                        member: path.to_string(),
                    },
                    lines: None,
                });
                self.stats.blobs += 1;
                Ok(true)
            }
            Ok(false) => self.limit_skip(path, Limit::MemberBytes).map(|()| true),
            Err(error) => self.read_failed(path, &error),
        };
        self.leaf = buffer;
        flow
    }

    /// Append the rest of `reader` to `buffer`, reading at most one byte past
    /// `max_member_bytes`. `Ok(false)` when the member is larger than that.
    fn read_capped(&self, reader: &mut dyn Read, buffer: &mut Vec<u8>) -> io::Result<bool> {
        let limit = self.limits.max_member_bytes;
        let room = limit.saturating_sub(buffer.len() as u64);
        reader.take(room.saturating_add(1)).read_to_end(buffer)?;
        Ok(buffer.len() as u64 <= limit)
    }

    /// A read failed at `path`: the budget ran out (list the limit and stop), or the data is
    /// corrupt or truncated (list it; the stream it came from is no longer intact).
    fn read_failed(&mut self, path: &str, error: &io::Error) -> Intact {
        if let Some(limit) = self.budget.hit() {
            return self.stop(path, limit).map(|()| false);
        }
        self.skip(path, format!("unreadable: {error}"));
        Ok(false)
    }

    /// A limit that only concerns `path` (depth, member size): listed, reading goes on.
    fn limit_skip(&mut self, path: &str, limit: Limit) -> Flow {
        self.skip(path, limit.reason(self.limits));
        Ok(())
    }

    /// A limit that ends the top-level archive: listed once, then unwind.
    fn stop(&mut self, path: &str, limit: Limit) -> Flow {
        if self.stats.stopped_by.is_none() {
            self.stats.stopped_by = Some(limit);
            self.skip(path, limit.reason(self.limits));
        }
        Err(Stop)
    }

    /// List a skip at member path `path` ("" for the top-level archive).
    fn skip(&mut self, path: &str, reason: String) {
        self.stats.skipped += 1;
        let path = if path.is_empty() {
            self.outer.to_string()
        } else {
            format!("{}!{path}", self.outer)
        };
        self.sink.skip(Skipped { path, reason });
    }

    /// Wrap a decompressor so its output is charged to the budget.
    fn metered<R: Read>(&self, reader: R) -> Metered<'a, R> {
        Metered::new(reader, self.budget)
    }
}

/// The member path of `name` inside the archive at `at`.
fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}!{name}")
    }
}
