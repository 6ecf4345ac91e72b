//! The one immutable graph of SPEC §2: credentials → accounts → packages → versions →
//! dependents, lockfiles, builds, mirrors and environments.
//!
//! petgraph stays private to this module (guppy's lesson: a re-exported petgraph pins every
//! user to its version). Nodes are stored kind by kind, so each kind is one index range; node
//! payloads live in per-kind arrays and the petgraph edges carry small [`Edge`] values that
//! point into side tables. The CSR-style side arrays are views of the same edges, kept for the
//! engine's hot loops.

mod build;
pub mod ids;
pub mod snapshot;

use std::ops::Range;
use std::path::PathBuf;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use ids::{
    AccountId, BuildId, CredentialId, EnvironmentId, LockfileId, MirrorId, NodeKind, NodeRef,
    PackageId, VersionId,
};

pub use crate::ingest::inventory::{AccountKind, CredentialKind, Rights};
use crate::ingest::{DepKind, Ecosystem};

/// Where an account came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountOrigin {
    /// The user's inventory.
    Inventory,
    /// Registry metadata (crates.io owners, npm maintainers).
    Registry,
    /// No owner data: `owner-of:P` stands for the publishing right of P.
    Synthetic,
}

/// A credential node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialNode {
    /// Label.
    pub id: String,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Token kind; `None` for credentials standing for an account (no inventory credentials).
    pub kind: Option<CredentialKind>,
    /// The account it acts for.
    pub account: AccountId,
    /// Scopes as written.
    pub scopes: Vec<String>,
    /// Whether the scopes were absent (all rights).
    pub all_scopes: bool,
    /// Package patterns (`None`: everything the account owns).
    pub packages: Option<Vec<String>>,
    /// Expiry.
    pub expires: Option<jiff::Timestamp>,
}

/// An account node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountNode {
    /// Registry user, team or org name (or `owner-of:P`).
    pub id: String,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// User, team, org or CI, when the inventory says.
    pub kind: Option<AccountKind>,
    /// MFA, when known.
    pub mfa: Option<bool>,
    /// Inventory, registry metadata or synthetic.
    pub origin: AccountOrigin,
}

/// A package node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageNode {
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Name.
    pub name: String,
    /// New versions come only from trusted publishing (crates.io `trustpub_only`): API
    /// tokens, and the accounts standing in for their tokens, cannot publish it.
    pub trustpub_only: bool,
}

/// A version node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionNode {
    /// Its package.
    pub package: PackageId,
    /// Version string.
    pub version: String,
    /// Parsed with the ecosystem's rules; `None` when it does not parse. Not stored in a
    /// snapshot: parsed again on load.
    #[serde(skip)]
    pub parsed: Option<crate::versioning::Version>,
    /// Yanked.
    pub yanked: bool,
    /// Publication time.
    pub published: Option<jiff::Timestamp>,
    /// Whether registry metadata described it (a version known only from a lockfile has no
    /// requirements on record).
    pub has_metadata: bool,
    /// The account that published it, when the metadata says.
    pub publisher: Option<String>,
    /// Runs code when installed (npm install scripts).
    pub install_script: bool,
}

/// A dependency requirement, the payload of a version → package edge.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Dep {
    /// The real package depended on.
    pub package: PackageId,
    /// Interned requirement (see [`Graph::req`]).
    pub req: u32,
    /// Normal, build or dev.
    pub kind: DepKind,
    /// Optional (feature-gated).
    pub optional: bool,
    /// Interned target cfg (see [`Graph::string`]).
    pub target: Option<u32>,
    /// Interned rename.
    pub rename: Option<u32>,
}

/// One requirement string and its parsed form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Req {
    /// As written.
    pub text: String,
    /// Whose rules it follows (the same text means different things per ecosystem).
    pub ecosystem: Ecosystem,
    /// Parsed with the ecosystem's rules; `None` if it does not parse (treated as open by
    /// the headroom rule: over-reporting is safer than a false "not reached"). Not stored in
    /// a snapshot: parsed again on load.
    #[serde(skip)]
    pub parsed: Option<crate::versioning::Requirement>,
}

/// One package of a lockfile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockEntry {
    /// Name (inline up to 24 bytes: lockfiles hold millions of entries at registry scale).
    pub name: compact_str::CompactString,
    /// Version.
    pub version: compact_str::CompactString,
    /// The version node, for registry packages.
    pub node: Option<VersionId>,
    /// Entries it depends on.
    pub deps: Vec<u32>,
}

/// A lockfile node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockfileNode {
    /// Display path.
    pub id: String,
    /// Canonical file.
    pub file: PathBuf,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Every pinned package.
    pub entries: Vec<LockEntry>,
    /// Root entries (workspace members).
    pub roots: Vec<u32>,
    /// The manifest beside it (index for [`Graph::manifest`]), what a fresh build resolves.
    pub manifest: Option<u32>,
}

/// A manifest (Cargo.toml): the requirements a fresh resolution starts from. Not a node of
/// its own: it belongs to the lockfile beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestNode {
    /// Display path.
    pub id: String,
    /// Package name.
    pub name: Option<String>,
    /// Its registry requirements.
    pub deps: Vec<Dep>,
}

/// A build node (from a build log).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildNode {
    /// Build id.
    pub id: String,
    /// The lockfile it used.
    pub lockfile: LockfileId,
    /// When it started.
    pub started_at: jiff::Timestamp,
    /// `locked` or `fresh`.
    pub fresh: bool,
    /// The mirror it fetched through.
    pub mirror: Option<MirrorId>,
}

/// A mirror node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MirrorNode {
    /// Label.
    pub id: String,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Stops serving yanked versions.
    pub honors_yank: bool,
    /// Sync log.
    pub syncs: Vec<jiff::Timestamp>,
    /// Sync interval.
    pub interval: Option<jiff::SignedDuration>,
}

/// An environment node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvironmentNode {
    /// Label.
    pub id: String,
    /// What runs dependency code there.
    pub executes: Vec<String>,
}

/// Edge payloads, one variant per edge kind of SPEC §2 (plus `ServedBy`, which records the
/// inventory's "this mirror serves that lockfile").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edge {
    /// credential → account it acts for.
    ActsFor,
    /// credential → package it may publish or yank (scope ∩ ownership ∩ patterns).
    MayPublish(Rights),
    /// account → package it owns.
    Owns,
    /// account → credential it can mint.
    Mints,
    /// package → version.
    HasVersion,
    /// version → package it depends on (index into the dependency table).
    DependsOn(u32),
    /// lockfile → version it pins (index of the lockfile entry).
    Pins(u32),
    /// build → lockfile.
    Uses,
    /// build → mirror it fetched through.
    FetchesThrough,
    /// lockfile → mirror whose builds fetch through it.
    ServedBy,
    /// mirror → version it copied.
    Copies,
    /// environment → lockfile it installs or builds.
    Installs,
    /// environment → credential it holds.
    Holds,
}

/// Compressed adjacency: `targets[offsets[i]..offsets[i+1]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Csr<T> {
    offsets: Vec<u32>,
    targets: Vec<T>,
}

impl<T> Csr<T> {
    fn from_lists(lists: Vec<Vec<T>>) -> Self {
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        let mut targets = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        offsets.push(0);
        for l in lists {
            targets.extend(l);
            offsets.push(u32::try_from(targets.len()).expect("more than 2^32 edges"));
        }
        Csr { offsets, targets }
    }

    /// Offsets well-formed for `rows` rows over `targets`, each target passing `ok`.
    fn check(&self, name: &str, rows: usize, ok: impl Fn(&T) -> bool) -> Result<(), String> {
        if self.offsets.len() != rows + 1
            || self.offsets.first() != Some(&0)
            || self.offsets.windows(2).any(|w| w[0] > w[1])
            || self.offsets.last().map(|&o| o as usize) != Some(self.targets.len())
        {
            return Err(format!("{name}: malformed offsets"));
        }
        if !self.targets.iter().all(ok) {
            return Err(format!("{name}: a target out of range"));
        }
        Ok(())
    }

    fn get(&self, i: usize) -> &[T] {
        &self.targets[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// The graph. Built once by [`Graph::build`], never mutated.
#[derive(Debug, Serialize, Deserialize)]
pub struct Graph {
    /// Built on first use from the tables below ([`Graph::petgraph`]); never stored.
    #[serde(skip)]
    g: std::sync::OnceLock<DiGraph<NodeRef, Edge, u32>>,
    starts: [u32; 9],
    credentials: Vec<CredentialNode>,
    accounts: Vec<AccountNode>,
    packages: Vec<PackageNode>,
    versions: Vec<VersionNode>,
    lockfiles: Vec<LockfileNode>,
    builds: Vec<BuildNode>,
    mirrors: Vec<MirrorNode>,
    environments: Vec<EnvironmentNode>,
    deps: Vec<Dep>,
    reqs: Vec<Req>,
    strings: Vec<String>,
    manifests: Vec<ManifestNode>,
    package_index: [FxHashMap<String, PackageId>; 3],
    version_ranges: Vec<Range<u32>>,
    version_deps: Csr<u32>,
    may_publish: Csr<(PackageId, Rights)>,
    owns: Csr<PackageId>,
    account_credentials: Csr<CredentialId>,
    package_pins: Csr<(LockfileId, VersionId, u32)>,
    lockfile_environments: Csr<EnvironmentId>,
    lockfile_mirrors: Csr<MirrorId>,
    environment_lockfiles: Csr<LockfileId>,
    environment_credentials: Csr<CredentialId>,
    mirror_lockfiles: Csr<LockfileId>,
    inventory_credentials: bool,
}

impl Graph {
    /// The typed petgraph of every node and edge, derived from the tables on first use.
    pub fn petgraph(&self) -> &DiGraph<NodeRef, Edge, u32> {
        self.g.get_or_init(|| self.build_petgraph())
    }

    fn node_index(&self, n: NodeRef) -> NodeIndex<u32> {
        let k = n.kind() as usize;
        NodeIndex::new(self.starts[k] as usize + n.local())
    }

    /// The range of global node indices holding one kind.
    pub fn kind_range(&self, kind: NodeKind) -> Range<usize> {
        let k = kind as usize;
        self.starts[k] as usize..self.starts[k + 1] as usize
    }

    /// Total nodes and edges.
    pub fn size(&self) -> (usize, usize) {
        (self.starts[8] as usize, self.count_edges())
    }

    /// Number of nodes of a kind.
    pub fn count(&self, kind: NodeKind) -> usize {
        self.kind_range(kind).len()
    }

    /// Whether the credentials come from an inventory (otherwise they stand for accounts).
    pub fn has_inventory_credentials(&self) -> bool {
        self.inventory_credentials
    }

    /// All credentials.
    pub fn credentials(&self) -> impl ExactSizeIterator<Item = CredentialId> + '_ {
        (0..self.credentials.len()).map(CredentialId::from_index)
    }
    /// All accounts.
    pub fn accounts(&self) -> impl ExactSizeIterator<Item = AccountId> + '_ {
        (0..self.accounts.len()).map(AccountId::from_index)
    }
    /// All packages.
    pub fn packages(&self) -> impl ExactSizeIterator<Item = PackageId> + '_ {
        (0..self.packages.len()).map(PackageId::from_index)
    }
    /// All lockfiles.
    pub fn lockfiles(&self) -> impl ExactSizeIterator<Item = LockfileId> + '_ {
        (0..self.lockfiles.len()).map(LockfileId::from_index)
    }
    /// All environments.
    pub fn environments(&self) -> impl ExactSizeIterator<Item = EnvironmentId> + '_ {
        (0..self.environments.len()).map(EnvironmentId::from_index)
    }
    /// All mirrors.
    pub fn mirrors(&self) -> impl ExactSizeIterator<Item = MirrorId> + '_ {
        (0..self.mirrors.len()).map(MirrorId::from_index)
    }

    /// Credential payload.
    pub fn credential(&self, c: CredentialId) -> &CredentialNode {
        &self.credentials[c.index()]
    }
    /// Account payload.
    pub fn account(&self, a: AccountId) -> &AccountNode {
        &self.accounts[a.index()]
    }
    /// Package payload.
    pub fn package(&self, p: PackageId) -> &PackageNode {
        &self.packages[p.index()]
    }
    /// Version payload.
    pub fn version(&self, v: VersionId) -> &VersionNode {
        &self.versions[v.index()]
    }
    /// All builds.
    pub fn builds(&self) -> impl ExactSizeIterator<Item = BuildId> + '_ {
        (0..self.builds.len()).map(BuildId::from_index)
    }
    /// A manifest by index (see [`LockfileNode::manifest`]).
    pub fn manifest(&self, i: u32) -> &ManifestNode {
        &self.manifests[i as usize]
    }
    /// Lockfile payload.
    pub fn lockfile(&self, l: LockfileId) -> &LockfileNode {
        &self.lockfiles[l.index()]
    }
    /// Build payload.
    pub fn build_node(&self, b: BuildId) -> &BuildNode {
        &self.builds[b.index()]
    }
    /// Mirror payload.
    pub fn mirror(&self, m: MirrorId) -> &MirrorNode {
        &self.mirrors[m.index()]
    }
    /// Environment payload.
    pub fn environment(&self, e: EnvironmentId) -> &EnvironmentNode {
        &self.environments[e.index()]
    }

    /// A package by ecosystem and name.
    pub fn package_by_name(&self, eco: Ecosystem, name: &str) -> Option<PackageId> {
        self.package_index[eco as usize].get(name).copied()
    }

    /// A package's versions, lowest first (Cargo's version order).
    pub fn versions_of(
        &self,
        p: PackageId,
    ) -> impl DoubleEndedIterator<Item = VersionId> + ExactSizeIterator + Clone {
        let r = self.version_ranges[p.index()].clone();
        (r.start as usize..r.end as usize).map(VersionId::from_index)
    }

    /// A version's requirements.
    pub fn deps_of(&self, v: VersionId) -> impl Iterator<Item = &Dep> + '_ {
        self.version_deps
            .get(v.index())
            .iter()
            .map(|&d| &self.deps[d as usize])
    }

    /// Packages a credential may publish or yank, with the rights it has on each.
    pub fn may_publish(&self, c: CredentialId) -> &[(PackageId, Rights)] {
        self.may_publish.get(c.index())
    }
    /// Packages an account owns.
    pub fn owned_by(&self, a: AccountId) -> &[PackageId] {
        self.owns.get(a.index())
    }
    /// Credentials an account has (can mint).
    pub fn credentials_of(&self, a: AccountId) -> &[CredentialId] {
        self.account_credentials.get(a.index())
    }
    /// Lockfiles pinning a version of a package: (lockfile, version, entry index).
    pub fn pins_of(&self, p: PackageId) -> &[(LockfileId, VersionId, u32)] {
        self.package_pins.get(p.index())
    }
    /// Environments that install or build a lockfile.
    pub fn environments_of(&self, l: LockfileId) -> &[EnvironmentId] {
        self.lockfile_environments.get(l.index())
    }
    /// Mirrors serving a lockfile.
    pub fn mirrors_of(&self, l: LockfileId) -> &[MirrorId] {
        self.lockfile_mirrors.get(l.index())
    }
    /// Lockfiles an environment installs.
    pub fn lockfiles_of(&self, e: EnvironmentId) -> &[LockfileId] {
        self.environment_lockfiles.get(e.index())
    }
    /// Credentials an environment holds.
    pub fn held_by(&self, e: EnvironmentId) -> &[CredentialId] {
        self.environment_credentials.get(e.index())
    }
    /// Lockfiles a mirror serves.
    pub fn served_by(&self, m: MirrorId) -> &[LockfileId] {
        self.mirror_lockfiles.get(m.index())
    }

    /// An interned requirement.
    pub fn req(&self, i: u32) -> &Req {
        &self.reqs[i as usize]
    }
    /// An interned string (targets, renames).
    pub fn string(&self, i: u32) -> &str {
        &self.strings[i as usize]
    }

    /// The id a node has in output: `crates.io:serde`, `crates.io:serde@1.0.200`, lockfile
    /// paths, inventory ids.
    pub fn display(&self, n: NodeRef) -> String {
        match n {
            NodeRef::Credential(c) => self.credential(c).id.clone(),
            NodeRef::Account(a) => self.account(a).id.clone(),
            NodeRef::Package(p) => {
                let p = self.package(p);
                format!("{}:{}", p.ecosystem, p.name)
            }
            NodeRef::Version(v) => {
                let v = self.version(v);
                let p = self.package(v.package);
                format!("{}:{}@{}", p.ecosystem, p.name, v.version)
            }
            NodeRef::Lockfile(l) => self.lockfile(l).id.clone(),
            NodeRef::Build(b) => self.build_node(b).id.clone(),
            NodeRef::Mirror(m) => self.mirror(m).id.clone(),
            NodeRef::Environment(e) => self.environment(e).id.clone(),
        }
    }

    /// Finds nodes by output id. Several kinds may share an id (an account and its
    /// credential); the caller decides what is ambiguous.
    pub fn find(&self, id: &str) -> Vec<NodeRef> {
        let mut out = Vec::new();
        let eq = |s: &str| s == id;
        out.extend(
            self.credentials()
                .filter(|&c| eq(&self.credential(c).id))
                .map(NodeRef::Credential),
        );
        out.extend(
            self.accounts()
                .filter(|&a| eq(&self.account(a).id))
                .map(NodeRef::Account),
        );
        if let Some((eco, rest)) = id.split_once(':') {
            if let Some(eco) = Ecosystem::parse(eco) {
                match rest.split_once('@') {
                    Some((name, ver)) => {
                        if let Some(p) = self.package_by_name(eco, name) {
                            out.extend(
                                self.versions_of(p)
                                    .filter(|&v| self.version(v).version == ver)
                                    .map(NodeRef::Version),
                            );
                        }
                    }
                    None => out.extend(self.package_by_name(eco, rest).map(NodeRef::Package)),
                }
            }
        }
        out.extend(
            self.lockfiles()
                .filter(|&l| eq(&self.lockfile(l).id))
                .map(NodeRef::Lockfile),
        );
        out.extend(
            (0..self.builds.len())
                .map(BuildId::from_index)
                .filter(|&b| eq(&self.build_node(b).id))
                .map(NodeRef::Build),
        );
        out.extend(
            self.mirrors()
                .filter(|&m| eq(&self.mirror(m).id))
                .map(NodeRef::Mirror),
        );
        out.extend(
            self.environments()
                .filter(|&e| eq(&self.environment(e).id))
                .map(NodeRef::Environment),
        );
        out
    }

    /// All edges as (from, to, payload), in a stable order: for export and for checking that a
    /// witness path is a real path.
    pub fn edges(&self) -> Vec<(NodeRef, NodeRef, Edge)> {
        let g = self.petgraph();
        let mut out: Vec<_> = g
            .edge_references()
            .map(|e| (g[e.source()], g[e.target()], *e.weight()))
            .collect();
        out.sort_by_key(|a| (a.0, a.1));
        out
    }

    /// Whether the graph has an edge `from → to` (of any kind).
    pub fn has_edge(&self, from: NodeRef, to: NodeRef) -> bool {
        self.petgraph()
            .find_edge(self.node_index(from), self.node_index(to))
            .is_some()
    }

    /// The dependency payload behind a `DependsOn` edge.
    pub fn dep(&self, i: u32) -> &Dep {
        &self.deps[i as usize]
    }

    /// Every index inside the graph points inside its table: what a graph decoded from an
    /// untrusted snapshot must satisfy before anything indexes with it. [`Graph::build`]
    /// guarantees it by construction.
    pub fn check_bounds(&self) -> Result<(), String> {
        let counts = [
            self.credentials.len(),
            self.accounts.len(),
            self.packages.len(),
            self.versions.len(),
            self.lockfiles.len(),
            self.builds.len(),
            self.mirrors.len(),
            self.environments.len(),
        ];
        let mut at = 0u64;
        for (k, &n) in counts.iter().enumerate() {
            if u64::from(self.starts[k]) != at {
                return Err(format!(
                    "node ranges: kind {k} starts at {}",
                    self.starts[k]
                ));
            }
            at += n as u64;
        }
        if u64::from(self.starts[8]) != at {
            return Err("node ranges do not cover the nodes".into());
        }
        let [nc, na, np, nv, nl, _nb, nm, ne] = counts;
        let (nd, nr, ns) = (self.deps.len(), self.reqs.len(), self.strings.len());
        let dep_ok = |d: &Dep| {
            d.package.index() < np
                && (d.req as usize) < nr
                && d.target.is_none_or(|t| (t as usize) < ns)
                && d.rename.is_none_or(|t| (t as usize) < ns)
        };
        if !self.deps.iter().all(dep_ok)
            || !self.manifests.iter().all(|m| m.deps.iter().all(dep_ok))
        {
            return Err("a dependency out of range".into());
        }
        if self.version_ranges.len() != np
            || self
                .version_ranges
                .iter()
                .any(|r| r.start > r.end || r.end as usize > nv)
        {
            return Err("version ranges out of range".into());
        }
        if self.versions.iter().any(|v| v.package.index() >= np)
            || self.credentials.iter().any(|c| c.account.index() >= na)
            || self
                .builds
                .iter()
                .any(|b| b.lockfile.index() >= nl || b.mirror.is_some_and(|m| m.index() >= nm))
            || self
                .package_index
                .iter()
                .any(|m| m.values().any(|p| p.index() >= np))
        {
            return Err("a node reference out of range".into());
        }
        for l in &self.lockfiles {
            let n = l.entries.len();
            if l.roots.iter().any(|&r| r as usize >= n)
                || l.manifest
                    .is_some_and(|m| m as usize >= self.manifests.len())
                || l.entries.iter().any(|e| {
                    e.node.is_some_and(|v| v.index() >= nv)
                        || e.deps.iter().any(|&d| d as usize >= n)
                })
            {
                return Err(format!("lockfile {:?}: an entry out of range", l.id));
            }
        }
        self.version_deps
            .check("version_deps", nv, |&d| (d as usize) < nd)?;
        self.may_publish
            .check("may_publish", nc, |(p, _)| p.index() < np)?;
        self.owns.check("owns", na, |p| p.index() < np)?;
        self.account_credentials
            .check("account_credentials", na, |c| c.index() < nc)?;
        self.package_pins.check("package_pins", np, |(l, v, e)| {
            l.index() < nl
                && v.index() < nv
                && self.lockfiles[l.index()].entries.len() > *e as usize
        })?;
        self.lockfile_environments
            .check("lockfile_environments", nl, |e| e.index() < ne)?;
        self.lockfile_mirrors
            .check("lockfile_mirrors", nl, |m| m.index() < nm)?;
        self.environment_lockfiles
            .check("environment_lockfiles", ne, |l| l.index() < nl)?;
        self.environment_credentials
            .check("environment_credentials", ne, |c| c.index() < nc)?;
        self.mirror_lockfiles
            .check("mirror_lockfiles", nm, |l| l.index() < nl)?;
        Ok(())
    }

    /// Re-checks the invariants the engine relies on (kind ranges, CSR views agreeing with the
    /// petgraph edges). For tests, like guppy's `verify`, and for decoded snapshots (after
    /// [`Graph::check_bounds`]).
    pub fn verify(&self) -> Result<(), String> {
        if self.petgraph().edge_count() != self.count_edges() {
            return Err(format!(
                "{} petgraph edges, but the tables count {}",
                self.petgraph().edge_count(),
                self.count_edges()
            ));
        }
        for kind in NodeKind::ALL {
            for i in self.kind_range(kind) {
                let n = self.petgraph()[NodeIndex::new(i)];
                if n.kind() != kind {
                    return Err(format!(
                        "node {i} is a {:?} inside the {kind:?} range",
                        n.kind()
                    ));
                }
            }
        }
        for c in self.credentials() {
            for &(p, _) in self.may_publish(c) {
                if !self.has_edge(NodeRef::Credential(c), NodeRef::Package(p)) {
                    return Err(format!("may_publish {c:?} → {p:?} has no edge"));
                }
            }
        }
        for p in self.packages() {
            for v in self.versions_of(p) {
                if self.version(v).package != p {
                    return Err(format!("version {v:?} listed under the wrong package"));
                }
                for d in self.deps_of(v) {
                    if !self.has_edge(NodeRef::Version(v), NodeRef::Package(d.package)) {
                        return Err(format!("dependency {v:?} → {:?} has no edge", d.package));
                    }
                }
            }
        }
        Ok(())
    }
}
