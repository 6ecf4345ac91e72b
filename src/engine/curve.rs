//! The concentration curve of a ranking (`rank --summary`, SPEC §1 researcher row): for
//! k = 1, 2, …, how many distinct packages the top k subjects reach together (inject reach,
//! the union of their sets, not the sum of their counts), and the smallest k that reaches
//! 10, 50 and 90 % of all packages.
//!
//! The union of the first k reach sets only depends on one number per package: the rank
//! position of the first subject that reaches it. A package is in the union of the top k
//! exactly when that position is below k, so the curve is a running sum over a histogram of
//! first positions, and no subject's set is ever kept. The positions come from the
//! bit-parallel propagation of `rank_bits` (the same seeds, closure and `--hops` re-seeding
//! that give rank its package counts): blocks of 512 subjects in rank order, lane `j` of
//! block `b` being position `512·b + j`; per package the lowest set lane of `direct | trans`
//! is the block's first position, and the minimum over blocks is kept in one shared array.
//! Minimum is order-free, so blocks run on any thread in any order and the answer is the same.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::index::AttackIndex;
use super::rank_bits::{propagate, Lane, Mode, Plan, Work, W};
use super::{Query, Source};
use crate::graph::{Graph, NodeKind};

/// The concentration curve of a ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curve {
    /// Packages in the graph: the 100 % of every share.
    pub total_packages: usize,
    /// `reached[k - 1]` is the number of distinct packages that at least one of the first k
    /// subjects (in the order given) reaches by injection; one entry per subject,
    /// non-decreasing.
    pub reached: Vec<usize>,
}

impl Curve {
    /// The smallest k whose first k subjects together reach at least `percent` % of all
    /// packages (rounded up to a whole package, and at least one package), or `None` when
    /// all of them together never get there (or the graph has no package).
    ///
    /// # Example
    /// ```
    /// use blastradius::engine::Curve;
    /// let c = Curve { total_packages: 5, reached: vec![3, 4, 4] };
    /// assert_eq!(c.k_for(10), Some(1)); // 1 package of 5
    /// assert_eq!(c.k_for(50), Some(1)); // 3 packages (2.5 rounded up)
    /// assert_eq!(c.k_for(80), Some(2)); // 4 packages
    /// assert_eq!(c.k_for(90), None); // 5 packages: never
    /// ```
    pub fn k_for(&self, percent: u32) -> Option<usize> {
        let target = (self.total_packages * percent as usize)
            .div_ceil(100)
            .max(1);
        let i = self.reached.partition_point(|&r| r < target);
        (i < self.reached.len()).then_some(i + 1)
    }
}

/// The lowest lane set in `a | b`.
fn first_lane(a: &Lane, b: &Lane) -> Option<u32> {
    (0..W).find_map(|w| {
        let x = a[w] | b[w];
        (x != 0).then(|| (w * 64) as u32 + x.trailing_zeros())
    })
}

/// The concentration curve of `ranked` (subjects in rank order): for every k, the number of
/// distinct packages reached by injection by at least one of the first k.
///
/// # Arguments
/// * `ranked` — the subjects in rank order, usually the sources of [`rank`](super::rank())'s
///   entries; a package counts the same whether reached directly or through dependencies,
///   after `query.hops` hops, exactly as in rank's `inject.packages`.
/// * `parallel` — spread blocks over rayon's pool (the answer is the same either way).
///
/// # Returns
/// A [`Curve`] with one entry per subject; the last entry is the union of everything.
///
/// # Panics
/// With `u32::MAX` subjects or more.
///
/// # Complexity
/// One inject pass of rank: O(⌈S / 512⌉ · (P + E) · 8 · hops) word operations for S subjects,
/// P packages and E dependent edges, plus O(P + S). Memory: 2 · P · 64 bytes per thread for
/// the block's lanes, 4 · P bytes for first positions, 8 · S for the curve.
///
/// # Example
/// ```
/// use blastradius::{engine, graph::Graph, ingest};
/// let inputs = [ingest::detect::Input { path: ingest::demo_dir(), display: "data".into() }];
/// let graph = Graph::build(&ingest::load(&inputs).unwrap()).unwrap();
/// let query = engine::Query {
///     at: "2026-06-01T00:00:00Z".parse().unwrap(),
///     versions: engine::VersionsMode::Latest,
///     hops: 1,
/// };
/// let index = engine::AttackIndex::new(&graph, query.versions);
/// let ranking = engine::rank(&graph, &index, &query, engine::RankSubject::Accounts, true);
/// let ranked: Vec<engine::Source> = ranking.iter().map(|e| e.source).collect();
/// let curve = engine::curve(&graph, &index, &query, &ranked, true);
/// // The top subject alone reaches what rank counted for it.
/// assert_eq!(curve.reached[0], ranking[0].inject.packages);
/// println!("half of all packages: {:?} accounts", curve.k_for(50));
/// ```
pub fn curve(
    graph: &Graph,
    index: &AttackIndex,
    query: &Query,
    ranked: &[Source],
    parallel: bool,
) -> Curve {
    assert!(
        ranked.len() < u32::MAX as usize,
        "too many subjects for one curve"
    );
    let total_packages = graph.count(NodeKind::Package);
    let plan = Plan::new(graph, index);
    let block_size = W * 64;
    // first[p]: the rank position of the first subject reaching package p (MAX: none).
    let first: Vec<AtomicU32> = (0..total_packages)
        .map(|_| AtomicU32::new(u32::MAX))
        .collect();
    let run = |work: &mut Work, (b, block): (usize, &[Source])| {
        propagate(graph, &plan, work, block, query, Mode::Inject);
        let base = (b * block_size) as u32;
        for p in work.touched() {
            if let Some(lane) = first_lane(&work.direct[p], &work.trans[p]) {
                let pos = base + lane;
                // Most packages are already claimed by an earlier block: a load is cheaper
                // than a read-modify-write.
                if first[p].load(Relaxed) > pos {
                    first[p].fetch_min(pos, Relaxed);
                }
            }
        }
    };
    let blocks: Vec<(usize, &[Source])> = ranked.chunks(block_size).enumerate().collect();
    if parallel {
        blocks
            .par_iter()
            .for_each_init(|| Work::new(graph), |w, b| run(w, *b));
    } else {
        let mut w = Work::new(graph);
        for b in &blocks {
            run(&mut w, *b);
        }
    }
    let mut reached = vec![0usize; ranked.len()];
    for f in &first {
        let f = f.load(Relaxed);
        if f != u32::MAX {
            reached[f as usize] += 1;
        }
    }
    let mut sum = 0;
    for r in &mut reached {
        sum += *r;
        *r = sum;
    }
    Curve {
        total_packages,
        reached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lane_spans_words() {
        let mut a = [0u64; W];
        let mut b = [0u64; W];
        assert_eq!(first_lane(&a, &b), None);
        b[7] = 1 << 63;
        assert_eq!(first_lane(&a, &b), Some(511));
        a[2] = 0b100;
        assert_eq!(first_lane(&a, &b), Some(130));
    }

    #[test]
    fn k_for_rounds_up_and_needs_a_package() {
        let c = Curve {
            total_packages: 10,
            reached: vec![1, 5, 9],
        };
        assert_eq!(
            (c.k_for(10), c.k_for(50), c.k_for(90), c.k_for(91)),
            (Some(1), Some(2), Some(3), None)
        );
        let empty = Curve {
            total_packages: 0,
            reached: vec![0, 0],
        };
        assert_eq!(empty.k_for(10), None);
        let none = Curve {
            total_packages: 3,
            reached: vec![],
        };
        assert_eq!(none.k_for(10), None);
    }
}
