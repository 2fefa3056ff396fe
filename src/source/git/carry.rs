//! How many commits carry a blob at its path ([`carry_counts`]), for the blobs with findings.
//!
//! With many commits, every tree of each pack is read once by a delta-tree traversal (on all
//! threads, through a pack mapping whose pages are given back) and only its entries named in the
//! target paths are kept; each commit's tree is then resolved from those records alone. With
//! few commits (a small range in a large repository), each commit's tree is read by id along
//! the target paths instead.

use std::sync::Mutex;

use gix::ObjectId;
use gix::bstr::{BStr, BString};
use gix::objs::FindExt as _;

use super::pack::{ObjectHandler, layout, pack_objects, traverse_pack};
use super::walk::History;
use super::{GitTuning, IdMap};

/// Delta-base cache (MiB) of each carry-count thread's handle: few delta chains are touched.
const CARRY_PACK_CACHE_MB: usize = 4;

/// For each target (blob id, path), how many of the history's commits carry that blob at that
/// path. Each commit's tree is resolved along the target paths only (a trie of the paths);
/// meant for the few blobs with findings.
pub fn carry_counts(
    repo: &gix::Repository,
    history: &History,
    targets: &[(ObjectId, BString)],
    threads: usize,
    tuning: &GitTuning,
) -> Vec<u64> {
    if targets.is_empty() || history.commits.is_empty() {
        return vec![0; targets.len()];
    }
    let trie = PathTrie::new(targets.iter().map(|(_, path)| path.as_ref()));
    let indices = layout(repo).map(|(indices, _)| indices).unwrap_or_default();
    let objects = pack_objects(&indices);
    if objects > 0 && history.commits.len() * 8 > objects {
        let hash = repo.object_hash();
        let tree = gix::objs::Kind::Tree;
        let records = Mutex::new(IdMap::default());
        let make_recorder = || Recorder {
            trie: &trie,
            hash,
            records: Vec::new(),
            shared: &records,
        };
        let traversed = indices
            .iter()
            .all(|index| traverse_pack(index, hash, tree, threads, &make_recorder).is_ok());
        if traversed {
            let mut records = records
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            return count_from_records(repo, history, targets, &trie, &mut records);
        }
        // A damaged pack: read the trees by id instead.
    }
    count_by_lookup(repo, history, targets, &trie, threads, tuning)
}

/// The entries of a tree that a target path names: (name, id, is a tree); the trie's node
/// decides whether a name matters where the tree is met.
type Record = Box<[(BString, ObjectId, bool)]>;

/// The entries of `tree` whose names appear in the trie (as a directory or as a file).
fn record<'a>(
    trie: &PathTrie,
    entries: impl Iterator<Item = gix::objs::tree::EntryRef<'a>>,
) -> Record {
    entries
        .filter_map(|entry| {
            let (name, mode) = (entry.filename, entry.mode);
            if mode.is_tree() && trie.dir_names.contains(name) {
                Some((name.to_owned(), entry.oid.to_owned(), true))
            } else if mode.is_blob() && trie.file_names.contains(name) {
                Some((name.to_owned(), entry.oid.to_owned(), false))
            } else {
                None
            }
        })
        .collect()
}

/// A traversal thread's collector of tree records, merged into the shared map when dropped.
struct Recorder<'a> {
    trie: &'a PathTrie,
    hash: gix::hash::Kind,
    records: Vec<(ObjectId, Record)>,
    shared: &'a Mutex<IdMap<Record>>,
}

impl ObjectHandler for Recorder<'_> {
    fn object(&mut self, id: &gix::oid, data: &[u8]) {
        let entries = gix::objs::TreeRefIter::from_bytes(data, self.hash).flatten();
        self.records
            .push((id.to_owned(), record(self.trie, entries)));
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.extend(self.records.drain(..));
    }
}

/// Resolve every commit's tree from the records of the pack traversal; a tree the packs did not
/// hold (a loose object) is read by id once and recorded.
fn count_from_records(
    repo: &gix::Repository,
    history: &History,
    targets: &[(ObjectId, BString)],
    trie: &PathTrie,
    records: &mut IdMap<Record>,
) -> Vec<u64> {
    let mut counts = vec![0u64; targets.len()];
    let mut found = vec![None; trie.leaves];
    let mut buf = Vec::new();
    let mut stack: Vec<(ObjectId, usize)> = Vec::new();
    for commit in &history.commits {
        found.fill(None);
        stack.push((commit.tree, 0));
        while let Some((tree, node)) = stack.pop() {
            if !records.contains_key(&tree) {
                let entries = match repo.objects.find_tree_iter(&tree, &mut buf) {
                    Ok(iter) => record(trie, iter.flatten()),
                    Err(_) => Record::default(),
                };
                records.insert(tree, entries);
            }
            let trie_node = &trie.nodes[node];
            for (name, id, is_tree) in records.get(&tree).into_iter().flatten() {
                if *is_tree {
                    if let Some(&child) = trie_node.dirs.get(name) {
                        stack.push((*id, child));
                    }
                } else if let Some(&leaf) = trie_node.files.get(name) {
                    found[leaf] = Some(*id);
                }
            }
        }
        for (i, (target, _)) in targets.iter().enumerate() {
            if found[trie.leaf_of[i]] == Some(*target) {
                counts[i] += 1;
            }
        }
    }
    counts
}

/// Resolve each commit's tree by reading trees by id, on `threads` threads, every (tree,
/// directory) pair decoded once per thread.
fn count_by_lookup(
    repo: &gix::Repository,
    history: &History,
    targets: &[(ObjectId, BString)],
    trie: &PathTrie,
    threads: usize,
    tuning: &GitTuning,
) -> Vec<u64> {
    let sync = repo.clone().into_sync();
    let chunk = history.commits.len().div_ceil(threads.max(1));
    let partials: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = history
            .commits
            .chunks(chunk)
            .map(|commits| {
                let sync = &sync;
                scope.spawn(move || {
                    let mut repo = sync.to_thread_local();
                    tuning.apply(&mut repo, CARRY_PACK_CACHE_MB);
                    let mut resolver = Resolver {
                        repo: &repo,
                        trie,
                        memo: std::collections::HashMap::new(),
                        buf: Vec::new(),
                    };
                    let mut counts = vec![0u64; targets.len()];
                    for commit in commits {
                        let found = resolver.resolve(commit.tree, 0);
                        for (i, (target, _)) in targets.iter().enumerate() {
                            if found.get(trie.leaf_of[i]).copied().flatten() == Some(*target) {
                                counts[i] += 1;
                            }
                        }
                    }
                    counts
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut total = vec![0u64; targets.len()];
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    total
}

/// Target paths as a trie of directories; leaves are numbered globally.
struct PathTrie {
    nodes: Vec<TrieNode>,
    /// Target index → leaf number.
    leaf_of: Vec<usize>,
    leaves: usize,
    /// Every directory name and every file name of the paths, wherever they are.
    dir_names: std::collections::HashSet<BString>,
    file_names: std::collections::HashSet<BString>,
}

#[derive(Default)]
struct TrieNode {
    dirs: std::collections::HashMap<BString, usize>,
    files: std::collections::HashMap<BString, usize>,
    /// The leaves under this node (for the memo's result vector).
    first_leaf: usize,
    last_leaf: usize,
}

impl PathTrie {
    fn new<'p>(paths: impl Iterator<Item = &'p BStr>) -> PathTrie {
        let mut trie = PathTrie {
            nodes: vec![TrieNode::default()],
            leaf_of: Vec::new(),
            leaves: 0,
            dir_names: Default::default(),
            file_names: Default::default(),
        };
        let mut leaf_paths: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut unique: std::collections::HashMap<BString, usize> = Default::default();
        for path in paths {
            if let Some(&leaf) = unique.get(path) {
                trie.leaf_of.push(leaf);
                continue;
            }
            let mut node = 0;
            let mut chain = vec![0];
            let components: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
            let Some((file, dirs)) = components.split_last() else {
                continue;
            };
            for dir in dirs {
                let next = trie.nodes.len();
                node = *trie.nodes[node]
                    .dirs
                    .entry(BString::from(*dir))
                    .or_insert(next);
                if node == next {
                    trie.nodes.push(TrieNode::default());
                }
                chain.push(node);
            }
            trie.dir_names
                .extend(dirs.iter().map(|dir| BString::from(*dir)));
            trie.file_names.insert(BString::from(*file));
            let leaf = trie.leaves;
            trie.leaves += 1;
            trie.nodes[node].files.insert(BString::from(*file), leaf);
            unique.insert(path.to_owned(), leaf);
            trie.leaf_of.push(leaf);
            leaf_paths.push((leaf, chain));
        }
        for node in &mut trie.nodes {
            node.first_leaf = usize::MAX;
        }
        for (leaf, chain) in leaf_paths {
            for node in chain {
                let n = &mut trie.nodes[node];
                n.first_leaf = n.first_leaf.min(leaf);
                n.last_leaf = n.last_leaf.max(leaf);
            }
        }
        trie
    }
}

/// Resolves the trie's paths in trees, memoised per (tree, trie node).
struct Resolver<'a> {
    repo: &'a gix::Repository,
    trie: &'a PathTrie,
    memo: std::collections::HashMap<(ObjectId, usize), std::rc::Rc<Vec<Option<ObjectId>>>>,
    buf: Vec<u8>,
}

impl Resolver<'_> {
    /// The blob at each leaf (indexed by global leaf number; leaves outside `node` are None).
    fn resolve(&mut self, tree: ObjectId, node: usize) -> std::rc::Rc<Vec<Option<ObjectId>>> {
        if let Some(found) = self.memo.get(&(tree, node)) {
            return found.clone();
        }
        let mut found = vec![None; self.trie.leaves];
        let mut subdirs: Vec<(ObjectId, usize)> = Vec::new();
        if let Ok(iter) = self.repo.objects.find_tree_iter(&tree, &mut self.buf) {
            let trie_node = &self.trie.nodes[node];
            for entry in iter.flatten() {
                if entry.mode.is_tree() {
                    if let Some(&child) = trie_node.dirs.get(entry.filename) {
                        subdirs.push((entry.oid.to_owned(), child));
                    }
                } else if entry.mode.is_blob()
                    && let Some(&leaf) = trie_node.files.get(entry.filename)
                {
                    found[leaf] = Some(entry.oid.to_owned());
                }
            }
        }
        for (sub, child) in subdirs {
            let below = self.resolve(sub, child);
            let n = &self.trie.nodes[child];
            if n.first_leaf <= n.last_leaf {
                for leaf in n.first_leaf..=n.last_leaf {
                    if below[leaf].is_some() {
                        found[leaf] = below[leaf];
                    }
                }
            }
        }
        let found = std::rc::Rc::new(found);
        self.memo.insert((tree, node), found.clone());
        found
    }
}
