//! Cargo.lock v1–v4: one typed TOML parse, then cargo's dependency resolution with a name
//! index. `cargo-lock` reads source ids; its own `Lockfile` resolves each dependency by a
//! linear scan of all packages, which made a 10 000-package lockfile take seconds.
//! Every error names the file, and the line and column when TOML reports them.

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use toml::Spanned;

use super::conflict_marker_line;
use crate::error::{Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// The lockfile format versions blastradius understands.
pub const SUPPORTED: std::ops::RangeInclusive<i64> = 1..=4;

/// The part of a Cargo.lock blastradius reads; `checksum`, `replace`, `[metadata]` and
/// `[patch]` are ignored, as cargo's own encoding is.
#[derive(Deserialize)]
struct RawLock {
    version: Option<Spanned<toml::Value>>,
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Spanned<String>,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Parses a Cargo.lock. `id` is the display path, `file` the canonical one.
pub fn parse(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    parse_with(id, file, text, true)
}

/// [`parse`], with the line reader allowed or not (tests compare the two paths).
fn parse_with(id: &str, file: &Path, text: &str, allow_fast: bool) -> Result<LockfileFact> {
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(Error::ConflictMarkers {
            path: shown.to_path_buf(),
            line,
        });
    }
    // Cargo writes one canonical layout; reading it line by line is many times faster than a
    // TOML parse. Anything else (hand edits, escapes, other tables, errors) takes the TOML path.
    let raw: RawLock;
    let entries: Vec<Entry<'_>> = match fast_entries(text).filter(|_| allow_fast) {
        Some(entries) => entries,
        None => {
            raw = toml_lock(shown, text)?;
            raw.package
                .iter()
                .map(|p| Entry {
                    name: p.name.get_ref(),
                    name_at: p.name.span().start,
                    version: &p.version,
                    source: p.source.as_deref(),
                    dependencies: p.dependencies.iter().map(String::as_str).collect(),
                })
                .collect()
        }
    };
    if entries.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse lock file: it pins no packages (expected at least one [[package]])",
        ));
    }
    // Errors name the `[[package]]` header line, found only when there is an error.
    let header_line = |i: usize| {
        super::package_header_lines(text)
            .get(i)
            .copied()
            .unwrap_or(1)
    };
    if let Some((a, b)) =
        super::first_duplicate(entries.iter().map(|p| (p.name, p.version, p.source)))
    {
        return Err(super::duplicate_error(
            shown,
            "lock file",
            &format!("`{}` {}", entries[b].name, entries[b].version),
            header_line(a),
            header_line(b),
        ));
    }
    let at = |p: &Entry<'_>| crate::error::line_col(text, p.name_at);
    for p in &entries {
        if semver::Version::parse(p.version).is_err() {
            let (line, col) = at(p);
            return Err(Error::parse_at(
                shown,
                line,
                Some(col),
                format!(
                    "failed to parse lock file: package {}: expected a semver version, found {:?}",
                    p.name, p.version
                ),
            ));
        }
    }

    // Sources repeat: each distinct one is read once.
    let mut default_registry: FxHashMap<&str, bool> = FxHashMap::default();
    for p in &entries {
        if let Some(s) = p.source {
            if !default_registry.contains_key(s) {
                let id = cargo_lock::SourceId::from_url(s).map_err(|e| {
                    let (line, col) = at(p);
                    Error::parse_at(
                        shown,
                        line,
                        Some(col),
                        format!(
                            "failed to parse lock file: package {}: expected a source such as \"registry+https://github.com/rust-lang/crates.io-index\", found {s:?} ({e})",
                            p.name
                        ),
                    )
                })?;
                default_registry.insert(s, id.is_default_registry());
            }
        }
    }

    let by_name = ByName::new(&entries);
    let mut packages = Vec::with_capacity(entries.len());
    let mut depended = vec![false; entries.len()];
    for (i, p) in entries.iter().enumerate() {
        let mut deps = Vec::with_capacity(p.dependencies.len());
        for d in &p.dependencies {
            match resolve(d, &entries, &by_name) {
                Some(j) => {
                    depended[j] = true;
                    deps.push(j);
                }
                None => {
                    let dep = d.split(' ').next().unwrap_or(d);
                    return Err(Error::parse_at(
                        shown,
                        header_line(i),
                        None,
                        format!(
                            "failed to parse lock file: package `{}` {} depends on `{d}`, which the \
                             lock file does not contain (expected a [[package]] named `{dep}`{})",
                            p.name,
                            p.version,
                            if d.contains(' ') { " at that version" } else { "" }
                        ),
                    ));
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        packages.push(LockedPackage {
            name: p.name.into(),
            version: p.version.into(),
            registry: p.source.is_some_and(|s| default_registry[s]),
            deps,
        });
    }
    // Workspace members carry no source; a lockfile of registry packages only (rare) is rooted
    // at whatever nothing depends on.
    let mut roots: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, p)| p.source.is_none())
        .map(|(i, _)| i)
        .collect();
    if roots.is_empty() {
        roots = (0..packages.len()).filter(|&i| !depended[i]).collect();
    }
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::CratesIo,
        packages,
        roots,
    })
}

/// One `[[package]]`, borrowed from the text (fast path) or from the TOML parse.
struct Entry<'a> {
    name: &'a str,
    /// Byte offset of the name's value, for error locations.
    name_at: usize,
    version: &'a str,
    source: Option<&'a str>,
    dependencies: Vec<&'a str>,
}

/// The TOML path: a typed parse, then the format version check.
fn toml_lock(shown: &Path, text: &str) -> Result<RawLock> {
    let lock: RawLock = toml::from_str(text).map_err(|e| {
        let mut err = toml_error(shown, text, &e);
        if let Error::Parse { message, .. } = &mut err {
            *message = format!("failed to parse lock file: {message}");
        }
        err
    })?;
    if let Some(v) = &lock.version {
        let v = v.get_ref();
        match v.as_integer() {
            Some(n) if SUPPORTED.contains(&n) => {}
            Some(n) => {
                let line = super::top_level_key_line(text, "version");
                return Err(Error::unsupported_version(shown, line, n, "1 to 4"));
            }
            None => {
                let line = super::top_level_key_line(text, "version");
                return Err(Error::parse_at(
                    shown,
                    line,
                    None,
                    format!(
                        "failed to parse lock file: expected the lock file version to be an integer from 1 to 4, found {} {v}",
                        v.type_str()
                    ),
                ));
            }
        }
    }
    Ok(lock)
}

/// Reads a Cargo.lock in exactly the layout cargo writes (comments, `version = N`,
/// `[[package]]` tables of `key = "value"` lines and one-entry-per-line `dependencies`
/// arrays). Returns `None` at the first line outside that layout — including anything a TOML
/// parser would read differently or reject — so the caller falls back to the TOML parse and
/// the answer (or the error) is the TOML parser's.
fn fast_entries(text: &str) -> Option<Vec<Entry<'_>>> {
    /// The value of a basic string with no escapes, and its offset in `line`.
    fn plain_string(v: &str) -> Option<&str> {
        let inner = v.strip_prefix('"')?.strip_suffix('"')?;
        // Printable ASCII without `"` and `\` in one pass (names, versions, sources and
        // checksums nearly always); anything else is judged character by character.
        let printable = |c: u8| matches!(c, 0x20..=0x7e) && c != b'"' && c != b'\\';
        (inner.bytes().all(printable)
            || (!inner.contains(['"', '\\']) && !inner.contains(|c: char| c.is_control())))
        .then_some(inner)
    }
    /// `key = value` at the first space, as cargo writes it. A key with a space in it is no
    /// key this reader knows, so it reaches the TOML path either way.
    fn split_key(line: &str) -> Option<(&str, &str)> {
        let sp = line.bytes().position(|c| c == b' ')?;
        let value = line[sp..].strip_prefix(" = ")?;
        Some((&line[..sp], value))
    }
    let base = text.as_ptr() as usize;
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut seen_version = false;
    // Keys of the current package seen so far (a repeated key is a TOML error).
    let mut keys = [false; 5];
    let mut in_deps = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if in_deps {
            if line == "]" {
                in_deps = false;
            } else {
                let item = line.strip_prefix(' ')?.strip_suffix(',')?;
                entries.last_mut()?.dependencies.push(plain_string(item)?);
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            let complete = keys[0] && keys[1];
            if !entries.is_empty() && !complete {
                return None;
            }
            keys = [false; 5];
            entries.push(Entry {
                name: "",
                name_at: 0,
                version: "",
                source: None,
                dependencies: Vec::new(),
            });
            continue;
        }
        let (key, value) = split_key(line)?;
        let Some(entry) = entries.last_mut() else {
            // Top level: only the format version, once, and one this reader supports.
            if key != "version" || seen_version {
                return None;
            }
            let n: i64 = value.parse().ok()?;
            if !SUPPORTED.contains(&n) || value.starts_with(['+', '0']) {
                return None;
            }
            seen_version = true;
            continue;
        };
        let slot = match key {
            "name" => 0,
            "version" => 1,
            "source" => 2,
            "checksum" => 3,
            "dependencies" => 4,
            // `replace` and anything else: the TOML path decides.
            _ => return None,
        };
        if std::mem::replace(&mut keys[slot], true) {
            return None;
        }
        match slot {
            0 => {
                let name = plain_string(value)?;
                entry.name = name;
                entry.name_at = value.as_ptr() as usize - base;
            }
            1 => entry.version = plain_string(value)?,
            2 => entry.source = Some(plain_string(value)?),
            3 => {
                plain_string(value)?;
            }
            _ => match value {
                "[" => in_deps = true,
                "[]" => {}
                // One line, as some generators write it: `["a", "b 1.0.0"]`.
                _ => {
                    let inner = value.strip_prefix('[')?.strip_suffix(']')?;
                    for item in inner.split(", ") {
                        entry.dependencies.push(plain_string(item)?);
                    }
                }
            },
        }
    }
    if in_deps || entries.last().is_some_and(|_| !keys[0] || !keys[1]) {
        return None;
    }
    Some(entries)
}

/// The packages of each name, in file order: the first index per name and, per package, the
/// next one with its name (a chain instead of one vector per name: a 10k-package lockfile
/// would otherwise allocate 10k vectors).
struct ByName<'a> {
    first: FxHashMap<&'a str, u32>,
    next: Vec<u32>,
}

impl<'a> ByName<'a> {
    const END: u32 = u32::MAX;

    fn new(entries: &[Entry<'a>]) -> Self {
        let mut first = FxHashMap::default();
        first.reserve(entries.len());
        let mut next = vec![Self::END; entries.len()];
        // Backwards, so each name's chain starts at its first package.
        for (i, p) in entries.iter().enumerate().rev() {
            if let Some(later) = first.insert(p.name, i as u32) {
                next[i] = later;
            }
        }
        ByName { first, next }
    }

    /// The indices of the packages named `name`, in file order.
    fn get(&self, name: &str) -> Option<impl Iterator<Item = usize> + '_> {
        let start = *self.first.get(name)?;
        Some(
            std::iter::successors(Some(start), |&i| {
                Some(self.next[i as usize]).filter(|&n| n != Self::END)
            })
            .map(|i| i as usize),
        )
    }
}

/// Resolves one `dependencies` entry (`name`, `name version` or `name version (source)`, as
/// cargo writes them) to a package index, the way cargo does: the name, then the version
/// when given, then the source when given; an entry naming a source no package has falls
/// back to the package with that name and version.
fn resolve(entry: &str, packages: &[Entry<'_>], by_name: &ByName<'_>) -> Option<usize> {
    let mut parts = entry.splitn(3, ' ');
    let name = parts.next()?;
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    let mut same_version = by_name
        .get(name)?
        .filter(|&j| version.is_none_or(|v| packages[j].version == v));
    let first = same_version.next()?;
    let Some(source) = source else {
        return Some(first);
    };
    std::iter::once(first)
        .chain(same_version)
        .find(|&j| packages[j].source == Some(source))
        .or(Some(first))
}

/// Turns a `toml` error into a located parse error.
pub fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> Error {
    let what = e.message().trim().to_owned();
    match e.span() {
        Some(span) => {
            let (line, col) = crate::error::line_col(text, span.start);
            Error::parse_at(file, line, Some(col), what)
        }
        None => Error::parse_in(file, what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3: &str = r#"# This file is automatically @generated by Cargo.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde",
 "local",
]

[[package]]
name = "local"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f"
"#;

    /// Both paths, as comparable values (or both errors).
    fn both(text: &str) -> (String, String) {
        let show = |r: Result<LockfileFact>| match r {
            Ok(l) => format!("{:?} {:?}", l.packages, l.roots),
            Err(e) => format!("error {e}"),
        };
        (
            show(parse_with("L", Path::new("L"), text, true)),
            show(parse_with("L", Path::new("L"), text, false)),
        )
    }

    #[test]
    fn the_line_reader_reads_what_cargo_writes() {
        assert!(fast_entries(V3).is_some());
        assert!(fast_entries(&V3.replace('\n', "\r\n")).is_some());
        let inline = V3.replace(
            "dependencies = [\n \"serde\",\n \"local\",\n]",
            "dependencies = [\"serde\", \"local\"]",
        );
        assert!(fast_entries(&inline).is_some());
        assert_eq!(both(&inline).0, both(V3).0);
        let (fast, toml) = both(V3);
        assert_eq!(fast, toml);
        assert!(!fast.starts_with("error"));
    }

    #[test]
    fn the_line_reader_leaves_everything_else_to_toml() {
        let cases = [
            V3.replace("name = \"local\"", "name = \"local\" # comment"),
            V3.replace("name = \"local\"", "name = \"lo\\u0063al\""),
            V3.replace("name = \"local\"", "name=\"local\""),
            V3.replace(
                "version = \"0.1.0\"\n\n[[package]]\nname = \"serde\"",
                "version = \"0.1.0\"\nversion = \"0.1.1\"\n\n[[package]]\nname = \"serde\"",
            ),
            V3.replace("version = 3", "version = 99"),
            V3.replace("version = 3", "version = 03"),
            format!("{V3}\n[metadata]\n\"checksum x\" = \"y\"\n"),
            format!("{V3}\n[[patch.unused]]\nname = \"z\"\nversion = \"1.0.0\"\n"),
            V3.replace(" \"local\",\n]", " \"local\"\n]"),
            V3.replace(
                "[[package]]\nname = \"local\"\nversion = \"0.1.0\"",
                "[[package]]\nname = \"local\"",
            ),
            V3.replace(
                "dependencies = [\n \"serde\",\n \"local\",\n]",
                "dependencies = [\"serde\",\"local\"]",
            ),
            V3.replace(
                "dependencies = [\n \"serde\",\n \"local\",\n]",
                "dependencies = [\"serde\", \"local\",]",
            ),
            V3.replace(
                "dependencies = [\n \"serde\",\n \"local\",\n]",
                "dependencies = [\"serde, local\"]",
            ),
        ];
        for text in &cases {
            assert!(fast_entries(text).is_none(), "fast path took:\n{text}");
            let (fast, toml) = both(text);
            assert_eq!(fast, toml);
        }
    }

    /// Every Cargo.lock in the fixtures and the demo data reads the same on both paths, and
    /// the line reader takes the ones cargo wrote.
    #[test]
    fn both_paths_agree_on_every_committed_cargo_lock() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut stack = vec![root.join("tests/fixtures"), root.join("data")];
        let (mut seen, mut fast) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() {
                    stack.push(path);
                } else if name.starts_with("Cargo.lock") {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    let (a, b) = both(&text);
                    assert_eq!(a, b, "{}", path.display());
                    seen += 1;
                    fast += usize::from(fast_entries(&text).is_some());
                }
            }
        }
        assert!(
            seen >= 4 && fast >= 4,
            "{seen} lockfiles, {fast} on the fast path"
        );
    }

    #[test]
    fn roots_and_registry_flags() {
        let l = parse("Cargo.lock", Path::new("Cargo.lock"), V3).unwrap();
        assert_eq!(l.packages.len(), 3);
        let names: Vec<_> = l
            .roots
            .iter()
            .map(|&i| l.packages[i].name.as_str())
            .collect();
        assert_eq!(names, ["app", "local"]);
        assert!(l.packages[2].registry);
        assert!(!l.packages[1].registry);
        assert_eq!(l.packages[0].deps, vec![1, 2]);
    }

    #[test]
    fn dependency_entries_resolve_by_name_then_version_then_source() {
        // Three `left`s, not side by side: 1.0.0, and 2.0.0 from two sources.
        const REG: &str = "registry+https://github.com/rust-lang/crates.io-index";
        const GIT: &str = "git+https://example.com/left#0123456789abcdef";
        let text = format!(
            "version = 3\n\n\
             [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"left 1.0.0\",\n \"left 2.0.0 ({GIT})\",\n \"right\",\n]\n\n\
             [[package]]\nname = \"left\"\nversion = \"2.0.0\"\nsource = \"{REG}\"\n\n\
             [[package]]\nname = \"right\"\nversion = \"0.3.0\"\nsource = \"{REG}\"\ndependencies = [\n \"left 2.0.0\",\n \"left 2.0.0 (registry+https://example.com/other)\",\n]\n\n\
             [[package]]\nname = \"left\"\nversion = \"1.0.0\"\nsource = \"{REG}\"\n\n\
             [[package]]\nname = \"left\"\nversion = \"2.0.0\"\nsource = \"{GIT}\"\n"
        );
        for fast in [true, false] {
            let l = parse_with("Cargo.lock", Path::new("Cargo.lock"), &text, fast).unwrap();
            // app → left 1.0.0 (index 3), left 2.0.0 from git (4), right (2).
            assert_eq!(l.packages[0].deps, vec![2, 3, 4], "fast path: {fast}");
            // right → the first left 2.0.0 (1); a source no package has falls back to it too.
            assert_eq!(l.packages[2].deps, vec![1], "fast path: {fast}");
        }
        // A name that has no package is an error, not a silent drop.
        let broken = text.replace(" \"right\",\n", " \"ghost\",\n");
        assert!(parse("Cargo.lock", Path::new("Cargo.lock"), &broken).is_err());
    }

    #[test]
    fn future_version_is_an_error() {
        let text = V3.replace("version = 3", "version = 9");
        let e = parse("x/Cargo.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "format version 9 of x/Cargo.lock:2 is not supported (supported: 1 to 4)"
        );
    }

    #[test]
    fn conflict_markers_are_an_error() {
        let text = format!("{V3}<<<<<<< HEAD\n");
        let e = parse("Cargo.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("unresolved merge conflict markers at Cargo.lock:21: "),
            "{e}"
        );
    }

    #[test]
    fn empty_is_an_error() {
        let e = parse("Cargo.lock", Path::new("x"), "version = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no packages"), "{e}");
    }

    #[test]
    fn missing_field_is_located() {
        let text = "version = 3\n\n[[package]]\nname = \"a\"\n";
        let e = parse("L", Path::new("x"), text).unwrap_err().to_string();
        assert!(e.starts_with("L:"), "{e}");
        assert!(e.contains("version"), "{e}");
    }
}
