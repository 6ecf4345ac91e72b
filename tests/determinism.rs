//! Determinism (RELIABILITY D1–D7): the same question gives the same bytes whatever the run,
//! the thread count, the order of inputs, the time zone or the locale; JSON lists are sorted
//! as SPEC §5 says; equal-length witness paths are tie-broken by the documented rule (README,
//! "Determinism"); and every command × format on the demo is an insta snapshot.
//!
//! The hashes printed (`cargo test --release --test determinism -- --nocapture`) are the
//! figures of the closing note.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const AT: &str = "2026-06-01T00:00:00Z";
const WINDOW: &str = "2026-03-10T14:05:00Z..2026-03-10T16:20:00Z";

// ---- running ------------------------------------------------------------------------------

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blastradius"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("BLASTRADIUS_CACHE")
        .env_remove("BLASTRADIUS_OFFLINE");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("the binary runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "blastradius {args:?} {env:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// The repository root, where `data/` is (the demo runs when no input is named).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every command × format on the demo: (name, arguments).
fn demo_matrix() -> Vec<(String, Vec<&'static str>)> {
    let mut out = Vec::new();
    let commands: [(&str, Vec<&'static str>); 5] = [
        ("rank", vec!["rank", "--at", AT]),
        (
            "reach",
            vec!["reach", "--credential", "acme-ci-token", "--at", AT],
        ),
        (
            "explain",
            vec![
                "explain",
                "--credential",
                "acme-ci-token",
                "--to",
                "ci:acme-worker",
                "--at",
                AT,
            ],
        ),
        (
            "incident",
            vec!["incident", "--bad", "acme-core@0.2.3", "--window", WINDOW],
        ),
        ("export", vec!["export", "--at", AT]),
    ];
    for (name, args) in commands {
        for format in ["table", "json", "dot"] {
            let mut a = args.clone();
            a.extend(["--format", format]);
            out.push((format!("{name}_{format}"), a));
        }
    }
    out
}

// ---- SHA-256 (FIPS 180-4), so the figures are the usual ones without a dependency --------

fn sha256(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

// ---- D1, D3, D4: runs, threads, environments -----------------------------------------------

/// Environment variables set for one run.
type Env = &'static [(&'static str, &'static str)];

/// The environments of D3 and D4: every combo runs in each, and all must agree.
const ENVS: [Env; 4] = [
    &[
        ("RAYON_NUM_THREADS", "1"),
        ("TZ", "UTC"),
        ("LANG", "C"),
        ("LC_ALL", "C"),
    ],
    &[
        ("RAYON_NUM_THREADS", "2"),
        ("TZ", "Asia/Kolkata"),
        ("LANG", "tr_TR.UTF-8"),
        ("LC_ALL", "tr_TR.UTF-8"),
    ],
    &[
        ("RAYON_NUM_THREADS", "8"),
        ("TZ", "UTC"),
        ("LANG", "tr_TR.UTF-8"),
        ("LC_ALL", "tr_TR.UTF-8"),
    ],
    &[
        ("RAYON_NUM_THREADS", "8"),
        ("TZ", "Asia/Kolkata"),
        ("LANG", "C"),
        ("LC_ALL", "C"),
    ],
];

#[test]
fn d1_d3_d4_every_command_and_format_is_byte_identical() {
    let root = root();
    let matrix = demo_matrix();
    // Every run as (combo name, arguments, environment); the bare demo's analysis time is
    // now, so its output is compared with that time normalised.
    let mut jobs: Vec<(String, Vec<&str>, Env)> = Vec::new();
    // D3, D4: every combo in the four environments (threads 1/2/8 × TZ × LANG). The 13 MB
    // export JSON and DOT run in two of them (threads 1 and 2, both time zones and locales).
    for (name, args) in &matrix {
        let envs = if name == "export_json" || name == "export_dot" {
            &ENVS[..2]
        } else {
            &ENVS[..]
        };
        for env in envs {
            jobs.push((name.clone(), args.clone(), env));
        }
    }
    // D1: ten separate processes (ten hash seeds) of one question per format, and of the
    // demo run with no arguments.
    for f in ["table", "json", "dot"] {
        let (n, a) = matrix
            .iter()
            .find(|(n, _)| *n == format!("reach_{f}"))
            .unwrap();
        for _ in 0..9 {
            jobs.push((n.clone(), a.clone(), &[]));
        }
    }
    for _ in 0..10 {
        jobs.push(("demo".into(), vec![], &[]));
    }
    let outputs = par_map(&jobs, |(_, args, env)| {
        let out = String::from_utf8(run_env(&root, args, env)).unwrap();
        sha256(normalise_now(&out).as_bytes())
    });
    let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut runs: BTreeMap<&str, usize> = BTreeMap::new();
    for ((name, _, _), h) in jobs.iter().zip(&outputs) {
        by_name.entry(name).or_default().insert(h);
        *runs.entry(name).or_default() += 1;
    }
    for (name, hashes) in &by_name {
        assert_eq!(hashes.len(), 1, "{name}: {hashes:?}");
        let h = hashes.iter().next().unwrap();
        println!("{name:<16} {:>2} runs  {h}", runs[name]);
    }
    assert_eq!(by_name.len(), 16);
}

/// Runs `f` over `items` on a few threads (the runs are separate processes), in order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

// ---- D2: order of inputs --------------------------------------------------------------------

/// Copies `from` into `to`, creating files in the order `order` gives the sorted listing.
fn copy_tree(from: &Path, to: &Path, reverse: bool) {
    let mut files = Vec::new();
    let mut stack = vec![from.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    if reverse {
        files.reverse();
    }
    for f in files {
        let rel = f.strip_prefix(from).unwrap();
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&f, dst).unwrap();
    }
}

#[test]
fn d2_input_order_and_creation_order_change_nothing() {
    // The demo dataset copied twice, its files created in opposite orders (so directory
    // listings differ on most file systems), each walked as `data`.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    copy_tree(&root().join("data"), &a.path().join("data"), false);
    copy_tree(&root().join("data"), &b.path().join("data"), true);
    let q = [
        "reach",
        "--credential",
        "acme-ci-token",
        "--at",
        AT,
        "--format",
        "json",
    ];
    let mut hashes = BTreeSet::new();
    for dir in [a.path(), b.path()] {
        let mut args = q.to_vec();
        args.push("data");
        hashes.insert(sha256(&run_env(dir, &args, &[])));
    }
    // The same inputs named one by one, in six orders.
    let parts = ["data/index", "data/inventory.toml", "data/services"];
    let perms: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut by_args = BTreeSet::new();
    for p in perms {
        let mut args = q.to_vec();
        args.extend(p.iter().map(|&i| parts[i]));
        by_args.insert(sha256(&run_env(a.path(), &args, &[])));
    }
    assert_eq!(hashes.len(), 1, "creation order: {hashes:?}");
    assert_eq!(by_args.len(), 1, "argument order: {by_args:?}");
    // npm `packages` keys written in reverse order.
    let lock =
        std::fs::read_to_string(root().join("tests/fixtures/lockfiles/npm/package-lock.v3.json"))
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let packages = v["packages"].as_object().unwrap();
    let mut reversed = String::from("{\"lockfileVersion\": 3, \"name\": ");
    reversed.push_str(&v["name"].to_string());
    reversed.push_str(", \"packages\": {");
    let entries: Vec<String> = packages
        .iter()
        .rev()
        .map(|(k, v)| format!("{}: {v}", serde_json::Value::String(k.clone())))
        .collect();
    reversed.push_str(&entries.join(", "));
    reversed.push_str("}}");
    let forward = {
        let mut s = String::from("{\"lockfileVersion\": 3, \"name\": ");
        s.push_str(&v["name"].to_string());
        s.push_str(", \"packages\": ");
        s.push_str(&v["packages"].to_string());
        s.push('}');
        s
    };
    let mut npm = BTreeSet::new();
    for (i, text) in [forward, reversed].iter().enumerate() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("package-lock.json"), text).unwrap();
        let out = run_env(
            d.path(),
            &[
                "export",
                "--format",
                "json",
                "--at",
                AT,
                "package-lock.json",
            ],
            &[],
        );
        assert!(out.len() > 100, "{i}");
        npm.insert(sha256(&out));
    }
    assert_eq!(npm.len(), 1, "npm key order: {npm:?}");
    println!(
        "D2 reach_json (2 creation orders + 6 argument orders): {:?} {:?}",
        hashes, by_args
    );
}

// ---- D5: sorted JSON --------------------------------------------------------------------------

/// A JSON value with object keys in the order written (serde_json's `Value` sorts them).
#[derive(Debug, Clone)]
enum J {
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
    Str(String),
    Other(String),
}

fn parse_ordered(text: &str) -> J {
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    fn string(s: &str, i: &mut usize) -> String {
        // Reuse serde_json for the escapes: find the closing quote, then decode.
        let b = s.as_bytes();
        let start = *i;
        *i += 1;
        while b[*i] != b'"' {
            if b[*i] == b'\\' {
                *i += 1;
            }
            *i += 1;
        }
        *i += 1;
        serde_json::from_str(&s[start..*i]).unwrap()
    }
    fn value(s: &str, i: &mut usize) -> J {
        let b = s.as_bytes();
        ws(b, i);
        match b[*i] {
            b'{' => {
                *i += 1;
                let mut out = Vec::new();
                loop {
                    ws(b, i);
                    if b[*i] == b'}' {
                        *i += 1;
                        return J::Obj(out);
                    }
                    if b[*i] == b',' {
                        *i += 1;
                        ws(b, i);
                    }
                    let k = string(s, i);
                    ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    out.push((k, value(s, i)));
                }
            }
            b'[' => {
                *i += 1;
                let mut out = Vec::new();
                loop {
                    ws(b, i);
                    if b[*i] == b']' {
                        *i += 1;
                        return J::Arr(out);
                    }
                    if b[*i] == b',' {
                        *i += 1;
                    }
                    out.push(value(s, i));
                }
            }
            b'"' => J::Str(string(s, i)),
            _ => {
                let start = *i;
                while *i < b.len() && !b",]} \n".contains(&b[*i]) {
                    *i += 1;
                }
                J::Other(s[start..*i].to_owned())
            }
        }
    }
    let mut i = 0;
    value(text, &mut i)
}

fn field<'a>(o: &'a J, k: &str) -> Option<&'a J> {
    match o {
        J::Obj(kv) => kv.iter().find(|(key, _)| key == k).map(|(_, v)| v),
        _ => None,
    }
}

fn text(j: Option<&J>) -> String {
    match j {
        Some(J::Str(s)) => s.clone(),
        Some(J::Other(s)) => s.clone(),
        _ => String::new(),
    }
}

/// SPEC §5: keys sorted at every level; lists of objects sorted by `id` (rank's
/// `credentials` are in rank order: score descending, then id; export's `nodes` by kind then
/// id and `edges` by from, to, kind); lists of strings sorted, except witness `path`s, which
/// and build `chain`s are sequences.
fn check_sorted(j: &J, at: &str, errors: &mut Vec<String>) {
    match j {
        J::Obj(kv) => {
            let keys: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
            if keys.windows(2).any(|w| w[0] >= w[1]) {
                errors.push(format!("{at}: keys not sorted: {keys:?}"));
            }
            for (k, v) in kv {
                check_sorted(v, &format!("{at}.{k}"), errors);
            }
        }
        J::Arr(items) => {
            let last = at.rsplit('.').next().unwrap_or("");
            let keys: Option<Vec<Vec<String>>> = if items.iter().all(|x| matches!(x, J::Obj(_))) {
                let key: &[&str] = match (at, last) {
                    ("$.credentials", _) => &[],
                    (_, "nodes") => &["kind", "id"],
                    (_, "edges") => &["from", "to", "kind", "req"],
                    _ if items.iter().all(|x| field(x, "id").is_some()) => &["id"],
                    _ => &[],
                };
                if key.is_empty() {
                    None
                } else {
                    Some(
                        items
                            .iter()
                            .map(|x| key.iter().map(|k| text(field(x, k))).collect())
                            .collect(),
                    )
                }
            } else if items.iter().all(|x| matches!(x, J::Str(_)))
                && last != "path"
                && last != "chain"
            {
                Some(items.iter().map(|x| vec![text(Some(x))]).collect())
            } else {
                None
            };
            if let Some(keys) = keys {
                // Export's node kinds sort in the graph's kind order, not alphabetically:
                // compare ids within each kind there.
                let ok = if last == "nodes" {
                    keys.windows(2)
                        .all(|w| w[0][0] != w[1][0] || w[0][1] < w[1][1])
                } else if last == "edges" {
                    keys.windows(2).all(|w| w[0] <= w[1])
                } else {
                    keys.windows(2).all(|w| w[0] < w[1])
                };
                if !ok {
                    errors.push(format!("{at}: list not sorted"));
                }
            }
            if at == "$.credentials" {
                let order: Vec<(i64, String)> = items
                    .iter()
                    .map(|x| {
                        (
                            -text(field(x, "score")).parse::<i64>().unwrap(),
                            text(field(x, "id")),
                        )
                    })
                    .collect();
                if order.windows(2).any(|w| w[0] >= w[1]) {
                    errors.push(format!("{at}: not in rank order"));
                }
            }
            for (i, x) in items.iter().enumerate() {
                check_sorted(x, &format!("{at}[{i}]"), errors);
            }
        }
        _ => {}
    }
}

#[test]
fn d5_json_output_is_sorted_at_every_level() {
    let root = root();
    let mut checked = 0;
    let mut all = demo_matrix()
        .into_iter()
        .filter(|(n, _)| n.ends_with("_json"))
        .map(|(n, a)| (n, a.into_iter().map(String::from).collect::<Vec<_>>()))
        .collect::<Vec<_>>();
    // And the other fixture sets: an npm/PyPI incident, the rules fixtures, all accounts.
    let extra: [(&str, &[&str]); 4] = [
        (
            "rank_all_accounts",
            &[
                "rank",
                "--all-accounts",
                "--summary",
                "--format",
                "json",
                "--at",
                AT,
            ],
        ),
        (
            "reach_hops3",
            &[
                "reach",
                "--credential",
                "acme-ci-token",
                "--hops",
                "3",
                "--format",
                "json",
                "--at",
                AT,
            ],
        ),
        (
            "incident_npm",
            &[
                "incident",
                "--bad-from",
                "data/npm-incident/bad-versions.txt",
                "--window",
                "2025-09-08T13:16:00Z..2025-09-08T19:59:00Z",
                "--format",
                "json",
            ],
        ),
        (
            "reach_rule9",
            &[
                "reach",
                "--credential",
                "t",
                "--format",
                "json",
                "--at",
                AT,
                "tests/fixtures/rules/rule9-cycles-shortest",
            ],
        ),
    ];
    for (n, a) in extra {
        all.push((n.to_owned(), a.iter().map(|s| s.to_string()).collect()));
    }
    for (name, args) in all {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = String::from_utf8(run_env(&root, &args, &[])).unwrap();
        let mut errors = Vec::new();
        check_sorted(&parse_ordered(&out), "$", &mut errors);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        checked += 1;
    }
    assert_eq!(checked, 9);
}

// ---- D6: equal-length witness paths ---------------------------------------------------------

fn index_line(name: &str, deps: &[&str]) -> String {
    let deps: Vec<serde_json::Value> = deps
        .iter()
        .map(|n| {
            serde_json::json!({"name": n, "req": "^1", "kind": "normal", "optional": false,
                "default_features": true, "features": [], "target": null})
        })
        .collect();
    serde_json::json!({"name": name, "vers": "1.0.0", "deps": deps, "cksum": "0".repeat(64),
        "features": {}, "yanked": false, "pubtime": "2025-01-01T00:00:00Z"})
    .to_string()
}

const INVENTORY: &str = r#"[[account]]
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

/// Writes a world (index lines, extra files) twice, the index in opposite orders, and returns
/// the witness path of each reached node, checking both runs agree.
fn witness_paths(
    lines: &[String],
    extra: &[(&str, String)],
    inventory: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut seen: Option<(String, BTreeMap<String, Vec<String>>)> = None;
    for reverse in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let mut l = lines.to_vec();
        if reverse {
            l.reverse();
        }
        std::fs::write(tmp.path().join("index"), l.join("\n") + "\n").unwrap();
        std::fs::write(tmp.path().join("inventory.toml"), inventory).unwrap();
        for (name, text) in extra {
            let p = tmp.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let out = run_env(
            tmp.path(),
            &[
                "reach",
                "--credential",
                "t",
                "--format",
                "json",
                "--at",
                AT,
                ".",
            ],
            &[],
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let mut paths = BTreeMap::new();
        for list in ["packages", "lockfiles", "environments"] {
            for r in v["inject"][list].as_array().unwrap() {
                let path = r["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_owned())
                    .collect();
                paths.insert(r["id"].as_str().unwrap().to_owned(), path);
            }
        }
        let text = String::from_utf8(out).unwrap();
        if let Some((prev, _)) = &seen {
            assert_eq!(*prev, text, "index order changed the answer");
        }
        seen = Some((text, paths));
    }
    seen.unwrap().1
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn d6_equal_length_paths_take_the_smallest_branch_nearest_the_credential() {
    // 1. A diamond: p → {m, n} → c. Both paths to c have 6 ids; the one through the smaller
    //    id (m) is kept; renaming m to z moves it to n.
    for (left, right, want) in [("m", "n", "m"), ("z", "n", "n")] {
        let lines = vec![
            index_line("p", &[]),
            index_line(left, &["p"]),
            index_line(right, &["p"]),
            index_line("c", &[left, right]),
        ];
        let paths = witness_paths(&lines, &[], INVENTORY);
        assert_eq!(
            paths["crates.io:c"],
            strs(&[
                "t",
                "crates.io:p",
                &format!("crates.io:{want}@1.0.0"),
                &format!("crates.io:{want}"),
                "crates.io:c@1.0.0",
                "crates.io:c"
            ])
        );
    }
    // 2. The branch nearest the credential decides, not the last hop: p → a → z2 → c and
    //    p → b → a2 → c. Both are 10 ids long; a < b wins although a2 < z2.
    let lines = vec![
        index_line("p", &[]),
        index_line("a", &["p"]),
        index_line("b", &["p"]),
        index_line("z2", &["a"]),
        index_line("a2", &["b"]),
        index_line("c", &["z2", "a2"]),
    ];
    let paths = witness_paths(&lines, &[], INVENTORY);
    let via: Vec<&str> = paths["crates.io:c"]
        .iter()
        .filter(|s| !s.contains('@'))
        .map(String::as_str)
        .collect();
    assert_eq!(
        via,
        [
            "t",
            "crates.io:p",
            "crates.io:a",
            "crates.io:z2",
            "crates.io:c"
        ]
    );
    // 3. Two lockfiles pin p and one environment installs both: the environment's path goes
    //    through the lockfile whose id sorts first.
    let lock = "version = 3\n\n[[package]]\nname = \"p\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"p\"]\n".to_string();
    let inventory = format!(
        "{INVENTORY}\n[[environment]]\nid = \"ci\"\nlockfiles = [\"b/Cargo.lock\", \"a/Cargo.lock\"]\ncredentials = []\nexecutes = [\"build\"]\n"
    );
    let paths = witness_paths(
        &[index_line("p", &[])],
        &[("b/Cargo.lock", lock.clone()), ("a/Cargo.lock", lock)],
        &inventory,
    );
    let via = &paths["ci"][paths["ci"].len() - 2];
    assert!(via.ends_with("a/Cargo.lock"), "{paths:?}");
}

// ---- D7: snapshots of the demo ---------------------------------------------------------------

#[test]
fn d7_snapshots_of_every_command_and_format_on_the_demo() {
    let root = root();
    // The ones tests/cli.rs and tests/incident.rs already hold.
    let elsewhere = [
        "rank_json",
        "rank_table",
        "reach_json",
        "reach_table",
        "reach_dot",
        "explain_table",
        "incident_json",
        "incident_table",
    ];
    for (name, args) in demo_matrix() {
        if elsewhere.contains(&name.as_str()) {
            continue;
        }
        let mut out = String::from_utf8(run_env(&root, &args, &[])).unwrap();
        // The whole demo graph is 17 MB of JSON and DOT: keep its head, its size and its hash
        // (any change still shows), not every line.
        if name == "export_json" || name == "export_dot" {
            let lines = out.lines().count();
            let head: Vec<&str> = out.lines().take(60).collect();
            out = format!(
                "{}\n… {lines} lines, {} bytes, sha256 {}\n",
                head.join("\n"),
                out.len(),
                sha256(out.as_bytes())
            );
        }
        insta::assert_snapshot!(format!("demo_{name}"), out, &args.join(" "));
    }
    // The bare demo run: `blastradius` with no arguments. Its analysis time is now, and demo
    // credentials expire on set dates, so its ranking is checked against `rank --format table
    // --at` the same time (snapshotted at a fixed time in tests/cli.rs), and the rest (the
    // commands it suggests) is snapshotted here.
    let out = String::from_utf8(run_env(&root, &[], &[])).unwrap();
    let first = out.lines().next().unwrap();
    let at = first
        .split(", ")
        .find_map(|p| p.strip_prefix("at "))
        .unwrap_or_else(|| panic!("the first line names the time: {first}"));
    let ranked = String::from_utf8(run_env(
        &root,
        &["rank", "--format", "table", "--at", at],
        &[],
    ))
    .unwrap();
    let hints = out
        .strip_prefix(ranked.as_str())
        .unwrap_or_else(|| panic!("the bare run is `rank` at {at}, then hints:\n{out}"));
    insta::assert_snapshot!("demo_no_args_hints", hints);
}

/// Replaces RFC 3339 timestamps of today with `[NOW]`.
fn normalise_now(s: &str) -> String {
    let today = jiff::Timestamp::now().to_string();
    let date = &today[..10];
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(date) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_digit() || "-:TZ.".contains(c)))
            .unwrap_or(tail.len());
        out.push_str("[NOW]");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}
