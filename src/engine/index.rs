//! The engine's view of the graph for one `--versions` mode: for each package, who depends on
//! it in a way that carries compromise, in compressed arrays. Built once per run in parallel;
//! every traversal (reach, rank, properties) reads it.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::VersionsMode;
use crate::graph::{Graph, PackageId, VersionId};
use crate::ingest::DepKind;

/// One dependent edge: package `to` is reached through version `via` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DependentEdge {
    /// The dependent package.
    pub to: PackageId,
    /// The dependent's version whose requirement carries the edge.
    pub via: VersionId,
    /// Whether that requirement is optional (marked in output).
    pub optional: bool,
}

/// Dependents of every package, split by the rule that applies.
#[derive(Debug)]
pub struct AttackIndex {
    /// `--versions` mode it was built for.
    pub mode: VersionsMode,
    /// First hop (rule 2): dependents whose propagating requirement has headroom.
    headroom: Vec<Vec<DependentEdge>>,
    /// Past the first hop (rule 3): dependents with any propagating requirement.
    propagate: Vec<Vec<DependentEdge>>,
}

impl AttackIndex {
    /// Builds the index.
    ///
    /// # Complexity
    /// O(D) over the considered versions' requirements D, plus one headroom check per distinct
    /// (requirement, package) pair, each O(versions of that package); parallel over both.
    pub fn new(graph: &Graph, mode: VersionsMode) -> Self {
        let considered = considered_versions(graph, mode);
        // (dependency package, req, dependent package, via version, optional)
        let mut edges: Vec<(PackageId, u32, PackageId, VersionId, bool)> = considered
            .par_iter()
            .flat_map_iter(|&v| {
                let from = graph.version(v).package;
                graph
                    .deps_of(v)
                    .filter(move |d| d.kind != DepKind::Dev && d.package != from)
                    .map(move |d| (d.package, d.req, from, v, d.optional))
            })
            .collect();
        edges.par_sort_unstable();

        let mut pairs: Vec<(PackageId, u32)> = edges.iter().map(|e| (e.0, e.1)).collect();
        pairs.dedup();
        let verdicts: Vec<bool> = pairs
            .par_iter()
            .map(|&(p, req)| match &graph.req(req).parsed {
                Some(parsed) => parsed.has_headroom(
                    graph
                        .versions_of(p)
                        .rev()
                        .filter_map(|v| graph.version(v).parsed.as_ref()),
                ),
                // An unparsable requirement is treated as open: over-reporting is safer than a
                // false "not reached".
                None => true,
            })
            .collect();
        let verdict: FxHashMap<(PackageId, u32), bool> = pairs.into_iter().zip(verdicts).collect();

        let n = graph.count(crate::graph::NodeKind::Package);
        let mut headroom: Vec<Vec<DependentEdge>> = vec![Vec::new(); n];
        let mut propagate: Vec<Vec<DependentEdge>> = vec![Vec::new(); n];
        for &(p, req, to, via, optional) in &edges {
            let e = DependentEdge { to, via, optional };
            propagate[p.index()].push(e);
            if verdict[&(p, req)] {
                headroom[p.index()].push(e);
            }
        }
        // One edge per (package, dependent): non-optional first (the stronger evidence), then
        // the dependent's highest version (the one a fresh resolution takes).
        let normalise = |list: &mut Vec<DependentEdge>| {
            list.sort_unstable_by_key(|e| (e.to, e.optional, std::cmp::Reverse(e.via)));
            list.dedup_by_key(|e| e.to);
        };
        headroom.par_iter_mut().for_each(normalise);
        propagate.par_iter_mut().for_each(normalise);
        AttackIndex {
            mode,
            headroom,
            propagate,
        }
    }

    /// First-hop dependents of a package whose publish right is stolen.
    pub fn headroom(&self, p: PackageId) -> &[DependentEdge] {
        &self.headroom[p.index()]
    }

    /// Dependents of a package reached transitively.
    pub fn propagate(&self, p: PackageId) -> &[DependentEdge] {
        &self.propagate[p.index()]
    }
}

/// SPEC §4 rule 4: `latest` — each package's highest non-yanked release (pre-releases only
/// when nothing else exists); `all` — every non-yanked version. Only versions with registry
/// metadata count: a version known only from a lockfile has no requirements on record.
pub fn considered_versions(graph: &Graph, mode: VersionsMode) -> Vec<VersionId> {
    let mut out = Vec::new();
    for p in graph.packages() {
        let live = graph.versions_of(p).filter(|&v| {
            let n = graph.version(v);
            n.has_metadata && !n.yanked
        });
        match mode {
            VersionsMode::All => out.extend(live),
            VersionsMode::Latest => {
                let release = live.clone().rev().find(|&v| {
                    graph
                        .version(v)
                        .parsed
                        .as_ref()
                        .is_some_and(|s| !s.is_prerelease())
                });
                if let Some(v) = release.or_else(|| live.clone().next_back()) {
                    out.push(v);
                }
            }
        }
    }
    out
}
