//! Criterion benchmarks for the engine on generated crates.io-shaped worlds.
//!
//! * `rank/10000`, `rank/200000` — ranking every credential (one per account, no inventory)
//!   in parallel; the graph and attack index are built outside the timed closure so only
//!   ranking is measured.
//! * `build/10000` — `Graph::build` plus `AttackIndex::new`, the fixed cost before any query.
//!
//! `cargo bench --bench rank`; sample sizes are kept at criterion's minimum so the whole run
//! fits in a few minutes on two cores.
//!
//! The 200 000-package case only runs with `BLASTRADIUS_BENCH_200K=1`: one rank of that
//! world takes about 14 s on two cores and criterion needs at least eleven iterations, so it
//! adds about three minutes (plus ~25 s to generate and build the world). Use
//! `examples/measure.rs` for a single timed run with peak memory.

use std::hint::black_box;
use std::time::Duration;

use blastradius::engine::{self, AttackIndex, Query, RankSubject, VersionsMode};
use blastradius::generate::{world, WorldParams};
use blastradius::graph::Graph;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn query() -> Query {
    Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions: VersionsMode::Latest,
        hops: 1,
    }
}

fn rank(c: &mut Criterion) {
    let q = query();
    let mut group = c.benchmark_group("rank");
    group.sample_size(10);
    let mut sizes = vec![(10_000usize, 10u64)];
    if std::env::var_os("BLASTRADIUS_BENCH_200K").is_some() {
        sizes.push((200_000, 60));
    }
    for (n, secs) in sizes {
        let facts = world(&WorldParams::crates_io_like(n, 42));
        let graph = Graph::build(&facts).expect("generated facts build");
        drop(facts);
        let index = AttackIndex::new(&graph, q.versions);
        group.measurement_time(Duration::from_secs(secs));
        if n > 10_000 {
            // One warm-up iteration is plenty for a run measured in seconds.
            group.warm_up_time(Duration::from_millis(1));
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                black_box(engine::rank(
                    &graph,
                    &index,
                    &q,
                    RankSubject::Credentials,
                    true,
                ))
            })
        });
    }
    group.finish();
}

fn build(c: &mut Criterion) {
    let q = query();
    let facts = world(&WorldParams::crates_io_like(10_000, 42));
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("10000", |b| {
        b.iter(|| {
            let graph = Graph::build(black_box(&facts)).expect("generated facts build");
            let index = AttackIndex::new(&graph, q.versions);
            black_box((graph, index))
        })
    });
    group.finish();
}

criterion_group!(benches, rank, build);
criterion_main!(benches);
