//! The commit walk and the blob introductions it finds ([`history`]).

use anyhow::Context as _;
use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::objs::{FindExt as _, FindHeader as _};

use super::pack::{layout, pack_ids, pack_ids_of_kind};
use super::trees::{Intro, TreeWalker};
use super::{GitTuning, HISTORY_PACK_CACHE_MB, IdMap, IdSet, Selection, reopen};
use crate::finding::Skipped;

/// One commit of the walk.
#[derive(Clone, Debug)]
pub struct CommitMeta {
    /// The commit.
    pub id: ObjectId,
    /// Its root tree.
    pub tree: ObjectId,
    /// Its parents, in order (some may lie outside the walk).
    pub parents: Vec<ObjectId>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// 1 + the longest parent chain inside the walk (for a deterministic "earliest").
    pub generation: u32,
}

/// The result of the history pass.
#[derive(Default)]
pub struct History {
    /// The selected commits, in walk order.
    pub commits: Vec<CommitMeta>,
    /// Every blob the selected commits introduce, with its earliest introduction.
    pub blobs: IdMap<Intro>,
    /// Warnings and notes: shallow history, submodules, unreadable objects.
    pub notes: Vec<Skipped>,
    /// The repository is a shallow clone.
    pub shallow: bool,
}

impl History {
    /// The commit that introduced `intro`.
    pub fn commit(&self, intro: &Intro) -> &CommitMeta {
        &self.commits[intro.commit as usize]
    }
}

/// Walk the selected commits and record, for every blob they introduce, its earliest
/// introduction and a count.
pub fn history(
    repo: &gix::Repository,
    selection: &Selection,
    tuning: &GitTuning,
) -> anyhow::Result<History> {
    let mut out = History {
        shallow: repo.is_shallow().unwrap_or(false),
        ..History::default()
    };
    let shallow_commits: Vec<ObjectId> = repo
        .shallow_commits()
        .ok()
        .flatten()
        .map(|commits| commits.iter().copied().collect())
        .unwrap_or_default();
    if out.shallow {
        out.notes.push(Skipped {
            path: ".".into(),
            reason: format!(
                "shallow clone: history before {} boundary commit(s) is not in the repository; \
                 a boundary commit is reported as introducing every file it contains",
                shallow_commits.len()
            ),
        });
    }

    let (tips, hidden) = match selection {
        Selection::Refs => (ref_tips(repo, &mut out.notes)?, Vec::new()),
        Selection::AllObjects => {
            let mut tips = ref_tips(repo, &mut out.notes)?;
            tips.extend(all_commit_ids(repo, &mut out.notes));
            tips.sort_unstable();
            tips.dedup();
            (tips, Vec::new())
        }
        Selection::Range { base, head } => (vec![*head], vec![*base]),
    };
    if tips.is_empty() {
        return Ok(out);
    }
    let started = std::time::Instant::now();
    // A private handle for the walk: dropping it unmaps the commits' pages and frees its cache
    // before the trees are walked.
    let walker_repo = reopen(repo, tuning, HISTORY_PACK_CACHE_MB);
    out.commits = walk(
        walker_repo.as_ref().unwrap_or(repo),
        tips,
        hidden,
        &mut out.notes,
    )?;
    drop(walker_repo);
    assign_generations(&mut out.commits);
    if tuning.timing {
        eprintln!("timing: walk {:.2} s", started.elapsed().as_secs_f64());
    }

    let mut walker = TreeWalker::new(repo, tuning);
    if let Selection::Range { .. } = selection {
        // What BASE already has is not new: mark the trees of the commits just outside the
        // range (BASE and the other parents of range commits) as seen.
        let inside: IdSet = out.commits.iter().map(|c| c.id).collect();
        let mut boundary: Vec<ObjectId> = out
            .commits
            .iter()
            .flat_map(|c| c.parents.iter().copied())
            .filter(|p| !inside.contains(p))
            .collect();
        boundary.sort_unstable();
        boundary.dedup();
        let mut buf = Vec::new();
        for parent in boundary {
            match repo.objects.find_commit(&parent, &mut buf) {
                Ok(commit) => {
                    let tree = commit.tree();
                    walker.walk(tree, None, &mut out.blobs, &mut out.notes);
                }
                Err(error) => out.notes.push(Skipped {
                    path: parent.to_string(),
                    reason: format!("cannot read commit {parent}: {error}"),
                }),
            }
        }
    }
    for at in topo_order(&out.commits) {
        let tree = out.commits[at as usize].tree;
        walker.walk(tree, Some(at), &mut out.blobs, &mut out.notes);
    }
    let mut submodules = std::mem::take(&mut walker.submodules);
    submodules.sort();
    submodules.dedup();
    for path in submodules {
        out.notes.push(Skipped {
            path: path.to_str_lossy().into_owned(),
            reason: "submodule: not followed (scan its repository separately)".into(),
        });
    }
    Ok(out)
}

/// Every ref (branches, tags, remote-tracking refs, stash, notes) and HEAD, peeled to commits.
fn ref_tips(repo: &gix::Repository, notes: &mut Vec<Skipped>) -> anyhow::Result<Vec<ObjectId>> {
    let mut tips = Vec::new();
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    let platform = repo.references().context("cannot read references")?;
    let refs = platform.all().context("cannot read references")?;
    for reference in refs {
        let mut reference = match reference {
            Ok(reference) => reference,
            Err(error) => {
                notes.push(Skipped {
                    path: "refs".into(),
                    reason: format!("unreadable reference: {error}"),
                });
                continue;
            }
        };
        let name = reference.name().as_bstr().to_string();
        match reference.peel_to_id() {
            Ok(id) => match id.object().map(|o| o.kind) {
                Ok(gix::objs::Kind::Commit) => tips.push(id.detach()),
                // Tags of trees or blobs, notes: no history to walk (a tagged blob is rare
                // and is also seen by --all-objects).
                Ok(_) => {}
                Err(error) => notes.push(Skipped {
                    path: name,
                    reason: format!("reference points to an unreadable object: {error}"),
                }),
            },
            Err(error) => notes.push(Skipped {
                path: name,
                reason: format!("cannot resolve reference: {error}"),
            }),
        }
    }
    tips.sort_unstable();
    tips.dedup();
    Ok(tips)
}

/// Every commit object in the database (packed and loose, reachable or not).
fn all_commit_ids(repo: &gix::Repository, notes: &mut Vec<Skipped>) -> Vec<ObjectId> {
    let mut out = Vec::new();
    let (indices, loose_dirs) = match layout(repo) {
        Ok(layout) => layout,
        Err(error) => {
            notes.push(Skipped {
                path: "objects".into(),
                reason: format!("cannot list objects: {error:#}"),
            });
            return out;
        }
    };
    let hash = repo.object_hash();
    for index_path in &indices {
        match pack_ids_of_kind(index_path, hash, gix::objs::Kind::Commit) {
            Ok(ids) => out.extend(ids),
            // A damaged pack: ask for each of its objects' headers (slow, but complete).
            Err(_) => out.extend(
                pack_ids(index_path, hash)
                    .into_iter()
                    .filter(|id| is_commit(repo, id, notes)),
            ),
        }
    }
    for dir in &loose_dirs {
        let db = gix::odb::loose::Store::at(dir, hash);
        out.extend(db.iter().flatten().filter(|id| is_commit(repo, id, notes)));
    }
    out
}

/// Whether `id` is a commit, by its header (a note when it cannot be read).
fn is_commit(repo: &gix::Repository, id: &gix::oid, notes: &mut Vec<Skipped>) -> bool {
    match repo.objects.try_header(id) {
        Ok(Some(header)) => header.kind == gix::objs::Kind::Commit,
        Ok(None) => false,
        Err(error) => {
            notes.push(Skipped {
                path: id.to_string(),
                reason: format!("cannot read object header: {error}"),
            });
            false
        }
    }
}

/// The commits reachable from `tips` and not from `hidden`, with their trees and parents.
fn walk(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    hidden: Vec<ObjectId>,
    notes: &mut Vec<Skipped>,
) -> anyhow::Result<Vec<CommitMeta>> {
    let mut platform = repo.rev_walk(tips);
    if !hidden.is_empty() {
        platform = platform.with_hidden(hidden);
    }
    let walk = platform.all().context("cannot walk the history")?;
    let mut commits = Vec::new();
    let mut buf = Vec::new();
    let mut errors = 0usize;
    for info in walk {
        let info = match info {
            Ok(info) => info,
            Err(error) => {
                errors += 1;
                notes.push(Skipped {
                    path: "history".into(),
                    reason: format!("commit walk: {error}"),
                });
                if errors > 100 {
                    break;
                }
                continue;
            }
        };
        let id = info.id;
        match repo.objects.find_commit(&id, &mut buf) {
            Ok(commit) => {
                let time = commit
                    .committer()
                    .map(|signature| signature.seconds())
                    .unwrap_or(0);
                commits.push(CommitMeta {
                    id,
                    tree: commit.tree(),
                    parents: commit.parents().collect(),
                    time,
                    generation: 0,
                });
            }
            Err(error) => notes.push(Skipped {
                path: id.to_string(),
                reason: format!("cannot read commit {id}: {error}"),
            }),
        }
    }
    Ok(commits)
}

/// Generation numbers inside the walk: parents (in the walk) before children.
fn assign_generations(commits: &mut [CommitMeta]) {
    let index: IdMap<usize> = commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut generation = vec![0u32; commits.len()];
    let mut stack: Vec<(usize, bool)> = Vec::new();
    for start in 0..commits.len() {
        if generation[start] != 0 {
            continue;
        }
        stack.push((start, false));
        while let Some((at, expanded)) = stack.pop() {
            if generation[at] != 0 {
                continue;
            }
            let parents = commits[at]
                .parents
                .iter()
                .filter_map(|p| index.get(p).copied());
            if expanded {
                let max = parents.map(|p| generation[p]).max().unwrap_or(0);
                generation[at] = max.saturating_add(1);
            } else {
                stack.push((at, true));
                for parent in parents {
                    if generation[parent] == 0 {
                        stack.push((parent, false));
                    }
                }
            }
        }
    }
    for (commit, generation) in commits.iter_mut().zip(generation) {
        commit.generation = generation;
    }
}

/// Commit indices with parents before children; among the commits that are ready, the oldest
/// (committer time, then generation, then id) first. So the first commit whose tree holds a
/// blob introduced it, and is the earliest such commit by time wherever the DAG allows.
fn topo_order(commits: &[CommitMeta]) -> Vec<u32> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let index: IdMap<u32> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i as u32))
        .collect();
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); commits.len()];
    let mut pending = vec![0u32; commits.len()];
    for (i, commit) in commits.iter().enumerate() {
        let mut parents: Vec<u32> = commit
            .parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect();
        parents.sort_unstable();
        parents.dedup();
        pending[i] = parents.len() as u32;
        for parent in parents {
            children[parent as usize].push(i as u32);
        }
    }
    let key = |i: u32| {
        let c = &commits[i as usize];
        Reverse((c.time, c.generation, c.id, i))
    };
    let mut ready: BinaryHeap<_> = (0..commits.len() as u32)
        .filter(|&i| pending[i as usize] == 0)
        .map(key)
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, _, _, i))) = ready.pop() {
        order.push(i);
        for &child in &children[i as usize] {
            pending[child as usize] -= 1;
            if pending[child as usize] == 0 {
                ready.push(key(child));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_follow_parents() {
        let id = |n: u8| ObjectId::from_bytes_or_panic(&[n; 20]);
        let meta = |n: u8, parents: &[u8]| CommitMeta {
            id: id(n),
            tree: id(0),
            parents: parents.iter().map(|&p| id(p)).collect(),
            time: 0,
            generation: 0,
        };
        let mut commits = vec![meta(3, &[2, 1]), meta(2, &[1]), meta(1, &[])];
        assign_generations(&mut commits);
        let generations: Vec<u32> = commits.iter().map(|c| c.generation).collect();
        assert_eq!(generations, vec![3, 2, 1]);
    }
}
