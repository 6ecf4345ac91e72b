//! `blastradius ingest --snapshot` and snapshots as inputs: the same answers, byte for byte,
//! as from the original inputs; corrupt, mixed or foreign files are errors (exit 1).

use std::path::Path;

use assert_cmd::Command;

const AT: &str = "2026-06-01T00:00:00Z";

fn bin() -> Command {
    let mut c = Command::cargo_bin("blastradius").expect("binary");
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("RAYON_NUM_THREADS");
    c
}

fn run(args: &[&str]) -> (i32, Vec<u8>, String) {
    let o = bin().args(args).output().expect("runs");
    (
        o.status.code().unwrap_or(-1),
        o.stdout,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn snapshot_of(dir: &Path, inputs: &[&str]) -> String {
    let snap = dir.join("demo.snap").display().to_string();
    let mut args = vec!["ingest"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["--snapshot", &snap]);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nodes"), "{err}");
    snap
}

#[test]
fn every_command_answers_the_same_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot_of(dir.path(), &["data"]);
    let questions: [&[&str]; 5] = [
        &["rank", "--format", "json", "--at", AT],
        &[
            "rank",
            "--all-accounts",
            "--hops",
            "2",
            "--format",
            "json",
            "--at",
            AT,
        ],
        &[
            "reach",
            "--credential",
            "acme-ci-token",
            "--format",
            "dot",
            "--at",
            AT,
        ],
        &[
            "incident",
            "--bad-from",
            "data/npm-incident/bad-versions.txt",
            "--window",
            "2025-09-08T13:16:00Z..2025-09-08T19:59:00Z",
            "--format",
            "json",
        ],
        &["export", "--format", "json"],
    ];
    for q in questions {
        let (c1, direct, e1) = run(q);
        let mut with_snap = q.to_vec();
        with_snap.push(&snap);
        let (c2, from_snap, e2) = run(&with_snap);
        assert_eq!((c1, c2), (0, 0), "{q:?}: {e1} {e2}");
        assert!(
            direct == from_snap,
            "{q:?} differs between data/ and its snapshot"
        );
    }
}

#[test]
fn snapshot_misuse_and_corruption_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot_of(dir.path(), &["data/index", "data/lockfiles"]);
    // Mixed with other inputs.
    let (code, _, err) = run(&["rank", &snap, "data/inventory.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("is a snapshot: give it as the only input"),
        "{err}"
    );
    // A snapshot given to ingest.
    let again = dir.path().join("again.snap").display().to_string();
    let (code, _, err) = run(&["ingest", &snap, "--snapshot", &again]);
    assert_eq!(code, 1, "{err}");
    assert!(!Path::new(&again).exists());
    // Truncated, and another format version.
    let bytes = std::fs::read(&snap).unwrap();
    let cut = dir.path().join("cut.snap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, out, err) = run(&["rank", "--format", "json", cut.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("cut.snap") && err.contains("corrupt snapshot"),
        "{err}"
    );
    let mut other = bytes.clone();
    other[16] = 9;
    let v2 = dir.path().join("v9.snap");
    std::fs::write(&v2, &other).unwrap();
    let (code, _, err) = run(&["rank", v2.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("format version 9"), "{err}");
}
