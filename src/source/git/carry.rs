//! How many commits carry a blob at its path ([`carry_counts`]), for the blobs with findings.

use gix::ObjectId;
use gix::bstr::{BStr, BString};
use gix::objs::FindExt as _;

use super::GitTuning;
use super::walk::History;

/// Delta-base cache (MiB) of each carry-count thread's handle: few delta chains are touched.
const CARRY_PACK_CACHE_MB: usize = 4;

/// For each target (blob id, path), how many of the history's commits carry that blob at that
/// path. Each commit's tree is resolved along the target paths only (a trie of the paths), with
/// every (tree, directory) pair decoded once; meant for the few blobs with findings.
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
    let sync = repo.clone().into_sync();
    let chunk = history.commits.len().div_ceil(threads.max(1));
    let partials: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = history
            .commits
            .chunks(chunk)
            .map(|commits| {
                let sync = &sync;
                let trie = &trie;
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
