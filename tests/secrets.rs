//! Secrets (RELIABILITY S1–S5): token-shaped values in inputs are findings with a location
//! and a redacted value, and no secret value ever leaves blastradius: not on stdout, stderr,
//! in `--output` files, snapshots or the fetch cache, whatever the format, also when the same
//! inputs are malformed.
//!
//! No token-shaped string is committed here (S5): every one is built at run time, and
//! `scripts/check-no-tokens` (run by `.ci/run`) checks the tree for committed ones.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

const AT: &str = "2026-06-01T00:00:00Z";

/// A token of a registry's shape: `prefix` and `n` characters, built at run time.
fn token(prefix: &str, n: usize) -> String {
    format!(
        "{}{}",
        prefix,
        "Zq9".repeat(n).chars().take(n).collect::<String>()
    )
}

/// The five token kinds of S1, with what a finding calls each and how it is shown.
fn five_tokens() -> Vec<(String, &'static str, String)> {
    vec![
        (
            token("cio", 32),
            "looks like a crates.io API token",
            "cio…(35 chars)".into(),
        ),
        (
            token("npm_", 36),
            "looks like an npm access token",
            "npm_…(40 chars)".into(),
        ),
        (
            token(&format!("{}{}", "pypi-", "AgEIcHlwaS5vcmc"), 60),
            "looks like a PyPI API token",
            "pypi-…(80 chars)".into(),
        ),
        (
            token("ghp_", 36),
            "looks like a GitHub token",
            "gh…(40 chars)".into(),
        ),
        (
            token("github_pat_", 82),
            "looks like a GitHub fine-grained personal access token",
            "github_pat_…(93 chars)".into(),
        ),
    ]
}

/// A unique value that is not token-shaped: only its place (a URL's password) marks it.
fn canary() -> String {
    format!("{}{}", "CANARY", "x7Kp".repeat(4))
}

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blastradius"));
    c.env("NO_COLOR", "1")
        .env("RUST_LOG", "trace")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("BLASTRADIUS_CACHE")
        .env_remove("BLASTRADIUS_OFFLINE");
    c
}

fn run(args: &[&str]) -> Out {
    let o = bin().args(args).output().expect("the binary runs");
    let code = o.status.code().expect("exited, not killed by a signal");
    assert_ne!(code, 101, "blastradius {args:?} panicked");
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked at"),
        "blastradius {args:?} panicked"
    );
    Out {
        code,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

fn count(hay: &[u8], needle: &str) -> usize {
    hay.windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

/// Fails when `secret` occurs in any of the run's outputs.
fn assert_absent(secret: &str, what: &str, o: &Out) {
    assert_eq!(
        count(&o.stdout, secret),
        0,
        "{what}: a secret on stdout:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        count(&o.stderr, secret),
        0,
        "{what}: a secret on stderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Fails when `secret` occurs in any file under `dir`.
fn assert_absent_in_tree(secret: &str, dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                assert_eq!(count(&bytes, secret), 0, "a secret in {}", p.display());
            }
        }
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ------------------------------------------------------------------------------------------
// S1: token-shaped values are findings with a location, a kind and a redacted value
// ------------------------------------------------------------------------------------------

fn token_inventory(tokens: &[(String, &str, String)]) -> String {
    let mut inv =
        String::from("[[account]]\nid = \"dev\"\necosystem = \"crates.io\"\nowns = [\"*\"]\n");
    for (t, _, _) in tokens {
        inv.push_str(&format!(
            "\n[[credential]]\nid = \"{t}\"\necosystem = \"crates.io\"\nkind = \"api-token\"\naccount = \"dev\"\n"
        ));
    }
    inv
}

#[test]
fn s1_five_token_kinds_in_an_inventory_are_located_findings() {
    let tokens = five_tokens();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.toml");
    std::fs::write(&inv, token_inventory(&tokens)).unwrap();
    let o = run(&["rank", "--format", "json", "--at", AT, s(&inv)]);
    assert_eq!(o.code, 0, "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings: Vec<&str> = json["warnings"]
        .as_array()
        .expect("a warnings array")
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let mut found = 0;
    for (i, (t, kind, shown)) in tokens.iter().enumerate() {
        // The inventory's header is 4 lines; each credential takes 6, its id on the second.
        let line = 4 + 6 * i + 3;
        let want = format!("{}:{line}: {kind} ({shown})", inv.display());
        if warnings.iter().any(|w| w.starts_with(&want)) && stderr.contains(&want) {
            found += 1;
        } else {
            panic!("no finding {want:?} in {warnings:#?}\nstderr: {stderr}");
        }
        assert_absent(t, "rank json", &o);
        // The credential is listed under its redacted id.
        assert!(
            json["credentials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == shown.as_str()),
            "{shown} not among {}",
            json["credentials"]
        );
    }
    assert_eq!(found, 5, "5 of 5 token kinds found");
}

#[test]
fn s1_a_token_given_on_the_command_line_finds_its_credential_and_is_never_echoed() {
    let tokens = five_tokens();
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.toml");
    std::fs::write(&inv, token_inventory(&tokens)).unwrap();
    let (t, _, shown) = &tokens[1];
    for format in ["table", "json", "dot"] {
        let o = run(&[
            "reach",
            "--credential",
            t,
            "--format",
            format,
            "--at",
            AT,
            s(&inv),
        ]);
        assert_eq!(o.code, 0, "{}", String::from_utf8_lossy(&o.stderr));
        assert_absent(t, format, &o);
        assert!(count(&o.stdout, shown) > 0, "{format}: {shown} not shown");
    }
    // Unknown: the error does not echo it either.
    let other = token("npm_", 37);
    let o = run(&["reach", "--credential", &other, "--at", AT, s(&inv)]);
    assert_eq!(o.code, 1);
    assert_absent(&other, "unknown credential", &o);
    // Nor does a usage error that repeats the argument (clap quotes invalid values).
    let o = run(&[
        "fetch",
        s(&inv),
        "--registry",
        &format!("crates.io=ftp://mirror.example/{other}"),
    ]);
    assert_eq!(o.code, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("npm_…(41 chars)"));
    assert_absent(&other, "usage error", &o);
}

// ------------------------------------------------------------------------------------------
// S2: a canary in every input format appears 0 times in every output
// ------------------------------------------------------------------------------------------

/// One input format with credentials in its URLs: file name and content.
fn canary_inputs(c: &str) -> Vec<(&'static str, &'static str, String)> {
    let u = |host: &str, path: &str| format!("https://user:{c}@{host}/{path}");
    vec![
        (
            "package-lock v3",
            "package-lock.json",
            format!(
                r#"{{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{{
"":{{"name":"app","version":"1.0.0","dependencies":{{"x":"^1.0.0","t":"{t}"}}}},
"node_modules/x":{{"version":"1.0.0","resolved":"{x}","integrity":"sha512-x"}},
"node_modules/t":{{"version":"1.0.0","resolved":"{t}","integrity":"sha512-y"}}}}}}
"#,
                x = u("npm.example", "x/-/x-1.0.0.tgz"),
                t = u("host.example", "t.tgz")
            ),
        ),
        (
            "package-lock v1",
            "package-lock.json",
            format!(
                r#"{{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{{
"x":{{"version":"1.0.0","resolved":"{x}","integrity":"sha512-x"}},
"t":{{"version":"{t}"}}}}}}
"#,
                x = u("npm.example", "x/-/x-1.0.0.tgz"),
                t = u("host.example", "t.tgz")
            ),
        ),
        (
            "yarn v1",
            "yarn.lock",
            format!(
                "# yarn lockfile v1\n\n\nx@^1.0.0:\n  version \"1.0.0\"\n  resolved \"{x}#abc\"\n\n\"t@{t}\":\n  version \"1.0.0\"\n  resolved \"{t}\"\n",
                x = u("npm.example", "x/-/x-1.0.0.tgz"),
                t = u("host.example", "t.tgz")
            ),
        ),
        (
            "pnpm v6",
            "pnpm-lock.yaml",
            format!(
                "lockfileVersion: '6.0'\n\ndependencies:\n  x:\n    specifier: ^1.0.0\n    version: 1.0.0\n  t:\n    specifier: {t}\n    version: '@{t}'\n\npackages:\n\n  /x@1.0.0:\n    resolution: {{integrity: sha512-x, tarball: {x}}}\n    dev: false\n\n  '@{t}':\n    resolution: {{tarball: {t}}}\n    name: t\n    version: 1.0.0\n    dev: false\n",
                x = u("npm.example", "x/-/x-1.0.0.tgz"),
                t = u("host.example", "t.tgz")
            ),
        ),
        (
            "requirements",
            "requirements.txt",
            format!(
                "--index-url https://__token__:{c}@pypi.example/simple\n--extra-index-url={e}\nsix==1.17.0\n",
                e = u("pypi2.example", "simple")
            ),
        ),
        (
            "uv.lock",
            "uv.lock",
            format!(
                "version = 1\nrequires-python = \">=3.8\"\n\n[[package]]\nname = \"six\"\nversion = \"1.17.0\"\nsource = {{ registry = \"{r}\" }}\n\n[[package]]\nname = \"priv\"\nversion = \"1.0\"\nsource = {{ url = \"{p}\" }}\n",
                r = u("pypi.example", "simple"),
                p = u("host.example", "priv-1.0.tar.gz")
            ),
        ),
        (
            "poetry.lock",
            "poetry.lock",
            format!(
                "[[package]]\nname = \"six\"\nversion = \"1.17.0\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\nfiles = []\n\n[package.source]\ntype = \"legacy\"\nurl = \"{r}\"\nreference = \"private\"\n\n[metadata]\nlock-version = \"2.1\"\npython-versions = \">=3.9\"\ncontent-hash = \"00\"\n",
                r = u("pypi.example", "simple")
            ),
        ),
        (
            "Cargo.lock",
            "Cargo.lock",
            format!(
                "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"x\"]\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"sparse+{r}\"\nchecksum = \"{z}\"\n",
                r = u("crates.example", "index/"),
                z = "0".repeat(64)
            ),
        ),
    ]
}

/// The inventory beside every canary input: one credential owning every package, so that
/// `reach` has something to draw; its note carries the canary too.
fn canary_inventory(c: &str) -> String {
    let mut inv = String::new();
    for (i, eco) in ["crates.io", "npm", "pypi"].iter().enumerate() {
        inv.push_str(&format!(
            "[[account]]\nid = \"dev{i}\"\necosystem = \"{eco}\"\nowns = [\"*\"]\n\n[[credential]]\nid = \"c{i}\"\necosystem = \"{eco}\"\nkind = \"api-token\"\naccount = \"dev{i}\"\nnote = \"mirror at https://ci:{c}@mirror.example/\"\n\n"
        ));
    }
    inv
}

/// Every command and format over one input directory; each run is checked for the canary,
/// and so is every file it wrote.
fn every_output(c: &str, dir: &Path, what: &str, expect: i32) {
    let out = tempfile::tempdir().unwrap();
    let d = s(dir);
    let mut runs: Vec<Vec<String>> = Vec::new();
    for format in ["table", "json", "dot"] {
        for cmd in [
            vec!["rank", "--all-accounts"],
            vec!["reach", "--credential", "c1"],
            vec!["export"],
        ] {
            let mut args: Vec<String> = cmd.iter().map(|a| a.to_string()).collect();
            args.extend(["--format", format, "--at", AT, d].map(String::from));
            runs.push(args.clone());
            let file = out.path().join(format!("{}.{format}", cmd[0]));
            args.extend(["--output".to_string(), s(&file).to_string()]);
            runs.push(args);
        }
    }
    runs.push(
        ["ingest", d, "--snapshot", s(&out.path().join("graph.snap"))]
            .map(String::from)
            .to_vec(),
    );
    runs.push(
        [
            "incident",
            "--bad",
            "x@1.0.0",
            "--window",
            "2026-01-01..2026-02-01",
            "--format",
            "json",
            d,
        ]
        .map(String::from)
        .to_vec(),
    );
    for args in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        let label = format!("{what}: blastradius {}", args.join(" "));
        assert_absent(c, &label, &o);
        if args[0] != "incident" {
            assert_eq!(
                o.code,
                expect,
                "{label}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        assert_ne!(o.code, 101);
    }
    assert_absent_in_tree(c, out.path());
}

#[test]
fn s2_a_canary_in_every_input_format_never_reaches_an_output() {
    let c = canary();
    for (what, name, text) in canary_inputs(&c) {
        assert!(text.contains(&c), "{what}: the fixture holds the canary");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), &text).unwrap();
        std::fs::write(dir.path().join("inventory.toml"), canary_inventory(&c)).unwrap();
        // Read and reported: the finding names the file and the line, with the URL redacted.
        let o = run(&["rank", "--format", "json", "--at", AT, s(dir.path())]);
        assert_eq!(o.code, 0, "{what}: {}", String::from_utf8_lossy(&o.stderr));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let line = text.lines().position(|l| l.contains(&c)).unwrap() + 1;
        let want = format!("{name}:{line}: a URL carries a password (");
        assert!(
            json["warnings"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w.as_str().unwrap().contains(&want))),
            "{what}: no finding {want:?} in {}",
            json["warnings"]
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(":****@"),
            "{what}: stderr shows the redacted URL"
        );
        every_output(&c, dir.path(), what, 0);
    }
}

/// The same inputs made malformed on the canary's own line (a parser that quotes what it
/// found would quote the URL), and cut short after it.
#[test]
fn s2_malformed_inputs_holding_a_canary_fail_without_echoing_it() {
    let c = canary();
    for (what, name, text) in canary_inputs(&c) {
        let at = text.find(&c).unwrap();
        let line_end = at + text[at..].find('\n').unwrap();
        let variants = [
            // Junk on the canary's line, after the URL.
            format!(
                "{} ]]] }}}} ::: \"\u{1}{}",
                &text[..line_end],
                &text[line_end..]
            ),
            // Truncated just after the URL's `@`.
            text[..at + c.len() + 8].to_string(),
            // Merge-conflicted.
            format!("<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> branch\n"),
        ];
        for (i, bad) in variants.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), bad).unwrap();
            let label = format!("{what} (malformed #{i})");
            let o = run(&["rank", "--format", "json", "--at", AT, s(dir.path())]);
            assert_absent(&c, &label, &o);
            assert!(matches!(o.code, 0 | 1), "{label}: exit {}", o.code);
            // With --keep-going the error becomes a warning in the JSON: still redacted.
            std::fs::write(dir.path().join("inventory.toml"), canary_inventory(&c)).unwrap();
            let o = run(&[
                "rank",
                "--keep-going",
                "--format",
                "json",
                "--at",
                AT,
                s(dir.path()),
            ]);
            assert_absent(&c, &format!("{label} --keep-going"), &o);
            assert_eq!(o.code, 0, "{label}: {}", String::from_utf8_lossy(&o.stderr));
            // The file named on its own: explicit inputs fail loudly.
            let o = run(&["export", "--format", "dot", s(&dir.path().join(name))]);
            assert_absent(&c, &format!("{label} explicit"), &o);
        }
    }
}

// ------------------------------------------------------------------------------------------
// S3: HTTP credentials and refusals
// ------------------------------------------------------------------------------------------

/// A registry on 127.0.0.1 that refuses every request with `status`, echoing the request's
/// head (its `Authorization` header included) and `extra` in the body. Returns the base URL
/// (with `userinfo` in it) and the request heads it saw.
fn refusing_registry(
    status: &str,
    userinfo: &str,
    extra: String,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let status = status.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            log.lock().unwrap().push(head.clone());
            // What a careless registry does: the credential it was sent first, then more.
            let auth = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .unwrap_or("no authorization");
            let body = format!("denied: {auth}\n{extra}\nYou sent:\n{head}");
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{userinfo}127.0.0.1:{port}/"), seen)
}

fn fetch_cargo_lock(base: &str) -> (Out, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        format!(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"serde\"]\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let o = bin()
        .args([
            "fetch",
            s(&lock),
            "--cache",
            s(&cache),
            "--registry",
            &format!("crates.io={base}"),
        ])
        .env("BLASTRADIUS_RETRY_BASE_MS", "1")
        .output()
        .unwrap();
    let out = Out {
        code: o.status.code().unwrap(),
        stdout: o.stdout,
        stderr: o.stderr,
    };
    assert_ne!(out.code, 101);
    (out, dir)
}

#[test]
fn s3_a_401_echoing_the_authorization_is_redacted_cut_and_escaped() {
    let c = canary();
    let (base, seen) = refusing_registry(
        "401 Unauthorized",
        &format!("robot:{c}@"),
        format!(
            "password was {c}\n\u{1b}[2J\u{1b}]52;c;aGk=\u{7}{}",
            "z".repeat(1000)
        ),
    );
    let (o, dir) = fetch_cargo_lock(&base);
    let heads = seen.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the registry was asked");
    // The credential was sent, as a header, and never in the request line.
    assert!(
        heads
            .iter()
            .all(|h| h.to_ascii_lowercase().contains("authorization: basic ")
                && !h.lines().next().unwrap().contains(&c)),
        "{heads:?}"
    );
    let basic = heads[0]
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert_eq!(o.code, 1);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_absent(&c, "401", &o);
    assert_absent(&basic, "401 (the Basic value)", &o);
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
    assert!(
        stderr.contains("user \"robot\""),
        "names the credential's label: {stderr}"
    );
    assert!(
        stderr.contains("[REDACTED]") && stderr.contains("it said: \""),
        "{stderr}"
    );
    // Cut to 200 bytes: the 1,000 `z`s are not all there.
    assert!(!stderr.contains(&"z".repeat(201)), "{stderr}");
    // Escaped: no raw ESC or BEL; the escapes are shown.
    assert!(
        !o.stderr.contains(&0x1b) && !o.stderr.contains(&0x07),
        "{stderr}"
    );
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
    assert_absent_in_tree(&c, dir.path());
}

#[test]
fn s3_a_403_echoing_a_token_shaped_value_is_redacted() {
    let t = token("ghp_", 36);
    let (base, _) = refusing_registry("403 Forbidden", "", format!("token {t} is revoked"));
    let (o, _dir) = fetch_cargo_lock(&base);
    assert_eq!(o.code, 1);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_absent(&t, "403", &o);
    assert!(stderr.contains("gh…(40 chars) is revoked"), "{stderr}");
    assert!(
        stderr.contains("blastradius sends no credentials"),
        "{stderr}"
    );
}

// ------------------------------------------------------------------------------------------
// S4: the Secret type
// ------------------------------------------------------------------------------------------

#[test]
fn s4_secret_debug_is_redacted_and_its_redacted_form_names_the_kind() {
    use blastradius::ingest::secrets::Secret;
    for (t, _, shown) in five_tokens() {
        let s = Secret::new(t.clone());
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(format!("{:#?}", vec![s.clone()]), "[\n    [REDACTED],\n]");
        assert_eq!(s.redacted(), shown);
        assert_eq!(s.expose(), t);
    }
}

// ------------------------------------------------------------------------------------------
// S5: no token-shaped string is committed
// ------------------------------------------------------------------------------------------

fn check_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-no-tokens")
}

#[test]
fn s5_the_tree_holds_no_token_shaped_string_and_the_check_can_fail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new("bash")
        .arg(check_script())
        .arg(root)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "committed token-shaped strings:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // Each kind planted in a scratch tree is caught, and not printed.
    for (t, _, _) in five_tokens() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tests")).unwrap();
        std::fs::write(
            dir.path().join("tests/leak.rs"),
            format!("const T: &str = \"{t}\";\n"),
        )
        .unwrap();
        let o = Command::new("bash")
            .arg(check_script())
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{t:.4}… not caught");
        let shown = String::from_utf8_lossy(&o.stdout) + String::from_utf8_lossy(&o.stderr);
        assert!(shown.contains("tests/leak.rs:1"), "{shown}");
        assert!(!shown.contains(&t), "the check printed the token");
    }
}
