//! What a finding reports about where it came from: commit author and date, path, ids.

use gix::bstr::{BStr, ByteSlice as _};
use gix::objs::FindExt as _;

/// Author and date of a commit, for display.
#[derive(Clone, Debug, Default)]
pub struct CommitDisplay {
    /// `Name <email>`.
    pub author: Option<String>,
    /// Author date, strict ISO 8601 with offset, `Z` for UTC (as `git log --format=%aI`).
    pub date: Option<String>,
}

/// Read a commit's author and author date.
pub fn commit_display(repo: &gix::Repository, id: &gix::oid) -> CommitDisplay {
    let mut buf = Vec::new();
    let Ok(commit) = repo.objects.find_commit(id, &mut buf) else {
        return CommitDisplay::default();
    };
    let Ok(author) = commit.author() else {
        return CommitDisplay::default();
    };
    let date = author
        .time()
        .ok()
        .map(|time| time.format_or_unix(gix::date::time::format::ISO8601_STRICT))
        .map(|date| match date.strip_suffix("+00:00") {
            Some(utc) => format!("{utc}Z"), // as git prints UTC
            None => date,
        });
    CommitDisplay {
        author: Some(format!("{} <{}>", author.name, author.email)),
        date,
    }
}

/// A Git LFS pointer file (the real content lives on an LFS server).
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    data.len() < 1024 && data.starts_with(b"version https://git-lfs.github.com/spec/")
}

/// Lossy UTF-8 path with `/`.
pub fn display_path(path: &BStr) -> String {
    path.to_str_lossy().into_owned()
}

/// Hex of an id.
pub fn hex(id: &gix::oid) -> String {
    id.to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfs_pointer() {
        let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n";
        assert!(is_lfs_pointer(pointer));
        assert!(!is_lfs_pointer(b"hello"));
    }
}
