//! Git history as unique blobs, with provenance (see the git issue).
//!
//! Two passes, both with gix and no `git` subprocess:
//! 1. [`history`] (`walk.rs`, `trees.rs`): the selected commits, visited parents-first and,
//!    among the ready ones, oldest first (committer time, then generation). Each commit's tree
//!    is walked into subtrees not seen before only, so every unique tree is decoded once; the
//!    first commit whose tree holds a blob is the one that introduced it (new relative to all
//!    its parents), at the earliest time the DAG allows. For a range, the trees of the commits
//!    just outside it are marked seen first. [`carry_counts`] (`carry.rs`) later counts, for
//!    the few blobs with findings, how many commits carry them at their path.
//! 2. [`read_blobs`] (`read.rs`, `pack.rs`): the blob contents, read once per unique id by a
//!    delta-tree traversal of each pack (every delta base decoded once, on all threads; a
//!    multi-pack-index is expanded into its packs), then whatever the packs did not hold (loose
//!    objects, or a damaged pack) by id. Object ids come from the pack index, never re-hashed.
//!
//! `provenance.rs` formats what a finding reports about its commit and path. Nothing here reads
//! the environment: cache sizes and timing output come in a [`GitTuning`] from the caller.

mod carry;
mod pack;
mod provenance;
mod read;
mod trees;
mod walk;

use std::path::Path;

use anyhow::{Context as _, bail};
use gix::ObjectId;

pub use carry::carry_counts;
pub use provenance::{CommitDisplay, commit_display, display_path, hex, is_lfs_pointer};
pub use read::{BlobHandler, ReadOutcome, read_blobs};
pub use trees::Intro;
pub use walk::{CommitMeta, History, history};

/// A set of object ids (gix's hasher: the id is its own hash).
pub type IdSet = gix::hashtable::HashSet<ObjectId>;
/// A map keyed by object id.
pub type IdMap<V> = gix::hashtable::HashMap<ObjectId, V>;

/// Cache sizes and diagnostics for the git source, chosen by the caller. `Default` is
/// keysweep's behaviour when nothing is asked for.
#[derive(Clone, Debug, Default)]
pub struct GitTuning {
    /// Decoded-object cache per repository handle, in MiB; `None` is off (each unique tree is
    /// decoded once, so such a cache does not pay for its memory).
    pub object_cache_mb: Option<usize>,
    /// Delta-base cache per repository handle, in MiB (trees are long delta chains in packs);
    /// `None` is each phase's own default, 0 is off.
    pub pack_cache_mb: Option<usize>,
    /// Print each phase's duration on stderr (`timing: ...` lines).
    pub timing: bool,
}

impl GitTuning {
    /// Set `repo`'s caches, with `default_pack_mb` MiB of delta bases unless asked otherwise.
    fn apply(&self, repo: &mut gix::Repository, default_pack_mb: usize) {
        const MIB: usize = 1024 * 1024;
        repo.object_cache_size(self.object_cache_mb.unwrap_or(0) * MIB);
        let pack_cache = self.pack_cache_mb.unwrap_or(default_pack_mb) * MIB;
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
}

/// Delta-base cache (MiB) of the handles the history pass reads trees through.
const HISTORY_PACK_CACHE_MB: usize = 16;

/// Open the repository at or above `path` without running anything its configuration names
/// and without reading the environment (`GIT_DIR` and friends), with `tuning`'s caches.
pub fn open(path: &Path, tuning: &GitTuning) -> anyhow::Result<gix::Repository> {
    if std::fs::metadata(path).is_err() {
        bail!("{}: no such file or directory", path.display());
    }
    let mut repo = gix::discover_opts(
        path,
        gix::discover::upwards::Options::default(),
        gix::open::Options::isolated(),
    )
    .with_context(|| {
        format!(
            "{}: not a git repository (or any of its parent directories)",
            path.display()
        )
    })?;
    tuning.apply(&mut repo, HISTORY_PACK_CACHE_MB);
    Ok(repo)
}

/// A second handle on `repo` with its own object store (so its pack mappings are its own, and
/// go when it is dropped), or `None` if it cannot be opened.
fn reopen(
    repo: &gix::Repository,
    tuning: &GitTuning,
    default_pack_mb: usize,
) -> Option<gix::Repository> {
    let mut fresh = gix::open_opts(repo.path(), gix::open::Options::isolated()).ok()?;
    tuning.apply(&mut fresh, default_pack_mb);
    Some(fresh)
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
            .with_context(|| format!("--range: cannot resolve {name:?}"))?;
        let commit = id
            .object()
            .and_then(|object| object.peel_to_commit())
            .with_context(|| format!("--range: {name:?} is not a commit"))?;
        Ok(commit.id)
    };
    Ok(Selection::Range {
        base: resolve(base)?,
        head: resolve(head)?,
    })
}
