//! Bit-parallel exact rank: the reach counts of 512 sources at a time, one bit lane per
//! source, propagated once over the condensation of the dependency graph.
//!
//! Reach splits into a *direct* part (packages a source can publish or yank) and a
//! *transitive* part: the closure, under "normal or build dependents", of the first-hop
//! dependents of the direct part (headroom dependents for inject, all dependents for disrupt).
//! Closure is a monotone OR, so after condensing strongly connected components (iterative
//! Tarjan) one pass in topological order computes it for every lane at once. Lockfiles,
//! environments, mirrors and stolen credentials are ORs over those lanes; `--hops` re-seeds
//! from the stolen credentials and runs the pass again (bits only grow, so re-running is exact).
//! Counts are kept in vertical (bit-sliced) counters so no loop ever visits a single bit.
//!
//! # Complexity
//! Per block of 512 sources: O((P + E) · 8) word operations for P packages and E dependent
//! edges, per hop and per mode; memory 2 · P · 64 bytes per thread. The per-source traversal in
//! [`rank`](super::rank) is the reference; the property tests check they agree.

use rayon::prelude::*;

use super::index::AttackIndex;
use super::rank::Counts;
use super::rights::seeds;
use super::{Query, Source};
use crate::graph::{Graph, NodeKind};

/// Words per lane: 8 × 64 = 512 sources per block, one cache line per package.
pub(crate) const W: usize = 8;
pub(crate) type Lane = [u64; W];
const ZERO: Lane = [0; W];

fn is_zero(l: &Lane) -> bool {
    l.iter().all(|&w| w == 0)
}

fn or_into(dst: &mut Lane, src: &Lane) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d |= s;
    }
}

fn set_bit(l: &mut Lane, j: usize) {
    l[j / 64] |= 1 << (j % 64);
}

/// Compressed adjacency over `u32` ids.
struct Adj {
    off: Vec<u32>,
    to: Vec<u32>,
}

impl Adj {
    fn new(lists: impl Iterator<Item = Vec<u32>>) -> Self {
        let mut off = vec![0];
        let mut to = Vec::new();
        for l in lists {
            to.extend(l);
            off.push(to.len() as u32);
        }
        Adj { off, to }
    }
    fn get(&self, i: usize) -> &[u32] {
        &self.to[self.off[i] as usize..self.off[i + 1] as usize]
    }
    fn len(&self) -> usize {
        self.off.len() - 1
    }
}

/// Everything the blocks share: adjacency in flat arrays and the topological order of
/// components.
///
/// Packages are renumbered into *positions*: components in topological order, each one's
/// members next to each other. A pass then walks the lanes and the adjacency arrays forwards
/// through memory instead of jumping between package ids, and a component is a range.
/// Lanes, `touched` and every adjacency below are indexed by position.
pub(crate) struct Plan {
    headroom: Adj,
    propagate: Adj,
    /// Component `c` holds positions `comp_start[c]..comp_start[c + 1]`.
    comp_start: Vec<u32>,
    /// Each position's component: a pass can start at the first component a block seeded,
    /// since nothing earlier holds its bits.
    comp_of: Vec<u32>,
    /// Each package id's position.
    pos_of: Vec<u32>,
    /// The lockfiles each package counts for (the inverse of the per-lockfile lists built in `new`). Lockfile lanes are
    /// ORed from the packages a block touched, never from every pin.
    pkg_locks: Adj,
    env_locks: Adj,
    mirror_locks: Adj,
    cred_envs: Adj,
}

impl Plan {
    pub(crate) fn new(g: &Graph, idx: &AttackIndex) -> Self {
        let headroom = Adj::new(
            g.packages()
                .map(|p| idx.headroom(p).iter().map(|e| e.to.0).collect()),
        );
        let propagate = Adj::new(
            g.packages()
                .map(|p| idx.propagate(p).iter().map(|e| e.to.0).collect()),
        );
        let components = condense(&propagate);
        let mut comp_of = vec![0u32; propagate.len()];
        for c in 0..components.len() {
            for &m in components.get(c) {
                comp_of[m as usize] = c as u32;
            }
        }
        // A lockfile reaches a lane when any package it pins does. A pinned package q whose
        // first hop (in both modes) includes another pinned package p from a later component
        // never adds a bit: seeding q sets p's transitive bits, and closing carries q's on to
        // p. So only the undominated packages are ORed, a few hundred of a lockfile's
        // thousands. Later-component-only keeps the relation acyclic.
        let mut headroom_rev: Vec<Vec<u32>> = vec![Vec::new(); headroom.len()];
        for q in 0..headroom.len() {
            for &p in headroom.get(q) {
                headroom_rev[p as usize].push(q as u32);
            }
        }
        let mut pinned = vec![false; headroom.len()];
        let lock_pkgs = Adj::new(g.lockfiles().map(|l| {
            let mut v: Vec<u32> = g
                .lockfile(l)
                .entries
                .iter()
                .filter_map(|e| e.node)
                .map(|v| g.version(v).package.0)
                .collect();
            v.sort_unstable();
            v.dedup();
            for &p in &v {
                pinned[p as usize] = true;
            }
            let mut dominated = std::collections::HashSet::new();
            for &p in &v {
                for &q in &headroom_rev[p as usize] {
                    if pinned[q as usize] && comp_of[q as usize] < comp_of[p as usize] {
                        dominated.insert(q);
                    }
                }
            }
            for &p in &v {
                pinned[p as usize] = false;
            }
            v.retain(|p| !dominated.contains(p));
            v
        }));
        let n = headroom.len();
        let mut pos_of = vec![0u32; n];
        let mut pkg_at = Vec::with_capacity(n);
        let mut comp_start = Vec::with_capacity(components.len() + 1);
        for c in 0..components.len() {
            comp_start.push(pkg_at.len() as u32);
            for &m in components.get(c) {
                pos_of[m as usize] = pkg_at.len() as u32;
                pkg_at.push(m);
            }
        }
        comp_start.push(pkg_at.len() as u32);
        let by_pos = |adj: &Adj| {
            Adj::new(pkg_at.iter().map(|&p| {
                adj.get(p as usize)
                    .iter()
                    .map(|&t| pos_of[t as usize])
                    .collect()
            }))
        };
        let (headroom, propagate) = (by_pos(&headroom), by_pos(&propagate));
        let mut pkg_locks: Vec<Vec<u32>> = vec![Vec::new(); n];
        for l in 0..lock_pkgs.len() {
            for &p in lock_pkgs.get(l) {
                pkg_locks[pos_of[p as usize] as usize].push(l as u32);
            }
        }
        let comp_of: Vec<u32> = pkg_at.iter().map(|&p| comp_of[p as usize]).collect();
        // Only environments where dependency code runs can be reached.
        let env_locks = Adj::new(g.environments().map(|e| {
            if g.environment(e).executes.is_empty() {
                Vec::new()
            } else {
                g.lockfiles_of(e).iter().map(|l| l.0).collect()
            }
        }));
        let mirror_locks = Adj::new(
            g.mirrors()
                .map(|m| g.served_by(m).iter().map(|l| l.0).collect()),
        );
        let mut cred_envs: Vec<Vec<u32>> = vec![Vec::new(); g.count(NodeKind::Credential)];
        for e in g.environments() {
            for c in g.held_by(e) {
                cred_envs[c.index()].push(e.0);
            }
        }
        Plan {
            headroom,
            propagate,
            comp_start,
            comp_of,
            pos_of,
            pkg_locks: Adj::new(pkg_locks.into_iter()),
            env_locks,
            mirror_locks,
            cred_envs: Adj::new(cred_envs.into_iter()),
        }
    }
}

/// Strongly connected components of `adj` in topological order (an edge u → v never goes
/// from a later component to an earlier one). Iterative Tarjan: no recursion, so a long
/// dependency chain cannot overflow the stack.
fn condense(adj: &Adj) -> Adj {
    const UNSEEN: u32 = u32::MAX;
    let n = adj.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut emitted: Vec<Vec<u32>> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        index[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        calls.push((root, 0));
        while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
            let succ = adj.get(v as usize);
            if (*pos as usize) < succ.len() {
                let w = succ[*pos as usize];
                *pos += 1;
                if index[w as usize] == UNSEEN {
                    index[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    low[u as usize] = low[u as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("Tarjan stack holds v");
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    emitted.push(comp);
                }
            }
        }
    }
    // Tarjan emits a component after every component it reaches: reverse for topological.
    emitted.reverse();
    Adj::new(emitted.into_iter())
}

/// Per-thread buffers, reused across blocks.
pub(crate) struct Work {
    /// Packages each lane can publish (or yank).
    pub(crate) direct: Vec<Lane>,
    /// Packages each lane reaches through dependencies.
    pub(crate) trans: Vec<Lane>,
    lock: Vec<Lane>,
    env: Vec<Lane>,
    stolen: Vec<Lane>,
    /// The first component position seeded since the last pass (`u32::MAX`: none).
    start: u32,
    /// One bit per position whose `direct` or `trans` lane is not zero: counting, the
    /// lockfile lanes and clearing visit these, not all packages.
    touched: Vec<u64>,
    /// One bit per component position whose lanes changed since it was last propagated: the
    /// pass visits these in topological order, not every component after `start`.
    dirty: Vec<u64>,
}

impl Work {
    pub(crate) fn new(g: &Graph) -> Self {
        Work {
            direct: vec![ZERO; g.count(NodeKind::Package)],
            trans: vec![ZERO; g.count(NodeKind::Package)],
            lock: vec![ZERO; g.count(NodeKind::Lockfile)],
            env: vec![ZERO; g.count(NodeKind::Environment)],
            stolen: vec![ZERO; g.count(NodeKind::Credential)],
            start: u32::MAX,
            // Components never outnumber packages.
            touched: vec![0; g.count(NodeKind::Package).div_ceil(64)],
            dirty: vec![0; g.count(NodeKind::Package).div_ceil(64)],
        }
    }

    /// The packages with a non-zero `direct` or `trans` lane, in id order.
    pub(crate) fn touched(&self) -> impl Iterator<Item = usize> + '_ {
        bits(&self.touched)
    }

    /// Zeroes every lane and mark, visiting only what was touched.
    fn clear(&mut self) {
        for wi in 0..self.touched.len() {
            let mut w = std::mem::take(&mut self.touched[wi]);
            while w != 0 {
                let p = wi * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                self.direct[p] = ZERO;
                self.trans[p] = ZERO;
            }
        }
        self.dirty.fill(0);
        self.stolen.fill(ZERO);
        self.start = u32::MAX;
    }
}

/// The positions of the set bits of a bitset, in increasing order.
fn bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(wi, &w)| {
        let mut w = w;
        std::iter::from_fn(move || {
            (w != 0).then(|| {
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                wi * 64 + b
            })
        })
    })
}

fn mark(set: &mut [u64], i: usize) {
    set[i / 64] |= 1 << (i % 64);
}

/// Vertical counters: bit `b` of `planes[i][w]` is bit `i` of the count of lane `w·64 + b`.
struct VCount {
    planes: Vec<Lane>,
}

impl VCount {
    fn new() -> Self {
        VCount { planes: Vec::new() }
    }
    fn add(&mut self, x: &Lane) {
        for (w, &word) in x.iter().enumerate() {
            let mut carry = word;
            let mut i = 0;
            while carry != 0 {
                if i == self.planes.len() {
                    self.planes.push(ZERO);
                }
                let p = &mut self.planes[i][w];
                let c = *p & carry;
                *p ^= carry;
                carry = c;
                i += 1;
            }
        }
    }
    fn get(&self, j: usize) -> usize {
        self.planes
            .iter()
            .enumerate()
            .map(|(i, p)| (((p[j / 64] >> (j % 64)) & 1) as usize) << i)
            .sum()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Inject,
    Disrupt,
}

/// Seeds lanes `j` of the sources in `who` (bits in `lanes`): their direct packages and, one
/// step further, the first-hop dependents.
fn seed(plan: &Plan, work: &mut Work, p: u32, lanes: &Lane, mode: Mode) {
    let p = plan.pos_of[p as usize] as usize;
    or_into(&mut work.direct[p], lanes);
    mark(&mut work.touched, p);
    let first = match mode {
        Mode::Inject => plan.headroom.get(p),
        Mode::Disrupt => plan.propagate.get(p),
    };
    for &t in first {
        or_into(&mut work.trans[t as usize], lanes);
        mark(&mut work.touched, t as usize);
        let c = plan.comp_of[t as usize];
        mark(&mut work.dirty, c as usize);
        work.start = work.start.min(c);
    }
}

/// One topological pass: closes `trans` under the propagate edges. Only components whose
/// lanes changed since they were last propagated are visited (the `dirty` bits, scanned in
/// topological order from the first one), so a block that reaches little costs little:
/// every other component's lanes were already carried to its dependents by an earlier pass,
/// and bits only grow.
fn close(plan: &Plan, work: &mut Work) {
    let start = std::mem::replace(&mut work.start, u32::MAX);
    if start == u32::MAX {
        return;
    }
    let Work {
        trans,
        touched,
        dirty,
        ..
    } = work;
    for wi in (start as usize / 64)..dirty.len() {
        // Processing a component marks only later ones, possibly later in this word.
        while dirty[wi] != 0 {
            let b = dirty[wi].trailing_zeros() as usize;
            dirty[wi] &= !(1u64 << b);
            let c = wi * 64 + b;
            let members = plan.comp_start[c] as usize..plan.comp_start[c + 1] as usize;
            let acc = if members.len() == 1 {
                trans[members.start]
            } else {
                let mut acc = ZERO;
                for m in members.clone() {
                    or_into(&mut acc, &trans[m]);
                }
                if !is_zero(&acc) {
                    for m in members.clone() {
                        trans[m] = acc;
                        mark(touched, m);
                    }
                }
                acc
            };
            if is_zero(&acc) {
                continue;
            }
            for m in members {
                for &t in plan.propagate.get(m) {
                    let tc = plan.comp_of[t as usize] as usize;
                    if tc == c {
                        continue;
                    }
                    let lane = &mut trans[t as usize];
                    // Only a lane that gains a bit needs its component visited again.
                    if lane.iter().zip(&acc).any(|(l, a)| a & !l != 0) {
                        or_into(lane, &acc);
                        mark(touched, t as usize);
                        mark(dirty, tc);
                    }
                }
            }
        }
    }
}

/// The consumer layers from the package lanes: lockfiles, environments, stolen credentials
/// (never a source's own bit), and the counters.
fn consumers(g: &Graph, plan: &Plan, work: &mut Work, sources: &[Source], mode: Mode) {
    work.lock.fill(ZERO);
    for p in bits(&work.touched) {
        let locks = plan.pkg_locks.get(p);
        if locks.is_empty() {
            continue;
        }
        let mut x = work.direct[p];
        or_into(&mut x, &work.trans[p]);
        for &l in locks {
            or_into(&mut work.lock[l as usize], &x);
        }
    }
    for e in 0..plan.env_locks.len() {
        let mut acc = ZERO;
        for &l in plan.env_locks.get(e) {
            or_into(&mut acc, &work.lock[l as usize]);
        }
        work.env[e] = acc;
    }
    if mode == Mode::Inject {
        for c in 0..plan.cred_envs.len() {
            let mut acc = ZERO;
            for &e in plan.cred_envs.get(c) {
                or_into(&mut acc, &work.env[e as usize]);
            }
            work.stolen[c] = acc;
        }
        for (j, s) in sources.iter().enumerate() {
            if let Source::Credential(c) = s {
                work.stolen[c.index()][j / 64] &= !(1u64 << (j % 64));
            }
        }
    }
    let _ = g;
}

/// Reach of one mode for one block of sources (lane `j` = `sources[j]`), left in `work`:
/// `direct | trans` per package, `lock` and `env`, and for inject `stolen`, after every hop.
pub(crate) fn propagate(
    g: &Graph,
    plan: &Plan,
    work: &mut Work,
    sources: &[Source],
    q: &Query,
    mode: Mode,
) {
    work.clear();
    let wanted = |r: crate::graph::Rights| match mode {
        Mode::Inject => r.publish,
        Mode::Disrupt => r.yank,
    };
    for (j, s) in sources.iter().enumerate() {
        let mut lane = ZERO;
        set_bit(&mut lane, j);
        for (p, r) in seeds(g, *s, q.at) {
            if wanted(r) {
                seed(plan, work, p.0, &lane, mode);
            }
        }
    }
    close(plan, work);
    consumers(g, plan, work, sources, mode);
    let hops = if mode == Mode::Inject {
        q.hops.max(1)
    } else {
        1
    };
    for _ in 1..hops {
        // Credentials stolen so far publish for the lanes that stole them.
        let stolen: Vec<(usize, Lane)> = work
            .stolen
            .iter()
            .enumerate()
            .filter(|(_, l)| !is_zero(l))
            .map(|(c, l)| (c, *l))
            .collect();
        if stolen.is_empty() {
            break;
        }
        for (c, lanes) in stolen {
            let src = Source::Credential(crate::graph::CredentialId::from_index(c));
            for (p, r) in seeds(g, src, q.at) {
                if r.publish {
                    seed(plan, work, p.0, &lanes, mode);
                }
            }
        }
        close(plan, work);
        consumers(g, plan, work, sources, mode);
    }
}

/// Counts of one mode for one block.
fn block_counts(
    g: &Graph,
    plan: &Plan,
    work: &mut Work,
    sources: &[Source],
    q: &Query,
    mode: Mode,
) -> Vec<Counts> {
    propagate(g, plan, work, sources, q, mode);

    let (mut pk, mut lk, mut ev, mut mr, mut cr) = (
        VCount::new(),
        VCount::new(),
        VCount::new(),
        VCount::new(),
        VCount::new(),
    );
    for p in bits(&work.touched) {
        let mut x = work.direct[p];
        or_into(&mut x, &work.trans[p]);
        if !is_zero(&x) {
            pk.add(&x);
        }
    }
    for l in &work.lock {
        lk.add(l);
    }
    for e in &work.env {
        ev.add(e);
    }
    for m in 0..plan.mirror_locks.len() {
        let mut acc = ZERO;
        for &l in plan.mirror_locks.get(m) {
            or_into(&mut acc, &work.lock[l as usize]);
        }
        mr.add(&acc);
    }
    if mode == Mode::Inject {
        for c in &work.stolen {
            cr.add(c);
        }
    }
    (0..sources.len())
        .map(|j| Counts {
            packages: pk.get(j),
            lockfiles: lk.get(j),
            environments: ev.get(j),
            mirrors: mr.get(j),
            credentials: cr.get(j),
        })
        .collect()
}

/// Inject and disrupt counts of every source, in the order given.
///
/// Sources are grouped into blocks by the first component their first hop reaches, so a
/// block's pass starts late in the topological order, and sources whose packages have no
/// dependents at all share blocks that need no pass. Buffers are pooled: one per thread.
pub(crate) fn counts(
    g: &Graph,
    idx: &AttackIndex,
    q: &Query,
    sources: &[Source],
    parallel: bool,
) -> Vec<(Counts, Counts)> {
    let plan = Plan::new(g, idx);
    let block_size = W * 64;
    let first_component = |s: &Source| -> u32 {
        seeds(g, *s, q.at)
            .into_iter()
            .flat_map(|(p, _)| {
                let p = plan.pos_of[p.0 as usize] as usize;
                plan.headroom
                    .get(p)
                    .iter()
                    .chain(plan.propagate.get(p))
                    .map(|&t| plan.comp_of[t as usize])
            })
            .min()
            .unwrap_or(u32::MAX)
    };
    let keys: Vec<u32> = if parallel {
        sources.par_iter().map(first_component).collect()
    } else {
        sources.iter().map(first_component).collect()
    };
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let sorted: Vec<Source> = order.iter().map(|&i| sources[i]).collect();

    let run = |work: &mut Work, block: &[Source]| -> Vec<(Counts, Counts)> {
        let inject = block_counts(g, &plan, work, block, q, Mode::Inject);
        let disrupt = block_counts(g, &plan, work, block, q, Mode::Disrupt);
        crate::tally::TALLY.tick();
        inject.into_iter().zip(disrupt).collect()
    };
    let blocks: Vec<&[Source]> = sorted.chunks(block_size).collect();
    crate::tally::TALLY.expect(blocks.len() as u64);
    let per_block: Vec<Vec<(Counts, Counts)>> = if parallel {
        // rayon calls a `map_init` initialiser once per split, not per thread: pool instead,
        // so the buffers (two lanes per package) are allocated once per thread.
        let pool = std::sync::Mutex::new(Vec::<Work>::new());
        blocks
            .par_iter()
            .map(|b| {
                let taken = pool.lock().map(|mut p| p.pop()).unwrap_or(None);
                let mut w = taken.unwrap_or_else(|| Work::new(g));
                let out = run(&mut w, b);
                if let Ok(mut p) = pool.lock() {
                    p.push(w);
                }
                out
            })
            .collect()
    } else {
        let mut w = Work::new(g);
        blocks.iter().map(|b| run(&mut w, b)).collect()
    };
    let mut out = vec![(Counts::default(), Counts::default()); sources.len()];
    for (&i, c) in order.iter().zip(per_block.into_iter().flatten()) {
        out[i] = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condensation_is_topological_and_groups_cycles() {
        // 0 → 1 → 2 → 1, 2 → 3, 4 alone.
        let adj = Adj::new(vec![vec![1], vec![2], vec![1, 3], vec![], vec![]].into_iter());
        let comps = condense(&adj);
        let pos = |v: u32| {
            (0..comps.len())
                .find(|&c| comps.get(c).contains(&v))
                .unwrap()
        };
        assert_eq!(pos(1), pos(2));
        assert!(pos(0) < pos(1) && pos(2) < pos(3));
        assert_eq!(comps.len(), 4);
    }

    #[test]
    fn vertical_counter_counts_each_lane() {
        let mut c = VCount::new();
        let mut a = ZERO;
        set_bit(&mut a, 0);
        set_bit(&mut a, 511);
        let mut b = ZERO;
        set_bit(&mut b, 0);
        for _ in 0..5 {
            c.add(&a);
        }
        c.add(&b);
        assert_eq!((c.get(0), c.get(511), c.get(7)), (6, 5, 0));
    }

    #[test]
    fn deep_chain_does_not_overflow() {
        let n = 200_000u32;
        let adj = Adj::new((0..n).map(|i| if i + 1 < n { vec![i + 1] } else { vec![] }));
        assert_eq!(condense(&adj).len(), n as usize);
    }
}
