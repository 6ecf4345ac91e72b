//! Incident mode (SPEC §4 rule 8): bad versions B were live upstream during [T0, T1). Which
//! lockfiles pin them, which builds pulled them, which mirrors cached them and still serve them.
//!
//! Decisions where the contract is silent (README, "Incident"): a `locked` build that started
//! before T0 is not affected even if its lockfile pins a bad version now (the version did not
//! exist yet, so the lockfile it used could not have pinned it). After T1 a locked crates.io
//! build still installs what its lockfile pins (yanked versions stay downloadable); a locked npm
//! or PyPI build gets it only from a mirror that still serves it (the registries delete
//! malicious versions), reported with reason `mirror`. A `fresh` build needs the manifest beside its lockfile; its
//! absence is an error, never a silent "not affected".

use rayon::prelude::*;

use super::resolve::{resolve, BadSet, Choice, Resolution};
use crate::error::{Error, Result};
use crate::graph::{BuildId, CredentialId, Graph, LockfileId, MirrorId, PackageId, VersionId};
use crate::ingest::advisory::BadSpec;
use crate::ingest::Ecosystem;

/// The incident window [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// T0, inclusive.
    pub from: jiff::Timestamp,
    /// T1, exclusive.
    pub to: jiff::Timestamp,
}

impl Window {
    /// Whether `t` lies in [from, to).
    pub fn contains(&self, t: jiff::Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

/// One bad version: its package and version, and its node when the inputs know it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bad {
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The package node, when the inputs know the package.
    pub package: Option<PackageId>,
    /// The version node, when the inputs know the version.
    pub node: Option<VersionId>,
}

impl Bad {
    /// `crates.io:name@version`.
    pub fn id(&self) -> String {
        format!("{}:{}@{}", self.ecosystem, self.name, self.version)
    }
}

/// Why a build is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Its lockfile pins a bad version.
    Locked,
    /// A resolution at its start time, inside the window, selected a bad version.
    Fresh,
    /// After the window, its mirror still served a bad version and the resolution took it.
    Mirror,
}

impl Reason {
    /// `locked`, `fresh` or `mirror`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Locked => "locked",
            Reason::Fresh => "fresh",
            Reason::Mirror => "mirror",
        }
    }
}

/// A lockfile that pins bad versions.
#[derive(Debug, Clone)]
pub struct LockfileHit {
    /// The lockfile.
    pub lockfile: LockfileId,
    /// Indices into [`Incident::bad`].
    pub versions: Vec<usize>,
    /// Entry indices from a root (workspace member) to the first bad pin.
    pub path: Vec<u32>,
}

/// An affected build.
#[derive(Debug, Clone)]
pub struct BuildHit {
    /// The build.
    pub build: BuildId,
    /// Why.
    pub reason: Reason,
    /// Index into [`Incident::bad`] of the version it pulled.
    pub version: usize,
    /// Evidence: the lockfile path to the pin (locked) or the resolved chain (fresh, mirror),
    /// as output ids.
    pub chain: Vec<String>,
    /// The chain crosses an optional requirement.
    pub optional: bool,
}

/// What a mirror did during the window.
#[derive(Debug, Clone)]
pub struct MirrorState {
    /// The mirror.
    pub mirror: MirrorId,
    /// It synced inside the window (log entry or interval no longer than the window).
    pub cached: bool,
    /// It cached the bad versions and does not honour yanks.
    pub still_serving: bool,
    /// Its sync-log entries inside the window.
    pub synced: Vec<jiff::Timestamp>,
}

/// The answer to `incident`.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The bad versions, sorted by id.
    pub bad: Vec<Bad>,
    /// The window.
    pub window: Window,
    /// Lockfiles pinning bad versions.
    pub lockfiles: Vec<LockfileHit>,
    /// Affected builds.
    pub builds: Vec<BuildHit>,
    /// Every build checked.
    pub builds_checked: usize,
    /// Every mirror of an ecosystem with bad versions.
    pub mirrors: Vec<MirrorState>,
}

/// Turns the responder's list into bad versions, inferring each ecosystem from the inputs
/// when it is not written.
pub fn bad_versions(g: &Graph, specs: &[BadSpec]) -> Result<Vec<Bad>> {
    let mut out: Vec<Bad> = Vec::new();
    for s in specs {
        let ecosystem = match s.ecosystem {
            Some(e) => e,
            None => {
                let found: Vec<Ecosystem> = [Ecosystem::CratesIo, Ecosystem::Npm, Ecosystem::Pypi]
                    .into_iter()
                    .filter(|&e| g.package_by_name(e, &e.normalise(&s.name)).is_some())
                    .collect();
                match found.as_slice() {
                    [e] => *e,
                    [] => Ecosystem::CratesIo,
                    _ => {
                        return Err(Error::Unknown(format!(
                            "{}@{} names a package in several ecosystems; write ECOSYSTEM:NAME@VERSION (e.g. npm:{}@{})",
                            s.name, s.version, s.name, s.version
                        )))
                    }
                }
            }
        };
        let name = ecosystem.normalise(&s.name);
        let package = g.package_by_name(ecosystem, &name);
        let node = package.and_then(|p| {
            g.versions_of(p)
                .find(|&v| g.version(v).version == s.version)
        });
        out.push(Bad {
            ecosystem,
            name,
            version: s.version.clone(),
            package,
            node,
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `--credential C --window`: the versions of packages C could publish during the window whose
/// publication time lies in it (and, where the metadata names the publisher, that C's account
/// published).
pub fn bad_versions_of_credential(g: &Graph, c: CredentialId, window: &Window) -> Vec<Bad> {
    let cred = g.credential(c);
    if cred.expires.is_some_and(|e| e <= window.from) {
        return Vec::new();
    }
    let account = &g.account(cred.account).id;
    let mut out = Vec::new();
    for &(p, rights) in g.may_publish(c) {
        if !rights.publish {
            continue;
        }
        for v in g.versions_of(p) {
            let n = g.version(v);
            let in_window = n.published.is_some_and(|t| window.contains(t));
            let by_account = n.publisher.as_ref().is_none_or(|who| who == account);
            if in_window && by_account {
                let pkg = g.package(p);
                out.push(Bad {
                    ecosystem: pkg.ecosystem,
                    name: pkg.name.clone(),
                    version: n.version.clone(),
                    package: Some(p),
                    node: Some(v),
                });
            }
        }
    }
    out.sort();
    out
}

/// Output id of a lockfile entry: `crates.io:name@version` for registry pins, `name@version`
/// for the project's own packages.
pub fn entry_id(g: &Graph, l: LockfileId, e: u32) -> String {
    let lf = g.lockfile(l);
    let entry = &lf.entries[e as usize];
    match entry.node {
        Some(v) => g.display(crate::graph::NodeRef::Version(v)),
        None => format!("{}@{}", entry.name, entry.version),
    }
}

/// Shortest chain of entries from a root to any entry satisfying `target` (breadth-first over
/// the lockfile's own dependency edges).
fn lockfile_path(g: &Graph, l: LockfileId, target: impl Fn(u32) -> bool) -> Vec<u32> {
    let lf = g.lockfile(l);
    let n = lf.entries.len();
    let mut parent = vec![u32::MAX; n];
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    for &r in &lf.roots {
        seen[r as usize] = true;
        queue.push_back(r);
    }
    while let Some(e) = queue.pop_front() {
        if target(e) {
            let mut path = vec![e];
            let mut cur = e;
            while parent[cur as usize] != u32::MAX {
                cur = parent[cur as usize];
                path.push(cur);
            }
            path.reverse();
            return path;
        }
        for &d in &lf.entries[e as usize].deps {
            if !seen[d as usize] {
                seen[d as usize] = true;
                parent[d as usize] = e;
                queue.push_back(d);
            }
        }
    }
    // Not reachable from a root (a stray entry): the pin alone is the evidence.
    (0..n as u32).find(|&e| target(e)).into_iter().collect()
}

fn choice_id(g: &Graph, c: &Choice) -> String {
    match c {
        Choice::Known(v) => g.display(crate::graph::NodeRef::Version(*v)),
        Choice::Unlisted(p, v) => format!("{}@{v}", g.display(crate::graph::NodeRef::Package(*p))),
    }
}

/// Answers `incident`.
///
/// # Complexity
/// O(Σ lockfile entries) for the lockfile scan (parallel over lockfiles), plus one resolution
/// per fresh build (parallel over builds).
pub fn incident(g: &Graph, bad: Vec<Bad>, window: Window) -> Result<Incident> {
    let mut set = BadSet::default();
    for b in &bad {
        match (b.node, b.package) {
            (Some(v), _) => set.add_known(v),
            (None, Some(p)) => {
                if let Some(v) = crate::versioning::Version::parse(b.ecosystem, &b.version) {
                    set.add_unlisted(p, v);
                }
            }
            (None, None) => {}
        }
    }
    let bad_index = |v: VersionId| bad.iter().position(|b| b.node == Some(v));
    let ecosystems: Vec<Ecosystem> = bad.iter().map(|b| b.ecosystem).collect();

    let lockfiles: Vec<LockfileHit> = g
        .lockfiles()
        .collect::<Vec<_>>()
        .par_iter()
        .filter_map(|&l| {
            let lf = g.lockfile(l);
            let mut versions: Vec<usize> = lf
                .entries
                .iter()
                .filter_map(|e| e.node)
                .filter(|v| set.contains_node(*v))
                .filter_map(bad_index)
                .collect();
            if versions.is_empty() {
                return None;
            }
            versions.sort_unstable();
            versions.dedup();
            let first = bad[versions[0]].node;
            let path = lockfile_path(g, l, |e| lf.entries[e as usize].node == first);
            Some(LockfileHit {
                lockfile: l,
                versions,
                path,
            })
        })
        .collect();

    let mirrors: Vec<MirrorState> = g
        .mirrors()
        .filter(|&m| ecosystems.contains(&g.mirror(m).ecosystem))
        .map(|m| {
            let node = g.mirror(m);
            let synced: Vec<jiff::Timestamp> = node
                .syncs
                .iter()
                .copied()
                .filter(|t| window.contains(*t))
                .collect();
            let span = window.to.duration_since(window.from);
            let cached = !synced.is_empty() || node.interval.is_some_and(|i| i <= span);
            MirrorState {
                mirror: m,
                cached,
                still_serving: cached && !node.honors_yank,
                synced,
            }
        })
        .collect();
    let serving = |m: Option<MirrorId>| {
        m.is_some_and(|m| mirrors.iter().any(|s| s.mirror == m && s.still_serving))
    };
    let hit_of: rustc_hash::FxHashMap<LockfileId, &LockfileHit> =
        lockfiles.iter().map(|h| (h.lockfile, h)).collect();

    let builds: Vec<Result<Option<BuildHit>>> = g
        .builds()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|&b| {
            let node = g.build_node(b);
            let t = node.started_at;
            if !node.fresh {
                let Some(hit) = hit_of.get(&node.lockfile) else {
                    return Ok(None);
                };
                if t < window.from {
                    return Ok(None);
                }
                // After the window crates.io still serves a yanked version to a lockfile that
                // pins it; npm and PyPI delete malicious versions, so only a mirror that kept a
                // copy can still hand it out.
                let reason = if t < window.to || g.lockfile(node.lockfile).ecosystem == Ecosystem::CratesIo {
                    Reason::Locked
                } else if serving(node.mirror) {
                    Reason::Mirror
                } else {
                    return Ok(None);
                };
                let chain = hit.path.iter().map(|&e| entry_id(g, node.lockfile, e)).collect();
                return Ok(Some(BuildHit {
                    build: b,
                    reason,
                    version: hit.versions[0],
                    chain,
                    optional: false,
                }));
            }
            let lf = g.lockfile(node.lockfile);
            let Some(mi) = lf.manifest else {
                let manifest = match lf.ecosystem {
                    Ecosystem::CratesIo => "Cargo.toml",
                    Ecosystem::Npm => "package.json",
                    Ecosystem::Pypi => "pyproject.toml",
                };
                return Err(Error::Unknown(format!(
                    "build {:?} is fresh but there is no {manifest} beside its lockfile {}: cannot tell what it resolved",
                    node.id, lf.id
                )));
            };
            let (available, reason) = if window.contains(t) {
                (true, Reason::Fresh)
            } else if t >= window.to && serving(node.mirror) {
                (true, Reason::Mirror)
            } else {
                (false, Reason::Fresh)
            };
            if !available {
                return Ok(None);
            }
            let manifest = g.manifest(mi);
            let res: Resolution = resolve(g, manifest, t, &set, true);
            let Some(i) = res.chosen.iter().position(|r| set.contains(&r.choice)) else {
                return Ok(None);
            };
            let version = match &res.chosen[i].choice {
                Choice::Known(v) => bad_index(*v),
                Choice::Unlisted(p, v) => bad
                    .iter()
                    .position(|b| b.package == Some(*p) && b.version == v.to_string()),
            }
            .unwrap_or(0);
            let mut chain: Vec<String> = vec![manifest.name.clone().map_or_else(|| manifest.id.clone(), |n| format!("{n} (manifest)"))];
            let links = res.chain(i);
            let mut optional = false;
            let mut cur = Some(i);
            while let Some(k) = cur {
                optional |= res.chosen[k].optional;
                cur = res.chosen[k].parent;
            }
            chain.extend(links.into_iter().map(|c| choice_id(g, c)));
            Ok(Some(BuildHit {
                build: b,
                reason,
                version,
                chain,
                optional,
            }))
        })
        .collect();
    let mut hits = Vec::new();
    for b in builds {
        if let Some(h) = b? {
            hits.push(h);
        }
    }
    Ok(Incident {
        bad,
        window,
        lockfiles,
        builds: hits,
        builds_checked: g.builds().len(),
        mirrors,
    })
}
