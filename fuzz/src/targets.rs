//! The parsers under test and the properties every one of them must keep, shared by the
//! cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and the stable mutation test
//! (`tests/mutation.rs`, which includes this file with `#[path]`).
//!
//! Properties (RELIABILITY §3.3):
//! 1. no panic (the caller catches or the fuzzer reports it);
//! 2. an `Err` is located: its Display names the file label, and its location is
//!    `LABEL`, `LABEL:LINE`, `LABEL:LINE:COL` or `LABEL: <path>` (a JSON path, a TOML key or an
//!    archive member);
//! 3. on `Ok`, parsing the same input again gives an equal value (compared through `Debug`).

use std::path::{Path, PathBuf};

use blastradius::error::Error;
use blastradius::ingest::{
    advisory, buildlog, cratesio, dbdump, inventory, lockfile, manifest, npm_registry,
    pypi_registry, Ecosystem,
};

/// Where the fuzzed file "lives": a directory that does not exist, so sibling lookups
/// (requirements includes, path dependencies) fail the same way every time.
pub const ROOT: &str = "/nonexistent-blastradius-fuzz";

/// One parser: its name (also the cargo-fuzz target name), the file name its label uses, and
/// the function that parses bytes into the Debug form of the result.
pub struct Parser {
    /// Target name.
    pub name: &'static str,
    /// The file name in the label (`ROOT/<file>`).
    pub file: &'static str,
    /// Parses; `Ok` carries the Debug rendering of the value.
    pub run: fn(&Path, &[u8]) -> Result<String, Error>,
}

impl Parser {
    /// The label errors must name.
    pub fn label(&self) -> PathBuf {
        Path::new(ROOT).join(self.file)
    }
}

/// The text the real reader hands a parser: UTF-8 with a BOM stripped. Invalid UTF-8 is
/// replaced rather than skipped so that mutants still reach the parser.
fn text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.strip_prefix('\u{feff}').unwrap_or(&s).to_owned()
}

fn id(p: &Path) -> String {
    p.display().to_string()
}

fn dbg<T: std::fmt::Debug>(r: Result<T, Error>) -> Result<String, Error> {
    r.map(|v| format!("{v:?}"))
}

/// Reads a db-dump from bytes: the reader takes a path, so the bytes go to a per-thread file
/// under the temporary directory.
fn dbdump_bytes(label: &Path, bytes: &[u8]) -> Result<String, Error> {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("temporary directory");
    }
    let path = DIR.with(|d| d.path().join("db-dump.tar.gz"));
    std::fs::write(&path, bytes).expect("write the fuzz input");
    let limits = dbdump::Limits {
        max_decompressed: 64 << 20,
        max_record: 1 << 20,
        max_members: 1_000,
    };
    dbg(dbdump::read_with(&path, &id(label), &limits))
}

/// Every parser, in the order the mutation test reports them.
pub const PARSERS: &[Parser] = &[
    Parser {
        name: "cargo_lock",
        file: "Cargo.lock",
        run: |l, b| dbg(lockfile::cargo::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "npm_lock",
        file: "package-lock.json",
        run: |l, b| dbg(lockfile::npm::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "yarn_lock",
        file: "yarn.lock",
        run: |l, b| dbg(lockfile::yarn::parse(&id(l), l, &text(b), None)),
    },
    Parser {
        name: "pnpm_lock",
        file: "pnpm-lock.yaml",
        run: |l, b| dbg(lockfile::pnpm::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "poetry_lock",
        file: "poetry.lock",
        run: |l, b| dbg(lockfile::python::parse_poetry(&id(l), l, &text(b))),
    },
    Parser {
        name: "uv_lock",
        file: "uv.lock",
        run: |l, b| dbg(lockfile::python::parse_uv(&id(l), l, &text(b))),
    },
    Parser {
        name: "requirements",
        file: "requirements.txt",
        run: |l, b| dbg(lockfile::python::parse_requirements(&id(l), l, &text(b))),
    },
    Parser {
        name: "sparse_index",
        file: "index/se/rd/serde",
        run: |l, b| dbg(cratesio::parse_index(l, &text(b))),
    },
    Parser {
        name: "npm_packument",
        file: "left-pad.packument.json",
        run: |l, b| dbg(npm_registry::parse(l, &text(b))),
    },
    Parser {
        name: "pypi_json",
        file: "requests.pypi.json",
        run: |l, b| dbg(pypi_registry::parse(l, &text(b))),
    },
    Parser {
        name: "db_dump",
        file: "db-dump.tar.gz",
        run: dbdump_bytes,
    },
    Parser {
        name: "inventory",
        file: "inventory.toml",
        run: |l, b| dbg(inventory::parse(l, l, &text(b))),
    },
    Parser {
        name: "build_log",
        file: "builds.csv",
        run: |l, b| dbg(buildlog::parse(l, l, &text(b))),
    },
    Parser {
        name: "cargo_toml",
        file: "Cargo.toml",
        run: |l, b| dbg(manifest::cargo::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "package_json",
        file: "package.json",
        run: |l, b| dbg(manifest::npm::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "pyproject_toml",
        file: "pyproject.toml",
        run: |l, b| dbg(manifest::python::parse(&id(l), l, &text(b))),
    },
    Parser {
        name: "advisory",
        file: "bad-versions.txt",
        run: |l, b| dbg(advisory::parse_file(l, &text(b))),
    },
    Parser {
        name: "snapshot",
        file: "graph.snapshot",
        run: |l, b| dbg(blastradius::graph::snapshot::decode(l, b)),
    },
];

/// The parser a cargo-fuzz target is named after.
pub fn parser(name: &str) -> &'static Parser {
    PARSERS
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no parser named {name}"))
}

/// Why a result breaks a property, or `None` when it keeps them all.
pub fn violation(p: &Parser, bytes: &[u8]) -> Option<String> {
    let label = p.label();
    match (p.run)(&label, bytes) {
        Ok(first) => match (p.run)(&label, bytes) {
            Ok(second) if second == first => None,
            Ok(_) => Some("parsing twice gave different values".into()),
            Err(e) => Some(format!("parsed once, failed the second time: {e}")),
        },
        Err(e) => unlocated(&label, &e),
    }
}

/// Whether an error names the file label and a well-formed location after it.
pub fn unlocated(label: &Path, e: &Error) -> Option<String> {
    let label = label.display().to_string();
    let shown = e.to_string();
    if !shown.contains(&label) {
        return Some(format!("error does not name {label}: {shown}"));
    }
    match e {
        Error::Parse { location, .. } | Error::UnsupportedVersion { location, .. } => {
            let Some(rest) = location.strip_prefix(&label) else {
                return Some(format!("location {location:?} does not start with {label}"));
            };
            if location_shape(rest) {
                None
            } else {
                Some(format!(
                    "location {location:?} is not LABEL[:LINE[:COL]] or LABEL: PATH"
                ))
            }
        }
        // Located by construction: the path and a line, or a whole-file condition.
        Error::ConflictMarkers { line, .. } if *line >= 1 => None,
        Error::Io { .. }
        | Error::Unrecognised { .. }
        | Error::Empty { .. }
        | Error::Utf16 { .. } => None,
        other => Some(format!("not a parse error: {other:?}")),
    }
}

/// What may follow the label in a location: nothing (the whole file), `:LINE`, `:LINE:COL`, or
/// `: ` and a path inside the document.
fn location_shape(rest: &str) -> bool {
    if rest.is_empty() {
        return true;
    }
    if let Some(path) = rest.strip_prefix(": ") {
        return !path.is_empty();
    }
    let Some(nums) = rest.strip_prefix(':') else {
        return false;
    };
    let mut parts = nums.split(':');
    let line = parts.next().unwrap_or("");
    let col = parts.next();
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s != "0";
    number(line) && col.is_none_or(number) && parts.next().is_none()
}

/// Whether the location carries a line or a path (not only the file).
pub fn has_position(label: &Path, e: &Error) -> bool {
    match e {
        Error::Parse { location, .. } => location.len() > label.display().to_string().len(),
        _ => false,
    }
}

/// The three requirement grammars: no panic, and a parsed requirement parses again to the same
/// value and answers `matches` the same way for a few versions.
pub fn version_req(bytes: &[u8]) -> Option<String> {
    use blastradius::versioning::{Requirement, Version};
    let text = String::from_utf8_lossy(bytes);
    let (req, ver) = text.split_once('\n').unwrap_or((&text, "1.2.3"));
    for eco in [Ecosystem::CratesIo, Ecosystem::Npm, Ecosystem::Pypi] {
        let a = Requirement::parse(eco, req);
        let b = Requirement::parse(eco, req);
        match (&a, &b) {
            (Ok(x), Ok(y)) if format!("{x:?}") == format!("{y:?}") => {}
            (Err(x), Err(y)) if x == y => {}
            _ => {
                return Some(format!(
                    "{eco}: parsing {req:?} twice differs: {a:?} / {b:?}"
                ))
            }
        }
        if let (Ok(r), Some(v)) = (&a, Version::parse(eco, ver)) {
            if r.matches(&v) != b.as_ref().unwrap().matches(&v) {
                return Some(format!("{eco}: matches({ver:?}) is not stable"));
            }
            let _ = r.matches_any_prerelease(&v);
            let _ = r.has_headroom([&v]);
        }
    }
    None
}

/// DOT escaping: the escaped text, read back the way Graphviz reads a quoted string, is the
/// label with unsafe characters shown as `\u{…}` text; it holds no raw control character and
/// cannot close the quoted string early.
pub fn dot_escape(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    let esc = blastradius::report::escape::dot(&s);
    if let Some(c) = esc.chars().find(|c| c.is_control()) {
        return Some(format!("escaped {s:?} keeps control {c:?}: {esc:?}"));
    }
    let mut read = String::new();
    let mut it = esc.chars();
    while let Some(c) = it.next() {
        match c {
            '"' => return Some(format!("escaped {s:?} has a bare quote: {esc:?}")),
            '\\' => match it.next() {
                Some('\\') => read.push('\\'),
                Some('"') => read.push('"'),
                Some('n') => read.push('\n'),
                Some(o) => return Some(format!("escaped {s:?} has escape \\{o}: {esc:?}")),
                None => return Some(format!("escaped {s:?} ends in a backslash: {esc:?}")),
            },
            c => read.push(c),
        }
    }
    let mut want = String::new();
    for c in s.chars() {
        match c {
            '\n' => want.push('\n'),
            '\r' => want.push_str("\\r"),
            // The set itself is `report::escape::is_unsafe`'s (its unit tests pin it); this
            // checks that each member is written as `\u{…}` and reads back as the original.
            c if blastradius::report::escape::is_unsafe(c) => {
                want.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => want.push(c),
        }
    }
    (read != want).then(|| format!("{s:?} escaped to {esc:?} reads back as {read:?}"))
}
