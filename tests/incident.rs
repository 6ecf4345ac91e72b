//! SPEC §4 rule 8 on the hand-built incident fixture (tests/fixtures/incident/, made by
//! make.py there). p 1.1.0 is bad, live in [2026-03-10T10:00Z, 2026-03-10T12:00Z); p 1.2.0 is
//! a fix published 2026-03-12. Every expectation below was worked out by hand from the
//! fixture; the comment says why.

use std::collections::BTreeMap;

use assert_cmd::Command;
use serde_json::Value;

const WINDOW: &str = "2026-03-10T10:00:00Z..2026-03-10T12:00:00Z";
const FIXTURE: &str = "tests/fixtures/incident";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("blastradius")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn incident(extra: &[&str]) -> Value {
    let mut args = vec!["incident", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(FIXTURE);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// build id → reason, for affected builds.
fn reasons(v: &Value) -> BTreeMap<String, String> {
    v["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().to_owned(),
                b["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn build<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["builds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("{id} not affected"))
}

#[test]
fn every_build_gets_the_hand_checked_verdict() {
    let v = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    assert_eq!(v["bad"], serde_json::json!(["crates.io:p@1.1.0"]));
    assert_eq!(
        v["window"],
        serde_json::json!({"from": "2026-03-10T10:00:00Z", "to": "2026-03-10T12:00:00Z"})
    );
    let expected: BTreeMap<String, String> = [
        // Locked with the bad pin, at or after T0; before T0 the version did not exist.
        ("locked-bad-inside", "locked"),
        ("locked-bad-after", "locked"),
        // Fresh inside [T0, T1): ^1 takes 1.1.0, the highest available; T0 is inclusive.
        ("fresh-at-t0", "fresh"),
        ("fresh-inside", "fresh"),
        // Only route is transitive: transitive → q 1.0.0 → p ^1.
        ("fresh-transitive", "fresh"),
        // The manifest's own dev-dependency on p is resolved (CI runs the tests).
        ("fresh-devdep", "fresh"),
        // After the window through a mirror that synced inside it and ignores yanks, and
        // through one whose 1h interval is shorter than the 2h window.
        ("mirror-serving", "mirror"),
        ("mirror-interval", "mirror"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    // Not affected: locked-bad-before (before T0), locked-clean (pins 1.0.0), fresh-before,
    // fresh-at-t1 (T1 exclusive), fresh-after (1.1.0 gone, no mirror), fresh-exact (r pins
    // p =1.0.0), mirror-honouring (honours yanks), mirror-synced-outside (its syncs are at
    // 2026-03-09T12:00 and exactly T1), mirror-after-fix (1.2.0 published by then wins).
    assert_eq!(reasons(&v), expected);
    assert_eq!(v["summary"]["builds_checked"], 17);
}

#[test]
fn evidence_chains() {
    let v = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    assert_eq!(
        build(&v, "fresh-transitive")["chain"],
        serde_json::json!([
            "transitive (manifest)",
            "crates.io:q@1.0.0",
            "crates.io:p@1.1.0"
        ])
    );
    assert_eq!(
        build(&v, "locked-bad-inside")["chain"],
        serde_json::json!(["pinned-bad@0.1.0", "crates.io:p@1.1.0"])
    );
    assert_eq!(build(&v, "mirror-serving")["mirror"], "proxy");
    assert_eq!(build(&v, "mirror-serving")["version"], "crates.io:p@1.1.0");
}

#[test]
fn lockfiles_pinning_the_bad_version_with_the_path_from_the_root() {
    let v = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    assert_eq!(
        v["lockfiles"],
        serde_json::json!([{
            "id": "tests/fixtures/incident/pinned-bad/Cargo.lock",
            "versions": ["crates.io:p@1.1.0"],
            "path": ["pinned-bad@0.1.0", "crates.io:p@1.1.0"],
        }])
    );
}

#[test]
fn mirrors_cached_and_still_serving() {
    let v = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    let got: BTreeMap<String, (bool, bool)> = v["mirrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                (
                    m["cached"].as_bool().unwrap(),
                    m["still_serving"].as_bool().unwrap(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (bool, bool)> = [
        ("careful", (true, false)), // synced inside, honours yanks
        ("hourly", (true, true)),   // interval 1h <= 2h window, ignores yanks
        ("late", (false, false)),   // synced only outside [T0, T1)
        ("proxy", (true, true)),    // synced inside, ignores yanks
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b))
    .collect();
    assert_eq!(got, want);
    assert_eq!(v["summary"]["mirrors_still_serving"], 2);
}

#[test]
fn credential_selects_versions_published_in_the_window() {
    // tok can publish p; of p's versions only 1.1.0 (pubtime exactly T0) lies in the window.
    let by_cred = incident(&["--credential", "tok", "--window", WINDOW]);
    assert_eq!(by_cred["bad"], serde_json::json!(["crates.io:p@1.1.0"]));
    let by_name = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    assert_eq!(by_cred, by_name);
    // qtok can publish q, which published nothing in the window: nothing is affected.
    let none = incident(&["--credential", "qtok", "--window", WINDOW]);
    assert_eq!(none["bad"], serde_json::json!([]));
    assert_eq!(none["builds"], serde_json::json!([]));
    // A window that ends before 1.1.0 was published selects nothing.
    let early = incident(&[
        "--credential",
        "tok",
        "--window",
        "2026-03-10T08:00:00Z..2026-03-10T10:00:00Z",
    ]);
    assert_eq!(early["bad"], serde_json::json!([]));
}

#[test]
fn windows_with_and_without_time_zones_agree() {
    let utc = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    let offset = incident(&[
        "--bad",
        "p@1.1.0",
        "--window",
        "2026-03-10T06:00:00-04:00..2026-03-10T08:00:00-04:00",
    ]);
    let naive = incident(&[
        "--bad",
        "p@1.1.0",
        "--window",
        "2026-03-10T10:00..2026-03-10T12:00",
    ]);
    assert_eq!(utc, offset);
    assert_eq!(utc, naive);
}

#[test]
fn bad_from_lists_and_osv_records() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("bad.txt");
    std::fs::write(
        &list,
        "# responder's list\ncrates.io:p@1.1.0  # the bad one\n",
    )
    .unwrap();
    let osv = dir.path().join("MAL-TEST.json");
    std::fs::write(
        &osv,
        r#"{"id":"MAL-TEST","affected":[{"package":{"ecosystem":"crates.io","name":"p"},"versions":["1.1.0"]}]}"#,
    )
    .unwrap();
    let by_name = incident(&["--bad", "p@1.1.0", "--window", WINDOW]);
    assert_eq!(
        incident(&["--bad-from", list.to_str().unwrap(), "--window", WINDOW]),
        by_name
    );
    assert_eq!(
        incident(&["--bad-from", osv.to_str().unwrap(), "--window", WINDOW]),
        by_name
    );
    let bad_list = dir.path().join("broken.txt");
    std::fs::write(&bad_list, "p@1.1.0\nthis is not a version\n").unwrap();
    let (code, _, err) = run(&[
        "incident",
        "--bad-from",
        bad_list.to_str().unwrap(),
        "--window",
        WINDOW,
        FIXTURE,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("broken.txt:2:") && err.contains("expected NAME@VERSION"),
        "{err}"
    );
}

#[test]
fn malformed_build_log_rows_name_file_and_line() {
    for (case, line, words) in [
        (
            "bad-mode",
            3,
            "expected mode \"locked\" or \"fresh\", found \"rebuilt\"",
        ),
        ("bad-time", 2, "expected an RFC 3339 time"),
        ("short-row", 3, "expected 5 columns"),
        ("unknown-mirror", 3, "unknown mirror \"no-such-proxy\""),
        (
            "missing-lockfile",
            2,
            "expected a lockfile at \"../nowhere/Cargo.lock\"",
        ),
    ] {
        let path = format!("tests/fixtures/incident-invalid/{case}/builds.csv");
        let (code, out, err) = run(&[
            "incident", "--bad", "p@1.1.0", "--window", WINDOW, "--format", "json", &path,
        ]);
        assert_eq!(code, 1, "{case}: {err}");
        assert!(out.is_empty(), "{case}: nothing on stdout");
        assert!(err.contains(&format!("{path}:{line}: ")), "{case}: {err}");
        assert!(err.contains(words), "{case}: {err}");
    }
}

#[test]
fn usage_errors() {
    for args in [
        vec!["incident", "--window", WINDOW], // nothing bad named
        vec!["incident", "--bad", "p@1.1.0"], // no window
        vec!["incident", "--bad", "p@1.1.0", "--window", "2026-03-10"], // not T0..T1
        vec![
            "incident",
            "--bad",
            "p@1.1.0",
            "--window",
            "2026-03-10T12:00Z..2026-03-10T10:00Z",
        ], // reversed
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
    }
}

#[test]
fn json_and_dot_are_deterministic_and_dot_renders() {
    let args = [
        "incident", "--bad", "p@1.1.0", "--window", WINDOW, "--format", "dot", FIXTURE,
    ];
    let (c1, a, _) = run(&args);
    let (c2, b, _) = run(&args);
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(a, b);
    assert!(a.contains("crates.io:p@1.1.0") && a.contains("mirror-serving"));
    if std::process::Command::new("dot").arg("-V").output().is_ok() {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(a.as_bytes()).unwrap();
        assert!(
            child.wait().unwrap().success(),
            "dot -Tsvg rejected the incident DOT"
        );
    }
}

#[test]
fn table_leads_with_the_verdict() {
    let (code, out, _) = run(&[
        "incident", "--bad", "p@1.1.0", "--window", WINDOW, "--format", "table", FIXTURE,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().next(),
        Some("8 builds affected, 1 lockfile, 2 mirrors still serving")
    );
}

/// The demo's worked incident (data/incident/README.md gives the expected answer per build,
/// derived by hand): the four ways of naming it agree byte for byte.
#[test]
fn demo_replay_matches_the_worked_answer() {
    let w = "2026-03-10T14:05:00Z..2026-03-10T16:20:00Z";
    let forms: [&[&str]; 4] = [
        &["--bad", "acme-core@0.2.3"],
        &["--bad-from", "data/incident/bad-versions.txt"],
        &["--bad-from", "data/incident/MAL-ACME-0001.json"],
        &["--credential", "acme-ci-token"],
    ];
    let mut outputs = Vec::new();
    for f in forms {
        let mut args = vec!["incident", "--format", "json", "--window", w];
        args.extend_from_slice(f);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        outputs.push(out);
    }
    assert!(outputs.iter().all(|o| *o == outputs[0]));
    let v: Value = serde_json::from_str(&outputs[0]).unwrap();
    let want: BTreeMap<String, String> = [
        ("acme-api#1042", "fresh"),
        ("acme-api#1046", "mirror"),
        ("acme-reports#8", "locked"),
        ("acme-reports#9", "locked"),
        ("acme-website-backend#88", "fresh"),
        ("acme-worker#311", "fresh"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(reasons(&v), want);
    insta::assert_snapshot!("demo_incident_json", outputs[0]);
    let (_, table, _) = run(&[
        "incident",
        "--format",
        "table",
        "--window",
        w,
        "--bad",
        "acme-core@0.2.3",
    ]);
    insta::assert_snapshot!("demo_incident_table", table);
}

/// The 2025-09-08 npm replay in data/npm-incident/ (README there: the answer per build, worked
/// out by hand from the lockfiles): npm, yarn and pnpm lockfiles, a transitive-only pin, and
/// after the window only the proxy that kept the deleted versions still infects a build.
#[test]
fn npm_replay_matches_the_worked_answer() {
    let (code, out, err) = run(&[
        "incident",
        "--format",
        "json",
        "--bad-from",
        "data/npm-incident/bad-versions.txt",
        "--window",
        "2025-09-08T13:16:00Z..2025-09-08T19:59:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let want: BTreeMap<String, String> = [
        ("acme-cli-js#42", "locked"),
        ("acme-dashboard#501", "locked"),
        ("acme-dashboard#502", "mirror"),
        ("acme-docs#130", "locked"),
        ("acme-docs#131", "mirror"),
        // Fresh resolutions of acme-notify/package.json (debug ^4.3.4, chalk ^5.3.0) against
        // the packuments in data/npm-incident/registry: at 14:30 chalk 5.6.1 is the newest
        // (5.6.2 comes at 15:04) and is reached first; at 16:00 chalk 5.6.2 is out but debug
        // 4.4.2 has no successor until 09-13; on 09-10 only the proxy still serves it
        // (#13 mirror, #14 without a mirror resolves 4.4.1); #10 at 12:00 precedes T0.
        ("acme-notify#11", "fresh"),
        ("acme-notify#12", "fresh"),
        ("acme-notify#13", "mirror"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(reasons(&v), want);
    let version_of = |id: &str| {
        v["builds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .unwrap()["version"]
            .clone()
    };
    assert_eq!(version_of("acme-notify#11"), "npm:chalk@5.6.1");
    assert_eq!(version_of("acme-notify#12"), "npm:debug@4.4.2");
    assert_eq!(version_of("acme-notify#13"), "npm:debug@4.4.2");
    let lockfiles: BTreeMap<String, Value> = v["lockfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap().to_owned(), l["versions"].clone()))
        .collect();
    assert_eq!(lockfiles.len(), 3, "acme-status pins only clean versions");
    assert_eq!(
        lockfiles["data/npm-incident/acme-dashboard/package-lock.json"],
        serde_json::json!([
            "npm:ansi-regex@6.2.1",
            "npm:chalk@5.6.1",
            "npm:debug@4.4.2",
            "npm:strip-ansi@7.1.1"
        ])
    );
    let docs = v["lockfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "data/npm-incident/acme-docs/pnpm-lock.yaml")
        .unwrap();
    assert_eq!(
        docs["path"],
        serde_json::json!([
            "acme-docs@0.0.0",
            "npm:parse-json@5.2.0",
            "npm:error-ex@1.3.3"
        ])
    );
}

/// `supports-color` is both a crate and an npm package: an unprefixed name that exists in both
/// is refused, and a prefixed one never matches across ecosystems.
#[test]
fn a_name_shared_by_two_ecosystems_never_matches_across_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rs")).unwrap();
    std::fs::create_dir_all(dir.path().join("js")).unwrap();
    std::fs::write(
        dir.path().join("rs/Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"supports-color\",\n]\n\n[[package]]\nname = \"supports-color\"\nversion = \"10.2.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("js/package-lock.json"),
        r#"{"name":"web","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"web","version":"1.0.0","dependencies":{"supports-color":"^10.2.0"}},"node_modules/supports-color":{"version":"10.2.1","resolved":"https://registry.npmjs.org/supports-color/-/supports-color-10.2.1.tgz"}}}"#,
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let w = "2025-09-08T13:16:00Z..2025-09-08T19:59:00Z";
    let (code, _, err) = run(&[
        "incident",
        "--bad",
        "supports-color@10.2.1",
        "--window",
        w,
        d,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("several ecosystems") && err.contains("npm:supports-color@10.2.1"),
        "{err}"
    );
    for (bad, lockfile) in [
        ("npm:supports-color@10.2.1", "js/package-lock.json"),
        ("crates.io:supports-color@10.2.1", "rs/Cargo.lock"),
    ] {
        let (code, out, err) = run(&[
            "incident", "--format", "json", "--bad", bad, "--window", w, d,
        ]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let ids: Vec<&str> = v["lockfiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [format!("{d}/{lockfile}")], "{bad}");
    }
}

/// Fresh resolution of package.json and pyproject.toml (tests/fixtures/incident-npm-pypi, see
/// its README): evil-pkg 1.0.1 (npm, postinstall script) and acme-utils 1.1 (PyPI, source
/// only) were published at 10:00 inside the window [10:00, 12:00).
#[test]
fn fresh_npm_and_pypi_builds_resolve_their_manifests() {
    for bad in [
        "npm:evil-pkg@1.0.1,pypi:acme-utils@1.1",
        // Ecosystems inferred; the PyPI name compared after PEP 503 normalisation.
        "evil-pkg@1.0.1,Acme_Utils@1.1",
    ] {
        let (code, out, err) = run(&[
            "incident",
            "--format",
            "json",
            "--bad",
            bad,
            "--window",
            "2025-09-08T10:00:00Z..2025-09-08T12:00:00Z",
            "tests/fixtures/incident-npm-pypi",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        // web#1 at 11:00: `^1.0.0` takes 1.0.1 (1.0.2 comes the next day). py#1 at 11:00:
        // `>=1.0` takes 1.1; 1.2rc1 (09:00) is a pre-release nobody asked for. web#2 and py#2
        // resolve before T0 (1.0.0, 1.0); the locked builds pin the clean versions.
        let want: BTreeMap<String, String> = [("py#1", "fresh"), ("web#1", "fresh")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(reasons(&v), want, "{bad}");
        let version = |id: &str| {
            v["builds"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["id"] == id)
                .unwrap()["version"]
                .clone()
        };
        assert_eq!(version("web#1"), "npm:evil-pkg@1.0.1");
        assert_eq!(version("py#1"), "pypi:acme-utils@1.1");
        assert!(v["lockfiles"].as_array().unwrap().is_empty());
        assert_eq!(
            v["install_scripts"],
            serde_json::json!(["npm:evil-pkg@1.0.1", "pypi:acme-utils@1.1"])
        );
        assert_eq!(v["summary"]["builds_checked"], 6);
    }
}
