//! End-to-end tests of the `blastradius` command line against SPEC §3 and §5: exit codes,
//! error messages on malformed input, determinism, JSON shapes, DOT/table escaping of hostile
//! registry names, `--output`, and insta snapshots of the demo dataset.
//!
//! Every run that must be stable passes `--at` and an explicit `--format` (the default format
//! depends on whether stdout is a terminal) and sets `NO_COLOR=1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The analysis time of every stable run.
const AT: &str = "2026-06-01T00:00:00Z";

/// A credential of the demo inventory that reaches environments, mirrors and other credentials.
const CRED: &str = "acme-ci-token";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the crate root (so the demo's ids are `data/...`), without colour.
fn bin() -> Command {
    let mut c = Command::cargo_bin("blastradius").expect("the blastradius binary is built");
    c.current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("RAYON_NUM_THREADS");
    c
}

/// What one run printed and how it ended.
struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}",
                String::from_utf8_lossy(&self.stdout)
            )
        })
    }
}

fn exec(mut c: Command) -> Out {
    let o = c.output().expect("the binary runs");
    Out {
        code: o.status.code().expect("exited, not killed by a signal"),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    let mut c = bin();
    c.args(args);
    exec(c)
}

/// Runs and requires exit 0, returning stdout.
fn ok(args: &[&str]) -> Out {
    let o = run(args);
    assert_eq!(o.code, 0, "blastradius {args:?} failed:\n{}", o.stderr);
    o
}

/// Runs and requires exit 1 with nothing on stdout.
fn fails(args: &[&str]) -> Out {
    let o = run(args);
    assert_eq!(
        o.code, 1,
        "blastradius {args:?}: expected exit 1, got {}\nstderr: {}",
        o.code, o.stderr
    );
    assert!(
        o.stdout.is_empty(),
        "blastradius {args:?} failed but wrote to stdout:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    o
}

// ------------------------------------------------------------------------------------------
// 1. Exit codes
// ------------------------------------------------------------------------------------------

#[test]
fn rank_on_demo_exits_0() {
    let o = ok(&["rank", "--format", "json", "--at", AT]);
    assert!(o.stderr.is_empty(), "unexpected stderr: {}", o.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &["rank", "--no-such-flag"],
        &["reach", "--format", "json", "--at", AT],
        &["explain", "--to", "ci:acme-worker", "--format", "json"],
        &[
            "reach",
            "--credential",
            CRED,
            "--account",
            "acme-release-bot",
        ],
        &["rank", "--versions", "bogus"],
        &["rank", "--hops", "0"],
        &["rank", "--hops", "17"],
        &["rank", "--format", "yaml"],
        &["no-such-command"],
    ];
    for args in cases {
        let o = run(args);
        assert_eq!(
            o.code, 2,
            "blastradius {args:?}: expected exit 2, got {}\n{}",
            o.code, o.stderr
        );
        assert!(
            o.stdout.is_empty(),
            "blastradius {args:?}: usage error wrote to stdout"
        );
        assert!(
            o.stderr.contains("error"),
            "blastradius {args:?}: stderr: {}",
            o.stderr
        );
    }
}

#[test]
fn unknown_credential_exits_1_and_names_it() {
    let o = fails(&[
        "reach",
        "--credential",
        "no-such-token",
        "--format",
        "json",
        "--at",
        AT,
    ]);
    assert!(o.stderr.contains("unknown credential"), "{}", o.stderr);
    assert!(o.stderr.contains("no-such-token"), "{}", o.stderr);
    // It helps: the known ids are listed.
    assert!(o.stderr.contains(CRED), "{}", o.stderr);
}

#[test]
fn unknown_account_exits_1() {
    let o = fails(&[
        "reach",
        "--account",
        "no-such-account",
        "--format",
        "json",
        "--at",
        AT,
    ]);
    assert!(o.stderr.contains("unknown account"), "{}", o.stderr);
    assert!(o.stderr.contains("no-such-account"), "{}", o.stderr);
}

#[test]
fn unknown_explain_target_exits_1() {
    let o = fails(&[
        "explain",
        "--credential",
        CRED,
        "--to",
        "crates.io:no-such-crate",
        "--format",
        "table",
        "--at",
        AT,
    ]);
    assert!(o.stderr.contains("unknown node"), "{}", o.stderr);
    assert!(o.stderr.contains("crates.io:no-such-crate"), "{}", o.stderr);
}

#[test]
fn nonexistent_input_exits_1() {
    let o = fails(&[
        "rank",
        "--format",
        "json",
        "tests/fixtures/cli/does-not-exist",
    ]);
    assert!(
        o.stderr.contains("tests/fixtures/cli/does-not-exist"),
        "{}",
        o.stderr
    );
}

#[test]
fn bad_at_exits_1() {
    let o = fails(&["rank", "--format", "json", "--at", "yesterday"]);
    assert!(o.stderr.contains("--at"), "{}", o.stderr);
    assert!(o.stderr.contains("yesterday"), "{}", o.stderr);
}

// ------------------------------------------------------------------------------------------
// 2. Malformed inputs: exit 1, nothing on stdout, file:line and what was expected on stderr
// ------------------------------------------------------------------------------------------

/// (fixture under tests/fixtures/cli/invalid/, location prefix expected after the path,
/// words stderr must contain).
const MALFORMED: &[(&str, &str, &[&str])] = &[
    // `version = "1.0.200` is an unterminated string on line 14.
    ("lock-syntax/Cargo.lock", ":14:", &["expected"]),
    (
        "lock-version9/Cargo.lock",
        ":3 ",
        &["format version 9 of", "is not supported", "1 to 4"],
    ),
    // The first conflict marker `<<<<<<< HEAD` is on line 14.
    (
        "lock-conflict/Cargo.lock",
        ":14:",
        &["unresolved merge conflict markers at"],
    ),
    // No line to point at: the file is only `version = 3`.
    ("lock-empty/Cargo.lock", ":", &["no packages"]),
    (
        "index-truncated/widget",
        ":2:",
        &["invalid crates.io index line", "EOF"],
    ),
    (
        "index-bad-version/widget",
        ":3:",
        &["expected a semver version", "not-a-version"],
    ),
    // `owner = ["widget"]` on line 5.
    (
        "inventory-unknown-key/inventory.toml",
        ":5:",
        &["unknown field", "owner", "owns"],
    ),
    // `account = "widget-devv"` on line 11.
    (
        "inventory-unknown-account/inventory.toml",
        ":11:",
        &["unknown account", "widget-devv"],
    ),
    // `"widget-tokn",` on line 17.
    (
        "inventory-unknown-credential/inventory.toml",
        ":17:",
        &["unknown credential", "widget-tokn"],
    ),
    // `lockfiles = ["services/widget/Cargo.lock"]` on line 15.
    (
        "inventory-missing-lockfile/inventory.toml",
        ":15:",
        &["services/widget/Cargo.lock", "cannot be read"],
    ),
];

#[test]
fn malformed_inputs_name_file_line_and_expectation() {
    for (fixture, loc, words) in MALFORMED {
        let path = format!("tests/fixtures/cli/invalid/{fixture}");
        assert!(root().join(&path).exists(), "fixture {path} is missing");
        let o = fails(&["rank", "--format", "json", "--at", AT, &path]);
        let located = format!("{path}{loc}");
        assert!(
            o.stderr.contains(&located),
            "{fixture}: expected {located:?} in stderr:\n{}",
            o.stderr
        );
        for w in *words {
            assert!(
                o.stderr.contains(w),
                "{fixture}: expected {w:?} in stderr:\n{}",
                o.stderr
            );
        }
        assert!(
            !o.stderr.contains("panicked"),
            "{fixture}: panic:\n{}",
            o.stderr
        );
        // One line of diagnosis, not a dump.
        assert_eq!(
            o.stderr.trim_end().lines().count(),
            1,
            "{fixture}: stderr:\n{}",
            o.stderr
        );
    }
}

#[test]
fn malformed_input_inside_a_directory_is_still_an_error() {
    // A broken lockfile found by a directory walk must not be skipped silently (SPEC §5).
    let o = fails(&[
        "rank",
        "--format",
        "json",
        "--at",
        AT,
        "tests/fixtures/cli/invalid/lock-conflict",
    ]);
    assert!(
        o.stderr
            .contains("tests/fixtures/cli/invalid/lock-conflict/Cargo.lock:14:"),
        "{}",
        o.stderr
    );
}

/// `COMMAND --keep-going --format json` on the demo index beside a conflicted lockfile: the
/// run succeeds, and its JSON `warnings` name the skipped file at its conflict line.
fn keep_going_json(command: &str) -> (Out, Value) {
    let o = ok(&[
        command,
        "--keep-going",
        "--format",
        "json",
        "--at",
        AT,
        "data/index",
        "tests/fixtures/cli/invalid/lock-conflict",
    ]);
    let j = o.json();
    let warnings = j["warnings"].as_array().expect("a warnings array");
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.starts_with("skipped tests/fixtures/cli/invalid/lock-conflict/Cargo.lock")
                && w.contains(":14:")
        }),
        "{command}: {warnings:?}"
    );
    (o, j)
}

#[test]
fn keep_going_turns_a_broken_input_into_a_listed_warning() {
    // Skipped, named in `warnings`, and the rest of the answer still computed.
    let (o, j) = keep_going_json("rank");
    assert!(!j["credentials"].as_array().unwrap().is_empty());
    assert!(o.stderr.contains("warning: skipped"), "{}", o.stderr);
}

#[test]
fn export_json_lists_the_skipped_input_too() {
    // stderr says every warning is in the JSON output's `warnings`: for `export` as well, or a
    // graph missing a lockfile would not say so.
    let (_, j) = keep_going_json("export");
    assert!(!j["nodes"].as_array().unwrap().is_empty());
    // Without warnings the key is absent, as in the other reports.
    let clean = ok(&["export", "--format", "json", "--at", AT, "data/index"]).json();
    assert!(clean.get("warnings").is_none(), "{clean}");
}

// ------------------------------------------------------------------------------------------
// 3. Determinism
// ------------------------------------------------------------------------------------------

#[test]
fn rank_json_is_byte_identical_across_runs_and_thread_counts() {
    let args = ["rank", "--format", "json", "--at", AT];
    let a = ok(&args).stdout;
    let b = ok(&args).stdout;
    assert_eq!(a, b, "two runs differ");
    let mut outs = Vec::new();
    for threads in ["1", "2", "8"] {
        let mut c = bin();
        c.env("RAYON_NUM_THREADS", threads).args(args);
        let o = exec(c);
        assert_eq!(o.code, 0, "{}", o.stderr);
        outs.push(o.stdout);
    }
    for o in &outs {
        assert_eq!(&a, o, "output depends on RAYON_NUM_THREADS");
    }
}

#[test]
fn rank_json_does_not_depend_on_time_zone_or_locale() {
    let args = ["rank", "--format", "json", "--at", AT];
    let a = ok(&args).stdout;
    let mut c = bin();
    c.env("TZ", "Pacific/Kiritimati")
        .env("LC_ALL", "tr_TR.UTF-8")
        .env("LANG", "tr_TR.UTF-8")
        .args(args);
    let o = exec(c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(a, o.stdout);
}

#[test]
fn reach_json_and_dot_are_byte_identical_across_runs() {
    for format in ["json", "dot"] {
        let args = [
            "reach",
            "--credential",
            CRED,
            "--format",
            format,
            "--at",
            AT,
        ];
        let a = ok(&args).stdout;
        let b = ok(&args).stdout;
        assert_eq!(a, b, "--format {format}: two runs differ");
        let mut c = bin();
        c.env("RAYON_NUM_THREADS", "1").args(args);
        let o = exec(c);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(
            a, o.stdout,
            "--format {format}: differs with RAYON_NUM_THREADS=1"
        );
    }
}

/// A JSON value that remembers the order of object keys as written, independent of
/// serde_json's `preserve_order` feature.
enum Ordered {
    Leaf,
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_none<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Leaf)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Ordered::Array(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Ordered>()? {
                    v.push((k, x));
                }
                Ok(Ordered::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn assert_keys_sorted(v: &Ordered, at: &str) {
    match v {
        Ordered::Leaf => {}
        Ordered::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                assert_keys_sorted(x, &format!("{at}[{i}]"));
            }
        }
        Ordered::Object(kv) => {
            let keys: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            assert_eq!(keys, sorted, "keys of {at} are not sorted");
            for (k, x) in kv {
                assert_keys_sorted(x, &format!("{at}.{k}"));
            }
        }
    }
}

#[test]
fn json_keys_are_sorted_everywhere() {
    let outputs = [
        ok(&["rank", "--format", "json", "--at", AT]),
        ok(&[
            "reach",
            "--credential",
            CRED,
            "--format",
            "json",
            "--at",
            AT,
        ]),
        ok(&[
            "explain",
            "--credential",
            CRED,
            "--to",
            "ci:acme-worker",
            "--format",
            "json",
            "--at",
            AT,
        ]),
    ];
    for o in outputs {
        let v: Ordered = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_keys_sorted(&v, "$");
        assert!(o.stdout.ends_with(b"}\n"), "JSON ends with one newline");
    }
}

// ------------------------------------------------------------------------------------------
// 4. JSON shapes (SPEC §5)
// ------------------------------------------------------------------------------------------

const SECTIONS: [&str; 5] = [
    "packages",
    "lockfiles",
    "environments",
    "mirrors",
    "credentials",
];

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|x| x["id"].as_str().expect("id is a string").to_owned())
        .collect()
}

/// Checks one `reach` JSON document against SPEC §5 and returns it.
fn check_reach_shape(v: &Value, credential: &str) {
    let obj = v.as_object().expect("reach JSON is an object");
    for k in [
        "credential",
        "at",
        "hops",
        "publishable",
        "inject",
        "disrupt",
        "score",
    ] {
        assert!(
            obj.contains_key(k),
            "reach JSON lacks {k:?}: keys {:?}",
            obj.keys().collect::<Vec<_>>()
        );
    }
    assert_eq!(v["credential"], credential);
    assert_eq!(v["at"], AT);
    assert_eq!(v["hops"], 1);
    let publishable: Vec<&str> = v["publishable"]
        .as_array()
        .expect("publishable")
        .iter()
        .map(|p| p.as_str().expect("str"))
        .collect();
    let mut sorted = publishable.clone();
    sorted.sort_unstable();
    assert_eq!(publishable, sorted, "publishable is sorted");
    for mode in ["inject", "disrupt"] {
        let section = v[mode]
            .as_object()
            .unwrap_or_else(|| panic!("{mode} is an object"));
        for s in SECTIONS {
            let list = section.get(s).unwrap_or_else(|| panic!("{mode} lacks {s}"));
            let items = ids(list);
            let mut sorted = items.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                items, sorted,
                "{mode}.{s} is sorted by id without duplicates"
            );
            for item in list.as_array().expect("array") {
                let id = item["id"].as_str().expect("id");
                let path: Vec<&str> = item["path"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{mode}.{s} {id} has a path"))
                    .iter()
                    .map(|p| p.as_str().expect("path entries are strings"))
                    .collect();
                assert_eq!(
                    path.first(),
                    Some(&credential),
                    "{mode}.{s} {id}: path starts at the credential"
                );
                assert_eq!(
                    path.last(),
                    Some(&id),
                    "{mode}.{s} {id}: path ends at the item"
                );
            }
        }
    }
    // The credential the question started from is not listed as stolen (SPEC §4 rule 5).
    assert!(!ids(&v["inject"]["credentials"])
        .iter()
        .any(|c| c == credential));
    let inject_score: usize = ["packages", "lockfiles", "environments", "mirrors"]
        .iter()
        .map(|s| ids(&v["inject"][s]).len())
        .sum();
    assert_eq!(
        v["score"].as_u64(),
        Some(inject_score as u64),
        "score = packages+lockfiles+environments+mirrors"
    );
}

#[test]
fn reach_json_shape() {
    let v = ok(&[
        "reach",
        "--credential",
        CRED,
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    check_reach_shape(&v, CRED);
    assert_eq!(v["publishable"], serde_json::json!(["crates.io:acme-core"]));
    // Lockfile ids are paths as shown under the demo directory, machine-independent.
    for id in ids(&v["inject"]["lockfiles"]) {
        assert!(
            id.starts_with("data/") && id.ends_with("Cargo.lock"),
            "{id}"
        );
    }
    // acme-worker's CI job holds the token itself: reached, but acme-ci-token is not "stolen".
    assert!(ids(&v["inject"]["environments"]).contains(&"ci:acme-worker".to_owned()));
}

#[test]
fn reach_json_shape_for_every_demo_credential() {
    let rank = ok(&["rank", "--format", "json", "--at", AT]).json();
    for c in rank["credentials"].as_array().expect("credentials") {
        let id = c["id"].as_str().expect("id");
        let v = ok(&["reach", "--credential", id, "--format", "json", "--at", AT]).json();
        check_reach_shape(&v, id);
        // rank and reach agree.
        assert_eq!(c["score"], v["score"], "{id}: rank and reach scores differ");
        for s in SECTIONS {
            assert_eq!(
                c["inject"][s].as_u64(),
                Some(ids(&v["inject"][s]).len() as u64),
                "{id}: rank and reach disagree on inject.{s}"
            );
        }
    }
}

#[test]
fn expired_credential_publishes_nothing() {
    let v = ok(&[
        "reach",
        "--credential",
        "acme-platform-old-token",
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    check_reach_shape(&v, "acme-platform-old-token");
    assert_eq!(v["publishable"], serde_json::json!([]));
    assert_eq!(v["score"], 0);
}

#[test]
fn rank_json_shape_and_order() {
    let v = ok(&["rank", "--format", "json", "--at", AT]).json();
    assert_eq!(v["at"], AT);
    let creds = v["credentials"].as_array().expect("credentials array");
    assert!(!creds.is_empty());
    let mut prev: Option<(u64, String)> = None;
    for c in creds {
        for k in [
            "id",
            "score",
            "inject",
            "disrupt",
            "publishable",
            "risk_factors",
        ] {
            assert!(c.get(k).is_some(), "rank entry lacks {k:?}: {c}");
        }
        for s in SECTIONS {
            assert!(c["inject"][s].is_u64(), "inject.{s} is a count: {c}");
            assert!(c["disrupt"][s].is_u64(), "disrupt.{s} is a count: {c}");
        }
        let score = c["score"].as_u64().expect("score");
        let sum: u64 = ["packages", "lockfiles", "environments", "mirrors"]
            .iter()
            .map(|s| c["inject"][s].as_u64().unwrap())
            .sum();
        assert_eq!(score, sum, "score of {}", c["id"]);
        let id = c["id"].as_str().expect("id").to_owned();
        if let Some((ps, pid)) = &prev {
            assert!(
                *ps > score || (*ps == score && *pid < id),
                "rank order: ({ps}, {pid}) before ({score}, {id})"
            );
        }
        prev = Some((score, id));
    }
    // The inventory's 13 credentials are ranked, not accounts.
    assert_eq!(creds.len(), 13);
}

// ------------------------------------------------------------------------------------------
// 5. Escaping of hostile registry names (DOT and table)
// ------------------------------------------------------------------------------------------

/// A crate whose name carries DOT syntax: a quote, a backslash and a newline.
const EVIL: &str = "evil\"pkg\\\n]; x -> y";
/// A crate whose name carries a terminal escape sequence.
const ESC: &str = "esc\u{1b}[31mpkg";

/// Writes a tiny dataset: the two hostile crates, a `victim` that depends on the evil one with
/// `^1`, and an inventory whose credential can publish both hostile crates.
fn hostile_dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let line = |name: &str, vers: &str, deps: &str| {
        format!(
            r#"{{"name":{},"vers":"{vers}","deps":[{deps}],"cksum":"00","features":{{}},"yanked":false}}"#,
            serde_json::to_string(name).unwrap()
        )
    };
    let dep = format!(
        r#"{{"name":{},"req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}}"#,
        serde_json::to_string(EVIL).unwrap()
    );
    let index = [
        line(EVIL, "1.0.0", ""),
        line("victim", "2.0.0", &dep),
        line(ESC, "1.0.0", ""),
    ]
    .join("\n")
        + "\n";
    // The escapes are JSON's, as a real index line would carry them.
    assert!(index.contains(r#""evil\"pkg\\\n]; x -> y""#), "{index}");
    assert!(index.contains(r#""esc\u001b[31mpkg""#), "{index}");
    std::fs::write(dir.path().join("index"), index).unwrap();
    std::fs::write(
        dir.path().join("inventory.toml"),
        r#"[[account]]
id = "evil-dev"
ecosystem = "crates.io"
owns = ["evil*", "esc*"]

[[credential]]
id = "evil-token"
ecosystem = "crates.io"
kind = "api-token"
account = "evil-dev"
scopes = ["publish-update"]
"#,
    )
    .unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    let mut c = bin();
    c.args(args).arg(dir);
    let o = exec(c);
    assert_eq!(
        o.code,
        0,
        "blastradius {args:?} {}: {}",
        dir.display(),
        o.stderr
    );
    o
}

/// Removes double-quoted strings (with their backslash escapes) from DOT text, panicking on an
/// unterminated string: what remains is the structure Graphviz will parse.
fn dot_outside_strings(dot: &str) -> String {
    let mut out = String::new();
    let mut chars = dot.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        out.push_str("\"\"");
        loop {
            match chars.next() {
                Some('\\') => {
                    chars.next().expect("escape at end of DOT text");
                }
                Some('"') => break,
                Some(_) => {}
                None => panic!("unterminated string in DOT:\n{dot}"),
            }
        }
    }
    out
}

#[test]
fn dot_escapes_hostile_labels() {
    let dir = hostile_dataset();
    let reach = run_in(
        dir.path(),
        &[
            "reach",
            "--credential",
            "evil-token",
            "--format",
            "json",
            "--at",
            AT,
        ],
    )
    .json();
    check_reach_shape(&reach, "evil-token");
    let victim = ids(&reach["inject"]["packages"]);
    assert!(
        victim.contains(&"crates.io:victim".to_owned()),
        "victim is reached through ^1: {victim:?}"
    );

    // The edges the witness paths imply.
    let mut implied = BTreeSet::new();
    for s in SECTIONS {
        for item in reach["inject"][s].as_array().unwrap() {
            let p: Vec<&str> = item["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            for w in p.windows(2) {
                implied.insert((w[0].to_owned(), w[1].to_owned()));
            }
        }
    }
    assert_eq!(implied.len(), 4, "{implied:?}");

    let out = run_in(
        dir.path(),
        &[
            "reach",
            "--credential",
            "evil-token",
            "--format",
            "dot",
            "--at",
            AT,
        ],
    );
    let dot = out.text();
    assert!(
        dot.contains(r#"label="crates.io:evil\"pkg\\\n]; x -> y""#),
        "label not escaped:\n{dot}"
    );
    assert!(!dot.contains('\u{1b}'), "raw ESC in DOT:\n{dot}");
    let structure = dot_outside_strings(&dot);
    assert_eq!(
        structure.matches("->").count(),
        implied.len(),
        "edges outside labels:\n{structure}"
    );
    // Every line outside strings is a statement of the generated shape.
    for line in structure.lines() {
        let t = line.trim();
        assert!(
            t.is_empty()
                || t == "digraph {"
                || t == "}"
                || t.starts_with("graph [")
                || t.starts_with("node [")
                || (t.starts_with('n') && t.ends_with("];"))
                || (t.starts_with('n') && t.contains(" -> n") && t.ends_with(';')),
            "unexpected DOT statement {t:?} in:\n{dot}"
        );
    }

    match which_dot() {
        None => eprintln!("note: Graphviz `dot` not found on PATH; skipping the rendering check"),
        Some(dot_bin) => {
            let svg = render_svg(&dot_bin, &out.stdout);
            assert_eq!(
                svg.matches("class=\"edge\"").count(),
                implied.len(),
                "Graphviz sees other edges"
            );
            assert_eq!(
                svg.matches("class=\"node\"").count(),
                5,
                "Graphviz sees other nodes"
            );
        }
    }
}

fn which_dot() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("dot"))
        .find(|p| p.is_file())
}

fn render_svg(dot_bin: &Path, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(dot_bin)
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dot runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "dot -Tsvg failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("svg is UTF-8")
}

#[test]
fn demo_dot_renders_with_graphviz() {
    let Some(dot_bin) = which_dot() else {
        eprintln!("note: Graphviz `dot` not found on PATH; skipping the rendering check");
        return;
    };
    for args in [
        &["reach", "--credential", CRED, "--format", "dot", "--at", AT][..],
        &["rank", "--format", "dot", "--at", AT][..],
        &[
            "explain",
            "--credential",
            CRED,
            "--to",
            "ci:acme-worker",
            "--format",
            "dot",
            "--at",
            AT,
        ][..],
    ] {
        let o = ok(args);
        render_svg(&dot_bin, &o.stdout);
    }
}

#[test]
fn table_escapes_terminal_control_characters() {
    let dir = hostile_dataset();
    for args in [
        &[
            "reach",
            "--credential",
            "evil-token",
            "--format",
            "table",
            "--at",
            AT,
        ][..],
        &["rank", "--format", "table", "--at", AT][..],
        &[
            "explain",
            "--credential",
            "evil-token",
            "--to",
            "crates.io:victim",
            "--format",
            "table",
            "--at",
            AT,
        ][..],
    ] {
        let o = run_in(dir.path(), args);
        assert!(
            !o.stdout.contains(&0x1b),
            "raw ESC on stdout of {args:?}:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
        let text = o.text();
        // The name's newline does not start a line of its own.
        assert!(
            !text.lines().any(|l| l.starts_with("]; x -> y")),
            "raw newline in {args:?}:\n{text}"
        );
    }
    let o = run_in(
        dir.path(),
        &[
            "reach",
            "--credential",
            "evil-token",
            "--format",
            "table",
            "--at",
            AT,
        ],
    );
    assert!(
        o.text().contains("crates.io:esc\\u{1b}[31mpkg"),
        "{}",
        o.text()
    );
    // JSON escapes it as JSON does.
    let o = run_in(
        dir.path(),
        &[
            "reach",
            "--credential",
            "evil-token",
            "--format",
            "json",
            "--at",
            AT,
        ],
    );
    assert!(!o.stdout.contains(&0x1b));
    assert!(
        o.text().contains(r#""crates.io:esc\u001b[31mpkg""#),
        "{}",
        o.text()
    );
}

#[test]
fn error_messages_escape_terminal_control_characters() {
    let o = fails(&[
        "reach",
        "--credential",
        "x\u{1b}[2Jy",
        "--format",
        "json",
        "--at",
        AT,
    ]);
    assert!(
        !o.stderr.contains('\u{1b}'),
        "raw ESC on stderr: {:?}",
        o.stderr
    );
    assert!(o.stderr.contains("unknown credential"), "{}", o.stderr);
}

// ------------------------------------------------------------------------------------------
// 6. --output
// ------------------------------------------------------------------------------------------

#[test]
fn output_file_gets_the_bytes_stdout_would() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("rank.json", &["rank", "--format", "json", "--at", AT][..]),
        (
            "reach.dot",
            &["reach", "--credential", CRED, "--format", "dot", "--at", AT][..],
        ),
        (
            "reach.txt",
            &[
                "reach",
                "--credential",
                CRED,
                "--format",
                "table",
                "--at",
                AT,
            ][..],
        ),
    ] {
        let file = dir.path().join(name);
        let stdout = ok(args).stdout;
        let mut c = bin();
        c.args(args).arg("--output").arg(&file);
        let o = exec(c);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stdout.is_empty(), "--output also wrote to stdout");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            stdout,
            "{name}: file differs from stdout"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 3, "temp files left behind: {left:?}");
}

#[test]
fn output_file_is_not_created_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.json");
    let mut c = bin();
    c.args([
        "reach",
        "--credential",
        "no-such-token",
        "--format",
        "json",
        "--at",
        AT,
        "--output",
    ])
    .arg(&file);
    let o = exec(c);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.is_empty());
    assert!(!file.exists(), "output file created on failure");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left in the directory: {left:?}");

    // An existing file is left untouched when the question cannot be answered.
    std::fs::write(&file, "previous answer\n").unwrap();
    let mut c = bin();
    c.args([
        "rank",
        "--format",
        "json",
        "--at",
        AT,
        "tests/fixtures/cli/invalid/lock-conflict/Cargo.lock",
        "-o",
    ])
    .arg(&file);
    assert_eq!(exec(c).code, 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "previous answer\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file left behind"
    );
}

#[test]
fn output_into_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("no/such/dir/out.json");
    let mut c = bin();
    c.args(["rank", "--format", "json", "--at", AT, "--output"])
        .arg(&file);
    let o = exec(c);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("out.json"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

#[cfg(unix)]
#[test]
fn output_file_has_the_permissions_of_a_normal_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    std::fs::write(&reference, "x").unwrap();
    let file = dir.path().join("out.json");
    let mut c = bin();
    c.args(["rank", "--format", "json", "--at", AT, "--output"])
        .arg(&file);
    assert_eq!(exec(c).code, 0);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&file),
        mode(&reference),
        "mode {:o} vs {:o}",
        mode(&file),
        mode(&reference)
    );
}

// ------------------------------------------------------------------------------------------
// 7. Snapshots of the demo
// ------------------------------------------------------------------------------------------

#[test]
fn snapshot_rank_json() {
    insta::assert_snapshot!(
        "rank_json",
        ok(&["rank", "--format", "json", "--at", AT]).text()
    );
}

#[test]
fn snapshot_rank_table() {
    insta::assert_snapshot!(
        "rank_table",
        ok(&["rank", "--format", "table", "--at", AT]).text()
    );
}

#[test]
fn snapshot_reach_json() {
    insta::assert_snapshot!(
        "reach_json",
        ok(&[
            "reach",
            "--credential",
            CRED,
            "--format",
            "json",
            "--at",
            AT
        ])
        .text()
    );
}

#[test]
fn snapshot_reach_table() {
    insta::assert_snapshot!(
        "reach_table",
        ok(&[
            "reach",
            "--credential",
            CRED,
            "--format",
            "table",
            "--at",
            AT
        ])
        .text()
    );
}

#[test]
fn snapshot_reach_dot() {
    insta::assert_snapshot!(
        "reach_dot",
        ok(&["reach", "--credential", CRED, "--format", "dot", "--at", AT]).text()
    );
}

#[test]
fn snapshot_explain_table() {
    let o = ok(&[
        "explain",
        "--credential",
        CRED,
        "--to",
        "ci:acme-worker",
        "--format",
        "table",
        "--at",
        AT,
    ]);
    assert!(
        o.text().starts_with("witness path:"),
        "ci:acme-worker is reached:\n{}",
        o.text()
    );
    insta::assert_snapshot!("explain_table", o.text());
}

#[test]
fn snapshot_help() {
    insta::assert_snapshot!("help", ok(&["--help"]).text());
}

// ------------------------------------------------------------------------------------------
// 8. explain on a node that is not reached
// ------------------------------------------------------------------------------------------

#[test]
fn explain_unreached_says_no_path() {
    let args = [
        "explain",
        "--credential",
        "acme-platform-old-token",
        "--to",
        "crates.io:acme-core",
        "--at",
        AT,
        "--format",
    ];
    let mut table = args.to_vec();
    table.push("table");
    let o = ok(&table);
    assert!(o.text().contains("no path"), "{}", o.text());
    assert!(
        o.text().contains("acme-platform-old-token") && o.text().contains("crates.io:acme-core")
    );

    let mut json = args.to_vec();
    json.push("json");
    let v = ok(&json).json();
    assert_eq!(v["path"], Value::Null);
    assert_eq!(v["via"], Value::Null);
    assert_eq!(v["to"], "crates.io:acme-core");
}

#[test]
fn explain_path_matches_reach_path() {
    let reach = ok(&[
        "reach",
        "--credential",
        CRED,
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    let env = reach["inject"]["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "ci:acme-worker")
        .expect("ci:acme-worker is reached")
        .clone();
    let v = ok(&[
        "explain",
        "--credential",
        CRED,
        "--to",
        "ci:acme-worker",
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    assert_eq!(v["via"], "inject");
    assert_eq!(v["path"], env["path"]);
}

// ------------------------------------------------------------------------------------------
// Witness paths are real chains (SPEC §4 rule 9: every reported path is a shortest one)
// ------------------------------------------------------------------------------------------

/// Every consecutive pair of every witness path is an edge of the exported graph (in either
/// direction: reach walks from the attacker outwards), and no path visits a node twice (a
/// path with a repeated node is never a shortest one).
fn witness_path_problems(credential: &str, edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let v = ok(&[
        "reach",
        "--credential",
        credential,
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    let mut problems = Vec::new();
    for mode in ["inject", "disrupt"] {
        for s in SECTIONS {
            for item in v[mode][s].as_array().unwrap() {
                let p: Vec<String> = item["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect();
                let distinct: BTreeSet<&String> = p.iter().collect();
                if distinct.len() != p.len() {
                    problems.push(format!(
                        "{credential} {mode}.{s}: repeated node in {}",
                        p.join(" → ")
                    ));
                }
                for w in p.windows(2) {
                    let (a, b) = (w[0].clone(), w[1].clone());
                    if !edges.contains(&(a.clone(), b.clone()))
                        && !edges.contains(&(b.clone(), a.clone()))
                    {
                        problems.push(format!("{credential} {mode}.{s}: no edge {a} — {b}"));
                    }
                }
            }
        }
    }
    problems
}

fn export_edges() -> BTreeSet<(String, String)> {
    let export = ok(&["export", "--format", "json", "--at", AT]).json();
    export["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_owned(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_witness_path_is_a_real_simple_chain() {
    let edges = export_edges();
    let rank = ok(&["rank", "--format", "json", "--at", AT]).json();
    let mut problems = Vec::new();
    for c in rank["credentials"].as_array().unwrap() {
        problems.extend(witness_path_problems(c["id"].as_str().unwrap(), &edges));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// npm and PyPI lockfiles beside a Cargo.lock are each read into their own ecosystem: the
/// same name (`widget`) on crates.io and PyPI stays two packages with two owners.
#[test]
fn lockfiles_of_three_ecosystems_never_merge_names() {
    let dir = format!("{}/tests/fixtures/cli/mixed", env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .args(["rank", "--format", "json", "--at", AT, &dir])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = json["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["owner-of:pypi:widget", "owner-of:widget"]);
    let out = bin()
        .args(["export", "--format", "json", &dir])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lockfiles = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "lockfile")
        .count();
    assert_eq!(
        lockfiles, 3,
        "Cargo.lock, package-lock.json and uv.lock are all read"
    );
}

/// `--workspace DIR` resolves the user's own workspace with `cargo metadata` and adds it as a
/// lockfile; its members are roots, path packages are not registry pins.
#[test]
fn workspace_is_resolved_with_cargo_metadata() {
    let ws = format!("{}/tests/fixtures/workspace", env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .args(["export", "--format", "json", "--workspace", &ws])
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lockfiles: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "lockfile")
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(lockfiles, [format!("{ws} (cargo metadata)")]);
    // Only path packages: nothing is pinned from the registry.
    assert!(json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] != "pins"));
}

/// `explain --to` a version: the shortest witness path through it, cut after it.
#[test]
fn explain_to_a_version_cuts_the_shortest_path_through_it() {
    let out = bin()
        .args([
            "explain",
            "--credential",
            "acme-ci-token",
            "--to",
            "crates.io:acme-core@0.2.1",
            "--format",
            "json",
            "--at",
            AT,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["path"],
        serde_json::json!([
            "acme-ci-token",
            "crates.io:acme-core",
            "crates.io:acme-core@0.2.1"
        ])
    );
}

// ------------------------------------------------------------------------------------------
// rank --summary and --plot (the concentration curve)
// ------------------------------------------------------------------------------------------

/// Checks a `summary` object against itself and the ranking: one point per entry,
/// non-decreasing, starting at the top entry's own count, and each `k_for` the smallest k
/// whose point reaches the percentage (rounded up, at least one package).
fn check_summary(v: &Value) -> (u64, Vec<u64>) {
    let s = &v["summary"];
    let total = s["total_packages"].as_u64().expect("total_packages");
    let curve: Vec<u64> = s["curve"]
        .as_array()
        .expect("curve array")
        .iter()
        .map(|x| x.as_u64().expect("curve holds counts"))
        .collect();
    let entries = v["credentials"].as_array().unwrap();
    assert_eq!(curve.len(), entries.len(), "one point per ranked entry");
    assert!(curve.windows(2).all(|w| w[0] <= w[1]), "curve decreases");
    assert_eq!(curve[0], entries[0]["inject"]["packages"].as_u64().unwrap());
    assert!(*curve.last().unwrap() <= total);
    for p in [10u64, 50, 90] {
        let target = (total * p).div_ceil(100).max(1);
        let want = curve.iter().position(|&r| r >= target).map(|i| i + 1);
        let got = s["k_for"][p.to_string()].as_u64().map(|k| k as usize);
        assert!(
            s["k_for"].as_object().unwrap().contains_key(&p.to_string()),
            "k_for lacks {p} (null when not reached, never absent)"
        );
        assert_eq!(got, want, "k_for {p}");
    }
    (total, curve)
}

#[test]
fn rank_summary_json_is_the_union_curve_of_the_demo() {
    let plain = ok(&["rank", "--format", "json", "--at", AT]).json();
    assert!(
        plain.get("summary").is_none(),
        "plain rank gained a summary"
    );
    let v = ok(&["rank", "--summary", "--format", "json", "--at", AT]).json();
    // Adding the summary changes nothing else.
    let mut without = v.clone();
    without.as_object_mut().unwrap().remove("summary");
    assert_eq!(without, plain);
    let (total, curve) = check_summary(&v);
    // The last point is the union of everything every credential reaches, as reach lists it.
    let mut all = BTreeSet::new();
    for c in v["credentials"].as_array().unwrap() {
        let r = ok(&[
            "reach",
            "--credential",
            c["id"].as_str().unwrap(),
            "--format",
            "json",
            "--at",
            AT,
        ])
        .json();
        all.extend(ids(&r["inject"]["packages"]));
    }
    assert_eq!(*curve.last().unwrap(), all.len() as u64);
    // total_packages counts every package node of the graph.
    let export = ok(&["export", "--format", "json", "--at", AT]).json();
    let packages = export["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "package")
        .count();
    assert_eq!(total, packages as u64);
}

#[test]
fn rank_all_accounts_summary_reaches_every_package() {
    let v = ok(&[
        "rank",
        "--all-accounts",
        "--summary",
        "--format",
        "json",
        "--at",
        AT,
    ])
    .json();
    let (total, curve) = check_summary(&v);
    // Every package has an owner account (registry, inventory or `owner-of:`), which reaches it.
    assert_eq!(*curve.last().unwrap(), total);
    assert!(v["summary"]["k_for"]["90"].is_u64());
}

#[test]
fn rank_summary_table_says_how_few_reach_how_much() {
    let t = ok(&["rank", "--summary", "--format", "table", "--at", AT]).text();
    assert!(t.contains("Concentration:"), "{t}");
    assert!(t.contains("top 1 reaches "), "{t}");
    assert!(t.contains("% of ") && t.contains(" packages: "), "{t}");
    let plain = ok(&["rank", "--format", "table", "--at", AT]).text();
    assert!(!plain.contains("Concentration:"));
    assert!(
        t.starts_with(&plain),
        "the summary comes after the unchanged table"
    );
}

/// A minimal XML well-formedness check: tags nest and close, attribute values are quoted, and
/// `&` only starts an entity. Enough to catch a missing escape or an unclosed element.
fn assert_well_formed_xml(s: &str) {
    let entity_ok = |rest: &str| {
        ["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| rest.starts_with(e))
            || (rest.starts_with('#') && rest.find(';').is_some_and(|i| i < 10))
    };
    let mut stack: Vec<String> = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            assert!(entity_ok(&text[i + 1..]), "bare & in text {text:?}");
        }
        let close = rest[open..].find('>').expect("unterminated tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "< inside tag {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else {
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().expect("tag name");
            // Attributes: name="value" pairs, values free of `<` and bare `&`.
            let mut attrs = body[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .unwrap_or_else(|| panic!("bad attribute in {tag:?}"));
                let end = attrs[eq + 2..].find('"').expect("unterminated value") + eq + 2;
                let value = &attrs[eq + 2..end];
                for (i, _) in value.match_indices('&') {
                    assert!(entity_ok(&value[i + 1..]), "bare & in {value:?}");
                }
                attrs = attrs[end + 1..].trim_start();
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        rest = &rest[close + 1..];
        if stack.is_empty() {
            assert!(rest.trim().is_empty(), "content after the root element");
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
}

#[test]
fn rank_plot_writes_a_deterministic_well_formed_svg() {
    let dir = tempfile::tempdir().unwrap();
    let plot = |name: &str, threads: &str| {
        let file = dir.path().join(name);
        let mut c = bin();
        c.env("RAYON_NUM_THREADS", threads)
            .args([
                "rank",
                "--all-accounts",
                "--format",
                "json",
                "--at",
                AT,
                "--plot",
            ])
            .arg(&file);
        let o = exec(c);
        assert_eq!(o.code, 0, "{}", o.stderr);
        (o, std::fs::read_to_string(&file).unwrap())
    };
    let (o, svg) = plot("a.svg", "2");
    // --plot implies --summary: stdout is what --summary prints.
    let summary = ok(&[
        "rank",
        "--all-accounts",
        "--summary",
        "--format",
        "json",
        "--at",
        AT,
    ]);
    assert_eq!(o.stdout, summary.stdout);
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert_well_formed_xml(&svg);
    let k50 = summary.json()["summary"]["k_for"]["50"].as_u64().unwrap();
    assert!(svg.contains(r#"id="k-for-50""#), "no 50 % marker");
    assert!(svg.contains(&format!("50 %: k = {k50}")), "50 % label");
    assert!(svg.contains(r#"id="curve""#));
    // Same input, same bytes, whatever the thread count; no temp file left behind.
    let (_, again) = plot("b.svg", "1");
    assert_eq!(svg, again);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn rank_plot_escapes_input_names() {
    // The input's path appears in the subtitle: markup in it must not break the SVG.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a&b <c>");
    std::fs::create_dir(&data).unwrap();
    let idx = root().join("tests/fixtures/rules/rule1-publishability");
    for f in ["index.jsonl", "inventory.toml"] {
        std::fs::copy(idx.join(f), data.join(f)).unwrap();
    }
    let file = dir.path().join("plot.svg");
    let mut c = bin();
    c.args(["rank", "--format", "json", "--at", AT, "--plot"])
        .arg(&file)
        .arg(&data);
    let o = exec(c);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains("a&amp;b &lt;c&gt;"), "{svg}");
    assert_well_formed_xml(&svg);
}

#[test]
fn rank_plot_into_missing_directory_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("no/such/dir/curve.svg");
    let mut c = bin();
    c.args(["rank", "--format", "json", "--at", AT, "--plot"])
        .arg(&file);
    let o = exec(c);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stdout.is_empty(),
        "an answer was printed although --plot failed"
    );
    assert!(o.stderr.contains("curve.svg"), "{}", o.stderr);
}

#[test]
fn rank_top_says_what_it_hides_and_explains_only_what_it_shows() {
    let o = ok(&["rank", "--format", "table", "--at", AT, "--top", "1"]);
    let t = o.text();
    assert!(
        t.contains("(top 1 of 13 credentials; `--format json` lists all)"),
        "{t}"
    );
    let explained = t
        .split("How the top entries get there")
        .nth(1)
        .expect("witness paths");
    // One path section: a name line and its path line.
    assert_eq!(
        explained
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
            .count(),
        1,
        "{explained}"
    );
}

// ------------------------------------------------------------------------------------------
// Phase timings
// ------------------------------------------------------------------------------------------

/// `--timings` names every phase of a rank once, in order, with a time, and a total; without
/// it stderr carries no timing lines, and stdout is the same either way.
#[test]
fn timings_name_each_phase_and_leave_the_answer_alone() {
    let at = "--at=2026-06-01T00:00:00Z";
    let with = ok(&["rank", "--format", "json", at, "--timings"]);
    let without = ok(&["rank", "--format", "json", at]);
    assert_eq!(with.stdout, without.stdout);
    assert!(!without.stderr.contains("timing:"), "{}", without.stderr);
    let phases: Vec<&str> = with
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .map(|l| l.rsplit_once("  ").map_or(l, |(name, _)| name).trim())
        .collect();
    assert_eq!(
        phases,
        [
            "reading inputs",
            "building the graph",
            "freeing parsed inputs",
            "indexing who can attack what",
            "ranking 13 credentials",
            "total"
        ],
        "{}",
        with.stderr
    );
    for l in with.stderr.lines().filter(|l| l.starts_with("timing: ")) {
        let secs = l
            .trim_end()
            .strip_suffix(" s")
            .and_then(|l| l.rsplit(' ').next());
        assert!(
            secs.is_some_and(|s| s.parse::<f64>().is_ok()),
            "no time in {l:?}"
        );
    }
}
