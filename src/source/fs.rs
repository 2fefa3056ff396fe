//! Files and directories: a parallel walk (ignore's `WalkParallel`) that reads each file once,
//! into a per-thread buffer or a memory map, and hands the bytes to a per-thread sink.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use super::{Blob, BlobSink, Origin};
use crate::finding::Skipped;

/// Initial (and retained) size of each walker thread's read buffer.
const READ_BUFFER_CAPACITY: usize = 1 << 20;
/// Files at least this large are memory-mapped instead of read.
const MMAP_THRESHOLD: u64 = 16 * 1024 * 1024;

/// How to walk.
#[derive(Clone, Debug)]
pub struct FsOptions {
    /// Ignore `.gitignore`, `.ignore` and `.git/info/exclude`.
    pub no_ignore: bool,
    pub follow_links: bool,
    pub max_file_size: u64,
    pub threads: usize,
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
}

/// Pseudo filesystems a sweep of `/` never enters.
const PSEUDO_FILESYSTEMS: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Walk `roots` in parallel; `make_sink` is called once per walker thread. Files over
/// `max_file_size` are listed as skipped without being read.
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
    let mut visitor_builder = VisitorBuilder {
        make_sink: &make_sink,
        root: single_dir_root.as_deref(),
        max_file_size: options.max_file_size,
        forensic,
    };
    builder.build_parallel().visit(&mut visitor_builder);
}

struct VisitorBuilder<'s, F> {
    make_sink: &'s F,
    root: Option<&'s Path>,
    max_file_size: u64,
    forensic: Option<&'s Forensic<'s>>,
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
            buffer: Vec::with_capacity(READ_BUFFER_CAPACITY),
        })
    }
}

struct Visitor<'s, S> {
    sink: S,
    root: Option<&'s Path>,
    max_file_size: u64,
    forensic: Option<&'s Forensic<'s>>,
    buffer: Vec<u8>,
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
            Ok(entry) => self.visit_entry(&entry),
            Err(error) => {
                self.sink.skip(skipped_from_error(&error));
                WalkState::Continue
            }
        }
    }
}

impl<S: BlobSink> Visitor<'_, S> {
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
            Ok(Content::Buffer) => {
                let bytes = std::mem::take(&mut self.buffer);
                self.emit(&display, &bytes);
                self.buffer = bytes;
            }
            Ok(Content::Mapped(map)) => self.emit(&display, &map),
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

    fn emit(&mut self, path: &str, bytes: &[u8]) {
        self.sink.blob(Blob {
            id: None,
            bytes,
            origin: Origin::File {
                path: path.to_string(),
            },
            lines: None,
        });
    }

    /// Read a file with as few system calls as a plain read: files under the mapping threshold
    /// are read whole into the thread's buffer (no `stat`); larger ones are checked against
    /// `--max-file-size` and memory-mapped.
    fn read(&mut self, path: &Path) -> std::io::Result<Content> {
        let forensic = self.forensic.is_some();
        let file = if forensic {
            open_without_atime(path)?
        } else {
            File::open(path)?
        };
        let before = forensic.then(|| file.metadata()).transpose()?;
        self.buffer.clear();
        let read = (&file).take(MMAP_THRESHOLD).read_to_end(&mut self.buffer)?;
        if (read as u64) < MMAP_THRESHOLD {
            if read as u64 > self.max_file_size {
                return Ok(Content::TooLarge(read as u64));
            }
            if let Some(before) = before
                && changed(&before, &file.metadata()?, read as u64)
            {
                return Ok(Content::Changed);
            }
            return Ok(Content::Buffer);
        }
        self.buffer.clear();
        self.buffer.shrink_to(READ_BUFFER_CAPACITY);
        let size = file.metadata()?.len();
        if size > self.max_file_size {
            return Ok(Content::TooLarge(size));
        }
        // SAFETY: the map is read-only and dropped before the visitor moves on; a file
        // truncated underneath us can fault, which is the accepted cost of mapping.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Content::Mapped(map))
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

enum Content {
    /// In the visitor's buffer.
    Buffer,
    Mapped(memmap2::Mmap),
    TooLarge(u64),
    /// Its size or modification time changed while it was read (a sweep only).
    Changed,
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
