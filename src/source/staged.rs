//! The blobs in the index: what will be committed (see the git issue).
//!
//! The index is read from `GIT_INDEX_FILE` when git set it (`git commit -a` and
//! `git commit PATH` run hooks with a temporary index), else from the repository's own. Only
//! stage-0 regular files (not symlinks, submodules, intent-to-add entries) whose blob differs
//! from HEAD's at the same path are listed; with no HEAD yet, all of them. Nothing in the work
//! tree is read or hashed.

use std::ops::Range;
use std::path::Path;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice as _};
use gix::objs::FindExt as _;

use crate::finding::Skipped;

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

/// List the index entries added or modified against HEAD. `index_file` is `GIT_INDEX_FILE`
/// (relative to the current directory, as git treats it).
pub fn staged_entries(repo: &gix::Repository, index_file: Option<&Path>) -> anyhow::Result<Staged> {
    if repo.is_bare() && index_file.is_none() {
        bail!(
            "{}: a bare repository has no index to scan",
            repo.git_dir().display()
        );
    }
    let index_path = match index_file {
        Some(path) if path.is_absolute() => path.to_path_buf(),
        Some(path) => std::env::current_dir()
            .context("cannot read the current directory")?
            .join(path),
        None => repo.index_path(),
    };
    let mut out = Staged::default();
    if !index_path.exists() {
        // A fresh repository before the first `git add`: nothing is staged.
        return Ok(out);
    }
    let index = gix::index::File::at(
        &index_path,
        repo.object_hash(),
        true,
        gix::index::decode::Options::default(),
    )
    .map_err(|error| anyhow::anyhow!("cannot read the index {}: {error}", index_path.display()))?;

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

/// Does `[line, end_line]` (1-based, inclusive) overlap any of the `added` ranges?
pub fn overlaps(added: &[Range<usize>], line: usize, end_line: usize) -> bool {
    let end_line = end_line.max(line);
    added
        .iter()
        .any(|range| range.start <= end_line && line < range.end)
}

/// Edit distance beyond which the diff gives up and calls the changed middle all added.
const MAX_EDIT_DISTANCE: usize = 2000;

/// The 1-based line ranges (end exclusive) of `new` that are not in `old`, by a Myers line diff
/// (common prefix and suffix trimmed first). When the files differ too much for a cheap diff,
/// the whole changed middle counts as added: more findings, never fewer.
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<Range<usize>> {
    let a: Vec<&[u8]> = split_lines(old);
    let b: Vec<&[u8]> = split_lines(new);
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let a_mid = &a[prefix..a.len() - suffix];
    let b_mid = &b[prefix..b.len() - suffix];
    let mut added_flags = vec![true; b_mid.len()];
    if !a_mid.is_empty()
        && !b_mid.is_empty()
        && let Some(matched) = myers_matches(a_mid, b_mid, MAX_EDIT_DISTANCE)
    {
        for y in matched {
            added_flags[y] = false;
        }
    }
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for (i, &added) in added_flags.iter().enumerate() {
        if !added {
            continue;
        }
        let line = prefix + i + 1;
        match ranges.last_mut() {
            Some(last) if last.end == line => last.end = line + 1,
            _ => ranges.push(line..line + 1),
        }
    }
    ranges
}

/// Lines without their terminators; a trailing newline does not start an extra line.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        lines.pop();
    }
    lines
}

/// Indices of `b` that the shortest edit script keeps (matched to a line of `a`), or `None`
/// when more than `max_d` edits are needed.
fn myers_matches(a: &[&[u8]], b: &[&[u8]], max_d: usize) -> Option<Vec<usize>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max_d = max_d.min((n + m) as usize) as isize;
    let offset = max_d + 1;
    let mut v = vec![0isize; (2 * max_d + 3) as usize];
    // trace[d] = V after step d, for k in -d..=d (index k + d).
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut end_d = None;
    'outer: for d in 0..=max_d {
        for k in (-d..=d).step_by(2) {
            let go_down =
                k == -d || (k != d && v[(k - 1 + offset) as usize] < v[(k + 1 + offset) as usize]);
            let mut x = if go_down {
                v[(k + 1 + offset) as usize]
            } else {
                v[(k - 1 + offset) as usize] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[(k + offset) as usize] = x;
            if x >= n && y >= m {
                trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
                end_d = Some(d);
                break 'outer;
            }
        }
        trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
    }
    let end_d = end_d?;
    let mut matched = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..=end_d).rev() {
        let prev = &trace[(d - 1) as usize];
        let at = |k: isize| prev[(k + d - 1) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = at(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
            matched.push(y as usize);
        }
        x = prev_x;
        y = prev_y;
    }
    // d = 0: a diagonal from (0, 0).
    while x > 0 && y > 0 {
        x -= 1;
        y -= 1;
        matched.push(y as usize);
    }
    Some(matched)
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

    /// Myers' kept lines are a longest common subsequence (checked against a DP) on random input.
    #[test]
    fn myers_is_a_longest_common_subsequence() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: [&[u8]; 4] = [b"a", b"b", b"c", b"d"];
        for _ in 0..300 {
            let n = (next() % 12) as usize;
            let m = (next() % 12) as usize;
            let a: Vec<&[u8]> = (0..n).map(|_| alphabet[(next() % 4) as usize]).collect();
            let b: Vec<&[u8]> = (0..m).map(|_| alphabet[(next() % 4) as usize]).collect();
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
            let mut kept = myers_matches(&a, &b, 100).unwrap();
            kept.sort_unstable();
            kept.dedup();
            assert_eq!(kept.len(), dp[0][0], "{a:?} {b:?}");
            // The kept lines of b, in order, are a subsequence of a.
            let mut ai = 0;
            for &j in &kept {
                while ai < n && a[ai] != b[j] {
                    ai += 1;
                }
                assert!(ai < n, "{a:?} {b:?} {kept:?}");
                ai += 1;
            }
        }
    }

    #[test]
    fn overlap() {
        let added = vec![3..5, 8..9];
        assert!(overlaps(&added, 4, 4));
        assert!(overlaps(&added, 1, 3));
        assert!(!overlaps(&added, 5, 7));
        assert!(overlaps(&added, 6, 9));
    }
}
