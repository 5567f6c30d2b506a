//! How many threads one training may use, and how its large passes are split among them.
//!
//! Process-wide and 1 unless the caller asks for more ([`set`]): `bandwise run` uses every
//! core for its one training, sweeps keep 1 and run several trainings at once instead. A
//! pass is split only into blocks of rows that each compute whole results in the one-thread
//! order, so results never depend on the thread count (tested where each pass is split).

use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Let one training's large passes use up to `threads` threads of rayon's global pool (at
/// least 1).
pub fn set(threads: usize) {
    THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// The thread count set by [`set`].
pub fn count() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// Held by every unit test that changes the thread count, so that such tests do not run at
/// the same time (the count is process-wide).
#[cfg(test)]
pub static TEST_GUARD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Element-wise passes over fewer values than this stay on one thread, where handing work
/// to another thread would cost about as much as it saves: at N = 1024, layers of width 128
/// and more are split, the reference network's 64 are not.
pub const ELEMENTWISE_MIN_VALUES: usize = 1 << 17;

/// Items per block when `items` items (rows) of `values_per_item` values each
/// are split over the threads: all of them (one block) below [`ELEMENTWISE_MIN_VALUES`], else
/// [`block_len`] for the current thread count.
pub fn items_per_block(items: usize, values_per_item: usize) -> usize {
    if items.saturating_mul(values_per_item) >= ELEMENTWISE_MIN_VALUES {
        block_len(items, count())
    } else {
        items
    }
}

/// Items per block when `items` items are split over `threads` threads: one block per
/// thread, in multiples of [`BLOCK_ALIGN`] items (all of them, one block, with one thread).
pub fn block_len(items: usize, threads: usize) -> usize {
    if threads > 1 {
        items
            .div_ceil(threads)
            .next_multiple_of(BLOCK_ALIGN)
            .min(items)
    } else {
        items
    }
}

/// Blocks start at multiples of this many rows, so that every block but the last fills whole
/// micro-kernel tiles of the matrix products.
pub const BLOCK_ALIGN: usize = 16;

/// Run `f` on every block, on rayon's pool when there are several (the calling thread waits
/// for all of them), directly when there is one.
pub fn for_each_block<T: Send>(blocks: impl Iterator<Item = T> + Send, f: impl Fn(T) + Sync) {
    let mut blocks = blocks.peekable();
    let Some(first) = blocks.next() else { return };
    if blocks.peek().is_none() {
        f(first);
        return;
    }
    let f = &f;
    rayon::scope(|scope| {
        scope.spawn(move |_| f(first));
        for block in blocks {
            scope.spawn(move |_| f(block));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn blocks_cover_every_item_once() {
        let _guard = TEST_GUARD.lock().unwrap_or_else(|e| e.into_inner());
        set(3);
        let items = 1000;
        let per = items_per_block(items, 1 << 10);
        assert!(per < items && per.is_multiple_of(16));
        let seen = Mutex::new(vec![0u8; items]);
        let starts: Vec<usize> = (0..items).step_by(per).collect();
        for_each_block(starts.into_iter(), |start| {
            let mut seen = seen.lock().unwrap();
            for s in &mut seen[start..items.min(start + per)] {
                *s += 1;
            }
        });
        assert!(seen.into_inner().unwrap().iter().all(|&s| s == 1));
        // Small passes stay whole.
        assert_eq!(items_per_block(items, 8), items);
        set(1);
        assert_eq!(items_per_block(items, 1 << 10), items);
    }
}
