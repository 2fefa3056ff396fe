//! Files and directories: a parallel walk (ignore's `WalkParallel`) that reads each file once
//! into a per-thread buffer and hands the bytes to a per-thread sink. A file larger than the
//! buffer's window is read window by window, so memory does not grow with file size.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use super::{Blob, BlobSink, Origin, Window};
use crate::finding::Skipped;

/// Initial (and retained) size of each walker thread's read buffer.
const READ_BUFFER_CAPACITY: usize = 1 << 20;
/// Files larger than this are read in windows of this many bytes instead of whole, into the
/// walker thread's buffer, so a walker thread holds at most one window whatever the file size
/// (tuning: `KEYSWEEP_WINDOW_BYTES`).
pub const DEFAULT_WINDOW_BYTES: usize = 16 * 1024 * 1024;
/// The smallest window accepted (smaller settings are raised to it).
pub const MIN_WINDOW_BYTES: usize = 4096;
/// How many bytes each window repeats from the end of the one before (a quarter of the window
/// when that is less). A candidate belongs to the window holding its start at least a quarter
/// of the overlap from either edge, so every match is seen with 256 KiB of content before it and
/// 512 KiB after. The widest context a built-in rule reads is 128 KiB after a keyword plus 4 KiB
/// of line extension on each side (`rules/pem.toml`, `scan::MAX_LINE_EXTENSION`; user rules are
/// held to 256 KiB), and the largest keys are far smaller (a PEM RSA-16384 key is about 12 KB, a
/// JWKS key or a JWT a few KB), so no key spanning a window boundary is cut, and none is
/// reported twice.
const MAX_OVERLAP_BYTES: usize = 1024 * 1024;

/// How to walk.
#[derive(Clone, Debug)]
pub struct FsOptions {
    /// Ignore `.gitignore`, `.ignore` and `.git/info/exclude`.
    pub no_ignore: bool,
    pub follow_links: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// Files larger than this are read in windows of this size ([`DEFAULT_WINDOW_BYTES`]).
    pub window_bytes: usize,
}

/// What a forensic walk (`keysweep sweep`) does differently: no ignore rules and no hidden-file
/// rules, symbolic links listed and never followed, one filesystem per root, no pseudo
/// filesystems, files opened without updating their access time, files that change while read
/// listed, git directories handed to `on_repository` instead of walked, and a stop flag.
pub struct Forensic<'a> {
    /// Called with each git repository met: the work tree holding a `.git` directory or file,
    /// or a bare repository. The walk does not descend into git directories.
    pub on_repository: &'a (dyn Fn(&Path) + Sync),
    /// Set (by a signal) to stop the walk; files being read are finished.
    pub stop: &'a AtomicBool,
    /// Descend into other filesystems mounted below a root.
    pub cross_filesystems: bool,
    /// A pause before each file (tests: to interrupt a sweep partway).
    pub file_delay: Option<Duration>,
    /// Archives are opened (by the pipeline): a large one is read whole, not in windows.
    pub archives: bool,
}

/// Pseudo filesystems a sweep of `/` never enters.
const PSEUDO_FILESYSTEMS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Walk `roots` in parallel; `make_sink` is called once per walker thread. Files over
/// `max_file_size` are listed as skipped without being read. When ignore files are respected,
/// one more sink is made at the end and told how many paths they hid ([`BlobSink::ignored`]).
pub fn walk<S, F>(roots: &[PathBuf], options: &FsOptions, make_sink: F)
where
    S: BlobSink,
    F: Fn() -> S + Sync,
{
    walk_with(roots, options, None, make_sink);
}

/// [`walk`], forensically when `forensic` is given.
pub fn walk_with<S, F>(
    roots: &[PathBuf],
    options: &FsOptions,
    forensic: Option<&Forensic<'_>>,
    make_sink: F,
) where
    S: BlobSink,
    F: Fn() -> S + Sync,
{
    let Some((first, rest)) = roots.split_first() else {
        return;
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    let respect_ignore = !options.no_ignore;
    builder
        .hidden(false)
        .parents(respect_ignore)
        .ignore(respect_ignore)
        .git_ignore(respect_ignore)
        .git_exclude(respect_ignore)
        .git_global(false)
        .require_git(false)
        .follow_links(options.follow_links)
        .threads(options.threads);
    match forensic {
        Some(forensic) => {
            builder
                .standard_filters(false)
                .follow_links(false)
                .same_file_system(!forensic.cross_filesystems)
                .filter_entry(|entry| {
                    !PSEUDO_FILESYSTEMS
                        .iter()
                        .any(|pseudo| entry.path() == Path::new(pseudo))
                });
        }
        None => {
            builder.filter_entry(|entry| entry.file_name() != ".git");
        }
    }
    let single_dir_root = (roots.len() == 1 && roots[0].is_dir()).then(|| roots[0].clone());
    let hidden = Mutex::new(Hidden::default());
    let count_hidden = respect_ignore && forensic.is_none();
    let mut visitor_builder = VisitorBuilder {
        make_sink: &make_sink,
        root: single_dir_root.as_deref(),
        max_file_size: options.max_file_size,
        forensic,
        window_bytes: options.window_bytes.max(MIN_WINDOW_BYTES),
        hidden: count_hidden.then_some(&hidden),
    };
    builder.build_parallel().visit(&mut visitor_builder);
    if count_hidden {
        let hidden = hidden.into_inner().unwrap_or_else(|p| p.into_inner());
        make_sink().ignored(hidden.count(roots));
    }
}

struct VisitorBuilder<'s, F> {
    make_sink: &'s F,
    root: Option<&'s Path>,
    max_file_size: u64,
    forensic: Option<&'s Forensic<'s>>,
    window_bytes: usize,
    hidden: Option<&'s Mutex<Hidden>>,
}

impl<'s, S, F> ParallelVisitorBuilder<'s> for VisitorBuilder<'s, F>
where
    S: BlobSink + 's,
    F: Fn() -> S + Sync,
{
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            sink: (self.make_sink)(),
            root: self.root,
            max_file_size: self.max_file_size,
            forensic: self.forensic,
            window_bytes: self.window_bytes,
            buffer: Vec::with_capacity(READ_BUFFER_CAPACITY),
            hidden: self.hidden,
            seen: Hidden::default(),
        })
    }
}

struct Visitor<'s, S> {
    sink: S,
    root: Option<&'s Path>,
    max_file_size: u64,
    forensic: Option<&'s Forensic<'s>>,
    window_bytes: usize,
    buffer: Vec<u8>,
    /// Where what each thread saw is gathered to count paths hidden by ignore rules (`None`:
    /// not counted).
    hidden: Option<&'s Mutex<Hidden>>,
    /// What this thread saw.
    seen: Hidden,
}

impl<S: BlobSink> ParallelVisitor for Visitor<'_, S> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        if self
            .forensic
            .is_some_and(|f| f.stop.load(Ordering::Relaxed))
        {
            return WalkState::Quit;
        }
        match entry {
            Ok(entry) => {
                self.count_hidden(&entry);
                self.visit_entry(&entry)
            }
            Err(error) => {
                if matches!(error, ignore::Error::Loop { .. }) {
                    self.seen.entries += 1; // an entry of its directory, reported instead of walked
                }
                self.sink.skip(skipped_from_error(&error));
                WalkState::Continue
            }
        }
    }
}

impl<S> Drop for Visitor<'_, S> {
    fn drop(&mut self) {
        if let Some(hidden) = self.hidden {
            let mut hidden = hidden.lock().unwrap_or_else(|p| p.into_inner());
            let seen = std::mem::take(&mut self.seen);
            hidden.dirs.extend(seen.dirs);
            hidden.entries += seen.entries;
            hidden.rules_seen |= seen.rules_seen;
        }
    }
}

impl<S: BlobSink> Visitor<'_, S> {
    /// Note what the walker handed over, to count later what ignore rules hid.
    fn count_hidden(&mut self, entry: &DirEntry) {
        if self.hidden.is_none() {
            return;
        }
        if entry.depth() > 0 {
            self.seen.entries += 1;
        }
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            self.seen.dirs.push(entry.path().to_path_buf());
        } else if entry.file_name() == ".gitignore" || entry.file_name() == ".ignore" {
            self.seen.rules_seen = true;
        }
    }

    fn visit_entry(&mut self, entry: &DirEntry) -> WalkState {
        let Some(file_type) = entry.file_type() else {
            return WalkState::Continue;
        }; // stdin: not walked here
        let path = entry.path();
        if let Some(forensic) = self.forensic
            && let Some(repository) = git_repository(entry, file_type)
        {
            (forensic.on_repository)(&repository);
            return WalkState::Skip;
        }
        if file_type.is_symlink() {
            self.visit_symlink(path);
            return WalkState::Continue;
        }
        if !file_type.is_file() {
            if !file_type.is_dir() {
                self.skip(path, "not a regular file (device, FIFO or socket)");
            }
            return WalkState::Continue;
        }
        if let Some(delay) = self.forensic.and_then(|f| f.file_delay) {
            std::thread::sleep(delay);
        }
        let display = self.display_path(path);
        match self.read(path) {
            Ok(Content::Whole) => {
                let bytes = std::mem::take(&mut self.buffer);
                self.emit(&display, &bytes);
                self.buffer = bytes;
            }
            Ok(Content::Windowed { file, size, before }) => {
                match self.read_windows(&file, &display, size) {
                    Err(error) => self.skip(path, &format!("cannot read: {error}")),
                    Ok(read) => {
                        if let Some(before) = before
                            && file
                                .metadata()
                                .is_ok_and(|after| changed(&before, &after, read))
                        {
                            self.skip(path, "changed while being read");
                        }
                    }
                }
                self.buffer.clear();
                self.buffer.shrink_to(READ_BUFFER_CAPACITY);
            }
            Ok(Content::Utf16TooLarge) => {
                self.skip(
                    path,
                    &format!(
                        "UTF-16 text larger than the read window ({} bytes) is not scanned",
                        self.window_bytes
                    ),
                );
                self.buffer.clear();
                self.buffer.shrink_to(READ_BUFFER_CAPACITY);
            }
            Ok(Content::TooLarge(size)) => self.skip(
                path,
                &format!(
                    "{size} bytes is over --max-file-size ({} bytes)",
                    self.max_file_size
                ),
            ),
            Ok(Content::Changed) => self.skip(path, "changed while being read"),
            Err(error) => self.skip(path, &format!("cannot read: {error}")),
        }
        WalkState::Continue
    }

    /// Links are never followed in a sweep, and listed there; a broken one is listed always.
    fn visit_symlink(&mut self, path: &Path) {
        let target = std::fs::read_link(path)
            .map(|t| escape_path(&t))
            .unwrap_or_default();
        match std::fs::metadata(path) {
            Err(error) => self.skip(
                path,
                &format!("broken symbolic link to {target:?} ({error})"),
            ),
            Ok(_) if self.forensic.is_some() => {
                self.skip(path, &format!("symbolic link to {target:?}, not followed"))
            }
            Ok(_) => {} // not followed (use --follow-links)
        }
    }

    fn origin(path: &str) -> Origin {
        Origin::File {
            path: path.to_string(),
        }
    }

    fn emit(&mut self, path: &str, bytes: &[u8]) {
        self.sink.blob(Blob {
            id: None,
            bytes,
            origin: Self::origin(path),
            lines: None,
        });
    }

    /// Read a file with as few system calls as a plain read: up to one window into the
    /// thread's buffer (no `stat`). A file that fills the window is checked against
    /// `--max-file-size` and left open for [`Visitor::read_windows`].
    fn read(&mut self, path: &Path) -> std::io::Result<Content> {
        let forensic = self.forensic.is_some();
        let file = if forensic {
            open_without_atime(path)?
        } else {
            File::open(path)?
        };
        let before = forensic.then(|| file.metadata()).transpose()?;
        self.buffer.clear();
        let window = self.window_bytes as u64;
        let read = (&file).take(window).read_to_end(&mut self.buffer)?;
        if (read as u64) < window {
            if read as u64 > self.max_file_size {
                return Ok(Content::TooLarge(read as u64));
            }
            if let Some(before) = before
                && changed(&before, &file.metadata()?, read as u64)
            {
                return Ok(Content::Changed);
            }
            return Ok(Content::Whole);
        }
        let size = file.metadata()?.len().max(read as u64);
        if size > self.max_file_size {
            return Ok(Content::TooLarge(size));
        }
        if matches!(self.buffer.as_slice(), [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) && size > window {
            return Ok(Content::Utf16TooLarge);
        }
        if self.forensic.is_some_and(|f| f.archives) && is_archive(&self.buffer) {
            // An archive is read whole (up to --max-file-size): its members are not windows.
            (&file).read_to_end(&mut self.buffer)?;
            return Ok(Content::Whole);
        }
        Ok(Content::Windowed { file, size, before })
    }

    /// Hand a large file to the sink window by window: the buffer holds the first window; each
    /// next one keeps the last `overlap` bytes of the one before (from a line start where one is
    /// near) and reads the rest. Reads stop at the size the file had when it was opened, at its
    /// end, or when the sink wants no more (a binary first window). Returns the bytes read.
    fn read_windows(&mut self, file: &File, path: &str, size: u64) -> std::io::Result<u64> {
        let window_bytes = self.window_bytes;
        let overlap = (window_bytes / 4).min(MAX_OVERLAP_BYTES);
        let mut total = self.buffer.len() as u64;
        let mut rest = file.take(size.saturating_sub(total));
        let mut window = Window {
            lines_before: 0,
            columns_before: 0,
            owned: 0..0,
            continued: false,
        };
        loop {
            let wanted = window_bytes - self.buffer.len();
            total += (&mut rest)
                .take(wanted as u64)
                .read_to_end(&mut self.buffer)? as u64;
            let len = self.buffer.len();
            let last = len < window_bytes || rest.limit() == 0;
            let (next_start, owned_end) = if last {
                (len, len)
            } else {
                let from = len - overlap;
                let aligned = memchr::memchr(b'\n', &self.buffer[from..from + overlap / 4])
                    .map_or(from, |i| from + i + 1);
                (aligned, from + overlap / 2)
            };
            window.owned.end = owned_end;
            let bytes = std::mem::take(&mut self.buffer);
            let more = self.sink.window(
                Blob {
                    id: None,
                    bytes: &bytes,
                    origin: Self::origin(path),
                    lines: None,
                },
                &window,
            );
            self.buffer = bytes;
            if last || !more {
                return Ok(total);
            }
            let dropped = &self.buffer[..next_start];
            window.lines_before += memchr::memchr_iter(b'\n', dropped).count();
            window.columns_before = match memchr::memrchr(b'\n', dropped) {
                Some(i) => utf16_len(&dropped[i + 1..]),
                None => window.columns_before + utf16_len(dropped),
            };
            window.owned.start = owned_end - next_start;
            window.continued = true;
            self.buffer.drain(..next_start);
        }
    }

    fn skip(&mut self, path: &Path, reason: &str) {
        let path = self.display_path(path);
        self.sink.skip(Skipped {
            path,
            reason: reason.to_string(),
        });
    }

    /// The path relative to the single directory root, else as walked; `/`-separated; bytes
    /// that are not UTF-8 shown as `\xNN`.
    fn display_path(&self, path: &Path) -> String {
        let relative = match self.root {
            Some(root) => path.strip_prefix(root).unwrap_or(path),
            None => path,
        };
        let text = escape_path(relative);
        let text = text.strip_prefix("./").unwrap_or(&text);
        to_slash(text)
    }
}

/// What a walk saw, to count the paths ignore rules hid without a hook in the walker: the
/// directories it entered and the entries it handed over. The count is the directories' entries
/// less those handed over (an ignored directory counts once; `.git`, never walked, is not
/// counted). The directories are listed again (names only: one `getdents`, no `stat`) only when
/// some ignore file applies: one was walked, or a root or one of its parents holds a
/// `.gitignore`, an `.ignore` or a `.git` (its `info/exclude`); else nothing can be hidden and
/// the count costs nothing.
#[derive(Default)]
struct Hidden {
    dirs: Vec<PathBuf>,
    entries: u64,
    rules_seen: bool,
}

impl Hidden {
    fn count(&self, roots: &[PathBuf]) -> u64 {
        let rules_above = || {
            roots.iter().any(|root| {
                std::path::absolute(root).is_ok_and(|root| {
                    root.ancestors().any(|dir| {
                        [".gitignore", ".ignore", ".git"]
                            .iter()
                            .any(|name| dir.join(name).exists())
                    })
                })
            })
        };
        if !self.rules_seen && !rules_above() {
            return 0;
        }
        let listed: u64 = self
            .dirs
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name() != ".git")
                    .count() as u64
            })
            .sum();
        listed.saturating_sub(self.entries)
    }
}

enum Content {
    /// Whole, in the visitor's buffer.
    Whole,
    /// Larger than a window: the first window is in the buffer. The open file, its size, and
    /// (a sweep) its metadata before it was read.
    Windowed {
        file: File,
        size: u64,
        before: Option<std::fs::Metadata>,
    },
    /// UTF-16 text (a byte order mark) larger than a window: its windows could not be decoded.
    Utf16TooLarge,
    TooLarge(u64),
    /// Its size or modification time changed while it was read (a sweep only).
    Changed,
}

/// UTF-16 code units of UTF-8 text (what `source::locate` counts columns in), counted without
/// decoding: one per character, two for those outside the basic plane.
fn utf16_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0xBF => 0,
            0xF0..=0xFF => 2,
            _ => 1,
        })
        .sum()
}

/// The git repository an entry stands for, in a sweep: a `.git` directory or file names its
/// work tree; a directory with `HEAD`, `objects/` and `refs/` is a bare repository.
fn git_repository(entry: &DirEntry, file_type: std::fs::FileType) -> Option<PathBuf> {
    let path = entry.path();
    if entry.file_name() == ".git" && (file_type.is_dir() || file_type.is_file()) {
        return path.parent().map(Path::to_path_buf);
    }
    let bare = file_type.is_dir()
        && path.join("HEAD").is_file()
        && path.join("objects").is_dir()
        && path.join("refs").is_dir();
    bare.then(|| path.to_path_buf())
}

/// Whether `head` starts like an archive (by its magic bytes).
fn is_archive(head: &[u8]) -> bool {
    let head = &head[..head.len().min(super::archive::HEAD_LEN)];
    super::archive::archive_kind("", head).is_some()
}

/// Open for reading without updating the access time where the OS allows it (`O_NOATIME` is
/// refused for files the user does not own: then a plain open).
fn open_without_atime(path: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let attempt = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOATIME)
            .open(path);
        match attempt {
            Err(error) if error.raw_os_error() == Some(libc::EPERM) => File::open(path),
            other => other,
        }
    }
    #[cfg(not(target_os = "linux"))]
    File::open(path)
}

/// Whether a file changed while it was read: its size or modification time moved, or fewer
/// bytes were read than it holds.
fn changed(before: &std::fs::Metadata, after: &std::fs::Metadata, read: u64) -> bool {
    before.len() != after.len()
        || after.len() != read
        || before.modified().ok() != after.modified().ok()
}

/// A path as text, byte-faithful: bytes that are not UTF-8 are shown as `\xNN`.
pub fn escape_path(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let bytes = path.as_os_str().as_bytes();
        let mut out = String::with_capacity(bytes.len());
        for chunk in bytes.utf8_chunks() {
            out.push_str(chunk.valid());
            for byte in chunk.invalid() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        }
        out
    }
    #[cfg(not(unix))]
    path.to_string_lossy().into_owned()
}

fn to_slash(path: &str) -> String {
    if std::path::MAIN_SEPARATOR == '/' {
        path.to_string()
    } else {
        path.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

fn skipped_from_error(error: &ignore::Error) -> Skipped {
    let path = error_path(error).map_or_else(String::new, |p| to_slash(&p.to_string_lossy()));
    Skipped {
        path,
        reason: error.to_string(),
    }
}

fn error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}
