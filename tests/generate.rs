//! `generate::write_world` round trip: a generated world written as files (sparse index,
//! inventory, Cargo.lock) and loaded back answers `rank --all-accounts` exactly as the facts
//! built in memory do. `scripts/compare-igraph` relies on this: it compares another tool's
//! answers on the files against blastradius's.

use std::collections::BTreeMap;
use std::path::Path;

use blastradius::engine::rank::Counts;
use blastradius::engine::{self, AttackIndex, Query, RankSubject, VersionsMode};
use blastradius::generate::{world, write_world, IndexLayout, WorldParams};
use blastradius::graph::{Graph, NodeKind};
use blastradius::ingest::{self, detect::Input, Facts};

fn query() -> Query {
    Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions: VersionsMode::Latest,
        hops: 1,
    }
}

/// Every account's id with its inject and disrupt counts and publishable packages.
fn ranking(facts: &Facts) -> (Graph, BTreeMap<String, (Counts, Counts, usize)>) {
    let g = Graph::build(facts).unwrap();
    g.verify().unwrap();
    let q = query();
    let idx = AttackIndex::new(&g, q.versions);
    let ranked = engine::rank(&g, &idx, &q, RankSubject::Accounts, true)
        .into_iter()
        .map(|e| (e.id, (e.inject, e.disrupt, e.publishable)))
        .collect();
    (g, ranked)
}

fn load(dir: &Path) -> Facts {
    ingest::load(&[Input::new(dir)]).unwrap()
}

fn params() -> WorldParams {
    WorldParams {
        lockfiles: 12,
        ..WorldParams::crates_io_like(2_000, 7)
    }
}

#[test]
fn files_answer_like_the_facts() {
    let facts = world(&params());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("world");
    write_world(&facts, &dir, IndexLayout::Shards).unwrap();
    let loaded = load(&dir);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let (g_mem, mem) = ranking(&facts);
    let (g_files, files) = ranking(&loaded);
    for kind in [NodeKind::Package, NodeKind::Version, NodeKind::Lockfile] {
        assert_eq!(g_mem.count(kind), g_files.count(kind), "{kind:?} nodes");
    }
    assert_eq!(mem.len(), params().accounts, "one entry per account");
    assert_eq!(
        mem.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );
    let mut differences = Vec::new();
    for (id, want) in &mem {
        if files[id] != *want {
            differences.push(format!("{id}: memory {want:?}, files {:?}", files[id]));
        }
    }
    assert!(
        differences.is_empty(),
        "{} accounts differ, first: {:?}",
        differences.len(),
        &differences[..differences.len().min(5)]
    );
    // The world is not trivial: some accounts reach far, some lockfiles are exposed.
    assert!(mem.values().any(|c| c.0.packages > 100));
    assert!(mem.values().any(|c| c.0.lockfiles > 0));
}

#[test]
fn cargo_layout_reads_the_same() {
    let facts = world(&WorldParams {
        lockfiles: 2,
        ..WorldParams::crates_io_like(300, 3)
    });
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("shards"), tmp.path().join("cargo"));
    write_world(&facts, &a, IndexLayout::Shards).unwrap();
    write_world(&facts, &b, IndexLayout::PerCrate).unwrap();
    assert!(b.join("index/pk/g1/pkg1").is_file());
    assert_eq!(ranking(&load(&a)).1, ranking(&load(&b)).1);
}

#[test]
fn lines_are_sparse_index_lines() {
    let facts = world(&WorldParams::crates_io_like(200, 1));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    write_world(&facts, &dir, IndexLayout::Shards).unwrap();
    let text = std::fs::read_to_string(dir.join("index/crates-00000.jsonl")).unwrap();
    let with_deps = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| !v["deps"].as_array().unwrap().is_empty())
        .unwrap();
    for key in [
        "name", "vers", "deps", "cksum", "features", "yanked", "pubtime",
    ] {
        assert!(with_deps.get(key).is_some(), "{key} missing: {with_deps}");
    }
    assert_eq!(with_deps["cksum"].as_str().unwrap().len(), 64);
    let dep = &with_deps["deps"][0];
    for key in [
        "name",
        "req",
        "features",
        "optional",
        "default_features",
        "target",
        "kind",
    ] {
        assert!(dep.get(key).is_some(), "{key} missing: {dep}");
    }
    assert!(dep.get("package").is_none(), "no rename, no `package`");
}

#[test]
fn refuses_a_non_empty_directory() {
    let facts = world(&WorldParams::crates_io_like(50, 1));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("stale.jsonl"), "").unwrap();
    let err = write_world(&facts, tmp.path(), IndexLayout::Shards).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
}
