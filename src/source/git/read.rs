//! Blob contents by id ([`read_blobs`]): whole packs by traversal, the rest one by one.

use std::sync::Mutex;

use anyhow::Context as _;
use gix::ObjectId;
use gix::objs::Find as _;
use rayon::prelude::*;

use super::pack::{ObjectHandler, layout, pack_ids, pack_objects, traverse_pack};
use super::{GitTuning, IdSet};
use crate::finding::Skipped;

/// A per-thread consumer of blob contents.
pub trait BlobHandler: Send {
    /// Take one blob's contents (each id is handed to one handler, once).
    fn blob(&mut self, id: &gix::oid, data: &[u8]);
}

/// What [`read_blobs`] did.
#[derive(Default, Debug)]
pub struct ReadOutcome {
    /// Blobs handed to handlers (each id once).
    pub blobs: u64,
    /// Damaged packs, unreadable and missing objects.
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
    tuning: &GitTuning,
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
                reason: format!("cannot list packs: {error:#}"),
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
            let make_wanted = || Wanted {
                make_handler: &make_handler,
                handler: None,
                wanted,
                everything,
                seen: &seen,
            };
            let kind = gix::objs::Kind::Blob;
            if let Err(error) = traverse_pack(index_path, hash, kind, threads, &make_wanted) {
                outcome.skipped.push(Skipped {
                    path: index_path.with_extension("pack").display().to_string(),
                    reason: format!(
                        "pack traversal failed ({error:#}); reading its objects one by one"
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
    if tuning.timing {
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

/// A traversal thread's filter in front of its blob handler: the wanted blobs not handed out
/// yet pass, and the handler is made on the first of them.
struct Wanted<'a, H, F> {
    make_handler: &'a F,
    handler: Option<H>,
    wanted: &'a IdSet,
    everything: bool,
    seen: &'a Seen,
}

impl<H: BlobHandler, F: Fn() -> H + Sync> ObjectHandler for Wanted<'_, H, F> {
    fn object(&mut self, id: &gix::oid, data: &[u8]) {
        if (self.everything || self.wanted.contains(id)) && self.seen.insert(id.to_owned()) {
            self.handler
                .get_or_insert_with(self.make_handler)
                .blob(id, data);
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
