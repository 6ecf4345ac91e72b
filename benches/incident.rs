//! Criterion benchmark for incident mode (SPEC §4 rule 8) at the target scale:
//! scan 10 000 generated lockfiles of 500 registry packages each for 20 bad versions, target
//! under 2 s on two cores.
//!
//! * `incident/scan/10000x500` — `engine::incident::incident` over a graph holding the
//!   registry metadata of a 5 000-package crates.io-shaped world and 10 000 lockfiles (one
//!   root plus 500 pins each, 5 million pins in all). The world, the lockfiles, the graph and
//!   the bad versions are built once, outside the timed closure; the world has no builds and
//!   no mirrors, so what is timed is the lockfile scan (and the path to the first bad pin of
//!   every affected lockfile).
//!
//! Before the measurement one line goes to stderr: lockfiles, pins, affected lockfiles, the
//! time to generate the facts and to build the graph, the resident memory once the facts are
//! generated (`VmRSS`, before the graph exists) and the peak once the graph is built (`VmHWM`:
//! facts and graph together), Linux only. The difference is about the graph's footprint
//! (freed heap is not returned to the OS, so `VmRSS` after dropping the facts says nothing).
//!
//! `cargo bench --bench incident`. Everything is seeded: the same seed gives the same
//! lockfiles, the same bad versions and the same answer.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use blastradius::engine::incident::{self, Bad, Window};
use blastradius::generate::{world, Rng, WorldParams};
use blastradius::graph::Graph;
use blastradius::ingest::advisory::BadSpec;
use blastradius::ingest::{Ecosystem, Facts, LockedPackage, LockfileFact};
use criterion::{criterion_group, criterion_main, Criterion};

const SEED: u64 = 42;
const PACKAGES: usize = 5_000;
const LOCKFILES: usize = 10_000;
const PINS_PER_LOCKFILE: usize = 500;
const BAD_VERSIONS: usize = 20;
/// Direct dependencies of each lockfile's root.
const ROOT_DEPS: usize = 10;

/// An index below `n`, skewed towards 0 (popular packages have low numbers).
fn popular(rng: &mut Rng, n: usize) -> usize {
    ((n as f64 * rng.unit().powi(2)) as usize).min(n - 1)
}

/// A registry world (metadata only) plus `lockfiles` lockfiles of `pins` registry packages.
///
/// Each lockfile `gen/app{k}/Cargo.lock` has one root (`app{k}`, not from the registry) and
/// `pins` distinct packages, drawn with a skew towards popular ones, each pinned at one of its
/// published versions (the newest three times in five). Entry `j` (1-based) is reached from
/// an earlier entry (or from the root for the first `ROOT_DEPS`), and most entries add a few
/// edges to later ones, so every entry lies on a path from the root and the graph is a DAG.
fn facts(seed: u64, lockfiles: usize, pins: usize) -> Facts {
    let mut facts = world(&WorldParams {
        lockfiles: 0,
        ..WorldParams::crates_io_like(PACKAGES, seed)
    });
    // Published versions per package, lowest first (the facts are canonicalised, and
    // `pkg{i}` versions are generated in increasing order).
    let mut versions: Vec<Vec<String>> = vec![Vec::new(); PACKAGES];
    for v in &facts.versions {
        let i: usize = v.name["pkg".len()..].parse().expect("generated name");
        versions[i].push(v.version.clone());
    }
    for list in &mut versions {
        list.sort_by_key(|s| semver::Version::parse(s).expect("generated version"));
    }
    let names: Vec<String> = (0..PACKAGES).map(|i| format!("pkg{i}")).collect();
    let pins = pins.min(PACKAGES);

    let mut rng = rng_for(seed);
    let mut stamp: Vec<u32> = vec![u32::MAX; PACKAGES];
    let mut chosen: Vec<usize> = Vec::with_capacity(pins);
    facts.lockfiles.reserve(lockfiles);
    for k in 0..lockfiles {
        chosen.clear();
        let mut tries = 0usize;
        while chosen.len() < pins {
            tries += 1;
            // Skewed draws first; if they keep colliding, fall back to uniform ones.
            let p = if tries < 20 * pins {
                popular(&mut rng, PACKAGES)
            } else {
                rng.below(PACKAGES)
            };
            if stamp[p] != k as u32 {
                stamp[p] = k as u32;
                chosen.push(p);
            }
        }
        let mut packages: Vec<LockedPackage> = Vec::with_capacity(pins + 1);
        packages.push(LockedPackage {
            name: format!("app{k}").into(),
            version: "0.1.0".into(),
            registry: false,
            deps: (1..=ROOT_DEPS.min(pins)).collect(),
        });
        for &p in &chosen {
            let vs = &versions[p];
            let v = if rng.below(5) < 3 {
                vs.len() - 1
            } else {
                rng.below(vs.len())
            };
            packages.push(LockedPackage {
                name: names[p].as_str().into(),
                version: vs[v].as_str().into(),
                registry: true,
                deps: Vec::new(),
            });
        }
        // A spanning tree from the root: entry j > ROOT_DEPS hangs off an earlier entry.
        for j in ROOT_DEPS + 1..=pins {
            let parent = 1 + rng.below(j - 1);
            packages[parent].deps.push(j);
        }
        // A few more edges to later entries (0 to 3 each, fewer near the end).
        for (j, e) in packages.iter_mut().enumerate().take(pins).skip(1) {
            for _ in 0..rng.below(4) {
                e.deps.push(j + 1 + rng.below(pins - j));
            }
        }
        for e in &mut packages {
            e.deps.sort_unstable();
            e.deps.dedup();
        }
        let id = format!("gen/app{k}/Cargo.lock");
        facts.lockfiles.push(LockfileFact {
            file: PathBuf::from(&id),
            id,
            ecosystem: Ecosystem::CratesIo,
            packages,
            roots: vec![0],
        });
    }
    facts.canonicalise();
    facts
}

/// `count` distinct versions pinned by at least one lockfile, drawn uniformly among the
/// distinct pinned versions (so most are pinned by a minority of lockfiles).
fn bad_specs(facts: &Facts, seed: u64, count: usize) -> Vec<BadSpec> {
    let mut pinned: Vec<(&str, &str)> = facts
        .lockfiles
        .iter()
        .flat_map(|l| l.packages.iter().filter(|p| p.registry))
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    pinned.sort_unstable();
    pinned.dedup();
    let mut rng = rng_for(seed.wrapping_add(1));
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count.min(pinned.len()) {
        let i = rng.below(pinned.len());
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
        .into_iter()
        .map(|i| BadSpec {
            ecosystem: Some(Ecosystem::CratesIo),
            name: pinned[i].0.to_owned(),
            version: pinned[i].1.to_owned(),
        })
        .collect()
}

/// A memory figure from `/proc/self/status` (Linux): `VmHWM` is the peak resident set size
/// so far, `VmRSS` the current one.
fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(field)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(|v| v.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "n/a".to_owned())
}

fn scan(c: &mut Criterion) {
    let t = Instant::now();
    let facts = facts(SEED, LOCKFILES, PINS_PER_LOCKFILE);
    let generated = t.elapsed();
    let facts_rss = status("VmRSS");
    let pins: usize = facts
        .lockfiles
        .iter()
        .map(|l| l.packages.iter().filter(|p| p.registry).count())
        .sum();
    let specs = bad_specs(&facts, SEED, BAD_VERSIONS);
    let t = Instant::now();
    let graph = Graph::build(&facts).expect("generated facts build");
    let built = t.elapsed();
    let peak = status("VmHWM");
    let lockfiles = facts.lockfiles.len();
    drop(facts);
    let bad: Vec<Bad> = incident::bad_versions(&graph, &specs).expect("bad versions");
    assert!(
        bad.iter().all(|b| b.node.is_some()),
        "every bad version is a known version node"
    );
    let window = Window {
        from: "2025-09-08T13:00:00Z".parse().unwrap(),
        to: "2025-09-08T15:00:00Z".parse().unwrap(),
    };
    let t = Instant::now();
    let once = incident::incident(&graph, bad.clone(), window).expect("incident");
    let first = t.elapsed();
    eprintln!(
        "incident/scan: {lockfiles} lockfiles, {pins} pins, {} bad versions, {} affected \
         lockfiles; generate {:.2?}, Graph::build {:.2?}, first scan {:.2?}; VmRSS {} with \
         the facts, VmHWM {} with facts and graph",
        bad.len(),
        once.lockfiles.len(),
        generated,
        built,
        first,
        facts_rss,
        peak
    );
    drop(once);

    let mut group = c.benchmark_group("incident");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(
        format!("scan/{LOCKFILES}x{PINS_PER_LOCKFILE}").as_str(),
        |b| b.iter(|| black_box(incident::incident(&graph, bad.clone(), window))),
    );
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);

/// The bench's own seeding, kept from before the generator's PRNG was shared, so the
/// published figures (3,063 affected lockfiles) stay reproducible.
fn rng_for(seed: u64) -> Rng {
    Rng::from_state(seed ^ 0xBB67_AE85_84CA_A73B)
}
