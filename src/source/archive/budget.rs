//! The expansion budget of one top-level archive, charged as decompressed bytes arrive.

use std::cell::Cell;
use std::io::{self, Read};

use super::{Limit, Limits, RATIO_FLOOR_BYTES};

/// Decompressed bytes so far against the total and ratio limits; once a limit is hit, every
/// metered read fails.
pub(super) struct Budget {
    expanded: Cell<u64>,
    hit: Cell<Option<Limit>>,
    max_total: u64,
    /// The bytes the ratio limit allows: `max_ratio` × the archive's size, at least
    /// [`RATIO_FLOOR_BYTES`].
    max_by_ratio: u64,
}

impl Budget {
    pub(super) fn new(limits: &Limits, compressed: u64) -> Budget {
        Budget {
            expanded: Cell::new(0),
            hit: Cell::new(None),
            max_total: limits.max_total_bytes,
            max_by_ratio: compressed
                .saturating_mul(limits.max_ratio)
                .max(RATIO_FLOOR_BYTES),
        }
    }

    /// Bytes charged so far.
    pub(super) fn expanded(&self) -> u64 {
        self.expanded.get()
    }

    /// The limit hit, if one was.
    pub(super) fn hit(&self) -> Option<Limit> {
        self.hit.get()
    }

    /// Charge `bytes`; past a limit, remember which and fail.
    fn charge(&self, bytes: u64) -> Result<(), Limit> {
        if let Some(limit) = self.hit.get() {
            return Err(limit);
        }
        let expanded = self.expanded.get().saturating_add(bytes);
        self.expanded.set(expanded);
        let over = if expanded > self.max_total {
            Some(Limit::TotalBytes)
        } else if expanded > self.max_by_ratio {
            Some(Limit::Ratio)
        } else {
            None
        };
        match over {
            Some(limit) => {
                self.hit.set(Some(limit));
                Err(limit)
            }
            None => Ok(()),
        }
    }
}

/// A decompressor's output, charged to the budget read by read.
pub(super) struct Metered<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<'b, R: Read> Metered<'b, R> {
    pub(super) fn new(inner: R, budget: &'b Budget) -> Self {
        Metered { inner, budget }
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(limit) = self.budget.hit() {
            return Err(over(limit));
        }
        let read = self.inner.read(buf)?;
        self.budget.charge(read as u64).map_err(over)?;
        Ok(read)
    }
}

fn over(limit: Limit) -> io::Error {
    io::Error::other(format!("archive limit reached: {limit:?}"))
}
