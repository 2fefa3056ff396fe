//! Pack traversal: each pack's blobs decoded once, delta bases shared, on all threads, through
//! a mapping of the pack whose pages are given back as it goes ([`PackMap`]).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use gix::ObjectId;
use gix::odb::pack;
use gix::odb::store::structure::Record;

/// A traversal thread's consumer of the objects of one kind.
pub(super) trait ObjectHandler: Send {
    /// Take one object's contents.
    fn object(&mut self, id: &gix::oid, data: &[u8]);
}

/// Pack indices (a multi-pack-index expanded into its packs) and loose object directories,
/// alternates included.
pub(super) fn layout(repo: &gix::Repository) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut indices = Vec::new();
    let mut loose = Vec::new();
    let records = repo
        .objects
        .store_ref()
        .structure()
        .context("cannot read the object database's layout")?;
    for record in records {
        match record {
            Record::Index { path, .. } => indices.push(path),
            Record::MultiIndex { path, .. } => {
                // gix lists only the multi-pack-index: expand it into its packs.
                let midx = pack::multi_index::File::at(&path, None)
                    .with_context(|| path.display().to_string())?;
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
pub(super) fn pack_ids(index_path: &Path, hash: gix::hash::Kind) -> Vec<ObjectId> {
    match pack::index::File::at(index_path, hash) {
        Ok(index) => index.iter().map(|entry| entry.oid).collect(),
        Err(_) => Vec::new(),
    }
}

/// The ids of a pack's objects of one `kind` (deltas resolved to their base's kind), read in
/// pack order with the mapping's pages given back as it goes: finding every commit of a large
/// pack this way touches each entry header once, where a header lookup per id follows delta
/// chains all over the pack.
pub(super) fn pack_ids_of_kind(
    index_path: &Path,
    hash: gix::hash::Kind,
    kind: gix::objs::Kind,
) -> anyhow::Result<Vec<ObjectId>> {
    let index = pack::index::File::at(index_path, hash).context("cannot open the index")?;
    let map = PackMap::open(&index_path.with_extension("pack"))?;
    let entries = entries_of_kind(&index, &map, hash, kind)?;
    map.release();
    Ok(entries
        .into_iter()
        .map(|at| index.oid_at_index(at).to_owned())
        .collect())
}

/// Number of objects in the packs (from the index headers; cheap).
pub(super) fn pack_objects(indices: &[PathBuf]) -> usize {
    indices
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|m| (m.len() / 28) as usize) // ~28 bytes per entry in a v2 index
        .sum()
}

/// Objects resolved between two releases of the pack's mapped pages (see [`PackMap`]).
const RELEASE_EVERY: u64 = 1024;

/// Read the objects of one `kind` in one pack by a delta-tree traversal over the entries of
/// that kind only: a first pass over the entry headers gives each entry its kind (a delta has
/// its base's kind), and the tree holds that kind alone, so other objects are never decoded.
/// `make_handler` is called once per thread that meets such an object. The pack is mapped
/// here, and its pages are released every [`RELEASE_EVERY`] objects, so the mapped pack does
/// not grow into the resident set.
pub(super) fn traverse_pack<H, F>(
    index_path: &Path,
    hash: gix::hash::Kind,
    kind: gix::objs::Kind,
    threads: usize,
    make_handler: &F,
) -> anyhow::Result<()>
where
    H: ObjectHandler,
    F: Fn() -> H + Sync,
{
    use pack::cache::delta::{Tree, traverse};
    use std::sync::atomic::{AtomicU64, Ordering};

    let index = pack::index::File::at(index_path, hash).context("cannot open the index")?;
    let pack_path = index_path.with_extension("pack");
    let map = PackMap::open(&pack_path)?;
    let entries = entries_of_kind(&index, &map, hash, kind)?;
    map.release();
    if entries.is_empty() {
        return Ok(());
    }
    // `from_offsets_in_pack` reads its first entry wherever its reader stands, the first entry
    // of the pack: start with that entry (a commit, as a rule; decoded and ignored) so the reader
    // and the offsets agree.
    let first_entry = (0..index.num_objects()).min_by_key(|&at| index.pack_offset_at_index(at));
    let lead = first_entry.filter(|&at| Some(&at) != entries.first());
    let tree = Tree::from_offsets_in_pack(
        &pack_path,
        lead.into_iter().chain(entries),
        &|&at: &u32| index.pack_offset_at_index(at),
        &|id| Ok(index.lookup(id).map(|at| index.pack_offset_at_index(at))),
        &mut gix::progress::Discard,
        &gix::interrupt::IS_INTERRUPTED,
        hash,
    )
    .context("cannot build the delta tree")?;
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
            if context.entry.header.as_kind() == Some(kind) {
                worker
                    .handler()
                    .object(index.oid_at_index(*at), context.decompressed);
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
            // A signal (a sweep installs the handler) stops the traversal.
            should_interrupt: &gix::interrupt::IS_INTERRUPTED,
            object_hash: hash,
            alloc_limit_bytes: None,
        },
    );
    result.map(|_| ()).context("delta tree traversal")
}

/// The index positions of a pack's entries of one `kind` (deltas included), in pack order. A
/// delta's kind is its base's: each entry's header is read, and delta chains are followed to
/// their base (memoised, so each header is read once).
fn entries_of_kind(
    index: &pack::index::File,
    map: &PackMap,
    hash: gix::hash::Kind,
    kind: gix::objs::Kind,
) -> anyhow::Result<Vec<u32>> {
    use pack::data::entry::Header;
    const UNKNOWN: u8 = 0;
    const WANTED: u8 = 1;
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
                .with_context(|| format!("entry at offset {offset}"))?;
            let base = match entry.header {
                Header::Blob | Header::Tree | Header::Commit | Header::Tag => {
                    kinds[at] = if entry.header.as_kind() == Some(kind) {
                        WANTED
                    } else {
                        OTHER
                    };
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
        .filter(|&(_, &kind)| kind == WANTED)
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
        let file = std::fs::File::open(path).context("cannot open")?;
        // SAFETY: a pack file is never modified in place (git writes new packs and renames
        // them); the mapping is read-only.
        let map = unsafe { memmap2::Mmap::map(&file) }.context("cannot map")?;
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
