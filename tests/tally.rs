//! The work tally behind the progress bars (`blastradius::tally`): ingest counts every file it
//! reads, the rank engine every block of 512 sources. One test in its own binary, because the
//! tally is one per process.

use blastradius::engine::{self, AttackIndex, Query, RankSubject, VersionsMode};
use blastradius::generate::{world, WorldParams};
use blastradius::graph::Graph;
use blastradius::ingest::{self, detect::Input};
use blastradius::tally::TALLY;

#[test]
fn ingest_counts_files_and_rank_counts_blocks() {
    let dir = format!(
        "{}/tests/fixtures/rules/rule6-hops",
        env!("CARGO_MANIFEST_DIR")
    );
    let files = walkdir_count(std::path::Path::new(&dir));
    TALLY.reset();
    ingest::load(&[Input {
        path: dir.into(),
        display: "fx".into(),
    }])
    .unwrap();
    assert_eq!(
        TALLY.get(),
        (files, files),
        "every file listed and read once"
    );

    let g = Graph::build(&world(&WorldParams::crates_io_like(3000, 11))).unwrap();
    let q = Query {
        at: "2026-06-01T00:00:00Z".parse().unwrap(),
        versions: VersionsMode::Latest,
        hops: 1,
    };
    let idx = AttackIndex::new(&g, q.versions);
    TALLY.reset();
    let ranking = engine::rank(&g, &idx, &q, RankSubject::Accounts, true);
    let blocks = ranking.len().div_ceil(512) as u64;
    assert!(blocks > 1, "{} accounts", ranking.len());
    assert_eq!(TALLY.get(), (blocks, blocks));
}

/// Regular files under `dir`, as the ingest walk lists them.
fn walkdir_count(dir: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            n += walkdir_count(&p);
        } else {
            n += 1;
        }
    }
    n
}
