//! Scan trees: files written into a fresh temporary directory.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::ks::Ks;
use super::report::Scan;
use super::tools::tool;

/// A scan tree in a fresh temporary directory.
pub struct Tree {
    dir: TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::Builder::new()
                .prefix("keysweep-it-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `rel` (with `/` separators), creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents.as_ref()).expect("write");
        p
    }

    /// Makes the tree a git repository (so that `.gitignore` applies the way it does for users).
    pub fn git_init(&self) {
        tool("git", &["init", "-q", "."], Some(self.root()));
    }

    /// `keysweep scan ROOT --format json EXTRA...`.
    pub fn scan(&self, extra: &[&str]) -> Scan {
        Ks::new("scan")
            .arg(self.root())
            .format("json")
            .args(extra)
            .run()
            .scan()
    }
}
