//! Hostile and huge inputs (RELIABILITY H1–H5, H7, H9–H12, Z3–Z5): every case ends in a
//! located error or the right answer, never a panic, a stack overflow or a hang.
//!
//! Inputs are generated here, into a fresh temporary directory per test; the few kept as files
//! are under `tests/fixtures/hostile/` (see its README). Parser cases run through the library's
//! loader on a thread with a 256 KiB stack, so that any recursion proportional to the input
//! would overflow there; command-line cases check the exit code (1, never 101) and stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use blastradius::ingest::detect::{load_with, Input, LoadOptions};

// ---- helpers ------------------------------------------------------------------------------

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bin(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("BLASTRADIUS_CACHE")
        .env_remove("BLASTRADIUS_OFFLINE")
        .output()
        .expect("the blastradius binary runs");
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked at") && out.code != 101,
        "a panic: {}",
        out.stderr
    );
    out
}

/// Runs `f` on a thread with a 256 KiB stack: recursion that grows with the input overflows.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic and no stack overflow on a 256 KiB stack")
}

/// Loads `files` (name, contents) written into a fresh directory, each named on the command
/// line, on a small stack; returns the error text, or `Ok` with the number of lockfiles and
/// versions read.
fn load_files(files: &[(&str, Vec<u8>)]) -> Result<(usize, usize), String> {
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (name, data) in files {
        let p = tmp.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        inputs.push(Input {
            path: p,
            display: (*name).to_owned(),
        });
    }
    small_stack(move || {
        let r = load_with(&inputs, LoadOptions::default())
            .map(|f| (f.lockfiles.len(), f.versions.len()))
            .map_err(|e| e.to_string());
        drop(tmp);
        r
    })
}

fn timed<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    assert!(took < limit, "{what} took {took:?}, over {limit:?}");
    r
}

/// A sparse-index line for `name@version` requiring `deps` (name, req, kind).
fn index_line(name: &str, version: &str, deps: &[(&str, &str, &str)]) -> String {
    let deps: Vec<serde_json::Value> = deps
        .iter()
        .map(|(n, r, k)| {
            serde_json::json!({"name": n, "req": r, "kind": k, "optional": false,
                "default_features": true, "features": [], "target": null})
        })
        .collect();
    serde_json::json!({"name": name, "vers": version, "deps": deps, "cksum": "0".repeat(64),
        "features": {}, "yanked": false, "pubtime": "2025-01-01T00:00:00Z"})
    .to_string()
}

const INVENTORY_ONE: &str = r#"[[account]]
id = "maint"
ecosystem = "crates.io"
owns = ["p"]

[[credential]]
id = "t"
ecosystem = "crates.io"
kind = "api-token"
account = "maint"
scopes = ["publish-update"]
"#;

// ---- H1: alias bombs ----------------------------------------------------------------------

/// The billion-laughs document: 10 levels of 9 aliases each (about 430 bytes).
fn laughs() -> String {
    let mut s = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        let list = [prev.as_str(); 9].join(",");
        s.push_str(&format!("a{i}: &a{i} [{list}]\n"));
    }
    s
}

#[test]
fn h1_alias_bombs_fail_fast_naming_the_file() {
    let bomb = laughs();
    assert!(bomb.len() < 600, "{}", bomb.len());
    // pnpm-lock.yaml (serde-saphyr with budgets).
    let pnpm = format!("lockfileVersion: '9.0'\n{bomb}");
    let e = timed(Duration::from_millis(500), "pnpm alias bomb", || {
        load_files(&[("pnpm-lock.yaml", pnpm.into_bytes())]).unwrap_err()
    });
    assert!(e.starts_with("pnpm-lock.yaml"), "{e}");
    assert!(e.contains("alias"), "names the alias limit: {e}");
    // yarn berry: its parser has no anchors at all, so the bomb is a syntax error.
    let berry = format!("__metadata:\n  version: 8\n  cacheKey: 10\n\n{bomb}");
    let e = timed(Duration::from_millis(500), "berry alias bomb", || {
        load_files(&[("yarn.lock", berry.into_bytes())]).unwrap_err()
    });
    assert!(e.starts_with("yarn.lock"), "{e}");
    // And through the binary: exit 1.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pnpm-lock.yaml"),
        format!("lockfileVersion: '9.0'\n{}", laughs()),
    )
    .unwrap();
    let o = bin(tmp.path(), &["rank", "--format", "json", "pnpm-lock.yaml"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("pnpm-lock.yaml") && o.stderr.contains("alias"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty());
}

// ---- H2: nesting --------------------------------------------------------------------------

#[test]
fn h2_deep_nesting_is_an_error_never_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    let cases: Vec<(&str, String)> = vec![
        ("package-lock.json", deep.clone()),
        (
            "npm-shrinkwrap.json",
            format!("{{\"lockfileVersion\": 3, \"packages\": {deep}"),
        ),
        (
            "doc.json",
            format!("{{\"_id\": \"x\", \"dist-tags\": {deep}"),
        ),
        (
            "pypi.json",
            format!("{{\"info\": {deep}, \"releases\": {{}}}}"),
        ),
        ("Cargo.lock", format!("version = 3\nx = {deep}")),
        (
            "uv.lock",
            format!("version = 1\nrequires-python = \">=3\"\nx = {deep}"),
        ),
        (
            "poetry.lock",
            format!("[metadata]\ncontent-hash = \"x\"\nx = {deep}"),
        ),
        ("inventory.toml", format!("x = {deep}")),
        (
            "pnpm-lock.yaml",
            format!("lockfileVersion: '9.0'\nx: {deep}"),
        ),
        (
            "yarn.lock",
            format!("__metadata:\n  version: 8\n\nx: {deep}"),
        ),
        ("index-file", format!("{{\"name\": \"x\", \"vers\": {deep}")),
        (
            "builds.csv",
            format!("build,lockfile,started_at,mode,mirror\n{deep}"),
        ),
    ];
    for (name, text) in cases {
        let r = timed(Duration::from_secs(2), name, || {
            load_files(&[(name, text.clone().into_bytes())])
        });
        let e = r.expect_err(name);
        assert!(e.contains(name), "{name}: {e}");
    }
    // A TOML table header nested 100,000 deep, and YAML block nesting 10,000 deep.
    let dotted = format!("[{}]\nx = 1\n", vec!["a"; 100_000].join("."));
    let r = load_files(&[("inventory.toml", dotted.into_bytes())]);
    assert!(r.is_err(), "{r:?}");
    let mut yaml = String::from("lockfileVersion: '9.0'\npackages:\n");
    for i in 0..10_000 {
        yaml.push_str(&" ".repeat(2 * (i + 1)));
        yaml.push_str("k:\n");
    }
    let e = load_files(&[("pnpm-lock.yaml", yaml.into_bytes())]).unwrap_err();
    assert!(e.starts_with("pnpm-lock.yaml"), "{e}");
}

#[test]
fn h2_npm_v1_dependencies_nested_ten_thousand_deep() {
    let mut s =
        String::from(r#"{"name":"app","version":"1.0.0","lockfileVersion":1,"dependencies":"#);
    for _ in 0..10_000 {
        s.push_str(r#"{"a":{"version":"1.0.0","dependencies":"#);
    }
    s.push_str("{}");
    for _ in 0..10_000 {
        s.push_str("}}");
    }
    s.push('}');
    let e = timed(Duration::from_secs(2), "npm v1 nesting", || {
        load_files(&[("package-lock.json", s.into_bytes())]).unwrap_err()
    });
    assert!(e.starts_with("package-lock.json"), "{e}");
}

#[test]
fn h2_pnpm_key_with_a_hundred_thousand_parentheses() {
    let peers = format!("{}b@1.0.0{}", "(".repeat(100_000), ")".repeat(100_000));
    let text = format!(
        "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0{peers}\n\npackages:\n  a@1.0.0:\n    resolution: {{integrity: sha512-x}}\n\nsnapshots:\n  a@1.0.0{peers}: {{}}\n"
    );
    // An error or an answer; neither a stack overflow nor quadratic time.
    let r = timed(Duration::from_secs(2), "pnpm parentheses", || {
        load_files(&[("pnpm-lock.yaml", text.into_bytes())])
    });
    if let Err(e) = r {
        assert!(e.starts_with("pnpm-lock.yaml"), "{e}");
    }
}

#[test]
fn h2_a_dependency_chain_of_a_million_is_counted_whole() {
    use blastradius::engine::{index::AttackIndex, rank, Query, VersionsMode};
    use blastradius::graph::Graph;
    use blastradius::ingest::{DepFact, DepKind, Ecosystem, Facts, OwnerFact, VersionFact};
    const N: usize = 1_000_000;
    let reached = small_stack(move || {
        let versions = (0..N)
            .map(|i| VersionFact {
                ecosystem: Ecosystem::CratesIo,
                name: format!("c{i}"),
                version: "1.0.0".into(),
                yanked: false,
                published: None,
                deps: if i == 0 {
                    vec![]
                } else {
                    vec![DepFact {
                        package: format!("c{}", i - 1).into(),
                        req: "^1".into(),
                        kind: DepKind::Normal,
                        optional: false,
                        target: None,
                        rename: None,
                    }]
                },
                publisher: None,
                deps_known: true,
                install_script: false,
            })
            .collect();
        // Two accounts (without owner data every package would be its own source): one owns
        // the root of the chain, the other everything else.
        let owners = (0..N)
            .map(|i| OwnerFact {
                ecosystem: Ecosystem::CratesIo,
                account: if i == 0 { "root-owner" } else { "rest" }.into(),
                package: format!("c{i}"),
            })
            .collect();
        let mut facts = Facts {
            versions,
            owners,
            ..Facts::default()
        };
        facts.canonicalise();
        let g = Graph::build(&facts).unwrap();
        let q = Query {
            at: "2026-01-01T00:00:00Z".parse().unwrap(),
            versions: VersionsMode::Latest,
            hops: 1,
        };
        let idx = AttackIndex::new(&g, q.versions);
        let ranked = rank::rank(&g, &idx, &q, rank::RankSubject::Credentials, false);
        ranked
            .iter()
            .map(|e| (e.id.clone(), e.inject.packages))
            .collect::<Vec<_>>()
    });
    assert_eq!(
        reached,
        vec![("root-owner".to_string(), N), ("rest".to_string(), N - 1)]
    );
}

// ---- H5: names used as cache paths ---------------------------------------------------------

mod cache_paths {
    use blastradius::fetch::cache::doc_path;
    use blastradius::fetch::plan::PackageKey;
    use blastradius::ingest::Ecosystem;
    use proptest::prelude::*;
    use std::path::{Component, Path};

    fn check(name: &str) -> Result<(), TestCaseError> {
        let root = Path::new("/cache-root");
        for e in [Ecosystem::CratesIo, Ecosystem::Npm, Ecosystem::Pypi] {
            let Ok(key) = PackageKey::new(e, name) else {
                continue;
            };
            let Ok(rel) = doc_path(&key) else {
                continue;
            };
            let full = root.join(&rel);
            prop_assert!(full.starts_with(root), "{e} {name:?} -> {full:?}");
            for c in rel.components() {
                match c {
                    Component::Normal(s) => {
                        let s = s.to_str().unwrap();
                        prop_assert!(
                            !s.is_empty()
                                && s != ".."
                                && s != "."
                                && !s.contains(['/', '\\', '\0'])
                                && s.len() <= 255,
                            "{e} {name:?} -> {rel:?}"
                        );
                    }
                    _ => prop_assert!(false, "{e} {name:?} -> {rel:?}"),
                }
            }
        }
        Ok(())
    }

    #[test]
    fn the_listed_hostile_names() {
        for name in [
            "../../etc/passwd",
            "..\\x",
            "CON",
            "nul",
            "a/b",
            "%2e%2e",
            "@scope/../x",
            "@scope/..",
            "..",
            ".",
            "a\0b",
            &"x".repeat(10_000),
        ] {
            check(name).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn ten_thousand_random_names_stay_under_the_root(
            name in prop_oneof![
                "\\PC{0,60}",
                "[@./\\\\%a-zA-Z0-9_~!:\\x00-]{0,30}",
                "(\\.\\.|/|\\\\|@|%2e|%2f|CON|nul|aux|[a-z]){1,12}",
            ]
        ) {
            check(&name)?;
        }
    }
}

// ---- H7: DOT injection --------------------------------------------------------------------

/// The hostile strings of RELIABILITY H7 (12 of them).
fn hostile_ids() -> Vec<String> {
    [
        "quo\"te",
        "back\\slash",
        "new\nline",
        "brace}",
        "a -> b",
        "semi;colon",
        "<b>x</b>",
        "\\N",
        "\\G",
        "left\\l",
        "two  spaces ",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Undoes DOT's escapes inside a double-quoted string as Graphviz reads them for our output:
/// `\"` is a quote, `\\` a backslash, `\n` a line break.
fn dot_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(x) => out.push(x),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A minimal DOT reader for our own output: statements `nX [ … label="…" … ];` and
/// `nX -> nY …`. Returns (graph count, node labels by id, edges).
fn read_dot(
    dot: &str,
) -> (
    usize,
    std::collections::BTreeMap<String, String>,
    Vec<(String, String)>,
) {
    let graphs = dot.matches("digraph").count();
    let mut nodes = std::collections::BTreeMap::new();
    let mut edges = Vec::new();
    // Tokenise: quoted strings are one token (escapes kept), everything else split on
    // whitespace and punctuation.
    let mut toks: Vec<String> = Vec::new();
    let mut chars = dot.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == '"' {
            chars.next();
            let mut s = String::from("\"");
            while let Some(c) = chars.next() {
                if c == '\\' {
                    s.push(c);
                    s.push(chars.next().unwrap());
                } else if c == '"' {
                    break;
                } else {
                    s.push(c);
                }
            }
            toks.push(s);
        } else if c.is_whitespace() {
            chars.next();
        } else if "[]{};=,".contains(c) {
            toks.push(c.to_string());
            chars.next();
        } else if c == '-' {
            chars.next();
            assert_eq!(chars.next(), Some('>'), "only -> edges");
            toks.push("->".into());
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "[]{};=,\"".contains(c) || c == '-' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            toks.push(s);
        }
    }
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let is_node_id =
            t.starts_with('n') && t[1..].chars().all(|c| c.is_ascii_digit()) && t.len() > 1;
        if is_node_id && toks.get(i + 1).map(String::as_str) == Some("->") {
            edges.push((t.clone(), toks[i + 2].clone()));
            i += 3;
            continue;
        }
        if is_node_id && toks.get(i + 1).map(String::as_str) == Some("[") {
            let mut j = i + 2;
            while toks[j] != "]" {
                if toks[j] == "label" && toks[j + 1] == "=" {
                    let v = toks[j + 2].strip_prefix('"').expect("quoted label");
                    nodes.insert(t.clone(), dot_unescape(v));
                }
                j += 1;
            }
            i = j;
        }
        i += 1;
    }
    (graphs, nodes, edges)
}

fn graphviz_accepts(dot: &str) {
    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("note: Graphviz `dot` is not installed; render check skipped");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "dot -Tsvg refused it: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("<svg"));
}

#[test]
fn h7_dot_labels_round_trip_and_counts_are_exact() {
    use blastradius::report::dot::paths_to_dot;
    let ids = hostile_ids();
    // One path through all twelve, then each hostile id straight from the credential.
    let mut paths: Vec<Vec<(String, &'static str)>> = Vec::new();
    let mut chain = vec![("cred".to_string(), "credential")];
    chain.extend(ids.iter().map(|s| (s.clone(), "package")));
    paths.push(chain);
    for s in &ids {
        paths.push(vec![("cred".into(), "credential"), (s.clone(), "package")]);
    }
    let dot = paths_to_dot("title \"}\n\\G", &paths);
    let (graphs, nodes, edges) = read_dot(&dot);
    assert_eq!(graphs, 1, "{dot}");
    assert_eq!(nodes.len(), 13, "{dot}");
    // 12 chain steps (cred → ids[0] → … → ids[11]) and 11 more from cred (cred → ids[0] is shared).
    let mut unique = edges.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(edges.len(), 23, "{dot}");
    assert_eq!(unique.len(), 23);
    let mut labels: Vec<String> = nodes.values().cloned().collect();
    labels.sort();
    let mut want = ids.clone();
    want.push("cred".into());
    want.sort();
    assert_eq!(labels, want, "every label reads back as the original");
    graphviz_accepts(&dot);
}

#[test]
fn h7_export_dot_of_an_inventory_with_hostile_ids() {
    // Hostile ids in the inventory itself: environments and credentials, end to end.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("index"),
        index_line("p", "1.0.0", &[]) + "\n",
    )
    .unwrap();
    let mut inv =
        String::from("[[account]]\nid = \"maint\"\necosystem = \"crates.io\"\nowns = [\"p\"]\n");
    let ids = hostile_ids();
    let toml_str = |s: &str| toml::Value::String(s.to_owned()).to_string();
    for (i, s) in ids.iter().enumerate() {
        // Credentials need distinct, non-empty ids; prefix the index to keep each unique.
        let id = format!("{i}{s}");
        inv.push_str(&format!(
            "\n[[credential]]\nid = {}\necosystem = \"crates.io\"\nkind = \"api-token\"\naccount = \"maint\"\nscopes = [\"publish-update\"]\n",
            toml_str(&id)
        ));
    }
    std::fs::write(tmp.path().join("inventory.toml"), &inv).unwrap();
    let o = bin(
        tmp.path(),
        &["export", "--format", "dot", "index", "inventory.toml"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (graphs, nodes, edges) = read_dot(&o.stdout);
    assert_eq!(graphs, 1);
    // 12 credentials, the account, the package and its version.
    assert_eq!(nodes.len(), 15, "{}", o.stdout);
    let labels: std::collections::BTreeSet<&str> = nodes.values().map(String::as_str).collect();
    for (i, s) in ids.iter().enumerate() {
        assert!(
            labels.contains(format!("{i}{s}").as_str()),
            "{i}{s:?} in {labels:?}"
        );
    }
    // Each credential acts for the account and may publish p, the account mints each one and
    // owns p, p has 1.0.0: the same count as the JSON export's.
    assert_eq!(edges.len(), 12 * 3 + 2, "{}", o.stdout);
    let json = bin(
        tmp.path(),
        &["export", "--format", "json", "index", "inventory.toml"],
    );
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["edges"].as_array().unwrap().len(), edges.len());
    assert_eq!(v["nodes"].as_array().unwrap().len(), nodes.len());
    graphviz_accepts(&o.stdout);
}

// ---- H8 ----------------------------------------------------------------------------------
// There is no GraphML writer (`export --format` offers json and dot; see src/report/export.rs),
// so H8 has nothing to test yet.

// ---- H9: pathological globs ---------------------------------------------------------------

#[test]
fn h9_pathological_globs_are_linear() {
    use blastradius::ingest::pattern::{matches, matches_path};
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let names: Vec<String> = (0..200_000)
        .map(|i| {
            let len = 8 + (next() % 48) as usize;
            let mut s: String = (0..len)
                .map(|_| if next() % 8 == 0 { '-' } else { 'a' })
                .collect();
            s.push_str(&i.to_string());
            s
        })
        .collect();
    let mut patterns = vec!["a*a*a*a*a*a*a*b".to_string()];
    for i in 0..99 {
        patterns.push(format!("{}b{i}", "*a".repeat(1 + i % 20)));
    }
    let hits = timed(Duration::from_secs(3), "100 globs × 200,000 names", || {
        let mut hits = 0usize;
        for n in &names {
            if patterns.iter().any(|p| matches(p, n)) {
                hits += 1;
            }
        }
        hits
    });
    // No name holds a `b`.
    assert_eq!(hits, 0);
    // The worst case for one name: 10,000 `a`s against 50 stars.
    let long = "a".repeat(10_000);
    timed(Duration::from_millis(200), "one long name", || {
        assert!(!matches(&("*a".repeat(50) + "b"), &long));
        assert!(matches(&"*a".repeat(50), &long));
    });
    // Paths: `**` against a deep path is a product of lengths, not exponential.
    let deep = vec!["d"; 2_000].join("/") + "/Cargo.lock";
    timed(Duration::from_secs(1), "** against a deep path", || {
        assert!(matches_path("**/d/**/d/**/Cargo.lock", &deep));
        assert!(!matches_path("**/e/**/Cargo.lock", &deep));
    });
}

// ---- H10: giant ranges --------------------------------------------------------------------

#[test]
fn h10_giant_requirements_parse_fast_or_are_refused() {
    use blastradius::ingest::Ecosystem;
    use blastradius::versioning::Requirement;
    let npm: String = (0..20_000)
        .map(|i| format!("{}.{}.{}", i % 7, i % 13, i))
        .collect::<Vec<_>>()
        .join(" || ");
    let pep: String = {
        let mut s = String::from(">=1.0");
        while s.len() < 1 << 20 {
            s.push_str(",!=1.0.");
            s.push_str(&s.len().to_string());
        }
        s
    };
    let cargo: String = {
        let mut s = String::from(">=1.0.0");
        while s.len() < 1 << 20 {
            s.push_str(", <9.9.");
            s.push_str(&s.len().to_string());
        }
        s
    };
    for (eco, text) in [
        (Ecosystem::Npm, npm),
        (Ecosystem::Pypi, pep),
        (Ecosystem::CratesIo, cargo),
    ] {
        let r = small_stack(move || {
            let start = Instant::now();
            let r = Requirement::parse(eco, &text).map(|_| ());
            (r, start.elapsed())
        });
        assert!(r.1 < Duration::from_millis(500), "{eco}: {:?}", r.1);
        if let Err(e) = r.0 {
            assert!(
                e.len() < 500,
                "{eco}: the message is short: {} bytes",
                e.len()
            );
        }
    }
}

// ---- H11: cycles --------------------------------------------------------------------------

fn reach_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["reach", "--format", "json", "--at", "2026-01-01T00:00:00Z"];
    all.extend_from_slice(args);
    let o = bin(dir, &all);
    assert_eq!(o.code, 0, "{}", o.stderr);
    serde_json::from_str(&o.stdout).unwrap()
}

fn paths_of(v: &serde_json::Value) -> std::collections::BTreeMap<String, Vec<String>> {
    v["inject"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn h11_registry_cycles_terminate_with_shortest_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        // A self-dependency, a two-cycle a ⇄ b, and a dev-dependency cycle p ⇄ d.
        index_line("p", "1.0.0", &[("p", "^1", "normal"), ("d", "^1", "dev")]),
        index_line(
            "a",
            "1.0.0",
            &[("p", "^1", "normal"), ("b", "^1", "normal")],
        ),
        index_line("b", "1.0.0", &[("a", "^1", "normal")]),
        index_line("d", "1.0.0", &[("p", "^1", "dev")]),
    ];
    std::fs::write(tmp.path().join("index"), lines.join("\n") + "\n").unwrap();
    std::fs::write(tmp.path().join("inventory.toml"), INVENTORY_ONE).unwrap();
    let v = timed(Duration::from_secs(10), "reach on cycles", || {
        reach_json(
            tmp.path(),
            &["--credential", "t", "index", "inventory.toml"],
        )
    });
    let paths = paths_of(&v);
    let ids: Vec<&str> = paths.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        ["crates.io:a", "crates.io:b", "crates.io:p"],
        "dev deps do not propagate"
    );
    assert_eq!(
        paths["crates.io:b"],
        [
            "t",
            "crates.io:p",
            "crates.io:a@1.0.0",
            "crates.io:a",
            "crates.io:b@1.0.0",
            "crates.io:b"
        ]
    );
    assert_eq!(paths["crates.io:p"], ["t", "crates.io:p"]);
}

#[test]
fn h11_npm_link_and_peer_cycles_terminate() {
    let tmp = tempfile::tempdir().unwrap();
    // package-lock v3: workspaces linking each other (a link cycle) and a peer cycle x ⇄ y.
    let lock = serde_json::json!({
        "name": "root", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "root", "version": "1.0.0", "workspaces": ["wa", "wb"],
                 "dependencies": {"x": "^1.0.0"}},
            "node_modules/wa": {"resolved": "wa", "link": true},
            "node_modules/wb": {"resolved": "wb", "link": true},
            "wa": {"name": "wa", "version": "1.0.0", "dependencies": {"wb": "*"}},
            "wb": {"name": "wb", "version": "1.0.0", "dependencies": {"wa": "*"}},
            "node_modules/x": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/x/-/x-1.0.0.tgz",
                 "peerDependencies": {"y": "^1.0.0"}},
            "node_modules/y": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/y/-/y-1.0.0.tgz",
                 "peerDependencies": {"x": "^1.0.0"}}
        }
    });
    std::fs::write(tmp.path().join("package-lock.json"), lock.to_string()).unwrap();
    let o = timed(Duration::from_secs(10), "npm cycles", || {
        bin(
            tmp.path(),
            &[
                "rank",
                "--format",
                "json",
                "--at",
                "2026-01-01T00:00:00Z",
                "package-lock.json",
            ],
        )
    });
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let ids: Vec<&str> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    // Without registry metadata each package stands for its own publishing right.
    assert!(
        ids.contains(&"owner-of:npm:x") || ids.iter().any(|i| i.contains('x')),
        "{ids:?}"
    );
}

#[cfg(unix)]
#[test]
fn h11_symlink_loops_in_an_input_directory() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("in");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/index"), index_line("p", "1.0.0", &[]) + "\n").unwrap();
    std::fs::write(d.join("inventory.toml"), INVENTORY_ONE).unwrap();
    // A link to an ancestor, and two links pointing at each other.
    symlink("..", d.join("sub/up")).unwrap();
    symlink("loop-b", d.join("loop-a")).unwrap();
    symlink("loop-a", d.join("loop-b")).unwrap();
    let v = timed(Duration::from_secs(10), "walk with loops", || {
        reach_json(tmp.path(), &["--credential", "t", "in"])
    });
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    for at in ["in/loop-a", "in/loop-b", "in/sub/up"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(&format!("file system loop at {at}:"))),
            "{at} in {warnings:?}"
        );
    }
    assert_eq!(paths_of(&v).len(), 1);
    // A looping link named on the command line is an error naming it.
    let o = bin(tmp.path(), &["rank", "in/loop-a"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("file system loop at in/loop-a"),
        "{}",
        o.stderr
    );
}

// ---- H12: parser differentials ------------------------------------------------------------

#[test]
fn h12_a_duplicate_install_path_is_refused_naming_both_lines() {
    // npm (JSON.parse) silently keeps the last of duplicate keys; for an install path that
    // would hide the first pin, so blastradius refuses the file and names both lines (README,
    // "Bad input") rather than guess which copy was installed.
    let lock = r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{
"":{"name":"app","version":"1.0.0","dependencies":{"x":"^1.0.0"}},
"node_modules/x":{"version":"1.0.0","resolved":"https://registry.npmjs.org/x/-/x-1.0.0.tgz"},
"node_modules/x":{"version":"2.0.0","resolved":"https://registry.npmjs.org/x/-/x-2.0.0.tgz"}}}"#;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("package-lock.json");
    std::fs::write(&p, lock).unwrap();
    let r = small_stack(move || {
        load_with(&[Input::new(p)], LoadOptions::default()).map_err(|e| e.to_string())
    });
    let e = r.expect_err("a duplicate install path is an error");
    assert!(
        e.contains("package-lock.json:4:") && e.contains("listed twice (at lines 3 and 4"),
        "{e}"
    );
}

#[test]
fn h12_yaml_keys_and_versions_stay_strings() {
    // YAML 1.2: `on`, `yes`, `no` are strings, and `1.10` / `2.0` unquoted stay as written.
    let text = "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies:\n      on:\n        specifier: 1.10.0\n        version: 1.10.0\n      yes:\n        specifier: ^2.0\n        version: 2.0.0\n      no:\n        specifier: '1.10'\n        version: 1.10.1\n\npackages:\n  on@1.10.0:\n    resolution: {integrity: sha512-x}\n  yes@2.0.0:\n    resolution: {integrity: sha512-x}\n  no@1.10.1:\n    resolution: {integrity: sha512-x}\n\nsnapshots:\n  on@1.10.0: {}\n  yes@2.0.0: {}\n  no@1.10.1: {}\n";
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("pnpm-lock.yaml");
    std::fs::write(&p, text).unwrap();
    let f = small_stack(move || {
        load_with(&[Input::new(p)], LoadOptions::default()).map_err(|e| e.to_string())
    })
    .unwrap();
    let mut pins: Vec<(String, String)> = f.lockfiles[0]
        .packages
        .iter()
        .filter(|p| p.registry)
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect();
    pins.sort();
    assert_eq!(
        pins,
        [
            ("no".to_string(), "1.10.1".to_string()),
            ("on".to_string(), "1.10.0".to_string()),
            ("yes".to_string(), "2.0.0".to_string())
        ]
    );
}

#[test]
fn h12_berry_explicit_long_key() {
    // yarn writes a key longer than 1024 characters as an explicit `? key` (YAML's limit on
    // implicit keys); such an entry is read like any other.
    let many: Vec<String> = (0..60).map(|i| format!("left-pad@npm:^1.{i}.0")).collect();
    let key = many.join(", ");
    assert!(key.len() > 1024);
    let text = format!(
        "# This file is generated by running \"yarn install\" inside your project.\n\n__metadata:\n  version: 8\n  cacheKey: 10c0\n\n? \"{key}\"\n: version: 1.3.0\n  resolution: \"left-pad@npm:1.3.0\"\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n\n\"root@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"root@workspace:.\"\n  dependencies:\n    left-pad: \"npm:^1.0.0\"\n  languageName: unknown\n  linkType: soft\n"
    );
    let r = load_files(&[("yarn.lock", text.into_bytes())]);
    match r {
        Ok((locks, _)) => assert_eq!(locks, 1),
        Err(e) => panic!("explicit key: {e}"),
    }
}

// ---- H3: decompression (the rest are in tests/dbdump.rs) ----------------------------------

#[test]
fn h3_a_million_empty_tar_entries_in_a_multi_member_gzip() {
    use flate2::write::GzEncoder;
    use flate2::Compression;
    // 1,000 empty members compressed once, the gzip member repeated 1,000 times: 10^6 entries
    // in about 20 KiB, without building 512 MB here.
    let block = {
        let mut b = tar::Builder::new(Vec::new());
        for i in 0..1000 {
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            b.append_data(&mut h, format!("2025-09-08-020031/empty{i}"), &[][..])
                .unwrap();
        }
        let mut raw = b.into_inner().unwrap();
        // `into_inner` wrote the end-of-archive blocks: keep them for the last member only.
        raw.truncate(raw.len() - 1024);
        raw
    };
    let gz = |data: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let member = gz(&block);
    let mut bytes = Vec::new();
    for _ in 0..1000 {
        bytes.extend_from_slice(&member);
    }
    bytes.extend_from_slice(&gz(&[0u8; 1024]));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("db-dump.tar.gz");
    std::fs::write(&path, &bytes).unwrap();
    let before = listing(tmp.path());
    let e = timed(Duration::from_secs(5), "10^6 entries", || {
        blastradius::ingest::dbdump::read(&path, "db-dump.tar.gz")
            .map(|_| ())
            .unwrap_err()
            .to_string()
    });
    assert!(e.starts_with("db-dump.tar.gz: more than"), "{e}");
    assert_eq!(listing(tmp.path()), before, "nothing written beside it");
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

// ---- Z3–Z5: huge inputs -------------------------------------------------------------------

#[test]
fn z3_a_document_over_the_size_limit_is_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("Cargo.lock");
    // Sparse: 1.2 GiB of apparent size, no blocks written.
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(1_288_490_189).unwrap();
    drop(f);
    let o = timed(Duration::from_secs(5), "stat, not read", || {
        bin(tmp.path(), &["rank", "--format", "json", "Cargo.lock"])
    });
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr.trim(),
        "error: Cargo.lock is 1.2 GiB, over the 512 MiB limit for one document (raise it with --max-input-size)"
    );
    // Inside a directory too, and a lower limit from the flag.
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    std::fs::write(
        tmp.path().join("d/index"),
        index_line("p", "1.0.0", &[]) + "\n",
    )
    .unwrap();
    let o = bin(
        tmp.path(),
        &["rank", "--format", "json", "--max-input-size", "100", "d"],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.trim_end().ends_with(
            "d/index is 175 bytes, over the 100 bytes limit for one document (raise it with --max-input-size)"
        ),
        "{}",
        o.stderr
    );
    let o = bin(
        tmp.path(),
        &["rank", "--format", "json", "--max-input-size", "1KiB", "d"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = bin(tmp.path(), &["rank", "--max-input-size", "lots", "d"]);
    assert_eq!(o.code, 2, "a bad size is a usage error");
}

#[test]
fn z4_a_thousand_files_and_a_thousand_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    // 1,000 sparse-index files side by side.
    let wide = root.join("wide");
    std::fs::create_dir_all(&wide).unwrap();
    for i in 0..1000 {
        std::fs::write(
            wide.join(format!("w{i:04}")),
            index_line(&format!("w{i}"), "1.0.0", &[]) + "\n",
        )
        .unwrap();
    }
    // One directory nested 1,000 levels deep, with a file at the bottom.
    let mut deep = root.join("deep");
    for _ in 0..1000 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        deep.join("bottom"),
        index_line("bottom", "1.0.0", &[]) + "\n",
    )
    .unwrap();
    let inputs = vec![Input {
        path: root,
        display: "tree".into(),
    }];
    let (n, names) = timed(Duration::from_secs(10), "walk", || {
        small_stack(move || {
            let f = load_with(&inputs, LoadOptions::default()).unwrap();
            let names: std::collections::BTreeSet<String> =
                f.versions.iter().map(|v| v.name.clone()).collect();
            (f.versions.len(), names)
        })
    });
    assert_eq!(n, 1001);
    assert!(names.contains("bottom") && names.contains("w999"));
}

#[test]
fn z5_a_64_mib_line() {
    // A JSON-lines (sparse-index) input whose second line is 64 MiB long.
    let tmp = tempfile::tempdir().unwrap();
    let mut long = index_line("p", "2.0.0", &[]);
    long.insert_str(
        long.len() - 1,
        &format!(",\"pad\":\"{}\"", "x".repeat(64 << 20)),
    );
    let text = format!("{}\n{long}\n", index_line("p", "1.0.0", &[]));
    std::fs::write(tmp.path().join("index"), text).unwrap();
    let big_csv = format!(
        "build,lockfile,started_at,mode,mirror\nb1,{},2026-01-01T00:00:00Z,locked,\n",
        "y".repeat(64 << 20)
    );
    std::fs::write(tmp.path().join("builds.csv"), big_csv).unwrap();
    let inputs = vec![Input::new(tmp.path().join("index"))];
    let n = timed(Duration::from_secs(10), "64 MiB line", || {
        load_with(&inputs, LoadOptions::default())
            .unwrap()
            .versions
            .len()
    });
    assert_eq!(n, 2, "handled: the unknown field is ignored");
    let inputs = vec![Input {
        path: tmp.path().join("builds.csv"),
        display: "builds.csv".into(),
    }];
    let r = timed(Duration::from_secs(10), "64 MiB CSV field", || {
        load_with(&inputs, LoadOptions::default()).map(|f| f.builds.len())
    });
    match r {
        Ok(n) => assert_eq!(n, 1),
        Err(e) => assert!(e.to_string().starts_with("builds.csv"), "{e}"),
    }
}
