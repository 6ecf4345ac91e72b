//! The time-travel resolver: what a fresh build of a manifest would have resolved at a given
//! moment (SPEC §4 rule 8). Each requirement takes the highest version published by then
//! (`pubtime`), yanked versions skipped; the incident's bad versions are available only when
//! the caller says so (inside the window, or through a mirror that kept serving them).
//! Transitive requirements follow the chosen versions' normal and build dependencies.
//!
//! Like a first approximation of Cargo's resolver it picks greedily, requirement by
//! requirement, without backtracking or feature resolution: optional dependencies are followed
//! (an incident answer must not miss a route; they are marked). The manifest's own
//! dev-dependencies are resolved too (a CI build usually runs the tests, which compiles them);
//! dev-dependencies of dependencies never are.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::graph::{Dep, Graph, ManifestNode, PackageId, VersionId};
use crate::ingest::DepKind;
use crate::versioning::Version;

/// A version a resolution can choose: a known version node, or a bad version the metadata does
/// not list (named only by the responder).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Choice {
    /// A version in the graph.
    Known(VersionId),
    /// A bad version absent from the registry metadata: its requirements are unknown.
    Unlisted(PackageId, Version),
}

/// The bad versions of an incident, per package, as the resolver sees them.
#[derive(Debug, Default, Clone)]
pub struct BadSet {
    nodes: FxHashSet<VersionId>,
    unlisted: FxHashMap<PackageId, Vec<Version>>,
}

impl BadSet {
    /// Marks a version node bad.
    pub fn add_known(&mut self, v: VersionId) {
        self.nodes.insert(v);
    }
    /// Adds a bad version that the metadata does not list.
    pub fn add_unlisted(&mut self, p: PackageId, v: Version) {
        self.unlisted.entry(p).or_default().push(v);
    }
    /// Whether a choice is bad.
    pub fn contains(&self, c: &Choice) -> bool {
        match c {
            Choice::Known(v) => self.nodes.contains(v),
            Choice::Unlisted(..) => true,
        }
    }
    /// Whether a version node is bad.
    pub fn contains_node(&self, v: VersionId) -> bool {
        self.nodes.contains(&v)
    }
}

/// One chosen version and how the resolution got there.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The version.
    pub choice: Choice,
    /// Index (into [`Resolution::chosen`]) of the version whose requirement chose it; `None`
    /// for the manifest's own requirements.
    pub parent: Option<usize>,
    /// The requirement was optional.
    pub optional: bool,
}

/// The outcome of one resolution.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Every chosen version, in breadth-first order from the manifest.
    pub chosen: Vec<Resolved>,
    /// Requirements nothing available satisfied: (package, requirement text).
    pub unresolved: Vec<(PackageId, String)>,
}

impl Resolution {
    /// The chain of choices from the manifest to `chosen[i]`.
    pub fn chain(&self, i: usize) -> Vec<&Choice> {
        let mut out = Vec::new();
        let mut cur = Some(i);
        while let Some(k) = cur {
            out.push(&self.chosen[k].choice);
            cur = self.chosen[k].parent;
        }
        out.reverse();
        out
    }
}

/// Resolves `manifest` as of `at`.
///
/// # Arguments
/// * `bad` — the incident's bad versions; `bad_available` says whether they can be chosen at
///   `at` (they are chosen even if yanked now or published after `at` by the metadata's clock:
///   the incident window is the authority on when they were live).
///
/// # Complexity
/// O(R · V) for R requirements followed and V versions per package.
pub fn resolve(
    g: &Graph,
    manifest: &ManifestNode,
    at: jiff::Timestamp,
    bad: &BadSet,
    bad_available: bool,
) -> Resolution {
    let mut res = Resolution::default();
    let mut seen: FxHashSet<Choice> = FxHashSet::default();
    let mut queue: VecDeque<(Option<usize>, Dep)> =
        manifest.deps.iter().map(|d| (None, *d)).collect();
    while let Some((parent, dep)) = queue.pop_front() {
        let Some(choice) = pick(g, &dep, at, bad, bad_available) else {
            res.unresolved
                .push((dep.package, g.req(dep.req).text.clone()));
            continue;
        };
        if !seen.insert(choice.clone()) {
            continue;
        }
        let idx = res.chosen.len();
        res.chosen.push(Resolved {
            choice: choice.clone(),
            parent,
            optional: dep.optional,
        });
        if let Choice::Known(v) = choice {
            queue.extend(
                g.deps_of(v)
                    .filter(|d| d.kind != DepKind::Dev)
                    .map(|d| (Some(idx), *d)),
            );
        }
    }
    res
}

/// The highest version of `dep.package` that `dep`'s requirement admits and that was
/// available at `at`.
fn pick(
    g: &Graph,
    dep: &Dep,
    at: jiff::Timestamp,
    bad: &BadSet,
    bad_available: bool,
) -> Option<Choice> {
    let req = g.req(dep.req).parsed.as_ref()?;
    // PEP 440: a pre-release is taken when no final release satisfies the requirement; the
    // second pass admits them (for Cargo and npm ranges it is the same as the first).
    (0..2).find_map(|pass| {
        let admits = |v: &Version| {
            if pass == 0 {
                req.matches(v)
            } else {
                req.matches_any_prerelease(v)
            }
        };
        // Versions are sorted ascending: the first available match from the top is the highest.
        let mut best: Option<(&Version, Choice)> = None;
        for v in g.versions_of(dep.package).rev() {
            let node = g.version(v);
            let Some(parsed) = node.parsed.as_ref() else {
                continue;
            };
            let available = if bad.contains_node(v) {
                bad_available
            } else {
                !node.yanked && node.published.is_none_or(|p| p <= at)
            };
            if available && admits(parsed) {
                best = Some((parsed, Choice::Known(v)));
                break;
            }
        }
        if bad_available {
            for bv in bad.unlisted.get(&dep.package).into_iter().flatten() {
                if admits(bv) && best.as_ref().is_none_or(|(b, _)| *b < bv) {
                    best = Some((bv, Choice::Unlisted(dep.package, bv.clone())));
                }
            }
        }
        best.map(|(_, c)| c)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{DepFact, Ecosystem, Facts, ManifestFact, VersionFact};

    fn v(
        name: &str,
        vers: &str,
        published: &str,
        yanked: bool,
        deps: &[(&str, &str, DepKind)],
    ) -> VersionFact {
        VersionFact {
            ecosystem: Ecosystem::CratesIo,
            name: name.into(),
            version: vers.into(),
            yanked,
            published: Some(published.parse().unwrap()),
            deps: deps
                .iter()
                .map(|(p, r, k)| DepFact {
                    package: (*p).into(),
                    req: (*r).into(),
                    kind: *k,
                    optional: false,
                    target: None,
                    rename: None,
                })
                .collect(),
            publisher: None,
            deps_known: true,
            install_script: false,
        }
    }

    /// a 1.0.0 (Jan), a 1.1.0 (Mar 10 12:00, yanked), a 1.2.0 (Mar 20); b → a ^1 (normal),
    /// b → c (dev); c → b (a cycle); m requires b ^1 and a =1.0.0.
    fn graph() -> Graph {
        use DepKind::*;
        let mut facts = Facts {
            versions: vec![
                v("a", "1.0.0", "2026-01-01T00:00:00Z", false, &[]),
                v("a", "1.1.0", "2026-03-10T12:00:00Z", true, &[]),
                v("a", "1.2.0", "2026-03-20T00:00:00Z", false, &[]),
                v(
                    "b",
                    "1.0.0",
                    "2026-01-01T00:00:00Z",
                    false,
                    &[("a", "^1", Normal), ("c", "^1", Dev)],
                ),
                v(
                    "c",
                    "1.0.0",
                    "2026-01-01T00:00:00Z",
                    false,
                    &[("b", "^1", Normal)],
                ),
                v(
                    "x",
                    "1.0.0",
                    "2026-01-01T00:00:00Z",
                    false,
                    &[("y", "^1", Normal)],
                ),
                v(
                    "y",
                    "1.0.0",
                    "2026-01-01T00:00:00Z",
                    false,
                    &[("x", "^1", Normal), ("a", "=1.0.0", Build)],
                ),
            ],
            manifests: vec![
                ManifestFact {
                    id: "m/Cargo.toml".into(),
                    file: "/m/Cargo.toml".into(),
                    name: Some("m".into()),
                    ecosystem: Ecosystem::CratesIo,
                    deps: vec![DepFact {
                        package: "b".into(),
                        req: "^1".into(),
                        kind: Normal,
                        optional: false,
                        target: None,
                        rename: None,
                    }],
                },
                ManifestFact {
                    id: "n/Cargo.toml".into(),
                    file: "/n/Cargo.toml".into(),
                    name: Some("n".into()),
                    ecosystem: Ecosystem::CratesIo,
                    deps: vec![DepFact {
                        package: "x".into(),
                        req: "^1".into(),
                        kind: Normal,
                        optional: false,
                        target: None,
                        rename: None,
                    }],
                },
            ],
            ..Facts::default()
        };
        facts.canonicalise();
        Graph::build(&facts).unwrap()
    }

    fn chosen(g: &Graph, r: &Resolution) -> Vec<String> {
        let mut out: Vec<String> = r
            .chosen
            .iter()
            .map(|c| match &c.choice {
                Choice::Known(v) => g.display(crate::graph::NodeRef::Version(*v)),
                Choice::Unlisted(p, v) => {
                    format!("{}@{v}", g.display(crate::graph::NodeRef::Package(*p)))
                }
            })
            .collect();
        out.sort();
        out
    }

    fn version(g: &Graph, name: &str, vers: &str) -> VersionId {
        let p = g.package_by_name(Ecosystem::CratesIo, name).unwrap();
        g.versions_of(p)
            .find(|&x| g.version(x).version == vers)
            .unwrap()
    }

    #[test]
    fn highest_published_by_then_and_dev_deps_of_dependencies_skipped() {
        let g = graph();
        let m = (0..2)
            .map(|i| g.manifest(i))
            .find(|m| m.name.as_deref() == Some("m"))
            .unwrap();
        let none = BadSet::default();
        // Before 1.2.0 exists, with 1.1.0 yanked: 1.0.0. c (b's dev-dependency) is not resolved.
        let r = resolve(&g, m, "2026-03-15T00:00:00Z".parse().unwrap(), &none, false);
        assert_eq!(chosen(&g, &r), ["crates.io:a@1.0.0", "crates.io:b@1.0.0"]);
        // After 1.2.0: the newest.
        let r = resolve(&g, m, "2026-04-01T00:00:00Z".parse().unwrap(), &none, false);
        assert_eq!(chosen(&g, &r), ["crates.io:a@1.2.0", "crates.io:b@1.0.0"]);
    }

    #[test]
    fn bad_versions_only_when_available() {
        let g = graph();
        let m = (0..2)
            .map(|i| g.manifest(i))
            .find(|m| m.name.as_deref() == Some("m"))
            .unwrap();
        let mut bad = BadSet::default();
        bad.add_known(version(&g, "a", "1.1.0"));
        let t = "2026-03-15T00:00:00Z".parse().unwrap();
        // Yanked now, but live then: taken when available, with the chain through b.
        let r = resolve(&g, m, t, &bad, true);
        assert_eq!(chosen(&g, &r), ["crates.io:a@1.1.0", "crates.io:b@1.0.0"]);
        let i = r
            .chosen
            .iter()
            .position(|c| bad.contains(&c.choice))
            .unwrap();
        assert_eq!(r.chain(i).len(), 2);
        assert_eq!(
            chosen(&g, &resolve(&g, m, t, &bad, false)),
            ["crates.io:a@1.0.0", "crates.io:b@1.0.0"]
        );
    }

    #[test]
    fn unlisted_bad_version_and_cycles() {
        let g = graph();
        let mut bad = BadSet::default();
        let a = g.package_by_name(Ecosystem::CratesIo, "a").unwrap();
        bad.add_unlisted(a, Version::Cargo(semver::Version::new(1, 9, 0)));
        let m = (0..2)
            .map(|i| g.manifest(i))
            .find(|m| m.name.as_deref() == Some("m"))
            .unwrap();
        let r = resolve(&g, m, "2026-03-15T00:00:00Z".parse().unwrap(), &bad, true);
        assert_eq!(chosen(&g, &r), ["crates.io:a@1.9.0", "crates.io:b@1.0.0"]);
        assert!(r.unresolved.is_empty());
        // x ↔ y is a normal-dependency cycle: it terminates; y's exact pin (a build
        // dependency) blocks the bad version even while it is available.
        let n = (0..2)
            .map(|i| g.manifest(i))
            .find(|m| m.name.as_deref() == Some("n"))
            .unwrap();
        let r = resolve(&g, n, "2026-03-15T00:00:00Z".parse().unwrap(), &bad, true);
        assert_eq!(
            chosen(&g, &r),
            [
                "crates.io:a@1.0.0",
                "crates.io:x@1.0.0",
                "crates.io:y@1.0.0"
            ]
        );
    }
}
