//! What a swept tree holds, to show a sweep changed nothing: every entry's type, size,
//! modification time and content digest (never opening FIFOs).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Path → (kind, size, mtime in ns, digest of the content for regular files).
pub type Snapshot = BTreeMap<PathBuf, (char, u64, i128, String)>;

/// Walk `root` without following links; unreadable directories are recorded, not entered.
pub fn snapshot(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    visit(root, &mut out);
    out
}

fn visit(path: &Path, out: &mut Snapshot) {
    let meta = std::fs::symlink_metadata(path).expect("lstat");
    let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    let file_type = meta.file_type();
    let (kind, digest) = if file_type.is_file() {
        let digest = match std::fs::read(path) {
            Ok(bytes) => hex(&Sha256::digest(&bytes)),
            Err(e) => format!("unreadable: {e}"),
        };
        ('f', digest)
    } else if file_type.is_dir() {
        ('d', String::new())
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(path).expect("readlink");
        ('l', target.to_string_lossy().into_owned())
    } else {
        ('o', String::new())
    };
    out.insert(path.to_path_buf(), (kind, meta.len(), mtime, digest));
    if file_type.is_dir()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        for entry in entries.flatten() {
            visit(&entry.path(), out);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Panic naming every entry that differs between two snapshots.
pub fn assert_unchanged(before: &Snapshot, after: &Snapshot) {
    let mut differences = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => differences.push(format!("{} vanished", path.display())),
            Some(now) if now != was => {
                differences.push(format!("{} changed: {was:?} -> {now:?}", path.display()))
            }
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        differences.push(format!("{} appeared", path.display()));
    }
    assert!(
        differences.is_empty(),
        "the sweep changed the tree:\n{}",
        differences.join("\n")
    );
}
