//! `rank`: the reach of every credential (or every account) at once, counted in parallel.
//!
//! Each source is one layered breadth-first traversal over the same steps as
//! [`reach`](super::reach()) (the step function is shared), recording only set membership in
//! per-thread scratch arrays stamped with an epoch, so nothing is cleared between sources.

use rayon::prelude::*;

use super::index::AttackIndex;
use super::reach::{for_each_step, Mode, States};
use super::rights::{risk_factors, seeds};
use super::{Query, Source};
use crate::graph::{CredentialId, Graph, NodeRef};

/// Counts of one reach mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Reached packages.
    pub packages: usize,
    /// Exposed lockfiles.
    pub lockfiles: usize,
    /// Reached environments.
    pub environments: usize,
    /// Reached mirrors.
    pub mirrors: usize,
    /// Stolen credentials.
    pub credentials: usize,
}

impl Counts {
    /// SPEC §4 rule 7.
    pub fn score(&self) -> usize {
        self.packages + self.lockfiles + self.environments + self.mirrors
    }
}

/// What `rank` ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankSubject {
    /// The inventory's credentials (or, without them, one per account).
    Credentials,
    /// Every account, acting with all its rights (`--all-accounts`).
    Accounts,
}

/// One line of the ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankEntry {
    /// The credential or account.
    pub source: Source,
    /// Its id.
    pub id: String,
    /// SPEC §4 rule 7 score (inject).
    pub score: usize,
    /// Inject counts.
    pub inject: Counts,
    /// Disrupt counts.
    pub disrupt: Counts,
    /// Packages it can publish now.
    pub publishable: usize,
    /// Risk labels.
    pub risk_factors: Vec<&'static str>,
}

/// Per-thread scratch: one stamp per state; a state is seen when its stamp equals the epoch.
struct Scratch {
    stamp: Vec<u32>,
    pkg_stamp: Vec<u32>,
    epoch: u32,
    queue: Vec<u32>,
}

impl Scratch {
    fn new(st: &States) -> Self {
        Scratch {
            stamp: vec![0; st.len()],
            pkg_stamp: vec![0; st.p as usize],
            epoch: 0,
            queue: Vec::new(),
        }
    }
    fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.stamp.fill(0);
            self.pkg_stamp.fill(0);
            self.epoch = 1;
        }
    }
}

/// Counts what one source reaches in one mode.
fn count(
    g: &Graph,
    idx: &AttackIndex,
    st: &States,
    sc: &mut Scratch,
    source: Source,
    q: &Query,
    mode: Mode,
) -> Counts {
    sc.next_epoch();
    let epoch = sc.epoch;
    let start = match source {
        Source::Credential(c) => Some(c),
        Source::Account(_) => None,
    };
    if let Some(c) = start {
        sc.stamp[st.cred(c) as usize] = epoch;
    }
    let mut counts = Counts::default();
    let mut layer_sources = vec![source];
    let hops = if mode == Mode::Inject {
        q.hops.max(1)
    } else {
        1
    };
    for _ in 0..hops {
        if layer_sources.is_empty() {
            break;
        }
        let mut stolen: Vec<Source> = Vec::new();
        sc.queue.clear();
        for &src in &layer_sources {
            for (p, r) in seeds(g, src, q.at) {
                let ok = match mode {
                    Mode::Inject => r.publish,
                    Mode::Disrupt => r.yank,
                };
                let s = st.direct(p);
                if ok && sc.stamp[s as usize] != epoch {
                    sc.stamp[s as usize] = epoch;
                    sc.queue.push(s);
                }
            }
        }
        let mut head = 0;
        while head < sc.queue.len() {
            let s = sc.queue[head];
            head += 1;
            if let Some(NodeRef::Package(p)) = (s < 2 * st.p).then(|| st.node(s)).flatten() {
                if sc.pkg_stamp[p.index()] != epoch {
                    sc.pkg_stamp[p.index()] = epoch;
                    counts.packages += 1;
                }
            }
            let Scratch { stamp, queue, .. } = &mut *sc;
            for_each_step(g, idx, st, mode, start, s, |t, _, _, _| {
                if stamp[t as usize] != epoch {
                    stamp[t as usize] = epoch;
                    queue.push(t);
                    match st.node(t) {
                        Some(NodeRef::Lockfile(_)) => counts.lockfiles += 1,
                        Some(NodeRef::Environment(_)) => counts.environments += 1,
                        Some(NodeRef::Mirror(_)) => counts.mirrors += 1,
                        Some(NodeRef::Credential(c)) => {
                            counts.credentials += 1;
                            stolen.push(Source::Credential(c));
                        }
                        _ => {}
                    }
                }
            });
        }
        layer_sources = stolen;
    }
    counts
}

fn sources_of(graph: &Graph, subject: RankSubject) -> Vec<Source> {
    match subject {
        RankSubject::Credentials => graph.credentials().map(Source::Credential).collect(),
        RankSubject::Accounts => graph.accounts().map(Source::Account).collect(),
    }
}

fn entries(
    graph: &Graph,
    query: &Query,
    sources: &[Source],
    counts: Vec<(Counts, Counts)>,
) -> Vec<RankEntry> {
    let mut entries: Vec<RankEntry> = sources
        .iter()
        .zip(counts)
        .map(|(src, (inject, disrupt))| RankEntry {
            source: *src,
            id: graph.display(src.node()),
            score: inject.score(),
            inject,
            disrupt,
            publishable: seeds(graph, *src, query.at)
                .iter()
                .filter(|s| s.1.publish)
                .count(),
            risk_factors: risk_factors(graph, *src, query.at),
        })
        .collect();
    entries.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    entries
}

/// Ranks every credential (or account) by score, highest first, ties by id.
///
/// Counts come from the bit-parallel engine (`rank_bits`): 512 sources per pass over the
/// condensed dependency graph.
///
/// # Arguments
/// * `parallel` — spread blocks of sources over rayon's pool (the answer is the same either
///   way; the property tests check it).
///
/// # Complexity
/// O(⌈S / 512⌉ · (P + E) · 8 · hops) word operations for S sources, P packages and E
/// dependent edges; memory 2 · P · 64 bytes per thread.
pub fn rank(
    graph: &Graph,
    index: &AttackIndex,
    query: &Query,
    subject: RankSubject,
    parallel: bool,
) -> Vec<RankEntry> {
    let sources = sources_of(graph, subject);
    let counts = super::rank_bits::counts(graph, index, query, &sources, parallel);
    entries(graph, query, &sources, counts)
}

/// The same ranking by one traversal per source: the simple reference the bit-parallel
/// engine is checked against.
///
/// # Complexity
/// O(S · (N + E)) for S sources over the states and steps each reaches; memory O(N) per
/// thread.
pub fn rank_reference(
    graph: &Graph,
    index: &AttackIndex,
    query: &Query,
    subject: RankSubject,
) -> Vec<RankEntry> {
    let st = States::new(graph);
    let sources = sources_of(graph, subject);
    let counts: Vec<(Counts, Counts)> = sources
        .par_iter()
        .map_init(
            || Scratch::new(&st),
            |sc, src| {
                (
                    count(graph, index, &st, sc, *src, query, Mode::Inject),
                    count(graph, index, &st, sc, *src, query, Mode::Disrupt),
                )
            },
        )
        .collect();
    entries(graph, query, &sources, counts)
}

/// The reach counts of one credential, as `rank` computes them (for cross-checks).
pub fn counts_of(
    graph: &Graph,
    index: &AttackIndex,
    query: &Query,
    c: CredentialId,
) -> (Counts, Counts) {
    let st = States::new(graph);
    let mut sc = Scratch::new(&st);
    let src = Source::Credential(c);
    (
        count(graph, index, &st, &mut sc, src, query, Mode::Inject),
        count(graph, index, &st, &mut sc, src, query, Mode::Disrupt),
    )
}
