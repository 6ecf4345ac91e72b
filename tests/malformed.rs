//! Malformed input (RELIABILITY.md §3.1 M1–M14 except M9, §3.2): every hand-written fixture
//! under `tests/fixtures/malformed/cases/` is fed to the built binary in a fresh temporary
//! directory. Each run must exit 1 (never 101), print no panic, write no `--output` file, and
//! print one message naming the file, snapshotted with insta (`[ROOT]` is the fixture
//! directory). Encoding cases (BOM, CRLF, invalid UTF-8, UTF-16, NUL) are built at test time
//! from the valid files in `tests/fixtures/malformed/valid/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The analysis time of every run.
const AT: &str = "2026-06-01T00:00:00Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/malformed")
}

/// What one run printed and how it ended.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `cwd` with a clean environment (no colour, no cache).
fn run(cwd: &Path, args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("BLASTRADIUS_CACHE")
        .env_remove("RUST_LOG")
        .output()
        .expect("the blastradius binary runs");
    Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command that reads `input`: `rank` for everything except bad-version lists, which are
/// `incident --bad-from` files (read beside a valid lockfile).
fn command(format: &str, input: &Path, output: &Path) -> Vec<String> {
    let s = |p: &Path| p.display().to_string();
    let mut args: Vec<String> = if format == "advisory" {
        vec![
            "incident".into(),
            "--bad-from".into(),
            s(input),
            "--window".into(),
            "2026-01-01T00:00:00Z..2026-01-02T00:00:00Z".into(),
            s(&fixtures().join("valid/Cargo.lock")),
        ]
    } else {
        vec!["rank".into(), s(input)]
    };
    args.extend(
        ["--format", "json", "--at", AT, "--output"]
            .into_iter()
            .map(String::from),
    );
    args.push(s(output));
    args
}

/// Every case: `cases/<format>/<file>` (the file is the INPUT) and `cases/<format>/<dir>/`
/// (the directory is the INPUT, walked as a user's checkout would be).
fn cases() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let root = fixtures().join("cases");
    let mut formats: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    formats.sort();
    for dir in formats {
        let format = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for e in entries {
            let name = e.file_name().unwrap().to_string_lossy().into_owned();
            out.push((format.clone(), name, e));
        }
    }
    out
}

/// stderr with the machine-specific paths replaced.
fn normalise(stderr: &str, tmp: &Path) -> String {
    let root = fixtures().display().to_string();
    stderr
        .replace(&root, "[ROOT]")
        .replace(&tmp.display().to_string(), "[TMP]")
}

/// The snapshot name of a case (`cargo-lock__not-toml.Cargo.lock`).
fn snapshot_name(format: &str, case: &str) -> String {
    format!("{format}__{case}").replace(['/', ' '], "_")
}

#[test]
fn every_malformed_fixture_is_a_located_error() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut snapshots = Vec::new();
    for (format, case, input) in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let output = tmp.path().join("out.json");
        let r = run(tmp.path(), &command(format, input, &output));
        let err = normalise(&r.stderr, tmp.path());
        let label = format!("{format}/{case}");
        if r.code != 1 {
            problems.push(format!("{label}: exit {} (expected 1)\n{err}", r.code));
        }
        if r.stderr.contains("panicked at") {
            problems.push(format!("{label}: panicked\n{err}"));
        }
        if !r.stdout.is_empty() {
            problems.push(format!("{label}: wrote to stdout: {}", r.stdout));
        }
        // Nothing partial is written: no output file and no temp file beside it.
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        if !left.is_empty() {
            problems.push(format!("{label}: left {} file(s) behind", left.len()));
        }
        // The message names the file (or, for a walked directory, a file inside it).
        let shown = format!("[ROOT]/cases/{format}/{case}");
        if !err.contains(&shown) {
            problems.push(format!(
                "{label}: the message does not name {shown}:\n{err}"
            ));
        }
        if !err.starts_with("error: ")
            || err.lines().filter(|l| l.starts_with("error: ")).count() != 1
        {
            problems.push(format!("{label}: expected one `error: ` message:\n{err}"));
        }
        snapshots.push((snapshot_name(format, case), err));
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases failed:\n\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n\n")
    );
    for (name, err) in snapshots {
        insta::assert_snapshot!(name, err);
    }
}

/// RELIABILITY §3.2 asks for at least ten fixtures per lockfile format and three per other
/// format; this keeps the count from silently shrinking.
#[test]
fn enough_fixtures_per_format() {
    let cases = cases();
    let count = |f: &str| cases.iter().filter(|(format, _, _)| format == f).count();
    for f in [
        "cargo-lock",
        "package-lock",
        "yarn-v1",
        "yarn-berry",
        "pnpm",
        "poetry",
        "uv",
        "requirements",
    ] {
        assert!(count(f) >= 10, "{f}: {} fixtures", count(f));
    }
    for f in [
        "sparse-index",
        "npm-packument",
        "pypi-json",
        "inventory",
        "build-log",
        "cargo-toml",
        "package-json",
        "pyproject",
        "advisory",
    ] {
        assert!(count(f) >= 3, "{f}: {} fixtures", count(f));
    }
}

/// The valid lockfiles the encoding cases start from: (file name to write, fixture).
const TEXT_LOCKFILES: [(&str, &str); 8] = [
    ("Cargo.lock", "Cargo.lock"),
    ("package-lock.json", "package-lock.json"),
    ("yarn.lock", "v1.yarn.lock"),
    ("yarn.lock", "berry.yarn.lock"),
    ("pnpm-lock.yaml", "pnpm-lock.yaml"),
    ("poetry.lock", "poetry.lock"),
    ("uv.lock", "uv.lock"),
    ("requirements.txt", "requirements.txt"),
];

/// `export --format json` of `name` holding `bytes`, run in a fresh directory so that ids match.
fn export(name: &str, bytes: &[u8]) -> (Run, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(name), bytes).unwrap();
    let args: Vec<String> = ["export", "--format", "json", "--at", AT, name]
        .into_iter()
        .map(String::from)
        .collect();
    (run(tmp.path(), &args), tmp)
}

/// M8: a UTF-8 byte-order mark and CRLF line ends are accepted, and change nothing.
#[test]
fn bom_and_crlf_are_accepted() {
    for (name, fixture) in TEXT_LOCKFILES {
        let text = std::fs::read_to_string(fixtures().join("valid").join(fixture)).unwrap();
        let (plain, _t) = export(name, text.as_bytes());
        assert_eq!(plain.code, 0, "{fixture}: {}", plain.stderr);
        assert!(
            plain.stdout.contains("left@1.0.0"),
            "{fixture}: the valid lockfile pins `left`:\n{}",
            plain.stdout
        );
        let bom = format!("\u{feff}{text}");
        let crlf = text.replace('\n', "\r\n");
        let both = format!("\u{feff}{crlf}");
        for (what, bytes) in [("BOM", bom), ("CRLF", crlf), ("BOM+CRLF", both)] {
            let (r, _t) = export(name, bytes.as_bytes());
            assert_eq!(r.code, 0, "{fixture} with {what}: {}", r.stderr);
            assert_eq!(r.stdout, plain.stdout, "{fixture} with {what}");
        }
    }
}

/// M8: invalid UTF-8, UTF-16 and NUL bytes are located errors, for every text lockfile.
#[test]
fn bad_encodings_are_located_errors() {
    let mut snapshots = Vec::new();
    for (name, fixture) in TEXT_LOCKFILES {
        let text = std::fs::read_to_string(fixtures().join("valid").join(fixture)).unwrap();
        // A byte that is never valid in UTF-8, in the middle of the third line.
        let third = text.match_indices('\n').nth(1).unwrap().0 + 3;
        let mut invalid = text.as_bytes().to_vec();
        invalid.insert(third, 0xff);
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut nul = text.as_bytes().to_vec();
        nul.insert(third, 0);
        for (what, bytes) in [("invalid-utf8", invalid), ("utf16le", utf16), ("nul", nul)] {
            let (r, tmp) = export(name, &bytes);
            let err = normalise(&r.stderr, tmp.path());
            assert_eq!(r.code, 1, "{fixture} {what}: {err}");
            assert!(!err.contains("panicked at"), "{fixture} {what}: {err}");
            assert!(err.contains(name), "{fixture} {what} names the file: {err}");
            snapshots.push((format!("encoding__{fixture}__{what}"), err));
        }
    }
    for (name, err) in snapshots {
        insta::assert_snapshot!(name, err);
    }
}

/// Inputs that are odd but readable (`tests/fixtures/malformed/accepted/`): exit 0, with a
/// warning for what was skipped or kept as written, and the facts that were readable.
#[test]
fn odd_but_readable_inputs_are_read_with_warnings() {
    let cases: [(&str, &[&str]); 3] = [
        // M5: a line of a future index format is skipped and counted, the rest is read.
        ("future-v3", &["crates.io:left@1.0.0"]),
        // M11: registry data with a requirement cargo no longer parses keeps going.
        (
            "bad-registry-req",
            &["crates.io:left@1.0.0", "crates.io:left@1.0.1"],
        ),
        // M13: hashes, markers, extras, `===`, `-e`, VCS, URL and path lines, a final `\`.
        (
            "requirements-odd-lines.txt",
            &[
                "pypi:left@1.0.0",
                "pypi:foo-bar-baz@2.0.0",
                "pypi:extra-thing@3.1.4",
                "pypi:right@2.0.0",
            ],
        ),
    ];
    let mut snapshots = Vec::new();
    for (name, ids) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let input = fixtures().join("accepted").join(name);
        let args: Vec<String> = ["export", "--format", "json", "--at", AT]
            .into_iter()
            .map(String::from)
            .chain([input.display().to_string()])
            .collect();
        let r = run(tmp.path(), &args);
        let err = normalise(&r.stderr, tmp.path());
        assert_eq!(r.code, 0, "{name}: {err}");
        assert!(!err.contains("panicked at"), "{name}: {err}");
        for id in ids {
            assert!(
                r.stdout.contains(&format!("\"{id}\"")),
                "{name}: {id} missing"
            );
        }
        snapshots.push((format!("accepted__{name}"), err));
    }
    // The skipped v3 line's version is not in the graph.
    let tmp = tempfile::tempdir().unwrap();
    let input = fixtures().join("accepted/future-v3").display().to_string();
    let r = run(
        tmp.path(),
        &["export", "--format", "json", "--at", AT, &input].map(String::from),
    );
    assert!(!r.stdout.contains("left@2.0.0"), "{}", r.stdout);
    for (name, err) in snapshots {
        insta::assert_snapshot!(name, err);
    }
}

/// M14: in a directory walk, files that are no known input are skipped silently (a recognised
/// lockfile that fails to parse is an error: `cases/detect/broken-lockfile-in-walk`).
#[test]
fn a_directory_walk_skips_unrecognised_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::copy(fixtures().join("valid/Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("README.md"), "# repo\n").unwrap();
    std::fs::write(dir.join("docs/notes.txt"), "prose, not a lockfile\n").unwrap();
    std::fs::write(
        dir.join("docs/logo.png"),
        [0x89, b'P', b'N', b'G', 0xff, 0x00],
    )
    .unwrap();
    std::fs::write(dir.join("settings.json"), "{\"a\": 1}\n").unwrap();
    std::fs::write(dir.join("empty.cfg"), "").unwrap();
    let r = run(
        tmp.path(),
        &["export", "--format", "json", "--at", AT, "repo"].map(String::from),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "nothing to warn about");
    assert!(
        r.stdout.contains("\"crates.io:left@1.0.0\""),
        "{}",
        r.stdout
    );
}
