//! The blobs in the index: what will be committed (see the git issue).
//!
//! The index is read from `GIT_INDEX_FILE` when git set it (`git commit -a` and
//! `git commit PATH` run hooks with a temporary index), else from the repository's own. Only
//! stage-0 regular files (not symlinks, submodules, intent-to-add entries) whose blob differs
//! from HEAD's at the same path are listed; with no HEAD yet, all of them. Nothing in the work
//! tree is read or hashed.

use std::ops::Range;
use std::path::Path;

use anyhow::bail;
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice as _};
use gix::objs::FindExt as _;

use imara_diff::{Algorithm, Diff, InternedInput, TokenSource};

use super::{Blob, BlobSink, Origin};
use crate::finding::Skipped;
use crate::scan::is_binary;

/// A staged file that differs from HEAD.
#[derive(Clone, Debug)]
pub struct StagedEntry {
    /// Path relative to the repository root, with `/`.
    pub path: String,
    /// The staged blob.
    pub id: ObjectId,
    /// HEAD's blob at the same path, when there is one.
    pub head: Option<ObjectId>,
}

/// The staged entries and notes (submodules, conflicts).
#[derive(Debug, Default)]
pub struct Staged {
    pub entries: Vec<StagedEntry>,
    pub notes: Vec<Skipped>,
}

/// Read an index file; `None` when there is none yet (a fresh repository before `git add`).
pub fn read_index(
    repo: &gix::Repository,
    index_path: &Path,
) -> anyhow::Result<Option<gix::index::File>> {
    if !index_path.exists() {
        return Ok(None);
    }
    gix::index::File::at(
        index_path,
        repo.object_hash(),
        true,
        gix::index::decode::Options::default(),
    )
    .map(Some)
    .map_err(|error| anyhow::anyhow!("cannot read the index {}: {error}", index_path.display()))
}

/// List the index entries added or modified against HEAD. `index_file` is `GIT_INDEX_FILE`.
pub fn staged_entries(repo: &gix::Repository, index_file: Option<&Path>) -> anyhow::Result<Staged> {
    if repo.is_bare() && index_file.is_none() {
        bail!(
            "{}: a bare repository has no index to scan",
            repo.git_dir().display()
        );
    }
    // `index_file` is made absolute by `config` (git resolves it against the current directory).
    let index_path = match index_file {
        Some(path) => path.to_path_buf(),
        None => repo.index_path(),
    };
    let mut out = Staged::default();
    let Some(index) = read_index(repo, &index_path)? else {
        // A fresh repository before the first `git add`: nothing is staged.
        return Ok(out);
    };

    let head = head_blobs(repo)?;
    let mut conflicted: Vec<String> = Vec::new();
    for entry in index.entries() {
        let path = entry.path(&index);
        if entry.stage_raw() != 0 {
            conflicted.push(path.to_str_lossy().into_owned());
            continue;
        }
        if entry
            .flags
            .contains(gix::index::entry::Flags::INTENT_TO_ADD)
        {
            continue;
        }
        use gix::index::entry::Mode;
        if entry.mode == Mode::COMMIT {
            if head.as_ref().and_then(|h| h.get(path)) != Some(&entry.id) {
                out.notes.push(Skipped {
                    path: path.to_str_lossy().into_owned(),
                    reason: "submodule: not followed (scan its repository separately)".into(),
                });
            }
            continue;
        }
        if entry.mode != Mode::FILE && entry.mode != Mode::FILE_EXECUTABLE {
            continue; // symlinks, sparse directories
        }
        let head_id = head.as_ref().and_then(|h| h.get(path)).copied();
        if head_id == Some(entry.id) {
            continue;
        }
        out.entries.push(StagedEntry {
            path: path.to_str_lossy().into_owned(),
            id: entry.id,
            head: head_id,
        });
    }
    conflicted.dedup();
    for path in conflicted {
        out.notes.push(Skipped {
            path,
            reason: "unmerged (conflicted) index entry: resolve the conflict, then scan again"
                .into(),
        });
    }
    Ok(out)
}

/// HEAD's tree as path → blob id (blobs, symlinks and submodules), or `None` with no HEAD.
fn head_blobs(
    repo: &gix::Repository,
) -> anyhow::Result<Option<std::collections::HashMap<BString, ObjectId>>> {
    let tree = match repo.head_tree_id() {
        Ok(id) => id.detach(),
        Err(_) => {
            // Unborn HEAD (no commit yet) is normal; a HEAD that names a missing commit is not.
            match repo.head() {
                Ok(head) if head.is_unborn() => return Ok(None),
                Ok(_) | Err(_) => bail!("cannot read HEAD's tree"),
            }
        }
    };
    let mut map = std::collections::HashMap::new();
    let mut stack: Vec<(BString, ObjectId)> = vec![(BString::default(), tree)];
    let mut buf = Vec::new();
    while let Some((prefix, id)) = stack.pop() {
        let tree = repo
            .objects
            .find_tree(&id, &mut buf)
            .map_err(|error| anyhow::anyhow!("cannot read HEAD's tree {id}: {error}"))?;
        for entry in &tree.entries {
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(entry.filename);
            if entry.mode.is_tree() {
                stack.push((path, entry.oid.to_owned()));
            } else {
                map.insert(path, entry.oid.to_owned());
            }
        }
    }
    Ok(Some(map))
}

/// Read a blob's bytes.
pub fn read_blob<'b>(
    repo: &gix::Repository,
    id: &gix::oid,
    buf: &'b mut Vec<u8>,
) -> anyhow::Result<&'b [u8]> {
    let blob = repo
        .objects
        .find_blob(id, buf)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(blob.data)
}

/// Lines (old and new together) up to which the diff is exact; past it imara-diff's heuristic
/// bounds the cost and may call a few more lines added: more findings, never fewer.
const MAX_EXACT_DIFF_LINES: usize = 20_000;

/// The 1-based line ranges (end exclusive) of `new` that are not in `old`, by imara-diff's
/// Myers line diff (minimal: a line counts as added only when no longest common subsequence
/// keeps it). Lines are compared without their terminators.
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<Range<usize>> {
    let input = InternedInput::new(Lines(old), Lines(new));
    let algorithm = if input.before.len() + input.after.len() <= MAX_EXACT_DIFF_LINES {
        Algorithm::MyersMinimal
    } else {
        Algorithm::Myers
    };
    let diff = Diff::compute(algorithm, &input);
    diff.hunks()
        .filter(|hunk| !hunk.after.is_empty())
        .map(|hunk| hunk.after.start as usize + 1..hunk.after.end as usize + 1)
        .collect()
}

/// A blob's lines without their terminators; a trailing newline does not start an extra line.
struct Lines<'a>(&'a [u8]);

impl<'a> TokenSource for Lines<'a> {
    type Token = &'a [u8];
    type Tokenizer = std::vec::IntoIter<&'a [u8]>;

    fn tokenize(&self) -> Self::Tokenizer {
        let mut lines: Vec<&[u8]> = self.0.split(|&b| b == b'\n').collect();
        if self.0.ends_with(b"\n") || self.0.is_empty() {
            lines.pop();
        }
        lines.into_iter()
    }

    fn estimate_tokens(&self) -> u32 {
        u32::try_from(memchr::memchr_iter(b'\n', self.0).count() + 1).unwrap_or(u32::MAX)
    }
}

/// Push every staged blob into `sink`, each restricted to the lines the commit adds (a binary
/// blob, or a file new to HEAD, is added as a whole). `index_file` is `GIT_INDEX_FILE`.
pub fn scan_into(
    repo: &gix::Repository,
    index_file: Option<&Path>,
    sink: &mut dyn BlobSink,
) -> anyhow::Result<Vec<Skipped>> {
    let staged = staged_entries(repo, index_file)?;
    let mut buf = Vec::new();
    let mut old = Vec::new();
    for entry in &staged.entries {
        let data = match read_blob(repo, &entry.id, &mut buf) {
            Ok(data) => data,
            Err(error) => {
                sink.skip(Skipped {
                    path: entry.path.clone(),
                    reason: format!("cannot read the staged blob {}: {error:#}", entry.id),
                });
                continue;
            }
        };
        let lines = match &entry.head {
            // HEAD's blob unreadable: judge the whole file.
            Some(head) if !is_binary(data) => read_blob(repo, head, &mut old)
                .ok()
                .map(|old_data| added_lines(old_data, data)),
            _ => None,
        };
        sink.blob(Blob {
            id: Some(entry.id),
            bytes: data,
            origin: Origin::Index {
                path: entry.path.clone(),
            },
            lines,
        });
    }
    Ok(staged.notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_of_an_edit() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\ne\n";
        assert_eq!(added_lines(old, new), vec![2..3, 5..6]);
        assert_eq!(added_lines(b"", b"x\ny\n"), vec![1..3]);
        assert_eq!(
            added_lines(b"x\ny\n", b"x\ny\n"),
            Vec::<Range<usize>>::new()
        );
        assert_eq!(added_lines(b"x\ny\n", b"y\n"), Vec::<Range<usize>>::new());
        assert_eq!(added_lines(b"x\ny", b"x\ny\nz"), vec![3..4]);
    }

    #[test]
    fn myers_finds_moved_blocks() {
        let old = b"1\n2\n3\n4\n5\n6\n";
        let new = b"1\n3\n4\nX\n5\n2\n6\n";
        let added = added_lines(old, new);
        // "X" is new; one of "2" or the 3-4-5 block must count as moved (added).
        assert!(added.iter().any(|r| r.contains(&4)));
        let total: usize = added.iter().map(|r| r.len()).sum();
        assert_eq!(total, 2);
    }

    /// Never an added line missed: the lines the diff keeps (not added) are a common
    /// subsequence of old and new, so at least new minus a longest common subsequence (checked
    /// against a DP) is added. imara-diff prunes lines unique to one side before its search,
    /// so it may call a few more lines added than the minimal edit script; the excess is
    /// bounded here.
    #[test]
    fn kept_lines_are_a_common_subsequence() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = [b'a', b'b', b'c', b'd'];
        let (mut added_total, mut minimal_total) = (0, 0);
        for _ in 0..300 {
            let n = (next() % 12) as usize;
            let m = (next() % 12) as usize;
            let a: Vec<u8> = (0..n).map(|_| alphabet[(next() % 4) as usize]).collect();
            let b: Vec<u8> = (0..m).map(|_| alphabet[(next() % 4) as usize]).collect();
            let mut dp = vec![vec![0usize; m + 1]; n + 1];
            for i in (0..n).rev() {
                for j in (0..m).rev() {
                    dp[i][j] = if a[i] == b[j] {
                        dp[i + 1][j + 1] + 1
                    } else {
                        dp[i + 1][j].max(dp[i][j + 1])
                    };
                }
            }
            let text =
                |lines: &[u8]| -> Vec<u8> { lines.iter().flat_map(|&c| [c, b'\n']).collect() };
            let added = added_lines(&text(&a), &text(&b));
            let is_added = |j: usize| added.iter().any(|r| r.contains(&(j + 1)));
            // The kept lines of b, in order, are a subsequence of a.
            let mut ai = 0;
            for j in (0..m).filter(|&j| !is_added(j)) {
                while ai < n && a[ai] != b[j] {
                    ai += 1;
                }
                assert!(ai < n, "kept line {j} is not in old: {a:?} {b:?} {added:?}");
                ai += 1;
            }
            added_total += (0..m).filter(|&j| is_added(j)).count();
            minimal_total += m - dp[0][0];
        }
        assert!(added_total >= minimal_total);
        assert!(
            added_total * 10 <= minimal_total * 12,
            "{added_total} lines called added, minimal {minimal_total}"
        );
    }

    #[test]
    fn overlap() {
        use crate::source::overlaps;
        let added = vec![3..5, 8..9];
        assert!(overlaps(&added, 4, 4));
        assert!(overlaps(&added, 1, 3));
        assert!(!overlaps(&added, 5, 7));
        assert!(overlaps(&added, 6, 9));
    }
}
