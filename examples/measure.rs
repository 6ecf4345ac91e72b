//! Measures the engine at scale on a generated crates.io-shaped world.
//!
//! ```text
//! cargo run --release --example measure -- 200000
//! ```
//!
//! Prints sizes, the time of each stage (generate, graph, attack index, parallel rank, and
//! sequential rank for worlds of at most 20 000 packages; the per-credential reference rank,
//! checked identical, for at most 50 000), the top three credentials and the
//! peak resident set size, so a change to the engine can be judged by numbers rather than
//! impressions.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use blastradius::engine::{self, AttackIndex, Query, RankSubject, VersionsMode};
use blastradius::generate::{world, WorldParams};
use blastradius::graph::{Graph, NodeKind};

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

/// Peak resident set size as the kernel reports it (`VmHWM`), when available.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_owned())
}

fn main() {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse().expect("usage: measure [PACKAGES]"),
        None => 10_000,
    };
    let params = WorldParams::crates_io_like(n, 42);
    let (facts, t_gen) = timed(|| world(&params));
    let edges: usize = facts.versions.iter().map(|v| v.deps.len()).sum();
    let (graph, t_graph) = timed(|| Graph::build(&facts).expect("generated facts build"));
    let query = Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions: VersionsMode::Latest,
        hops: 1,
    };
    let (index, t_index) = timed(|| AttackIndex::new(&graph, query.versions));

    println!("packages: {}", graph.count(NodeKind::Package));
    println!("versions: {}", graph.count(NodeKind::Version));
    println!("dependency edges: {edges}");
    println!("lockfiles: {}", graph.count(NodeKind::Lockfile));
    println!("credentials: {}", graph.count(NodeKind::Credential));
    println!("generate: {t_gen:.2?}");
    println!("graph build: {t_graph:.2?}");
    println!("attack index: {t_index:.2?}");
    drop(facts);
    if std::env::var_os("MEASURE_SNAPSHOT").is_some() {
        use blastradius::graph::snapshot;
        let (bytes, t_enc) = timed(|| snapshot::encode(&graph, &[]).expect("encodes"));
        let (decoded, t_dec) = timed(|| {
            snapshot::decode(std::path::Path::new("measure.snap"), &bytes).expect("decodes")
        });
        println!(
            "snapshot: {} MB, encode {t_enc:.2?}, decode (bounds check, verify, re-parse) {t_dec:.2?}",
            bytes.len() / 1_000_000
        );
        drop(decoded);
    }

    let (ranking, t_par) =
        timed(|| engine::rank(&graph, &index, &query, RankSubject::Credentials, true));
    println!(
        "rank parallel ({} threads): {t_par:.2?}",
        rayon::current_num_threads()
    );
    if n <= 20_000 {
        let (seq, t_seq) =
            timed(|| engine::rank(&graph, &index, &query, RankSubject::Credentials, false));
        println!("rank sequential: {t_seq:.2?}");
        assert_eq!(seq, ranking, "parallel and sequential rank disagree");
    }
    if n <= 50_000 {
        // The peer in the same run: one traversal per credential (the reference engine),
        // which must give the identical ranking.
        let (reference, t_ref) =
            timed(|| engine::rank_reference(&graph, &index, &query, RankSubject::Credentials));
        assert_eq!(
            reference, ranking,
            "bit-parallel and reference rank disagree"
        );
        println!(
            "rank reference (one traversal per credential, parallel): {t_ref:.2?}, identical answers; bit-parallel is {:.1}x faster",
            t_ref.as_secs_f64() / t_par.as_secs_f64()
        );
    }
    // The shape of the scores says where rank's time goes: each credential costs a
    // traversal of what it reaches, inject and disrupt both.
    let mut scores: Vec<usize> = ranking.iter().map(|e| e.score).collect();
    scores.sort_unstable();
    let q = |f: f64| {
        scores
            .get(((scores.len() as f64 - 1.0) * f) as usize)
            .copied()
            .unwrap_or(0)
    };
    let packages = graph.count(NodeKind::Package);
    let big = ranking
        .iter()
        .filter(|e| e.inject.packages * 2 > packages)
        .count();
    let reached: usize = ranking
        .iter()
        .map(|e| e.inject.packages + e.disrupt.packages)
        .sum();
    println!(
        "scores: zero {}, median {}, p90 {}, p99 {}, max {}; reaching over half the packages: {big}",
        scores.iter().filter(|&&s| s == 0).count(),
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
    println!("packages visited by rank (inject + disrupt, all credentials): {reached}");
    for e in ranking.iter().take(3) {
        println!(
            "top: {} score {} (packages {}, lockfiles {}, publishable {})",
            e.id, e.score, e.inject.packages, e.inject.lockfiles, e.publishable
        );
    }
    println!(
        "peak RSS: {}",
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
}
