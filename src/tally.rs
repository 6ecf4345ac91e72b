//! How far a long computation has come: units done out of a total, counted by ingest (files
//! read) and the rank engine (blocks of sources ranked), and drawn by the CLI as a progress
//! bar when stderr is a terminal. A display only: nothing reads it to compute an answer, so
//! relaxed atomics suffice and concurrent runs in one process only blur the bar.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Units of work done and expected.
pub struct Tally {
    done: AtomicU64,
    total: AtomicU64,
}

/// The process's tally, reset by each phase the CLI starts.
pub static TALLY: Tally = Tally::new();

impl Tally {
    /// An empty tally.
    pub const fn new() -> Self {
        Tally {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// Forgets everything: a new phase starts counting from zero.
    pub fn reset(&self) {
        self.done.store(0, Relaxed);
        self.total.store(0, Relaxed);
    }

    /// More work is known (files listed, blocks planned).
    pub fn expect(&self, units: u64) {
        self.total.fetch_add(units, Relaxed);
    }

    /// One unit is done.
    pub fn tick(&self) {
        self.done.fetch_add(1, Relaxed);
    }

    /// (done, total).
    pub fn get(&self) -> (u64, u64) {
        (self.done.load(Relaxed), self.total.load(Relaxed))
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}
