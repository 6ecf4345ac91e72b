//! Reach with witness paths: the answer to "if this credential is stolen, what can the thief
//! reach, and by which paths?".
//!
//! Each hop layer is a shortest-path search (edge weights = ids the edge adds to a path, so a
//! dependency step `P → D@v → D` weighs 2), started from the credentials stolen in the layer
//! before at their distances there. Taking, for every node, the best over the layers gives a
//! shortest path among all paths that steal at most `hops - 1` credentials on the way.
//! Among equal-length paths the first one discovered wins; neighbours are visited in id order,
//! so the choice is deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::index::AttackIndex;
use super::rights::seeds;
use super::{Query, Source};
use crate::graph::{
    CredentialId, EnvironmentId, Graph, LockfileId, MirrorId, NodeRef, PackageId, VersionId,
};

/// One reached node with its witness path (from the source to the node, both included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    /// The node.
    pub node: NodeRef,
    /// Ids from the source to the node.
    pub path: Vec<NodeRef>,
    /// For lockfiles: the versions of reached packages it pins.
    pub pins: Vec<VersionId>,
    /// Whether the path crosses an optional dependency.
    pub optional: bool,
}

/// Everything reached in one mode (inject or disrupt).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Packages (publishable ones included).
    pub packages: Vec<Reached>,
    /// Exposed lockfiles.
    pub lockfiles: Vec<Reached>,
    /// Reached environments.
    pub environments: Vec<Reached>,
    /// Reached mirrors.
    pub mirrors: Vec<Reached>,
    /// Credentials stolen on the way (never the source).
    pub credentials: Vec<Reached>,
}

impl Found {
    /// Every reached node: packages, lockfiles, environments, mirrors, then credentials.
    pub fn iter(&self) -> impl Iterator<Item = &Reached> + '_ {
        self.packages
            .iter()
            .chain(&self.lockfiles)
            .chain(&self.environments)
            .chain(&self.mirrors)
            .chain(&self.credentials)
    }

    /// SPEC §4 rule 7: packages + lockfiles + environments + mirrors.
    pub fn score(&self) -> usize {
        self.packages.len() + self.lockfiles.len() + self.environments.len() + self.mirrors.len()
    }
}

/// The answer to `reach`.
#[derive(Debug, Clone)]
pub struct Reach {
    /// Who the thief is.
    pub source: Source,
    /// Packages the source can publish now.
    pub publishable: Vec<PackageId>,
    /// What injecting a version reaches.
    pub inject: Found,
    /// What yanking reaches.
    pub disrupt: Found,
}

impl Reach {
    /// SPEC §4 rule 7 (inject reach).
    pub fn score(&self) -> usize {
        self.inject.score()
    }
}

/// Inject (publish a version) or disrupt (yank versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Inject,
    Disrupt,
}

/// The flat state space of a traversal: packages reached directly and transitively, then
/// lockfiles, environments, mirrors and credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) struct States {
    pub p: u32,
    pub l: u32,
    pub e: u32,
    pub m: u32,
    pub c: u32,
}

impl States {
    pub fn new(g: &Graph) -> Self {
        use crate::graph::NodeKind as K;
        let n = |k| u32::try_from(g.count(k)).expect("graph too large");
        States {
            p: n(K::Package),
            l: n(K::Lockfile),
            e: n(K::Environment),
            m: n(K::Mirror),
            c: n(K::Credential),
        }
    }
    pub fn direct(&self, p: PackageId) -> u32 {
        p.0
    }
    pub fn trans(&self, p: PackageId) -> u32 {
        self.p + p.0
    }
    pub fn lock(&self, l: LockfileId) -> u32 {
        2 * self.p + l.0
    }
    pub fn env(&self, e: EnvironmentId) -> u32 {
        2 * self.p + self.l + e.0
    }
    pub fn mirror(&self, m: MirrorId) -> u32 {
        2 * self.p + self.l + self.e + m.0
    }
    pub fn cred(&self, c: CredentialId) -> u32 {
        2 * self.p + self.l + self.e + self.m + c.0
    }
    /// The virtual start of an account source.
    pub fn root(&self) -> u32 {
        2 * self.p + self.l + self.e + self.m + self.c
    }
    pub fn len(&self) -> usize {
        self.root() as usize + 1
    }
    pub fn node(&self, s: u32) -> Option<NodeRef> {
        let mut s = s;
        if s < self.p {
            return Some(NodeRef::Package(PackageId(s)));
        }
        s -= self.p;
        if s < self.p {
            return Some(NodeRef::Package(PackageId(s)));
        }
        s -= self.p;
        if s < self.l {
            return Some(NodeRef::Lockfile(LockfileId(s)));
        }
        s -= self.l;
        if s < self.e {
            return Some(NodeRef::Environment(EnvironmentId(s)));
        }
        s -= self.e;
        if s < self.m {
            return Some(NodeRef::Mirror(MirrorId(s)));
        }
        s -= self.m;
        if s < self.c {
            return Some(NodeRef::Credential(CredentialId(s)));
        }
        None
    }
}

/// Calls `f(next_state, weight, via_version, optional)` for every step out of `s`. Shared by
/// the path search here and the counting traversal of `rank`, so both follow the same rules.
#[inline]
pub(crate) fn for_each_step(
    g: &Graph,
    idx: &AttackIndex,
    st: &States,
    mode: Mode,
    start: Option<CredentialId>,
    s: u32,
    mut f: impl FnMut(u32, u32, Option<VersionId>, bool),
) {
    let two_p = 2 * st.p;
    if s < two_p {
        let direct = s < st.p;
        let p = PackageId(if direct { s } else { s - st.p });
        let deps = if direct && mode == Mode::Inject {
            idx.headroom(p)
        } else {
            idx.propagate(p)
        };
        for e in deps {
            f(st.trans(e.to), 2, Some(e.via), e.optional);
        }
        for &(l, v, _) in g.pins_of(p) {
            f(st.lock(l), 2, Some(v), false);
        }
    } else if s < two_p + st.l {
        let l = LockfileId(s - two_p);
        for &e in g.environments_of(l) {
            if !g.environment(e).executes.is_empty() {
                f(st.env(e), 1, None, false);
            }
        }
        for &m in g.mirrors_of(l) {
            f(st.mirror(m), 1, None, false);
        }
    } else if s < two_p + st.l + st.e && mode == Mode::Inject {
        let e = EnvironmentId(s - two_p - st.l);
        for &c in g.held_by(e) {
            if Some(c) != start {
                f(st.cred(c), 1, None, false);
            }
        }
    }
}

const NONE: u32 = u32::MAX;

/// `… → X@v → X → X@v → lockfile` says the same thing as `… → X@v → lockfile` (the pinned
/// version is the one whose requirement carries the compromise), and a path that visits a
/// node twice is not a path: keep the short form.
fn collapse_repeated_version(path: Vec<NodeRef>) -> Vec<NodeRef> {
    let mut out: Vec<NodeRef> = Vec::with_capacity(path.len());
    for n in path {
        if let (NodeRef::Version(_), Some(&[a @ NodeRef::Version(_), NodeRef::Package(_)])) =
            (n, out.len().checked_sub(2).map(|i| &out[i..]))
        {
            if a == n {
                out.pop();
                continue;
            }
        }
        out.push(n);
    }
    out
}

/// One layer's shortest-path tree.
struct Layer {
    dist: Vec<u32>,
    parent: Vec<(u32, u32, bool)>, // (parent state, via version or NONE, optional edge)
    is_source: Vec<bool>,
}

/// Answers `reach` for one source.
///
/// # Arguments
/// * `graph`, `index` — the graph and its attack index for `query.versions`.
/// * `source` — the stolen credential or account.
/// * `query` — analysis time, versions mode, hops.
///
/// # Returns
/// Inject and disrupt reach with a shortest witness path per node, lists in state order (the
/// report sorts them by id).
///
/// # Complexity
/// O(hops · (N + E) log N) over the states and steps reached.
pub fn reach(graph: &Graph, index: &AttackIndex, source: Source, query: &Query) -> Reach {
    let seeds = seeds(graph, source, query.at);
    let publishable: Vec<PackageId> = seeds.iter().filter(|s| s.1.publish).map(|s| s.0).collect();
    let inject = search(graph, index, source, query, Mode::Inject);
    let disrupt = search(
        graph,
        index,
        source,
        &Query { hops: 1, ..*query },
        Mode::Disrupt,
    );
    Reach {
        source,
        publishable,
        inject,
        disrupt,
    }
}

fn search(graph: &Graph, index: &AttackIndex, source: Source, query: &Query, mode: Mode) -> Found {
    let st = States::new(graph);
    let start_cred = match source {
        Source::Credential(c) => Some(c),
        Source::Account(_) => None,
    };
    let start_state = match source {
        Source::Credential(c) => st.cred(c),
        Source::Account(_) => st.root(),
    };
    let wanted = |r: crate::graph::Rights| match mode {
        Mode::Inject => r.publish,
        Mode::Disrupt => r.yank,
    };
    let mut layers: Vec<Layer> = Vec::new();
    // (state, distance) of this layer's sources.
    let mut sources: Vec<(u32, u32, Source)> = vec![(start_state, 0, source)];
    for _ in 0..query.hops.max(1) {
        if sources.is_empty() {
            break;
        }
        let mut layer = Layer {
            dist: vec![NONE; st.len()],
            parent: vec![(NONE, NONE, false); st.len()],
            is_source: vec![false; st.len()],
        };
        let mut heap: BinaryHeap<Reverse<(u32, u64, u32)>> = BinaryHeap::new();
        let mut seq = 0u64;
        for &(s, d, _) in &sources {
            layer.dist[s as usize] = d;
            layer.is_source[s as usize] = true;
        }
        // Seeds: source → packages it can publish (or yank), weight 1.
        for &(s, d, src) in &sources {
            for (p, r) in seeds(graph, src, query.at) {
                if !wanted(r) {
                    continue;
                }
                let t = st.direct(p);
                if d + 1 < layer.dist[t as usize] {
                    layer.dist[t as usize] = d + 1;
                    layer.parent[t as usize] = (s, NONE, false);
                    heap.push(Reverse((d + 1, seq, t)));
                    seq += 1;
                }
            }
        }
        while let Some(Reverse((d, _, s))) = heap.pop() {
            if d > layer.dist[s as usize] {
                continue;
            }
            for_each_step(
                graph,
                index,
                &st,
                mode,
                start_cred,
                s,
                |t, w, via, optional| {
                    let nd = d + w;
                    if nd < layer.dist[t as usize] && !layer.is_source[t as usize] {
                        layer.dist[t as usize] = nd;
                        layer.parent[t as usize] = (s, via.map_or(NONE, |v| v.0), optional);
                        heap.push(Reverse((nd, seq, t)));
                        seq += 1;
                    }
                },
            );
        }
        // Credentials stolen in this layer start the next one.
        let cred_base = st.cred(CredentialId(0));
        sources = (0..st.c)
            .map(|i| cred_base + i)
            .filter(|&s| layer.dist[s as usize] != NONE && !layer.is_source[s as usize])
            .map(|s| {
                let c = CredentialId(s - cred_base);
                (s, layer.dist[s as usize], Source::Credential(c))
            })
            .collect();
        layers.push(layer);
    }

    // Best over layers (earlier layer on ties), then paths.
    let best = |s: u32| -> Option<usize> {
        if s == start_state {
            return None;
        }
        let mut out: Option<(u32, usize)> = None;
        for (i, l) in layers.iter().enumerate() {
            let d = l.dist[s as usize];
            // A source of layer i is a credential stolen in layer i - 1: counted there.
            if d == NONE || l.is_source[s as usize] {
                continue;
            }
            if out.is_none_or(|(bd, _)| d < bd) {
                out = Some((d, i));
            }
        }
        out.map(|(_, i)| i)
    };
    let path_of = |s: u32, layer: usize| -> (Vec<NodeRef>, bool) {
        let mut rev = Vec::new();
        let mut optional = false;
        let (mut s, mut li) = (s, layer);
        loop {
            let l = &layers[li];
            if l.is_source[s as usize] {
                if li == 0 {
                    rev.push(source.node());
                    break;
                }
                // A stolen credential: continue in the layer that stole it.
                li -= 1;
                continue;
            }
            rev.push(st.node(s).expect("state of a real node"));
            let (p, via, opt) = l.parent[s as usize];
            optional |= opt;
            if via != NONE {
                rev.push(NodeRef::Version(VersionId(via)));
            }
            s = p;
        }
        rev.reverse();
        (collapse_repeated_version(rev), optional)
    };

    let mut found = Found::default();
    for p in 0..st.p {
        let pid = PackageId(p);
        let cands = [st.direct(pid), st.trans(pid)];
        let mut pick: Option<(u32, usize, u32)> = None;
        for s in cands {
            if let Some(li) = best(s) {
                let d = layers[li].dist[s as usize];
                if pick.is_none_or(|(bd, _, _)| d < bd) {
                    pick = Some((d, li, s));
                }
            }
        }
        if let Some((_, li, s)) = pick {
            let (path, optional) = path_of(s, li);
            found.packages.push(Reached {
                node: NodeRef::Package(pid),
                path,
                pins: Vec::new(),
                optional,
            });
        }
    }
    let reached_pkg: Vec<bool> = {
        let mut v = vec![false; st.p as usize];
        for r in &found.packages {
            if let NodeRef::Package(p) = r.node {
                v[p.index()] = true;
            }
        }
        v
    };
    let push = |s: u32, list: &mut Vec<Reached>| {
        if let Some(li) = best(s) {
            let (path, optional) = path_of(s, li);
            list.push(Reached {
                node: st.node(s).expect("real node"),
                path,
                pins: Vec::new(),
                optional,
            });
        }
    };
    for l in graph.lockfiles() {
        push(st.lock(l), &mut found.lockfiles);
    }
    for r in &mut found.lockfiles {
        if let NodeRef::Lockfile(l) = r.node {
            let mut pins: Vec<VersionId> = graph
                .lockfile(l)
                .entries
                .iter()
                .filter_map(|e| e.node)
                .filter(|v| reached_pkg[graph.version(*v).package.index()])
                .collect();
            pins.sort_unstable();
            pins.dedup();
            r.pins = pins;
        }
    }
    for e in graph.environments() {
        push(st.env(e), &mut found.environments);
    }
    for m in graph.mirrors() {
        push(st.mirror(m), &mut found.mirrors);
    }
    for c in graph.credentials() {
        if Some(c) != start_cred {
            push(st.cred(c), &mut found.credentials);
        }
    }
    found
}
