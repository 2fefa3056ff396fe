//! Files and directories: a parallel walk (ignore's `WalkParallel`) that reads each file once,
//! into a per-thread buffer or a memory map, and hands the bytes to a per-thread sink.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// Walk `roots` in parallel; `make_sink` is called once per walker thread. Files over
/// `max_file_size` are listed as skipped without being read.
pub fn walk<S, F>(roots: &[PathBuf], options: &FsOptions, make_sink: F)
where
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
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    let single_dir_root = (roots.len() == 1 && roots[0].is_dir()).then(|| roots[0].clone());
    let mut visitor_builder = VisitorBuilder {
        make_sink: &make_sink,
        root: single_dir_root.as_deref(),
        max_file_size: options.max_file_size,
    };
    builder.build_parallel().visit(&mut visitor_builder);
}

struct VisitorBuilder<'s, F> {
    make_sink: &'s F,
    root: Option<&'s Path>,
    max_file_size: u64,
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
            buffer: Vec::with_capacity(READ_BUFFER_CAPACITY),
        })
    }
}

struct Visitor<'s, S> {
    sink: S,
    root: Option<&'s Path>,
    max_file_size: u64,
    buffer: Vec<u8>,
}

impl<S: BlobSink> ParallelVisitor for Visitor<'_, S> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.visit_entry(&entry),
            Err(error) => self.sink.skip(skipped_from_error(&error)),
        }
        WalkState::Continue
    }
}

impl<S: BlobSink> Visitor<'_, S> {
    fn visit_entry(&mut self, entry: &DirEntry) {
        let Some(file_type) = entry.file_type() else {
            return;
        }; // stdin: not walked here
        let path = entry.path();
        if file_type.is_symlink() {
            if std::fs::metadata(path).is_err() {
                self.skip(path, "broken symbolic link");
            }
            return; // not followed (use --follow-links)
        }
        if !file_type.is_file() {
            if !file_type.is_dir() {
                self.skip(path, "not a regular file (device, FIFO or socket)");
            }
            return;
        }
        let Some(display) = self.display_path(path) else {
            self.skip(path, "file name is not valid UTF-8");
            return;
        };
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
            Err(error) => self.skip(path, &format!("cannot read: {error}")),
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
        let file = File::open(path)?;
        self.buffer.clear();
        let read = (&file).take(MMAP_THRESHOLD).read_to_end(&mut self.buffer)?;
        if (read as u64) < MMAP_THRESHOLD {
            if read as u64 > self.max_file_size {
                return Ok(Content::TooLarge(read as u64));
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
        let path = self.display_path(path).unwrap_or_else(|| {
            let relative = self
                .root
                .and_then(|root| path.strip_prefix(root).ok())
                .unwrap_or(path);
            to_slash(&relative.to_string_lossy())
        });
        self.sink.skip(Skipped {
            path,
            reason: reason.to_string(),
        });
    }

    /// The path relative to the single directory root, else as walked; `/`-separated.
    fn display_path(&self, path: &Path) -> Option<String> {
        let relative = match self.root {
            Some(root) => path.strip_prefix(root).unwrap_or(path),
            None => path,
        };
        let text = relative.to_str()?;
        let text = text.strip_prefix("./").unwrap_or(text);
        Some(to_slash(text))
    }
}

enum Content {
    /// In the visitor's buffer.
    Buffer,
    Mapped(memmap2::Mmap),
    TooLarge(u64),
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
