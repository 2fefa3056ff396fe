//! Git history as unique blobs, with provenance (see the git issue).
//!
//! Two passes, both with gix and no `git` subprocess:
//! 1. [`history`]: the selected commits, visited parents-first and, among the ready ones, oldest
//!    first (committer time, then generation). Each commit's tree is walked into subtrees not
//!    seen before only, so every unique tree is decoded once; the first commit whose tree holds
//!    a blob is the one that introduced it (new relative to all its parents), at the earliest
//!    time the DAG allows. For a range, the trees of the commits just outside it are marked
//!    seen first. [`carry_counts`] later counts, for the few blobs with findings, how many
//!    commits carry them at their path.
//! 2. [`read_blobs`]: the blob contents, read once per unique id by a delta-tree traversal of
//!    each pack (every delta base decoded once, on all threads; a multi-pack-index is expanded
//!    into its packs), then whatever the packs did not hold (loose objects, or a damaged pack)
//!    by id. Object ids come from the pack index, never re-hashed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice as _, ByteVec as _};
use gix::objs::{Find as _, FindExt as _, FindHeader as _};
use gix::odb::pack;
use gix::odb::store::structure::Record;
use rayon::prelude::*;

use crate::finding::Skipped;

/// A set of object ids (gix's hasher: the id is its own hash).
pub type IdSet = gix::hashtable::HashSet<ObjectId>;
/// A map keyed by object id.
pub type IdMap<V> = gix::hashtable::HashMap<ObjectId, V>;

/// Open the repository at or above `path` without running anything its configuration names
/// and without reading the environment (`GIT_DIR` and friends).
pub fn open(path: &Path) -> anyhow::Result<gix::Repository> {
    if std::fs::metadata(path).is_err() {
        bail!("{}: no such file or directory", path.display());
    }
    let mut repo = gix::discover_opts(
        path,
        gix::discover::upwards::Options::default(),
        gix::open::Options::isolated(),
    )
    .map_err(|error| {
        anyhow::anyhow!(
            "{}: not a git repository (or any of its parent directories): {error}",
            path.display()
        )
    })?;
    tune_caches(&mut repo);
    Ok(repo)
}

/// Caches for history walks: delta bases (trees are long delta chains in packs). A cache of
/// decoded objects does not pay for its memory (each unique tree is decoded once), so it is
/// off unless asked for; 0 turns either off.
fn tune_caches(repo: &mut gix::Repository) {
    tune_caches_with(repo, 16);
}

/// Like `tune_caches`, with a different default pack cache size (MiB) for phases that run one
/// handle per thread and touch few delta chains (the carry counts).
fn tune_caches_with(repo: &mut gix::Repository, default_pack_mb: usize) {
    let object_cache = env_mb("KEYSWEEP_OBJECT_CACHE_MB", 0);
    let pack_cache = env_mb("KEYSWEEP_PACK_CACHE_MB", default_pack_mb);
    repo.object_cache_size(object_cache);
    if pack_cache == 0 {
        repo.objects.unset_pack_cache();
    } else {
        repo.objects.set_pack_cache(move || {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                pack_cache,
            ))
        });
    }
}

fn env_mb(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        * 1024
        * 1024
}

/// Which commits a history scan covers.
#[derive(Clone, Debug)]
pub enum Selection {
    /// Everything reachable from every ref (branches, tags, remotes, stash, notes) and `HEAD`.
    Refs,
    /// [`Selection::Refs`] plus every commit object in the database, reachable or not.
    AllObjects,
    /// Commits reachable from `head` and not from `base`.
    Range { base: ObjectId, head: ObjectId },
}

/// Resolve `BASE..HEAD` to two commits.
pub fn resolve_range(repo: &gix::Repository, spec: &str) -> anyhow::Result<Selection> {
    if spec.contains("...") {
        bail!("--range {spec}: use BASE..HEAD (two dots): the commits HEAD has and BASE has not");
    }
    let Some((base, head)) = spec.split_once("..") else {
        bail!("--range {spec}: expected BASE..HEAD");
    };
    let head = if head.is_empty() { "HEAD" } else { head };
    if base.is_empty() {
        bail!("--range {spec}: BASE is missing (expected BASE..HEAD)");
    }
    let resolve = |name: &str| -> anyhow::Result<ObjectId> {
        let id = repo
            .rev_parse_single(name)
            .map_err(|error| anyhow::anyhow!("--range: cannot resolve {name:?}: {error}"))?;
        let commit = id
            .object()
            .and_then(|object| object.peel_to_commit())
            .map_err(|error| anyhow::anyhow!("--range: {name:?} is not a commit: {error}"))?;
        Ok(commit.id)
    };
    Ok(Selection::Range {
        base: resolve(base)?,
        head: resolve(head)?,
    })
}

/// One commit of the walk.
#[derive(Clone, Debug)]
pub struct CommitMeta {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// 1 + the longest parent chain inside the walk (for a deterministic "earliest").
    pub generation: u32,
}

/// Where a blob was first introduced.
#[derive(Clone, Debug)]
pub struct Intro {
    /// Index into [`History::commits`].
    pub commit: u32,
    pub path: BString,
    /// How many commits carry this blob (filled in by [`carry_counts`] for blobs with
    /// findings; 0 until then).
    pub count: u32,
}

/// The result of the history pass.
#[derive(Default)]
pub struct History {
    pub commits: Vec<CommitMeta>,
    pub blobs: IdMap<Intro>,
    /// Warnings and notes: shallow history, submodules, unreadable objects.
    pub notes: Vec<Skipped>,
    pub shallow: bool,
}

impl History {
    /// The commit that introduced `intro`.
    pub fn commit(&self, intro: &Intro) -> &CommitMeta {
        &self.commits[intro.commit as usize]
    }
}

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

/// Walk the selected commits and record, for every blob they introduce, its earliest
/// introduction and a count.
pub fn history(repo: &gix::Repository, selection: &Selection) -> anyhow::Result<History> {
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
    out.commits = walk(repo, tips, hidden, &mut out.notes)?;
    assign_generations(&mut out.commits);
    if std::env::var_os("KEYSWEEP_TIMING").is_some() {
        eprintln!("timing: walk {:.2} s", started.elapsed().as_secs_f64());
    }

    let mut walker = TreeWalker::new(repo);
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
    let platform = repo
        .references()
        .map_err(|error| anyhow::anyhow!("cannot read references: {error}"))?;
    let refs = platform
        .all()
        .map_err(|error| anyhow::anyhow!("cannot read references: {error}"))?;
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
    let iter = match repo.objects.iter() {
        Ok(iter) => iter,
        Err(error) => {
            notes.push(Skipped {
                path: "objects".into(),
                reason: format!("cannot list objects: {error}"),
            });
            return out;
        }
    };
    for id in iter {
        let Ok(id) = id else { continue };
        match repo.objects.try_header(&id) {
            Ok(Some(header)) if header.kind == gix::objs::Kind::Commit => out.push(id),
            Ok(_) => {}
            Err(error) => notes.push(Skipped {
                path: id.to_string(),
                reason: format!("cannot read object header: {error}"),
            }),
        }
    }
    out
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
    let walk = platform
        .all()
        .map_err(|error| anyhow::anyhow!("cannot walk the history: {error}"))?;
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

/// How many new root trees the history pass reads through one repository handle.
const REOPEN_EVERY_COMMITS: usize = 8192;

/// A second handle on the same repository with its own object store (so its pack mappings are
/// its own), or `None` if it cannot be opened (then the caller's handle is used).
fn reopen(repo: &gix::Repository) -> Option<gix::Repository> {
    let mut fresh = gix::open_opts(repo.path(), gix::open::Options::isolated()).ok()?;
    tune_caches(&mut fresh);
    Some(fresh)
}

/// Walks commit trees, descending only into trees not seen before: each unique tree is
/// decoded once, and a blob's first sighting (in topological order) is its introduction.
struct TreeWalker<'r> {
    repo: &'r gix::Repository,
    /// A private handle for tree reads, reopened every `REOPEN_EVERY_COMMITS` commits: dropping
    /// it unmaps the pack, so the pages of trees already decoded stop counting as resident.
    reader: Option<gix::Repository>,
    walked: usize,
    seen_trees: IdSet,
    /// Blobs of the range's boundary (not new).
    excluded: IdSet,
    buf: Vec<u8>,
    stack: Vec<(BString, ObjectId)>,
    submodules: Vec<BString>,
}

impl<'r> TreeWalker<'r> {
    fn new(repo: &'r gix::Repository) -> TreeWalker<'r> {
        TreeWalker {
            repo,
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
    fn walk(
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
            self.reader = reopen(self.repo);
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
                                        count: 0,
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

/// For each target (blob id, path), how many of the history's commits carry that blob at that
/// path. Each commit's tree is resolved along the target paths only (a trie of the paths), with
/// every (tree, directory) pair decoded once; meant for the few blobs with findings.
pub fn carry_counts(
    repo: &gix::Repository,
    history: &History,
    targets: &[(ObjectId, BString)],
    threads: usize,
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
                    tune_caches_with(&mut repo, 4);
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

/// A per-thread consumer of blob contents.
pub trait BlobHandler: Send {
    fn blob(&mut self, id: &gix::oid, data: &[u8]);
}

/// What [`read_blobs`] did.
#[derive(Default, Debug)]
pub struct ReadOutcome {
    /// Blobs handed to handlers (each id once).
    pub blobs: u64,
    pub skipped: Vec<Skipped>,
}

/// Hand every blob in `wanted` (and with `everything`, every other blob in the database) to a
/// handler, each id once. `make_handler` is called once per worker (pack traversal threads and
/// by-id readers). Damaged packs and objects become `skipped` entries naming them.
pub fn read_blobs<H, F>(
    repo: &gix::Repository,
    wanted: &IdSet,
    everything: bool,
    threads: usize,
    make_handler: F,
) -> anyhow::Result<ReadOutcome>
where
    H: BlobHandler,
    F: Fn() -> H + Sync,
{
    let mut outcome = ReadOutcome::default();
    let seen = Seen::default();
    let (indices, loose_dirs) = match layout(repo) {
        Ok(layout) => layout,
        Err(error) => {
            outcome.skipped.push(Skipped {
                path: repo.objects.store_ref().path().display().to_string(),
                reason: format!("cannot list packs: {error}"),
            });
            (Vec::new(), Vec::new())
        }
    };
    let hash = repo.object_hash();
    // With few wanted blobs (a small range), reading them by id beats decoding whole packs.
    let mut damaged: Vec<ObjectId> = Vec::new();
    let traverse = everything || wanted.len() > 2000 || wanted.len() * 8 > pack_objects(&indices);
    if traverse {
        for index_path in &indices {
            if let Err(error) = traverse_pack(
                index_path,
                hash,
                wanted,
                everything,
                threads,
                &seen,
                &make_handler,
            ) {
                outcome.skipped.push(Skipped {
                    path: index_path.with_extension("pack").display().to_string(),
                    reason: format!(
                        "pack traversal failed ({error}); reading its objects one by one"
                    ),
                });
                if everything {
                    damaged.extend(pack_ids(index_path, hash));
                }
            }
        }
    }
    // What the traversal did not cover: wanted blobs elsewhere (loose, damaged packs), and with
    // `everything`, loose objects.
    let mut rest: Vec<ObjectId> = wanted
        .iter()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    rest.extend(damaged.into_iter().filter(|id| !seen.contains(id)));
    if everything {
        for dir in &loose_dirs {
            let db = gix::odb::loose::Store::at(dir, hash);
            for id in db.iter().flatten() {
                if !wanted.contains(&id) && !seen.contains(&id) {
                    rest.push(id);
                }
            }
        }
    }
    rest.sort_unstable();
    rest.dedup();
    if std::env::var_os("KEYSWEEP_TIMING").is_some() {
        eprintln!(
            "timing: {} blobs from pack traversal, {} read by id",
            seen.len(),
            rest.len()
        );
    }
    let skipped = read_by_id(repo, &rest, wanted, threads, &seen, &make_handler)?;
    outcome.skipped.extend(skipped);
    outcome.blobs = seen.len() as u64;
    Ok(outcome)
}

/// Pack indices (a multi-pack-index expanded into its packs) and loose object directories,
/// alternates included.
fn layout(repo: &gix::Repository) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut indices = Vec::new();
    let mut loose = Vec::new();
    let records = repo
        .objects
        .store_ref()
        .structure()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for record in records {
        match record {
            Record::Index { path, .. } => indices.push(path),
            Record::MultiIndex { path, .. } => {
                // gix lists only the multi-pack-index: expand it into its packs.
                let midx = pack::multi_index::File::at(&path, None)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let dir = path.parent().unwrap_or(Path::new("."));
                indices.extend(midx.index_names().iter().map(|name| dir.join(name)));
            }
            Record::LooseObjectDatabase {
                objects_directory, ..
            } => loose.push(objects_directory),
            Record::Empty => {}
        }
    }
    indices.sort();
    indices.dedup();
    Ok((indices, loose))
}

/// The ids a pack index lists (for reading a damaged pack object by object).
fn pack_ids(index_path: &Path, hash: gix::hash::Kind) -> Vec<ObjectId> {
    match pack::index::File::at(index_path, hash) {
        Ok(index) => index.iter().map(|entry| entry.oid).collect(),
        Err(_) => Vec::new(),
    }
}

/// Number of objects in the packs (from the index headers; cheap).
fn pack_objects(indices: &[PathBuf]) -> usize {
    indices
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|m| (m.len() / 28) as usize) // ~28 bytes per entry in a v2 index
        .sum()
}

/// Objects resolved between two releases of the pack's mapped pages (see [`PackMap`]).
const RELEASE_EVERY: u64 = 1024;

/// Read the blobs of one pack by a delta-tree traversal over its blob entries only: a first
/// pass over the entry headers gives each entry its kind (a delta has its base's kind), and
/// the tree holds the blobs alone, so trees and commits are never decoded. The pack is mapped
/// here, and its pages are released every [`RELEASE_EVERY`] objects, so the mapped pack does
/// not grow into the resident set.
fn traverse_pack<H, F>(
    index_path: &Path,
    hash: gix::hash::Kind,
    wanted: &IdSet,
    everything: bool,
    threads: usize,
    seen: &Seen,
    make_handler: &F,
) -> anyhow::Result<()>
where
    H: BlobHandler,
    F: Fn() -> H + Sync,
{
    use pack::cache::delta::{Tree, traverse};
    use std::sync::atomic::{AtomicU64, Ordering};

    let index =
        pack::index::File::at(index_path, hash).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
    let pack_path = index_path.with_extension("pack");
    let map = PackMap::open(&pack_path)?;
    let blobs = blob_entries(&index, &map, hash)?;
    map.release();
    if blobs.is_empty() {
        return Ok(());
    }
    let interrupt = AtomicBool::new(false);
    // `from_offsets_in_pack` reads its first entry wherever its reader stands, the first entry
    // of the pack: start with that entry (a commit, as a rule; decoded and ignored) so the reader
    // and the offsets agree.
    let first_entry = (0..index.num_objects()).min_by_key(|&at| index.pack_offset_at_index(at));
    let lead = first_entry.filter(|&at| Some(&at) != blobs.first());
    let tree = Tree::from_offsets_in_pack(
        &pack_path,
        lead.into_iter().chain(blobs),
        &|&at: &u32| index.pack_offset_at_index(at),
        &|id| Ok(index.lookup(id).map(|at| index.pack_offset_at_index(at))),
        &mut gix::progress::Discard,
        &interrupt,
        hash,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolved = AtomicU64::new(0);
    let mut worker = Worker {
        make_handler,
        handler: None,
    };
    let (index, map_ref, resolved_ref) = (&index, &map, &resolved);
    let pack_end = (map.bytes().len() as u64).saturating_sub(hash.len_in_bytes() as u64);
    let result = tree.traverse(
        |range, map: &PackMap| map.bytes().get(range.start as usize..range.end as usize),
        &map,
        pack_end,
        move |at: &mut u32, _progress, context: traverse::Context<'_>| -> gix::Result<()> {
            if context.entry.header.as_kind() == Some(gix::objs::Kind::Blob) {
                let id = index.oid_at_index(*at);
                if (everything || wanted.contains(id)) && seen.insert(id.to_owned()) {
                    worker.handler().blob(id, context.decompressed);
                }
            }
            if resolved_ref.fetch_add(1, Ordering::Relaxed) % RELEASE_EVERY == RELEASE_EVERY - 1 {
                map_ref.release();
            }
            Ok(())
        },
        traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut gix::progress::Discard,
            thread_limit: Some(threads.max(1)),
            should_interrupt: &interrupt,
            object_hash: hash,
            alloc_limit_bytes: None,
        },
    );
    result.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The index positions of a pack's blob entries (deltas included), in pack order. A delta's
/// kind is its base's: each entry's header is read, and delta chains are followed to their
/// base (memoised, so each header is read once).
fn blob_entries(
    index: &pack::index::File,
    map: &PackMap,
    hash: gix::hash::Kind,
) -> anyhow::Result<Vec<u32>> {
    use pack::data::entry::Header;
    const UNKNOWN: u8 = 0;
    const BLOB: u8 = 1;
    const OTHER: u8 = 2;
    let mut sorted: Vec<(u64, u32)> = (0..index.num_objects())
        .map(|at| (index.pack_offset_at_index(at), at))
        .collect();
    sorted.sort_unstable();
    let position = |offset: u64| -> anyhow::Result<usize> {
        sorted
            .binary_search_by_key(&offset, |&(o, _)| o)
            .map_err(|_| anyhow::anyhow!("delta base at offset {offset} is not an entry"))
    };
    let bytes = map.bytes();
    let mut kinds = vec![UNKNOWN; sorted.len()];
    let mut chain: Vec<usize> = Vec::new();
    for start in 0..sorted.len() {
        if start % (16 * RELEASE_EVERY as usize) == 0 {
            map.release();
        }
        let mut at = start;
        while kinds[at] == UNKNOWN {
            if chain.len() > sorted.len() {
                bail!("delta chain loop at offset {}", sorted[at].0);
            }
            let offset = sorted[at].0;
            let data = bytes
                .get(offset as usize..)
                .ok_or_else(|| anyhow::anyhow!("offset {offset} is past the end"))?;
            let entry = pack::data::Entry::from_bytes(data, offset, hash)
                .map_err(|e| anyhow::anyhow!("entry at offset {offset}: {e}"))?;
            let base = match entry.header {
                Header::Blob => {
                    kinds[at] = BLOB;
                    break;
                }
                Header::Tree | Header::Commit | Header::Tag => {
                    kinds[at] = OTHER;
                    break;
                }
                Header::OfsDelta { base_distance } => {
                    Header::verified_base_pack_offset(offset, base_distance).ok_or_else(|| {
                        anyhow::anyhow!("invalid delta base distance at offset {offset}")
                    })?
                }
                Header::RefDelta { base_id } => index
                    .lookup(base_id)
                    .map(|base| index.pack_offset_at_index(base))
                    .ok_or_else(|| anyhow::anyhow!("delta base {base_id} is not in the pack"))?,
            };
            chain.push(at);
            at = position(base)?;
        }
        let kind = kinds[at];
        for link in chain.drain(..) {
            kinds[link] = kind;
        }
    }
    Ok(sorted
        .iter()
        .zip(&kinds)
        .filter(|&(_, &kind)| kind == BLOB)
        .map(|(&(_, at), _)| at)
        .collect())
}

/// A pack file mapped read-only, whose resident pages can be given back: the contents stay in
/// the page cache and are mapped again on the next access.
struct PackMap {
    map: memmap2::Mmap,
}

impl PackMap {
    fn open(path: &Path) -> anyhow::Result<PackMap> {
        let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot open: {e}"))?;
        // SAFETY: a pack file is never modified in place (git writes new packs and renames
        // them); the mapping is read-only.
        let map =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| anyhow::anyhow!("cannot map: {e}"))?;
        Ok(PackMap { map })
    }

    fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Drop the mapping's resident pages (page cache untouched).
    fn release(&self) {
        #[cfg(unix)]
        // SAFETY: for a shared, read-only file mapping, MADV_DONTNEED only unmaps the pages;
        // the next access maps the same file contents again, so live slices stay valid.
        unsafe {
            let _ = self
                .map
                .unchecked_advise(memmap2::UncheckedAdvice::DontNeed);
        }
    }
}

/// A traversal thread's handler, created on first use (the traversal clones the processor once
/// per thread).
struct Worker<'f, H, F> {
    make_handler: &'f F,
    handler: Option<H>,
}

impl<H, F: Fn() -> H> Worker<'_, H, F> {
    fn handler(&mut self) -> &mut H {
        self.handler.get_or_insert_with(self.make_handler)
    }
}

impl<'f, H, F> Clone for Worker<'f, H, F> {
    fn clone(&self) -> Self {
        Worker {
            make_handler: self.make_handler,
            handler: None,
        }
    }
}

/// Read objects by id in parallel; non-blobs are ignored, missing wanted blobs reported.
fn read_by_id<H, F>(
    repo: &gix::Repository,
    ids: &[ObjectId],
    wanted: &IdSet,
    threads: usize,
    seen: &Seen,
    make_handler: &F,
) -> anyhow::Result<Vec<Skipped>>
where
    H: BlobHandler,
    F: Fn() -> H + Sync,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sync = repo.clone().into_sync();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .context("cannot start threads")?;
    let chunk = (ids.len() / (threads.max(1) * 4)).max(64);
    let skipped: Vec<Skipped> = pool.install(|| {
        ids.par_chunks(chunk)
            .flat_map_iter(|chunk| {
                let repo = sync.to_thread_local();
                let mut handler = None;
                let mut buf = Vec::new();
                let mut skipped = Vec::new();
                for id in chunk {
                    match repo.objects.try_find(id, &mut buf) {
                        Ok(Some(object)) => {
                            if object.kind == gix::objs::Kind::Blob && seen.insert(*id) {
                                handler
                                    .get_or_insert_with(make_handler)
                                    .blob(id, object.data);
                            }
                        }
                        Ok(None) => {
                            if wanted.contains(id) {
                                skipped.push(Skipped {
                                    path: id.to_string(),
                                    reason: format!(
                                        "blob {id} is missing from the object database \
                                         (partial clone or damaged repository)"
                                    ),
                                });
                            }
                        }
                        Err(error) => skipped.push(Skipped {
                            path: id.to_string(),
                            reason: format!("cannot read object {id}: {error}"),
                        }),
                    }
                }
                drop(handler);
                skipped
            })
            .collect()
    });
    Ok(skipped)
}

/// A sharded concurrent set of the blob ids already handed out.
struct Seen {
    shards: Vec<Mutex<IdSet>>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            shards: (0..64).map(|_| Mutex::new(IdSet::default())).collect(),
        }
    }
}

impl Seen {
    fn shard(&self, id: &gix::oid) -> std::sync::MutexGuard<'_, IdSet> {
        let shard = &self.shards[id.as_bytes()[0] as usize % self.shards.len()];
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// True when `id` was not in the set.
    fn insert(&self, id: ObjectId) -> bool {
        self.shard(&id).insert(id)
    }

    fn contains(&self, id: &gix::oid) -> bool {
        self.shard(id).contains(id)
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|s| s.len()).unwrap_or(0))
            .sum()
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

/// Cache sizes and diagnostics for the git reader (from the environment, read by `config`).
#[derive(Clone, Debug, Default)]
pub struct GitTuning {
    pub object_cache_mb: Option<usize>,
    pub pack_cache_mb: Option<usize>,
    pub timing: bool,
}
