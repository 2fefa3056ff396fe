//! The tree walk of the history pass: each unique tree decoded once, each blob's first
//! sighting recorded.

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteVec as _};
use gix::objs::FindExt as _;

use super::{GitTuning, HISTORY_PACK_CACHE_MB, IdMap, IdSet, reopen};
use crate::finding::Skipped;

/// Where a blob was first introduced.
#[derive(Clone, Debug)]
pub struct Intro {
    /// Index into `History::commits`.
    pub commit: u32,
    /// The blob's path in that commit's tree (`/`-separated, as git stores it).
    pub path: BString,
}

/// How many new root trees the history pass reads through one repository handle.
const REOPEN_EVERY_COMMITS: usize = 8192;

/// Walks commit trees, descending only into trees not seen before: each unique tree is
/// decoded once, and a blob's first sighting (in topological order) is its introduction.
pub(super) struct TreeWalker<'r> {
    repo: &'r gix::Repository,
    tuning: &'r GitTuning,
    /// A private handle for tree reads, reopened every `REOPEN_EVERY_COMMITS` commits: dropping
    /// it unmaps the pack, so the pages of trees already decoded stop counting as resident.
    reader: Option<gix::Repository>,
    walked: usize,
    seen_trees: IdSet,
    /// Blobs of the range's boundary (not new).
    excluded: IdSet,
    buf: Vec<u8>,
    stack: Vec<(BString, ObjectId)>,
    /// Submodule paths met (commit entries in trees), with repeats.
    pub(super) submodules: Vec<BString>,
}

impl<'r> TreeWalker<'r> {
    pub(super) fn new(repo: &'r gix::Repository, tuning: &'r GitTuning) -> TreeWalker<'r> {
        TreeWalker {
            repo,
            tuning,
            reader: None,
            walked: 0,
            seen_trees: IdSet::default(),
            excluded: IdSet::default(),
            buf: Vec::new(),
            stack: Vec::new(),
            submodules: Vec::new(),
        }
    }

    /// Record the blobs under `root` not seen before as introduced by commit `at` (or, with
    /// `None`, as excluded).
    pub(super) fn walk(
        &mut self,
        root: ObjectId,
        at: Option<u32>,
        blobs: &mut IdMap<Intro>,
        notes: &mut Vec<Skipped>,
    ) {
        if !self.seen_trees.insert(root) {
            return;
        }
        self.walked += 1;
        if self.walked.is_multiple_of(REOPEN_EVERY_COMMITS) {
            self.reader = None;
        }
        if self.reader.is_none() {
            self.reader = reopen(self.repo, self.tuning, HISTORY_PACK_CACHE_MB);
        }
        let repo = self.reader.as_ref().unwrap_or(self.repo);
        let empty = ObjectId::empty_tree(root.kind());
        self.stack.push((BString::default(), root));
        while let Some((prefix, id)) = self.stack.pop() {
            if id == empty {
                continue;
            }
            let tree = match repo.objects.find_tree_iter(&id, &mut self.buf) {
                Ok(tree) => tree,
                Err(error) => {
                    notes.push(Skipped {
                        path: if prefix.is_empty() {
                            id.to_string()
                        } else {
                            format!("{prefix} (tree {id})")
                        },
                        reason: format!("cannot read tree {id}: {error}"),
                    });
                    continue;
                }
            };
            for entry in tree {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        notes.push(Skipped {
                            path: id.to_string(),
                            reason: format!("damaged tree {id}: {error}"),
                        });
                        break;
                    }
                };
                let mode = entry.mode;
                if mode.is_tree() {
                    if self.seen_trees.insert(entry.oid.to_owned()) {
                        self.stack
                            .push((join(prefix.as_ref(), entry.filename), entry.oid.to_owned()));
                    }
                } else if mode.is_blob() {
                    match at {
                        Some(commit) => {
                            if !self.excluded.contains(entry.oid) && !blobs.contains_key(entry.oid)
                            {
                                blobs.insert(
                                    entry.oid.to_owned(),
                                    Intro {
                                        commit,
                                        path: join(prefix.as_ref(), entry.filename),
                                    },
                                );
                            }
                        }
                        None => {
                            self.excluded.insert(entry.oid.to_owned());
                        }
                    }
                } else if mode.is_commit() && at.is_some() {
                    self.submodules.push(join(prefix.as_ref(), entry.filename));
                }
            }
        }
    }
}

fn join(prefix: &BStr, name: &BStr) -> BString {
    let mut path = BString::from(Vec::with_capacity(prefix.len() + name.len() + 1));
    if !prefix.is_empty() {
        path.push_str(prefix);
        path.push(b'/');
    }
    path.push_str(name);
    path
}
