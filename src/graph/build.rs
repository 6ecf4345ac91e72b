//! The two-pass builder: first every node, kind by kind and each kind in sorted order (so the
//! same facts give the same indices whatever the input order), then every edge.

use std::collections::BTreeSet;

use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use super::*;
use crate::error::Result;
use crate::ingest::pattern;
use crate::ingest::Facts;
use crate::versioning::{Requirement, Version};

impl Graph {
    /// Builds the graph from ingested facts.
    ///
    /// Without inventory credentials, every account becomes a credential acting with all its
    /// rights; packages nobody is recorded to own get a synthetic account `owner-of:P`.
    pub fn build(facts: &Facts) -> Result<Graph> {
        // ---- pass 1: nodes -------------------------------------------------------------
        // A hash set first (millions of requirement names repeat), sorted once after.
        // Versions are many (ten million requirement names): each thread gathers a set, and
        // the sets are merged.
        use rayon::prelude::*;
        let mut pkg_set: rustc_hash::FxHashSet<(Ecosystem, &str)> = facts
            .versions
            .par_iter()
            .fold(rustc_hash::FxHashSet::default, |mut set, v| {
                set.insert((v.ecosystem, v.name.as_str()));
                for d in &v.deps {
                    set.insert((v.ecosystem, d.package.as_str()));
                }
                set
            })
            .reduce(rustc_hash::FxHashSet::default, |a, b| {
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                big.extend(small);
                big
            });
        for l in &facts.lockfiles {
            for p in l.packages.iter().filter(|p| p.registry) {
                pkg_set.insert((l.ecosystem, &p.name));
            }
        }
        for m in &facts.manifests {
            for d in &m.deps {
                pkg_set.insert((m.ecosystem, &d.package));
            }
        }
        for o in &facts.owners {
            pkg_set.insert((o.ecosystem, &o.package));
        }
        let mut pkg_list: Vec<(Ecosystem, &str)> = pkg_set.into_iter().collect();
        pkg_list.sort_unstable();
        let mut packages: Vec<PackageNode> = pkg_list
            .iter()
            .map(|(e, n)| PackageNode {
                ecosystem: *e,
                name: (*n).to_owned(),
                trustpub_only: false,
            })
            .collect();
        let mut package_index: [FxHashMap<String, PackageId>; 3] = Default::default();
        for (i, p) in packages.iter().enumerate() {
            package_index[p.ecosystem as usize].insert(p.name.clone(), PackageId::from_index(i));
        }
        for (e, name) in &facts.trustpub_only {
            if let Some(&p) = package_index[*e as usize].get(name.as_str()) {
                packages[p.index()].trustpub_only = true;
            }
        }
        let pid = |e: Ecosystem, n: &str| package_index[e as usize][n];

        // Versions: registry metadata first (it wins over a bare lockfile pin), then pins.
        // Keys are parsed in parallel and sorted once; a pin adds a version only when no
        // registry record has it (rank 1 sorts after rank 0 and is dropped by the dedup).
        let mut pins: Vec<(PackageId, &str)> = facts
            .lockfiles
            .iter()
            .flat_map(|l| {
                l.packages
                    .iter()
                    .filter(|p| p.registry)
                    .map(move |e| (pid(l.ecosystem, &e.name), e.version.as_str()))
            })
            .collect();
        pins.par_sort_unstable();
        pins.dedup();
        // (package, key, 0 = registry fact / 1 = pin, fact index)
        let mut rows: Vec<(PackageId, VersionKey, u8, usize)> = facts
            .versions
            .par_iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    pid(v.ecosystem, &v.name),
                    VersionKey::new(v.ecosystem, &v.version),
                    0,
                    i,
                )
            })
            .collect();
        rows.par_extend(pins.par_iter().map(|&(p, version)| {
            let eco = packages[p.index()].ecosystem;
            (p, VersionKey::new(eco, version), 1, usize::MAX)
        }));
        rows.par_sort_unstable_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
        rows.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        let mut version_ranges = vec![0u32..0u32; packages.len()];
        let mut versions = Vec::with_capacity(rows.len());
        let mut fact_of_version = Vec::with_capacity(rows.len());
        for (p, key, rank, fi) in rows {
            let id = VersionId::from_index(versions.len());
            let r = &mut version_ranges[p.index()];
            if r.start == r.end {
                *r = id.0..id.0 + 1;
            } else {
                r.end = id.0 + 1;
            }
            let node = if rank == 0 {
                let v = &facts.versions[fi];
                VersionNode {
                    package: p,
                    version: key.raw,
                    parsed: key.parsed,
                    yanked: v.yanked,
                    published: v.published,
                    has_metadata: v.deps_known,
                    publisher: v.publisher.clone(),
                    install_script: v.install_script,
                }
            } else {
                VersionNode {
                    package: p,
                    version: key.raw,
                    parsed: key.parsed,
                    yanked: false,
                    published: None,
                    has_metadata: false,
                    publisher: None,
                    install_script: false,
                }
            };
            fact_of_version.push((rank == 0).then_some(fi));
            versions.push(node);
        }
        let version_lookup: FxHashMap<(PackageId, &str), VersionId> = versions
            .iter()
            .enumerate()
            .map(|(i, v)| ((v.package, v.version.as_str()), VersionId::from_index(i)))
            .collect();

        // Accounts: inventory, registry owners, then synthetic owners for unowned packages.
        let inv = facts.inventory.as_ref();
        let mut acct_list: Vec<AccountNode> = Vec::new();
        let mut acct_owns: Vec<Vec<PackageId>> = Vec::new();
        let mut acct_key: FxHashMap<(Ecosystem, String), usize> = FxHashMap::default();
        let mut add_account =
            |node: AccountNode, list: &mut Vec<AccountNode>, owns: &mut Vec<Vec<PackageId>>| {
                *acct_key
                    .entry((node.ecosystem, node.id.clone()))
                    .or_insert_with(|| {
                        list.push(node);
                        owns.push(Vec::new());
                        list.len() - 1
                    })
            };
        let mut inv_accounts: Vec<_> = inv.map(|i| i.accounts.iter().collect()).unwrap_or_default();
        inv_accounts.sort_by(|a, b| (a.ecosystem, &a.id).cmp(&(b.ecosystem, &b.id)));
        for a in inv_accounts {
            let i = add_account(
                AccountNode {
                    id: a.id.clone(),
                    ecosystem: a.ecosystem,
                    kind: Some(a.kind),
                    mfa: a.mfa,
                    origin: AccountOrigin::Inventory,
                },
                &mut acct_list,
                &mut acct_owns,
            );
            // Exact names are looked up; only real globs scan every package.
            let (globs, exact): (Vec<&String>, Vec<&String>) =
                a.owns.iter().partition(|pat| pat.contains('*'));
            for name in exact {
                let key = a.ecosystem.normalise(name);
                if let Some(&p) = package_index[a.ecosystem as usize].get(&key) {
                    acct_owns[i].push(p);
                }
            }
            if !globs.is_empty() {
                for (pi, p) in packages.iter().enumerate() {
                    if p.ecosystem == a.ecosystem
                        && globs
                            .iter()
                            .any(|pat| name_matches(p.ecosystem, pat, &p.name))
                    {
                        acct_owns[i].push(PackageId::from_index(pi));
                    }
                }
            }
            acct_owns[i].sort_unstable();
            acct_owns[i].dedup();
        }
        for o in &facts.owners {
            let i = add_account(
                AccountNode {
                    id: o.account.clone(),
                    ecosystem: o.ecosystem,
                    kind: None,
                    mfa: None,
                    origin: AccountOrigin::Registry,
                },
                &mut acct_list,
                &mut acct_owns,
            );
            acct_owns[i].push(pid(o.ecosystem, &o.package));
        }
        let mut owned = vec![false; packages.len()];
        for list in &acct_owns {
            for p in list {
                owned[p.index()] = true;
            }
        }
        for (pi, p) in packages.iter().enumerate() {
            if !owned[pi] {
                let i = add_account(
                    AccountNode {
                        // crates.io keeps the plain `owner-of:NAME` of the contract; other
                        // ecosystems say theirs, so `widget` on crates.io and on PyPI differ.
                        id: match p.ecosystem {
                            Ecosystem::CratesIo => format!("owner-of:{}", p.name),
                            eco => format!("owner-of:{eco}:{}", p.name),
                        },
                        ecosystem: p.ecosystem,
                        kind: None,
                        mfa: None,
                        origin: AccountOrigin::Synthetic,
                    },
                    &mut acct_list,
                    &mut acct_owns,
                );
                acct_owns[i].push(PackageId::from_index(pi));
            }
        }
        // Sorted by id (ecosystem breaks ties) so output order never depends on input order.
        let mut order: Vec<usize> = (0..acct_list.len()).collect();
        order.sort_by(|&a, &b| {
            (&acct_list[a].id, acct_list[a].ecosystem)
                .cmp(&(&acct_list[b].id, acct_list[b].ecosystem))
        });
        let accounts: Vec<AccountNode> = order.iter().map(|&i| acct_list[i].clone()).collect();
        let mut owns_lists: Vec<Vec<PackageId>> = order
            .iter()
            .map(|&i| std::mem::take(&mut acct_owns[i]))
            .collect();
        for l in &mut owns_lists {
            l.sort_unstable();
            l.dedup();
        }
        let account_by_id: FxHashMap<(Ecosystem, &str), AccountId> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| ((a.ecosystem, a.id.as_str()), AccountId::from_index(i)))
            .collect();

        // Credentials: the inventory's, or one per account acting with all its rights.
        let inv_creds: Vec<_> = inv
            .map(|i| i.credentials.iter().collect())
            .unwrap_or_default();
        let inventory_credentials = !inv_creds.is_empty();
        let mut credentials: Vec<CredentialNode> = Vec::new();
        let mut cred_rights: Vec<Rights> = Vec::new();
        if inventory_credentials {
            let mut sorted = inv_creds;
            sorted.sort_by(|a, b| a.id.cmp(&b.id));
            for c in sorted {
                credentials.push(CredentialNode {
                    id: c.id.clone(),
                    ecosystem: c.ecosystem,
                    kind: Some(c.kind),
                    account: account_by_id[&(c.ecosystem, c.account.as_str())],
                    scopes: c.scopes.clone(),
                    all_scopes: c.scopes.is_empty(),
                    packages: c.packages.clone(),
                    expires: c.expires,
                });
                cred_rights.push(c.rights);
            }
        } else {
            for (i, a) in accounts.iter().enumerate() {
                credentials.push(CredentialNode {
                    id: a.id.clone(),
                    ecosystem: a.ecosystem,
                    kind: None,
                    account: AccountId::from_index(i),
                    scopes: Vec::new(),
                    all_scopes: true,
                    packages: None,
                    expires: None,
                });
                cred_rights.push(Rights {
                    publish: true,
                    yank: true,
                });
            }
        }

        // Lockfiles are independent: their pins are looked up in parallel. (Manifests are
        // paired with lockfiles below, once they are interned.)
        let mut lockfiles: Vec<LockfileNode> = facts
            .lockfiles
            .par_iter()
            .map(|l| LockfileNode {
                id: l.id.clone(),
                file: l.file.clone(),
                ecosystem: l.ecosystem,
                entries: l
                    .packages
                    .iter()
                    .map(|e| LockEntry {
                        name: e.name.clone(),
                        version: e.version.clone(),
                        node: e.registry.then(|| {
                            version_lookup[&(pid(l.ecosystem, &e.name), e.version.as_str())]
                        }),
                        deps: e.deps.iter().map(|&d| d as u32).collect(),
                    })
                    .collect(),
                roots: l.roots.iter().map(|&r| r as u32).collect(),
                manifest: None,
            })
            .collect();
        let lock_by_file: FxHashMap<std::path::PathBuf, LockfileId> = lockfiles
            .iter()
            .enumerate()
            .map(|(i, l)| (l.file.clone(), LockfileId::from_index(i)))
            .collect();

        let mut mirrors_src: Vec<_> = inv.map(|i| i.mirrors.iter().collect()).unwrap_or_default();
        mirrors_src.sort_by(|a, b| a.id.cmp(&b.id));
        let mirrors: Vec<MirrorNode> = mirrors_src
            .iter()
            .map(|m| MirrorNode {
                id: m.id.clone(),
                ecosystem: m.ecosystem,
                honors_yank: m.honors_yank,
                syncs: m.syncs.clone(),
                interval: m.interval,
            })
            .collect();
        let mut envs_src: Vec<_> = inv
            .map(|i| i.environments.iter().collect())
            .unwrap_or_default();
        envs_src.sort_by(|a, b| a.id.cmp(&b.id));
        let environments: Vec<EnvironmentNode> = envs_src
            .iter()
            .map(|e| EnvironmentNode {
                id: e.id.clone(),
                executes: e.executes.clone(),
            })
            .collect();

        // Interned requirements and strings.
        // Sized once: ten million requirements must not be copied by doubling (every fresh
        // page costs a fault), and each version's requirements are one range of `deps`.
        let mut interner = Interner::default();
        let dep_total: usize = fact_of_version
            .iter()
            .flatten()
            .map(|&fi| facts.versions[fi].deps.len())
            .sum();
        let mut deps: Vec<Dep> = Vec::with_capacity(dep_total);
        let mut dep_offsets: Vec<u32> = Vec::with_capacity(versions.len() + 1);
        dep_offsets.push(0);
        // The package of every requirement, looked up in parallel; interning stays in order.
        let dep_packages: Vec<PackageId> = fact_of_version
            .par_iter()
            .flat_map_iter(|fi| {
                fi.iter().flat_map(|&fi| {
                    let fact = &facts.versions[fi];
                    fact.deps.iter().map(|d| pid(fact.ecosystem, &d.package))
                })
            })
            .collect();
        let mut next_package = dep_packages.into_iter();
        for fi in &fact_of_version {
            if let Some(fi) = *fi {
                let fact = &facts.versions[fi];
                for d in &fact.deps {
                    let p = next_package.next().expect("one package per requirement");
                    deps.push(interner.dep(fact.ecosystem, d, p));
                }
            }
            dep_offsets.push(u32::try_from(deps.len()).expect("more than 2^32 requirements"));
        }
        let manifests: Vec<ManifestNode> = facts
            .manifests
            .iter()
            .map(|m| ManifestNode {
                id: m.id.clone(),
                name: m.name.clone(),
                deps: m
                    .deps
                    .iter()
                    .map(|d| interner.dep(m.ecosystem, d, pid(m.ecosystem, &d.package)))
                    .collect(),
            })
            .collect();
        let manifest_by_file: FxHashMap<&std::path::Path, u32> = facts
            .manifests
            .iter()
            .enumerate()
            .map(|(i, m)| (m.file.as_path(), i as u32))
            .collect();
        // The manifest a fresh build resolves: the one of the lockfile's ecosystem beside it.
        for l in &mut lockfiles {
            let name = match l.ecosystem {
                Ecosystem::CratesIo => "Cargo.toml",
                Ecosystem::Npm => "package.json",
                Ecosystem::Pypi => "pyproject.toml",
            };
            l.manifest = l
                .file
                .parent()
                .and_then(|d| manifest_by_file.get(d.join(name).as_path()).copied());
        }
        let mirror_by_id: FxHashMap<&str, MirrorId> = mirrors
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.as_str(), MirrorId::from_index(i)))
            .collect();
        let mut builds: Vec<BuildNode> = Vec::with_capacity(facts.builds.len());
        for b in &facts.builds {
            let lockfile = *lock_by_file.get(b.lockfile_file.as_path()).ok_or_else(|| {
                crate::error::Error::Parse {
                    location: b.location.clone(),
                    message: format!(
                        "build {:?}: its lockfile {} was not loaded",
                        b.id, b.lockfile_id
                    ),
                }
            })?;
            let mirror = match &b.mirror {
                None => None,
                Some(m) => Some(*mirror_by_id.get(m.as_str()).ok_or_else(|| crate::error::Error::Parse {
                    location: b.location.clone(),
                    message: format!(
                        "build {:?} names unknown mirror {m:?} (expected the id of an inventory [[mirror]])",
                        b.id
                    ),
                })?),
            };
            builds.push(BuildNode {
                id: b.id.clone(),
                lockfile,
                started_at: b.started_at,
                fresh: b.fresh,
                mirror,
            });
        }
        let Interner { reqs, strings, .. } = interner;

        // ---- pass 2: the relations, as CSR tables (the petgraph view is derived from
        // them on first use: see `Graph::petgraph`) ---------------------------------------
        let counts = [
            credentials.len(),
            accounts.len(),
            packages.len(),
            versions.len(),
            lockfiles.len(),
            builds.len(),
            mirrors.len(),
            environments.len(),
        ];
        let mut starts = [0u32; 9];
        for k in 0..8 {
            starts[k + 1] = starts[k] + u32::try_from(counts[k]).expect("too many nodes");
        }

        let mut may_publish: Vec<Vec<(PackageId, Rights)>> = vec![Vec::new(); credentials.len()];
        let mut account_credentials: Vec<Vec<CredentialId>> = vec![Vec::new(); accounts.len()];
        for (ci, c) in credentials.iter().enumerate() {
            let cid = CredentialId::from_index(ci);
            account_credentials[c.account.index()].push(cid);
            let rights = cred_rights[ci];
            if !rights.publish && !rights.yank {
                continue;
            }
            for &p in &owns_lists[c.account.index()] {
                let name = &packages[p.index()].name;
                let allowed = match &c.packages {
                    None => true,
                    Some(pats) => pats.iter().any(|pat| name_matches(c.ecosystem, pat, name)),
                };
                // A trusted-publishing-only package takes new versions from its CI workflow's
                // OIDC token alone: an API token can still yank, not publish. A session (and
                // an account acting with all its rights) can lift the setting: both rights.
                let mut rights = rights;
                if packages[p.index()].trustpub_only && c.kind == Some(CredentialKind::ApiToken) {
                    rights.publish = false;
                }
                if allowed
                    && packages[p.index()].ecosystem == c.ecosystem
                    && (rights.publish || rights.yank)
                {
                    may_publish[ci].push((p, rights));
                }
            }
        }
        let mut package_pins: Vec<Vec<(LockfileId, VersionId, u32)>> =
            vec![Vec::new(); packages.len()];
        for (li, l) in lockfiles.iter().enumerate() {
            let lid = LockfileId::from_index(li);
            for (ei, e) in l.entries.iter().enumerate() {
                if let Some(v) = e.node {
                    package_pins[versions[v.index()].package.index()].push((lid, v, ei as u32));
                }
            }
        }
        for l in &mut package_pins {
            l.sort_unstable_by_key(|a| (a.0, a.1, a.2));
        }
        let mut lockfile_mirrors: Vec<Vec<MirrorId>> = vec![Vec::new(); lockfiles.len()];
        let mut mirror_lockfiles: Vec<Vec<LockfileId>> = vec![Vec::new(); mirrors.len()];
        if let Some(inv) = inv {
            for (mi, m) in mirrors_src.iter().enumerate() {
                let mid = MirrorId::from_index(mi);
                for (li, l) in lockfiles.iter().enumerate() {
                    if l.ecosystem != m.ecosystem {
                        continue;
                    }
                    let rel = match l.file.strip_prefix(&inv.dir) {
                        Ok(r) => r.to_string_lossy().replace('\\', "/"),
                        Err(_) => l.id.clone(),
                    };
                    if m.serves.iter().any(|pat| pattern::matches_path(pat, &rel)) {
                        let lid = LockfileId::from_index(li);
                        lockfile_mirrors[li].push(mid);
                        mirror_lockfiles[mi].push(lid);
                    }
                }
            }
        }
        let cred_by_id: FxHashMap<&str, CredentialId> = credentials
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), CredentialId::from_index(i)))
            .collect();
        let mut lockfile_environments: Vec<Vec<EnvironmentId>> = vec![Vec::new(); lockfiles.len()];
        let mut environment_lockfiles: Vec<Vec<LockfileId>> = Vec::with_capacity(envs_src.len());
        let mut environment_credentials: Vec<Vec<CredentialId>> =
            Vec::with_capacity(envs_src.len());
        for (ei, e) in envs_src.iter().enumerate() {
            let eid = EnvironmentId::from_index(ei);
            let mut ls: Vec<LockfileId> = e
                .lockfiles
                .iter()
                .filter_map(|r| lock_by_file.get(r.file.as_path()).copied())
                .collect();
            ls.sort_unstable();
            ls.dedup();
            for &l in &ls {
                lockfile_environments[l.index()].push(eid);
            }
            let mut cs: Vec<CredentialId> = e
                .credentials
                .iter()
                .filter_map(|c| cred_by_id.get(c.as_str()).copied())
                .collect();
            cs.sort_unstable();
            cs.dedup();
            environment_lockfiles.push(ls);
            environment_credentials.push(cs);
        }

        Ok(Graph {
            g: std::sync::OnceLock::new(),
            starts,
            credentials,
            accounts,
            packages,
            versions,
            lockfiles,
            builds,
            mirrors,
            environments,
            deps,
            reqs,
            strings,
            manifests,
            package_index,
            version_ranges,
            version_deps: Csr {
                offsets: dep_offsets,
                targets: (0..dep_total as u32).collect(),
            },
            may_publish: Csr::from_lists(may_publish),
            owns: Csr::from_lists(owns_lists),
            account_credentials: Csr::from_lists(account_credentials),
            package_pins: Csr::from_lists(package_pins),
            lockfile_environments: Csr::from_lists(lockfile_environments),
            lockfile_mirrors: Csr::from_lists(lockfile_mirrors),
            environment_lockfiles: Csr::from_lists(environment_lockfiles),
            environment_credentials: Csr::from_lists(environment_credentials),
            mirror_lockfiles: Csr::from_lists(mirror_lockfiles),
            inventory_credentials,
        })
    }
}

impl Graph {
    /// The petgraph view: every relation of the CSR tables as a typed edge. Derived, not
    /// stored: ranking and incidents walk the tables, so only export, edge checks and the
    /// edge count pay for it (a crates.io-sized graph has over ten million edges). The
    /// insertion order is fixed (kind by kind, each table in order), so `edges()` is stable.
    pub(super) fn build_petgraph(&self) -> DiGraph<NodeRef, Edge, u32> {
        let starts = self.starts;
        let ix = |n: NodeRef| NodeIndex::<u32>::new(starts[n.kind() as usize] as usize + n.local());
        let mut g: DiGraph<NodeRef, Edge, u32> = DiGraph::with_capacity(
            starts[8] as usize,
            self.deps.len() + self.versions.len() * 2,
        );
        // Kind by kind, in the order of `starts`: node `starts[k] + i` is `NodeRef::new(k, i)`.
        for kind in NodeKind::ALL {
            for i in 0..self.count(kind) {
                g.add_node(NodeRef::new(kind, i));
            }
        }
        for (ci, c) in self.credentials.iter().enumerate() {
            let cid = NodeRef::Credential(CredentialId::from_index(ci));
            let aid = NodeRef::Account(c.account);
            g.add_edge(ix(cid), ix(aid), Edge::ActsFor);
            g.add_edge(ix(aid), ix(cid), Edge::Mints);
            for &(p, rights) in self.may_publish.get(ci) {
                g.add_edge(ix(cid), ix(NodeRef::Package(p)), Edge::MayPublish(rights));
            }
        }
        for ai in 0..self.accounts.len() {
            for &p in self.owns.get(ai) {
                g.add_edge(
                    ix(NodeRef::Account(AccountId::from_index(ai))),
                    ix(NodeRef::Package(p)),
                    Edge::Owns,
                );
            }
        }
        for (pi, r) in self.version_ranges.iter().enumerate() {
            for v in r.clone() {
                g.add_edge(
                    ix(NodeRef::Package(PackageId::from_index(pi))),
                    ix(NodeRef::Version(VersionId(v))),
                    Edge::HasVersion,
                );
            }
        }
        for vi in 0..self.versions.len() {
            for &d in self.version_deps.get(vi) {
                g.add_edge(
                    ix(NodeRef::Version(VersionId::from_index(vi))),
                    ix(NodeRef::Package(self.deps[d as usize].package)),
                    Edge::DependsOn(d),
                );
            }
        }
        for (li, l) in self.lockfiles.iter().enumerate() {
            let lid = NodeRef::Lockfile(LockfileId::from_index(li));
            for (ei, e) in l.entries.iter().enumerate() {
                if let Some(v) = e.node {
                    g.add_edge(ix(lid), ix(NodeRef::Version(v)), Edge::Pins(ei as u32));
                }
            }
        }
        for mi in 0..self.mirrors.len() {
            let mid = NodeRef::Mirror(MirrorId::from_index(mi));
            for &l in self.mirror_lockfiles.get(mi) {
                g.add_edge(ix(NodeRef::Lockfile(l)), ix(mid), Edge::ServedBy);
            }
            for v in self.mirror_copies(MirrorId::from_index(mi)) {
                g.add_edge(ix(mid), ix(NodeRef::Version(v)), Edge::Copies);
            }
        }
        for (bi, b) in self.builds.iter().enumerate() {
            let bid = NodeRef::Build(BuildId::from_index(bi));
            g.add_edge(ix(bid), ix(NodeRef::Lockfile(b.lockfile)), Edge::Uses);
            if let Some(m) = b.mirror {
                g.add_edge(ix(bid), ix(NodeRef::Mirror(m)), Edge::FetchesThrough);
            }
        }
        for ei in 0..self.environments.len() {
            let eid = NodeRef::Environment(EnvironmentId::from_index(ei));
            for &l in self.environment_lockfiles.get(ei) {
                g.add_edge(ix(eid), ix(NodeRef::Lockfile(l)), Edge::Installs);
            }
            for &c in self.environment_credentials.get(ei) {
                g.add_edge(ix(eid), ix(NodeRef::Credential(c)), Edge::Holds);
            }
        }
        g
    }

    /// The versions a mirror copies: every version pinned by a lockfile it serves, once each,
    /// in id order.
    pub(super) fn mirror_copies(&self, m: MirrorId) -> BTreeSet<VersionId> {
        let mut copied = BTreeSet::new();
        for &l in self.mirror_lockfiles.get(m.index()) {
            copied.extend(
                self.lockfiles[l.index()]
                    .entries
                    .iter()
                    .filter_map(|e| e.node),
            );
        }
        copied
    }

    /// The number of edges of the petgraph view, counted from the tables without building it.
    pub(super) fn count_edges(&self) -> usize {
        let pins: usize = self
            .lockfiles
            .iter()
            .map(|l| l.entries.iter().filter(|e| e.node.is_some()).count())
            .sum();
        let copies: usize = (0..self.mirrors.len())
            .map(|m| self.mirror_copies(MirrorId::from_index(m)).len())
            .sum();
        2 * self.credentials.len()
            + self.may_publish.targets.len()
            + self.owns.targets.len()
            + self.versions.len()
            + self.version_deps.targets.len()
            + pins
            + self.mirror_lockfiles.targets.len()
            + copies
            + self.builds.len()
            + self.builds.iter().filter(|b| b.mirror.is_some()).count()
            + self.environment_lockfiles.targets.len()
            + self.environment_credentials.targets.len()
    }
}

/// A package pattern of the inventory against a package name, compared the way the registry
/// compares names: PyPI folds case and `-`/`_`/`.` (PEP 503), so a project token for
/// `Acme_Utils` covers `acme-utils`; npm scopes work as written (`@acme/*`).
fn name_matches(eco: Ecosystem, pattern: &str, name: &str) -> bool {
    match eco {
        Ecosystem::Pypi => pattern::matches(&eco.normalise(pattern), &eco.normalise(name)),
        _ => pattern::matches(pattern, name),
    }
}

/// Orders versions the way the ecosystem does (Cargo semver, node-semver, PEP 440), with
/// unparsable strings after all parsable ones in byte order, so every version has a place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct VersionKey {
    parsed: Option<Version>,
    raw: String,
}

impl VersionKey {
    fn new(eco: Ecosystem, s: &str) -> Self {
        VersionKey {
            parsed: Version::parse(eco, s),
            raw: s.to_owned(),
        }
    }
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (&self.parsed, &other.parsed) {
            (Some(a), Some(b)) => a.cmp(b).then_with(|| self.raw.cmp(&other.raw)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => self.raw.cmp(&other.raw),
        }
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Interns requirement strings (parsed once) and target/rename strings: millions of
/// requirements share a few thousand distinct texts.
#[derive(Default)]
struct Interner {
    reqs: Vec<Req>,
    /// Per ecosystem (indexed by `Ecosystem as usize`), looked up by `&str`.
    req_ix: [FxHashMap<String, u32>; 3],
    strings: Vec<String>,
    str_ix: FxHashMap<String, u32>,
}

impl Interner {
    /// The same text means different things per ecosystem (`1.2.3` is a caret in Cargo and an
    /// exact pin in npm), so requirements are interned per ecosystem.
    fn req(&mut self, eco: Ecosystem, text: &str) -> u32 {
        if let Some(&i) = self.req_ix[eco as usize].get(text) {
            return i;
        }
        self.reqs.push(Req {
            text: text.to_owned(),
            ecosystem: eco,
            parsed: Requirement::parse(eco, text).ok(),
        });
        let i = (self.reqs.len() - 1) as u32;
        self.req_ix[eco as usize].insert(text.to_owned(), i);
        i
    }

    fn string(&mut self, s: &Option<Box<str>>) -> Option<u32> {
        let s: &str = s.as_deref()?;
        if let Some(&i) = self.str_ix.get(s) {
            return Some(i);
        }
        self.strings.push(s.to_owned());
        let i = (self.strings.len() - 1) as u32;
        self.str_ix.insert(s.to_owned(), i);
        Some(i)
    }

    fn dep(&mut self, eco: Ecosystem, d: &crate::ingest::DepFact, package: PackageId) -> Dep {
        Dep {
            package,
            req: self.req(eco, &d.req),
            kind: d.kind,
            optional: d.optional,
            target: self.string(&d.target),
            rename: self.string(&d.rename),
        }
    }
}
