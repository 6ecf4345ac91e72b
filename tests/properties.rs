//! Properties of reach and rank over generated worlds (proptest): parallel rank equals
//! sequential rank; rank's counts equal reach's lists; reach from the union of two owners'
//! rights is the union of their reaches; adding a dependency never shrinks reach; every
//! witness path is a real path in the graph.

use std::collections::BTreeSet;
use std::path::PathBuf;

use blastradius::engine::{
    self, rank::counts_of, AttackIndex, Query, RankSubject, Source, VersionsMode,
};
use blastradius::graph::{Graph, NodeRef};
use blastradius::ingest::inventory::{
    Account, AccountKind, Credential, CredentialKind, Environment, Inventory, LockfileRef, Mirror,
    Rights,
};
use blastradius::ingest::{
    DepFact, DepKind, Ecosystem, Facts, LockedPackage, LockfileFact, VersionFact,
};
use proptest::prelude::*;

/// A proptest seed maps to one world through the generator's own PRNG.
use blastradius::generate::Rng;

/// True with probability `pct` percent.
fn chance(r: &mut Rng, pct: u64) -> bool {
    r.chance(pct as f64 / 100.0)
}

const REQS: [&str; 6] = ["^1", "=1.0.0", "*", ">=1.0, <=1.1.0", "~1.0", "^1.1"];

/// A small world: packages with one or two versions, random requirements of every kind
/// (cycles allowed), owners, credentials, lockfiles, environments and a mirror.
fn world(seed: u64, n: usize) -> Facts {
    let mut r = Rng::from_state(seed);
    let name = |i: usize| format!("p{i}");
    let mut versions = Vec::new();
    for i in 0..n {
        let count = 1 + r.below(2);
        for v in 0..count {
            let mut deps = Vec::new();
            for _ in 0..r.below(4) {
                let t = r.below(n);
                if t == i {
                    continue;
                }
                let kind = match r.below(10) {
                    0 => DepKind::Dev,
                    1 => DepKind::Build,
                    _ => DepKind::Normal,
                };
                deps.push(DepFact {
                    package: name(t).into(),
                    req: REQS[r.below(REQS.len())].into(),
                    kind,
                    optional: chance(&mut r, 10),
                    target: None,
                    rename: None,
                });
            }
            versions.push(VersionFact {
                ecosystem: Ecosystem::CratesIo,
                name: name(i),
                version: format!("1.{v}.0"),
                yanked: chance(&mut r, 5),
                published: None,
                deps,
                publisher: None,
                deps_known: true,
                install_script: false,
            });
        }
    }
    let mut lockfiles = Vec::new();
    for l in 0..3 {
        let mut packages = vec![LockedPackage {
            name: format!("app{l}").into(),
            version: "0.1.0".into(),
            registry: false,
            deps: vec![],
        }];
        let mut seen = BTreeSet::new();
        for _ in 0..1 + r.below(3) {
            let t = r.below(n);
            if seen.insert(t) {
                packages.push(LockedPackage {
                    name: name(t).into(),
                    version: "1.0.0".into(),
                    registry: true,
                    deps: vec![],
                });
                let last = packages.len() - 1;
                packages[0].deps.push(last);
            }
        }
        lockfiles.push(LockfileFact {
            id: format!("gen/l{l}/Cargo.lock"),
            file: PathBuf::from(format!("/gen/l{l}/Cargo.lock")),
            ecosystem: Ecosystem::CratesIo,
            packages,
            roots: vec![0],
        });
    }
    let owns =
        |r: &mut Rng| -> Vec<String> { (0..1 + r.below(3)).map(|_| name(r.below(n))).collect() };
    let mut accounts = Vec::new();
    let mut credentials = Vec::new();
    for a in 0..3 {
        accounts.push(Account {
            id: format!("acct{a}"),
            ecosystem: Ecosystem::CratesIo,
            kind: AccountKind::User,
            mfa: None,
            owns: owns(&mut r),
        });
        credentials.push(Credential {
            id: format!("tok{a}"),
            ecosystem: Ecosystem::CratesIo,
            kind: CredentialKind::ApiToken,
            account: format!("acct{a}"),
            scopes: vec![],
            rights: Rights {
                publish: true,
                yank: chance(&mut r, 50),
            },
            packages: None,
            expires: None,
        });
    }
    // acct-union owns exactly what acct0 and acct1 own together.
    let union: Vec<String> = accounts[0]
        .owns
        .iter()
        .chain(&accounts[1].owns)
        .cloned()
        .collect();
    accounts.push(Account {
        id: "acct-union".into(),
        ecosystem: Ecosystem::CratesIo,
        kind: AccountKind::User,
        mfa: None,
        owns: union,
    });
    let lref = |l: usize| LockfileRef {
        id: format!("gen/l{l}/Cargo.lock"),
        file: PathBuf::from(format!("/gen/l{l}/Cargo.lock")),
    };
    let environments = (0..2)
        .map(|e| Environment {
            id: format!("env{e}"),
            lockfiles: vec![lref(e), lref(2)],
            credentials: vec![format!("tok{}", (e + 1) % 3)],
            executes: vec!["build".into()],
        })
        .collect();
    let mirrors = vec![Mirror {
        id: "mirror".into(),
        ecosystem: Ecosystem::CratesIo,
        serves: vec!["gen/l1/*".into()],
        honors_yank: false,
        syncs: vec![],
        interval: None,
    }];
    let mut facts = Facts {
        versions,
        lockfiles,
        manifests: vec![],
        builds: vec![],
        owners: vec![],
        warnings: vec![],
        trustpub_only: vec![],
        inventory: Some(Inventory {
            path: "gen/inventory.toml".into(),
            dir: PathBuf::from("/"),
            display_dir: PathBuf::from("gen"),
            accounts,
            credentials,
            environments,
            mirrors,
        }),
    };
    facts.canonicalise();
    facts
}

fn q(versions: VersionsMode, hops: u32) -> Query {
    Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions,
        hops,
    }
}

/// Everything reached, as (kind, id) strings, per mode.
fn reached(g: &Graph, r: &engine::Reach) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (mode, f) in [("inject", &r.inject), ("disrupt", &r.disrupt)] {
        for x in f.iter() {
            out.insert(format!("{mode} {}", g.display(x.node)));
        }
    }
    out
}

fn account(g: &Graph, id: &str) -> Source {
    Source::Account(g.accounts().find(|&a| g.account(a).id == id).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn parallel_rank_equals_sequential_and_reference(seed in any::<u64>(), n in 2usize..14, all in any::<bool>(), hops in 1u32..3) {
        let g = Graph::build(&world(seed, n)).unwrap();
        g.verify().unwrap();
        let query = q(if all { VersionsMode::All } else { VersionsMode::Latest }, hops);
        let idx = AttackIndex::new(&g, query.versions);
        for subject in [RankSubject::Credentials, RankSubject::Accounts] {
            let par = engine::rank(&g, &idx, &query, subject, true);
            let seq = engine::rank(&g, &idx, &query, subject, false);
            prop_assert_eq!(&par, &seq);
            // The bit-parallel engine agrees with one traversal per source.
            let reference = engine::rank_reference(&g, &idx, &query, subject);
            prop_assert_eq!(&par, &reference);
        }
    }

    #[test]
    fn rank_counts_equal_reach_lists(seed in any::<u64>(), n in 2usize..14, hops in 1u32..4) {
        let g = Graph::build(&world(seed, n)).unwrap();
        let query = q(VersionsMode::Latest, hops);
        let idx = AttackIndex::new(&g, query.versions);
        for c in g.credentials() {
            let r = engine::reach(&g, &idx, Source::Credential(c), &query);
            let (inject, disrupt) = counts_of(&g, &idx, &query, c);
            prop_assert_eq!(inject.packages, r.inject.packages.len());
            prop_assert_eq!(inject.lockfiles, r.inject.lockfiles.len());
            prop_assert_eq!(inject.environments, r.inject.environments.len());
            prop_assert_eq!(inject.mirrors, r.inject.mirrors.len());
            prop_assert_eq!(inject.credentials, r.inject.credentials.len());
            prop_assert_eq!(disrupt.packages, r.disrupt.packages.len());
            prop_assert_eq!(disrupt.lockfiles, r.disrupt.lockfiles.len());
        }
    }

    #[test]
    fn reach_of_union_is_union_of_reaches(seed in any::<u64>(), n in 2usize..14, all in any::<bool>()) {
        let g = Graph::build(&world(seed, n)).unwrap();
        let query = q(if all { VersionsMode::All } else { VersionsMode::Latest }, 1);
        let idx = AttackIndex::new(&g, query.versions);
        let a = reached(&g, &engine::reach(&g, &idx, account(&g, "acct0"), &query));
        let b = reached(&g, &engine::reach(&g, &idx, account(&g, "acct1"), &query));
        let ab = reached(&g, &engine::reach(&g, &idx, account(&g, "acct-union"), &query));
        let union: BTreeSet<String> = a.union(&b).cloned().collect();
        prop_assert_eq!(ab, union);
    }

    #[test]
    fn adding_a_dependency_never_shrinks_reach(seed in any::<u64>(), n in 2usize..14, from in 0usize..14, to in 0usize..14, req in 0usize..6) {
        let before_facts = world(seed, n);
        let mut after_facts = world(seed, n);
        let (from, to) = (from % n, to % n);
        if let Some(v) = after_facts.versions.iter_mut().find(|v| v.name == format!("p{from}")) {
            v.deps.push(DepFact { package: format!("p{to}").into(), req: REQS[req].into(), kind: DepKind::Normal, optional: false, target: None, rename: None });
        }
        let gb = Graph::build(&before_facts).unwrap();
        let ga = Graph::build(&after_facts).unwrap();
        let query = q(VersionsMode::Latest, 2);
        let (ib, ia) = (AttackIndex::new(&gb, query.versions), AttackIndex::new(&ga, query.versions));
        for c in gb.credentials() {
            let id = gb.credential(c).id.clone();
            let ca = ga.credentials().find(|&x| ga.credential(x).id == id).unwrap();
            let before = reached(&gb, &engine::reach(&gb, &ib, Source::Credential(c), &query));
            let after = reached(&ga, &engine::reach(&ga, &ia, Source::Credential(ca), &query));
            prop_assert!(before.is_subset(&after), "{id}: lost {:?}", before.difference(&after).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_witness_path_is_a_real_path(seed in any::<u64>(), n in 2usize..14, hops in 1u32..4) {
        let g = Graph::build(&world(seed, n)).unwrap();
        let query = q(VersionsMode::All, hops);
        let idx = AttackIndex::new(&g, query.versions);
        for c in g.credentials() {
            let r = engine::reach(&g, &idx, Source::Credential(c), &query);
            for f in [&r.inject, &r.disrupt] {
                for x in f.iter() {
                    prop_assert_eq!(x.path.first(), Some(&NodeRef::Credential(c)));
                    prop_assert_eq!(x.path.last(), Some(&x.node));
                    // Only a package (and a version of it) can appear twice: its direct visit (the
                    // thief publishes it) and a transitive one through a cycle or a later hop
                    // (README, "Cycles"). Lockfiles, environments, mirrors, credentials never.
                    let mut seen = BTreeSet::new();
                    for n in &x.path {
                        prop_assert!(seen.insert(*n) || matches!(n, NodeRef::Package(_) | NodeRef::Version(_)), "repeated {:?} in {:?}", n, x.path.iter().map(|n| g.display(*n)).collect::<Vec<_>>());
                    }
                    for w in x.path.windows(2) {
                        // Paths run in the direction of compromise; dependency, version, pin and
                        // install edges are stored the other way round (SPEC §2).
                        prop_assert!(g.has_edge(w[0], w[1]) || g.has_edge(w[1], w[0]), "{:?} -> {:?} is not an edge", w[0], w[1]);
                    }
                }
            }
        }
    }
}

/// Generated crates.io-shaped worlds with more sources than one block (512 lanes) and every
/// word boundary in between: the bit-parallel rank equals one traversal per source.
#[test]
fn bit_parallel_rank_equals_reference_across_blocks() {
    use blastradius::generate::{world as crates_world, WorldParams};
    for (n, seed) in [(2_500usize, 7u64), (1_300, 11)] {
        let g = Graph::build(&crates_world(&WorldParams::crates_io_like(n, seed))).unwrap();
        assert!(
            g.credentials().len() > 512,
            "world too small to span blocks"
        );
        for versions in [VersionsMode::Latest, VersionsMode::All] {
            let query = q(versions, 1);
            let idx = AttackIndex::new(&g, query.versions);
            for subject in [RankSubject::Credentials, RankSubject::Accounts] {
                let fast = engine::rank(&g, &idx, &query, subject, true);
                let reference = engine::rank_reference(&g, &idx, &query, subject);
                assert_eq!(fast, reference, "n={n} seed={seed} {versions:?}");
            }
        }
    }
}

/// The concentration curve by the simplest route: each subject's inject packages from
/// [`engine::reach`] (one traversal with witness paths, no bit lanes), unioned in order.
fn reference_curve(g: &Graph, idx: &AttackIndex, query: &Query, order: &[Source]) -> Vec<usize> {
    let mut union = BTreeSet::new();
    order
        .iter()
        .map(|&s| {
            let r = engine::reach(g, idx, s, query);
            union.extend(r.inject.packages.iter().map(|x| x.node));
            union.len()
        })
        .collect()
}

/// Checks `engine::curve` against the reference in rank order and in reversed rank order,
/// parallel and sequential.
fn check_curve(g: &Graph, query: &Query, subject: RankSubject) -> Result<(), TestCaseError> {
    let idx = AttackIndex::new(g, query.versions);
    let ranking = engine::rank(g, &idx, query, subject, true);
    let ranked: Vec<Source> = ranking.iter().map(|e| e.source).collect();
    let reversed: Vec<Source> = ranked.iter().rev().copied().collect();
    for order in [&ranked, &reversed] {
        let expected = reference_curve(g, &idx, query, order);
        for parallel in [true, false] {
            let c = engine::curve(g, &idx, query, order, parallel);
            prop_assert_eq!(c.total_packages, g.packages().len());
            prop_assert_eq!(&c.reached, &expected, "parallel {}", parallel);
        }
    }
    // The first point is the top subject's own count, as rank reports it.
    if let Some(top) = ranking.first() {
        let c = engine::curve(g, &idx, query, &ranked, true);
        prop_assert_eq!(c.reached[0], top.inject.packages);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// `rank --summary`: the curve is exactly the union of the reach sets of the top k, for
    /// every k, with cycles, both version modes and hops through stolen credentials.
    #[test]
    fn curve_is_the_union_of_reach_sets_in_rank_order(seed in any::<u64>(), n in 2usize..14, all in any::<bool>(), hops in 1u32..4) {
        let g = Graph::build(&world(seed, n)).unwrap();
        let query = q(if all { VersionsMode::All } else { VersionsMode::Latest }, hops);
        for subject in [RankSubject::Credentials, RankSubject::Accounts] {
            check_curve(&g, &query, subject)?;
        }
    }
}

/// Generated crates.io-shaped worlds (explicit cycles, more subjects than one 512-lane block):
/// the curve equals the reference union across block boundaries.
#[test]
fn curve_equals_reference_across_blocks() {
    use blastradius::generate::{world as crates_world, WorldParams};
    for (n, seed, hops) in [(1_300usize, 11u64, 1u32), (2_500, 7, 2)] {
        let mut params = WorldParams::crates_io_like(n, seed);
        params.cycles = 12;
        let g = Graph::build(&crates_world(&params)).unwrap();
        assert!(g.accounts().len() > 512, "world too small to span blocks");
        for versions in [VersionsMode::Latest, VersionsMode::All] {
            let query = q(versions, hops);
            for subject in [RankSubject::Credentials, RankSubject::Accounts] {
                check_curve(&g, &query, subject)
                    .unwrap_or_else(|e| panic!("n={n} seed={seed} {versions:?}: {e}"));
            }
        }
    }
}
