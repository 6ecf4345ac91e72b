//! Output faults and terminal safety (RELIABILITY H6, O1–O5): hostile names never reach a
//! terminal raw; `--output` is all or nothing; full disks, read-only directories and closed
//! pipes end cleanly; exit codes follow SPEC §5; colour only on a terminal.
//!
//! No run may panic (exit 101): every run here goes through [`run`], which checks it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;

const AT: &str = "2026-06-01T00:00:00Z";

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Out {
    fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blastradius"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("BLASTRADIUS_CACHE")
        .env_remove("BLASTRADIUS_OFFLINE");
    c
}

fn exec(mut c: Command) -> Out {
    let o = c.output().expect("the binary runs");
    let out = Out {
        code: o.status.code().expect("exited, not killed by a signal"),
        stdout: o.stdout,
        stderr: o.stderr,
    };
    assert_ne!(out.code, 101, "panicked: {}", out.err());
    assert!(
        !out.err().contains("panicked at"),
        "panicked: {}",
        out.err()
    );
    out
}

fn run(args: &[&str]) -> Out {
    let mut c = bin();
    c.args(args);
    exec(c)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ------------------------------------------------------------------------------------------
// H6: terminal escapes in names, maintainers, `_npmUser` and error bodies
// ------------------------------------------------------------------------------------------

/// The hostile payloads of H6, each inside an otherwise plain name.
fn payloads() -> Vec<(&'static str, String)> {
    vec![
        ("ED2 clear screen", "\u{1b}[2J".into()),
        ("OSC 52 clipboard", "\u{1b}]52;c;aGVsbG8=\u{7}".into()),
        (
            "OSC 8 hyperlink",
            "\u{1b}]8;;https://evil.example/\u{1b}\\link\u{1b}]8;;\u{1b}\\".into(),
        ),
        ("CR", "\r".into()),
        ("BS", "\u{8}\u{8}".into()),
        ("BEL", "\u{7}".into()),
        ("C1 CSI", "\u{9b}6n".into()),
        ("RLO", "\u{202e}".into()),
        ("ZWSP", "\u{200b}".into()),
        ("DEL", "\u{7f}".into()),
    ]
}

/// The characters that must never reach a terminal raw: C0 but `\n` and `\t`, DEL, C1, bidi
/// controls and invisible ones.
fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{061c}'
        )
}

/// The forbidden characters of some output bytes (invalid UTF-8 counts as forbidden).
fn scan(bytes: &[u8]) -> Vec<char> {
    match std::str::from_utf8(bytes) {
        Ok(t) => t.chars().filter(|&c| forbidden(c)).collect(),
        Err(_) => vec!['\u{fffd}'],
    }
}

/// A dataset whose every name carries a payload: crates in a sparse index, an npm
/// packument with hostile maintainers and `_npmUser`, and a package-lock.
fn hostile_dataset() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut index = String::new();
    let mut names = Vec::new();
    let mut lock_packages = String::from(r#""":{"name":"app","version":"1.0.0","dependencies":{"#);
    let mut lock_deps = Vec::new();
    let mut lock_entries = String::new();
    let mut versions = Vec::new();
    for (i, (_, p)) in payloads().iter().enumerate() {
        let name = format!("h{i}{p}x");
        let q = serde_json::to_string(&name).unwrap();
        index.push_str(&format!(
            r#"{{"name":{q},"vers":"1.0.0","deps":[{{"name":"base","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}}],"cksum":"00","features":{{}},"yanked":false}}"#
        ));
        index.push('\n');
        lock_deps.push(format!(r#"{q}:"1.0.0""#));
        let key = serde_json::to_string(&format!("node_modules/{name}")).unwrap();
        lock_entries.push_str(&format!(
            r#",{key}:{{"version":"1.0.0","resolved":"https://registry.npmjs.org/x/-/x-1.0.0.tgz","integrity":"sha512-x","dependencies":{{"evil-js":"^1.0.0"}}}}"#
        ));
        let user = serde_json::to_string(&format!("user{p}{i}")).unwrap();
        versions.push(format!(
            r#""1.0.{i}":{{"name":"evil-js","version":"1.0.{i}","_npmUser":{{"name":{user},"email":"u@example.invalid"}},"maintainers":[{{"name":{user}}}],"dist":{{"tarball":"https://registry.npmjs.org/evil-js/-/evil-js-1.0.{i}.tgz"}}}}"#
        ));
        names.push(name);
    }
    index.push_str(
        r#"{"name":"base","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
    );
    index.push('\n');
    std::fs::write(dir.path().join("index"), index).unwrap();
    lock_packages.push_str(&lock_deps.join(","));
    lock_packages.push_str("}}");
    lock_entries.push_str(r#","node_modules/evil-js":{"version":"1.0.9","resolved":"https://registry.npmjs.org/evil-js/-/evil-js-1.0.9.tgz","integrity":"sha512-y"}"#);
    std::fs::write(
        dir.path().join("package-lock.json"),
        format!(
            r#"{{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{{{lock_packages}{lock_entries}}}}}"#
        ),
    )
    .unwrap();
    let maint: Vec<String> = payloads()
        .iter()
        .enumerate()
        .map(|(i, (_, p))| {
            format!(
                r#"{{"name":{}}}"#,
                serde_json::to_string(&format!("user{p}{i}")).unwrap()
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("evil-js.json"),
        format!(
            r#"{{"_id":"evil-js","name":"evil-js","dist-tags":{{"latest":"1.0.9"}},"maintainers":[{}],"versions":{{{}}},"time":{{"1.0.0":"2026-01-01T00:00:00Z"}}}}"#,
            maint.join(","),
            versions.join(",")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inventory.toml"),
        "[[account]]\nid = \"dev\"\necosystem = \"crates.io\"\nowns = [\"base\", \"h*\"]\n\n[[credential]]\nid = \"tok\"\necosystem = \"crates.io\"\nkind = \"api-token\"\naccount = \"dev\"\n",
    )
    .unwrap();
    (dir, names)
}

#[test]
fn h6_hostile_names_reach_no_terminal_raw_in_any_format() {
    let (dir, names) = hostile_dataset();
    let d = s(dir.path());
    let mut runs = 0;
    for format in ["table", "json", "dot"] {
        let cases: Vec<Vec<&str>> = vec![
            vec!["rank", "--all-accounts"],
            vec!["rank"],
            vec!["reach", "--credential", "tok"],
            vec!["reach", "--account", "dev"],
            vec![
                "explain",
                "--credential",
                "tok",
                "--to",
                "crates.io:h0\u{1b}[2Jx",
            ],
            vec!["export"],
            vec![
                "incident",
                "--bad",
                "base@1.0.0",
                "--window",
                "2026-01-01..2026-02-01",
            ],
        ];
        for mut args in cases {
            args.extend(["--format", format, "--at", AT, d]);
            let o = run(&args);
            assert_eq!(o.code, 0, "{args:?}: {}", o.err());
            assert_eq!(scan(&o.stdout), Vec::<char>::new(), "stdout of {args:?}");
            assert_eq!(scan(&o.stderr), Vec::<char>::new(), "stderr of {args:?}");
            if format == "json" {
                // Valid JSON, and the names in it are the real ones (escaped by JSON, not lost).
                let v: serde_json::Value = serde_json::from_slice(&o.stdout)
                    .unwrap_or_else(|e| panic!("{args:?}: invalid JSON: {e}"));
                if args[0] == "export" {
                    let text = v.to_string();
                    for n in &names {
                        let q = serde_json::to_string(n).unwrap();
                        assert!(text.contains(&q[1..q.len() - 1]), "{n:?} missing");
                    }
                }
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 21);
    // The table shows the escapes themselves.
    let o = run(&[
        "reach",
        "--credential",
        "tok",
        "--format",
        "table",
        "--at",
        AT,
        d,
    ]);
    let t = String::from_utf8_lossy(&o.stdout);
    for shown in [
        "\\u{1b}[2J",
        "\\u{1b}]52;c;",
        "\\u{9b}6n",
        "\\u{202e}",
        "\\u{200b}",
        "\\u{d}",
    ] {
        assert!(t.contains(shown), "{shown} not shown in:\n{t}");
    }
}

#[test]
fn h6_hostile_text_in_errors_and_warnings_is_escaped_on_stderr() {
    let (dir, _) = hostile_dataset();
    let d = s(dir.path());
    let mut cases: Vec<(Vec<String>, i32)> = Vec::new();
    for (_, p) in payloads() {
        // Unknown ids echo what was asked.
        cases.push((
            [
                "reach",
                "--credential",
                &format!("no{p}such"),
                "--at",
                AT,
                d,
            ]
            .map(String::from)
            .to_vec(),
            1,
        ));
        cases.push((
            [
                "explain",
                "--credential",
                "tok",
                "--to",
                &format!("x{p}"),
                "--at",
                AT,
                d,
            ]
            .map(String::from)
            .to_vec(),
            1,
        ));
        // A usage error quotes the value.
        cases.push((
            ["rank", "--format", &format!("t{p}able")]
                .map(String::from)
                .to_vec(),
            2,
        ));
    }
    // A malformed lockfile whose error may quote a hostile key.
    let bad = tempfile::tempdir().unwrap();
    let lock = bad.path().join("package-lock.json");
    let key = serde_json::to_string(&format!("node_modules/e{}", payloads()[0].1)).unwrap();
    std::fs::write(
        &lock,
        format!(
            r#"{{"name":"a","lockfileVersion":3,"packages":{{"":{{}},{key}:{{"version":7}}}}}}"#
        ),
    )
    .unwrap();
    cases.push((["export", s(&lock)].map(String::from).to_vec(), 1));
    for (args, code) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert_eq!(o.code, *code, "{args:?}: {}", o.err());
        assert_eq!(
            scan(&o.stderr),
            Vec::<char>::new(),
            "stderr of {args:?}: {}",
            o.err()
        );
        assert_eq!(scan(&o.stdout), Vec::<char>::new(), "stdout of {args:?}");
    }
}

proptest! {
    /// The terminal sanitizer never lets a control, bidi or invisible character through, and
    /// the whole-text one lets through only line breaks, tabs and SGR colour sequences.
    #[test]
    fn h6_terminal_escaping_leaves_no_unsafe_character(s in any::<String>(), pick in prop::collection::vec(0usize..12, 0..8)) {
        use blastradius::report::escape;
        let specials = ["\u{1b}[2J", "\u{1b}]52;c;x\u{7}", "\u{9b}", "\u{202e}", "\u{200b}", "\r", "\u{8}", "\u{7f}", "\\u{1b}", "\u{1b}[1;31m", "\n", "\t"];
        let mut text = s;
        for i in pick {
            text.push_str(specials[i]);
        }
        let t = escape::terminal(&text);
        prop_assert!(!t.chars().any(|c| forbidden(c) || c == '\n' || c == '\t'), "{:?}", t);
        let m = escape::message(&text);
        prop_assert!(!m.chars().any(forbidden), "{:?}", m);
        let whole = escape::terminal_text(&text);
        let without_sgr = strip_sgr(&whole);
        prop_assert!(!without_sgr.chars().any(forbidden), "{:?}", whole);
        let json = serde_json::to_string(&text).unwrap();
        let safe = escape::json(&json);
        prop_assert!(!safe.chars().any(forbidden), "{:?}", safe);
        prop_assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), text);
    }
}

/// Removes `ESC [ digits ; … m` sequences.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let body = after.strip_prefix('[').unwrap_or("");
        let n = body
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        if after.starts_with('[') && body.as_bytes().get(n) == Some(&b'm') {
            rest = &body[n + 1..];
        } else {
            out.push('\u{1b}');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

// ------------------------------------------------------------------------------------------
// O1: --output is all or nothing
// ------------------------------------------------------------------------------------------

fn bad_lockfile(dir: &Path) -> PathBuf {
    let p = dir.join("Cargo.lock");
    std::fs::write(&p, "version = 4\n\n[[package]]\nname = \"a\"\nversion = \n").unwrap();
    p
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn o1_a_failed_run_leaves_an_existing_output_untouched() {
    use std::os::unix::fs::MetadataExt;
    let inputs = tempfile::tempdir().unwrap();
    let lock = bad_lockfile(inputs.path());
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("report.json");
    std::fs::write(&f, "the previous report\n").unwrap();
    let before = (
        std::fs::read(&f).unwrap(),
        std::fs::metadata(&f).unwrap().ino(),
    );
    for args in [
        vec!["export", "--format", "json", s(&lock)],
        vec!["reach", "--credential", "no-such", "--at", AT],
        vec!["rank", "--at", "not-a-time"],
    ] {
        let mut a = args.clone();
        a.extend(["--output", s(&f)]);
        let o = run(&a);
        assert_eq!(o.code, 1, "{a:?}: {}", o.err());
        let after = (
            std::fs::read(&f).unwrap(),
            std::fs::metadata(&f).unwrap().ino(),
        );
        assert_eq!(after, before, "{a:?} changed the output file");
        assert_eq!(
            listing(out.path()),
            ["report.json"],
            "{a:?} left files behind"
        );
    }
}

#[test]
fn o1_a_failed_run_never_creates_the_output() {
    let inputs = tempfile::tempdir().unwrap();
    let lock = bad_lockfile(inputs.path());
    let out = tempfile::tempdir().unwrap();
    for format in ["json", "table", "dot"] {
        let f = out.path().join(format!("report.{format}"));
        let o = run(&["export", "--format", format, s(&lock), "--output", s(&f)]);
        assert_eq!(o.code, 1, "{}", o.err());
        assert!(o.stdout.is_empty());
        assert!(listing(out.path()).is_empty(), "{:?}", listing(out.path()));
    }
    // ingest --snapshot and rank --plot are written the same way.
    let snap = out.path().join("g.snap");
    let o = run(&["ingest", s(&lock), "--snapshot", s(&snap)]);
    assert_eq!(o.code, 1);
    assert!(listing(out.path()).is_empty(), "{:?}", listing(out.path()));
}

#[test]
fn o1_the_temp_file_lives_beside_the_output_and_is_renamed_over_it() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("rank.json");
    std::fs::write(&f, "old\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    // With TMPDIR unusable, only a temp file in the output's own directory can work.
    let mut c = bin();
    c.args(["rank", "--format", "json", "--at", AT, "--output", s(&f)])
        .env("TMPDIR", "/nonexistent/blastradius-tmp");
    let o = exec(c);
    assert_eq!(o.code, 0, "{}", o.err());
    assert!(o.stdout.is_empty());
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    assert!(written["credentials"].is_array());
    assert_eq!(listing(out.path()), ["rank.json"]);
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the old file's permissions are kept");
}

// ------------------------------------------------------------------------------------------
// O2: write failures are errors naming the path, never panics
// ------------------------------------------------------------------------------------------

#[test]
fn o2_output_to_dev_full_fails_and_dev_full_stays_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let o = run(&[
        "rank",
        "--format",
        "json",
        "--at",
        AT,
        "--output",
        "/dev/full",
    ]);
    assert_eq!(o.code, 1, "{}", o.err());
    assert!(
        o.err()
            .contains("cannot write /dev/full: No space left on device (os error 28)"),
        "{}",
        o.err()
    );
    let ft = std::fs::metadata("/dev/full").unwrap().file_type();
    assert!(ft.is_char_device(), "/dev/full was replaced");
}

#[test]
fn o2_stdout_to_dev_full_fails() {
    for format in ["json", "table", "dot"] {
        let mut c = bin();
        c.args(["rank", "--format", format, "--at", AT]).stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
        let o = exec(c);
        assert_eq!(o.code, 1, "{format}: {}", o.err());
        assert!(
            o.err()
                .contains("cannot write <stdout>: No space left on device (os error 28)"),
            "{}",
            o.err()
        );
    }
}

#[test]
fn o2_read_only_directory_missing_parent_and_directory_targets() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let ro = out.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root writes to a 0555 directory anyway; /sys is read-only for everyone.
    let ro_target = if std::fs::write(ro.join("probe"), "").is_ok() {
        std::fs::remove_file(ro.join("probe")).unwrap();
        PathBuf::from("/sys/blastradius-report.json")
    } else {
        ro.join("report.json")
    };
    let missing = out.path().join("no/such/dir/report.json");
    let dir_target = out.path().join("a-directory");
    std::fs::create_dir(&dir_target).unwrap();
    std::fs::write(dir_target.join("keep"), "kept").unwrap();
    for (target, reason) in [
        (&ro_target, "Permission denied (os error 13)"),
        (&missing, "No such file or directory"),
        (&dir_target, "it is a directory"),
    ] {
        let o = run(&[
            "rank",
            "--format",
            "json",
            "--at",
            AT,
            "--output",
            s(target),
        ]);
        assert_eq!(o.code, 1, "{}: {}", target.display(), o.err());
        let want = format!("cannot write {}: {reason}", target.display());
        assert!(o.err().contains(&want), "{want:?} in {}", o.err());
        assert!(
            !o.err().contains(".blastradius-"),
            "names the temp file: {}",
            o.err()
        );
        assert!(o.stdout.is_empty());
    }
    assert!(!ro_target.exists());
    assert_eq!(listing(&ro), Vec::<String>::new());
    assert!(!out.path().join("no").exists());
    assert_eq!(listing(&dir_target), ["keep"]);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// ------------------------------------------------------------------------------------------
// O3: a reader that stops early
// ------------------------------------------------------------------------------------------

/// A dataset whose answers are far larger than a pipe's buffer (64 KiB): 1,500 crates
/// depending on one that `tok` publishes (reach JSON and DOT list them all), and 2,000 idle
/// credentials (the rank table lists them all).
fn big_dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut index = String::from(
        r#"{"name":"base","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
    );
    index.push('\n');
    for i in 0..1500 {
        index.push_str(&format!(
            r#"{{"name":"dependent-with-a-long-name-{i:05}","vers":"1.0.0","deps":[{{"name":"base","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}}],"cksum":"00","features":{{}},"yanked":false}}"#
        ));
        index.push('\n');
    }
    std::fs::write(dir.path().join("index"), index).unwrap();
    let mut inv = String::from(
        "[[account]]\nid = \"dev\"\necosystem = \"crates.io\"\nowns = [\"base\"]\n\n[[credential]]\nid = \"tok\"\necosystem = \"crates.io\"\nkind = \"api-token\"\naccount = \"dev\"\n\n[[account]]\nid = \"idle\"\necosystem = \"crates.io\"\n",
    );
    for i in 0..2000 {
        inv.push_str(&format!(
            "\n[[credential]]\nid = \"idle-credential-with-a-long-name-{i:05}\"\necosystem = \"crates.io\"\nkind = \"api-token\"\naccount = \"idle\"\n"
        ));
    }
    std::fs::write(dir.path().join("inventory.toml"), inv).unwrap();
    dir
}

/// Runs, reads 10 bytes of stdout, closes it, and returns how the run ended.
fn read_ten_then_close(args: &[&str]) -> Out {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut ten = [0u8; 10];
    stdout.read_exact(&mut ten).unwrap();
    drop(stdout);
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().expect("exited, not killed by SIGPIPE"),
        stdout: ten.to_vec(),
        stderr: o.stderr,
    }
}

#[test]
fn o3_a_closed_stdout_ends_the_output_with_exit_0() {
    let dir = big_dataset();
    let d = s(dir.path());
    for (format, cmd) in [
        ("table", &["rank"][..]),
        ("json", &["reach", "--credential", "tok"][..]),
        ("dot", &["reach", "--credential", "tok"][..]),
    ] {
        let mut args = cmd.to_vec();
        args.extend(["--format", format, "--at", AT, d]);
        // The whole answer is larger than the pipe: the writer must meet the closed end.
        let full = run(&args);
        assert_eq!(full.code, 0, "{}", full.err());
        assert!(
            full.stdout.len() > 128 * 1024,
            "{format}: {} bytes",
            full.stdout.len()
        );
        let o = read_ten_then_close(&args);
        assert_eq!(o.code, 0, "{format}: {}", o.err());
        assert_eq!(o.stdout, full.stdout[..10], "{format}");
        assert!(!o.err().contains("panicked"), "{format}: {}", o.err());
        assert!(!o.err().contains("error"), "{format}: {}", o.err());
    }
}

// ------------------------------------------------------------------------------------------
// O4: the exit-code matrix of SPEC §5
// ------------------------------------------------------------------------------------------

#[test]
fn o4_exit_codes_answered_0_unanswerable_1_usage_2() {
    let inputs = tempfile::tempdir().unwrap();
    let lock = bad_lockfile(inputs.path());
    let missing = inputs.path().join("missing.lock");
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["rank", "--format", "json", "--at", AT], 0),
        (
            vec![
                "reach",
                "--credential",
                "acme-ci-token",
                "--format",
                "json",
                "--at",
                AT,
            ],
            0,
        ),
        (vec!["--help"], 0),
        (vec!["--version"], 0),
        (vec!["export", s(&lock)], 1),
        (vec!["export", s(&missing)], 1),
        (
            vec!["reach", "--credential", "no-such-credential", "--at", AT],
            1,
        ),
        (vec!["reach", "--account", "no-such-account", "--at", AT], 1),
        (
            vec![
                "explain",
                "--credential",
                "acme-ci-token",
                "--to",
                "no:such",
                "--at",
                AT,
            ],
            1,
        ),
        (
            vec![
                "incident",
                "--bad",
                "no-version",
                "--window",
                "2026-01-01..2026-02-01",
            ],
            1,
        ),
        (vec!["rank", "--at", "yesterday"], 1),
        (vec!["rank", "--no-such-flag"], 2),
        (vec!["rank", "--at"], 2),
        (vec!["rank", "--format"], 2),
        (
            vec!["incident", "--bad", "x@1", "--window", "2026-01-01"],
            2,
        ),
        (
            vec![
                "incident",
                "--bad",
                "x@1",
                "--window",
                "2026-02-01..2026-01-01",
            ],
            2,
        ),
        (vec!["reach"], 2),
        (vec!["no-such-command"], 2),
    ];
    for (args, code) in cases {
        let o = run(&args);
        assert_eq!(o.code, code, "blastradius {args:?}: {}", o.err());
        if code != 0 {
            assert!(o.stdout.is_empty(), "{args:?} failed but wrote stdout");
            assert!(o.err().contains("error"), "{args:?}: {}", o.err());
        }
    }
}

// ------------------------------------------------------------------------------------------
// O5: colour
// ------------------------------------------------------------------------------------------

fn with_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = bin();
    c.env_remove("NO_COLOR").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    exec(c)
}

const TABLE: [&str; 6] = [
    "reach",
    "--credential",
    "acme-ci-token",
    "--format",
    "table",
    "--at",
];

fn table_args() -> Vec<&'static str> {
    let mut a = TABLE.to_vec();
    a.push(AT);
    a
}

#[test]
fn o5_no_colour_when_stdout_is_not_a_terminal() {
    let o = with_env(&table_args(), &[]);
    assert_eq!(o.code, 0);
    assert!(!o.stdout.contains(&0x1b), "colour on a pipe");
    // The same run forced to colour does colour: the check above can fail.
    let o = with_env(&table_args(), &[("CLICOLOR_FORCE", "1")]);
    assert!(o.stdout.contains(&0x1b), "CLICOLOR_FORCE gives colour");
    // --output never gets colour.
    let out = tempfile::tempdir().unwrap();
    let f = out.path().join("t.txt");
    let mut a = table_args();
    a.extend(["--output", s(&f)]);
    let o = with_env(&a, &[("CLICOLOR_FORCE", "1")]);
    assert_eq!(o.code, 0);
    assert!(
        !std::fs::read(&f).unwrap().contains(&0x1b),
        "colour in --output"
    );
}

#[test]
fn o5_no_color_is_respected_even_when_colour_is_forced() {
    for v in ["1", "yes"] {
        let o = with_env(&table_args(), &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", v)]);
        assert_eq!(o.code, 0);
        assert!(!o.stdout.contains(&0x1b), "NO_COLOR={v} ignored");
    }
    // On a terminal too (util-linux `script` gives the run a pseudo-terminal).
    if let Some(out) = on_a_tty(&table_args(), &[("NO_COLOR", "1")]) {
        assert!(!out.contains(&0x1b), "NO_COLOR ignored on a terminal");
        let coloured = on_a_tty(&table_args(), &[]).unwrap();
        assert!(coloured.contains(&0x1b), "a terminal gets colour");
    }
}

#[test]
fn o5_json_is_never_coloured() {
    for env in [&[("CLICOLOR_FORCE", "1")][..], &[][..]] {
        let o = with_env(
            &[
                "reach",
                "--credential",
                "acme-ci-token",
                "--format",
                "json",
                "--at",
                AT,
            ],
            env,
        );
        assert_eq!(o.code, 0);
        assert!(!o.stdout.contains(&0x1b), "colour in JSON with {env:?}");
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    }
    if let Some(out) = on_a_tty(
        &[
            "reach",
            "--credential",
            "acme-ci-token",
            "--format",
            "json",
            "--at",
            AT,
        ],
        &[],
    ) {
        assert!(!out.contains(&0x1b), "colour in JSON on a terminal");
    }
}

/// stdout of a run on a pseudo-terminal, through util-linux `script` (None without it).
fn on_a_tty(args: &[&str], env: &[(&str, &str)]) -> Option<Vec<u8>> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("typescript");
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_blastradius"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = Command::new(script);
    c.args(["-q", "-e", "-c", &cmd, s(&log)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().ok()?;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(o.stdout)
}
