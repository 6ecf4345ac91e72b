//! PyPI lockfiles: uv.lock, poetry.lock and pinned requirements files.
//!
//! Every package name is normalised per PEP 503 (lowercase, runs of `-`, `_`, `.` become one
//! `-`), in the entries and when dependencies are linked, so `Foo_Bar.baz` and `foo-bar-baz` are
//! one package. Versions are kept exactly as the file writes them (`1.0.0rc1`, `2.0.post1`).
//!
//! Environment markers and extras never drop an edge: a dependency that only applies on Windows
//! or only with an extra is still a way in for an injected version, so it is linked (the
//! conservative reading; see SPEC §3 and §4.3).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

use super::cargo::toml_error;
use super::conflict_marker_line;
use super::top_level_key_line;
use crate::error::{Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// Version given to a local project whose lockfile entry records no version (uv omits it for
/// projects with a dynamic version) and to the synthetic roots of poetry.lock and requirements
/// files. Such entries are never registry entries.
pub const LOCAL_VERSION: &str = "0.0.0";

/// How deep `-r`/`-c` includes may nest in a requirements file before it is an error.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// Normalises a distribution name per PEP 503: lowercase, and every run of `-`, `_` and `.`
/// becomes a single `-`.
pub fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

fn conflict_error(shown: &Path, line: usize) -> Error {
    Error::ConflictMarkers {
        path: shown.to_path_buf(),
        line,
    }
}

/// Prefixes the message of a located parse error with what was being read.
pub(crate) fn prefixed(e: Error, what: &str) -> Error {
    match e {
        Error::Parse { location, message } => Error::Parse {
            location,
            message: format!("failed to parse {what}: {message}"),
        },
        other => other,
    }
}

/// 1-based line of `key = …` inside the table `[table]`, or of the header, or 1.
fn table_key_line(text: &str, table: &str, key: &str) -> usize {
    let header = format!("[{table}]");
    let mut inside = false;
    let mut header_line = 1;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            inside = t == header;
            if inside {
                header_line = i + 1;
            }
            continue;
        }
        if inside {
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return i + 1;
                }
            }
        }
    }
    header_line
}

/// 1-based line of the `name = "<name>"` line of a `[[package]]` entry, when it can be found.
fn package_line(text: &str, name: &str) -> Option<usize> {
    let want = format!("name = \"{name}\"");
    let mut in_package = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            in_package = t == "[[package]]";
        } else if in_package && t == want {
            return Some(i + 1);
        }
    }
    None
}

fn located(shown: &Path, text: &str, name: &str, message: String) -> Error {
    match package_line(text, name) {
        Some(line) => Error::parse_at(shown, line, None, message),
        None => Error::parse_in(shown, message),
    }
}

/// Links every package to the packages nothing else reaches, starting with those nothing
/// depends on, so that every entry is reachable from the returned dependency list (packages
/// that only depend on each other in a cycle are linked too).
fn unreached_tops(packages: &[LockedPackage]) -> Vec<usize> {
    let n = packages.len();
    let mut depended = vec![false; n];
    for p in packages {
        for &d in &p.deps {
            depended[d] = true;
        }
    }
    let mut tops: Vec<usize> = (0..n).filter(|&i| !depended[i]).collect();
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = tops.clone();
    let mark = |seen: &mut Vec<bool>, stack: &mut Vec<usize>| {
        while let Some(i) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            stack.extend(packages[i].deps.iter().copied().filter(|&d| !seen[d]));
        }
    };
    mark(&mut seen, &mut stack);
    for i in 0..n {
        if !seen[i] {
            tops.push(i);
            stack.push(i);
            mark(&mut seen, &mut stack);
        }
    }
    tops
}

// ---------------------------------------------------------------------------------------------
// uv.lock
// ---------------------------------------------------------------------------------------------

/// The uv.lock format versions understood (`version = 1`; any `revision`).
pub const UV_SUPPORTED: i64 = 1;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvLock {
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<UvPackage>,
    #[serde(default)]
    manifest: UvManifest,
}

#[derive(Deserialize, Default)]
struct UvManifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPackage {
    name: String,
    version: Option<String>,
    source: Option<toml::Table>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<UvDep>>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
    version: Option<String>,
    source: Option<toml::Table>,
}

/// Source kinds of uv.lock whose packages are the project's own code, not downloads.
const UV_LOCAL_SOURCES: [&str; 3] = ["virtual", "editable", "directory"];

/// Parses a uv.lock (format `version = 1`).
///
/// One entry per `[[package]]`; `registry` is true for `source = { registry = … }` only (not
/// for `editable`, `virtual`, `directory`, `path`, `git` or `url` sources). Edges come from
/// `dependencies`, every extra's `optional-dependencies` and every `dev-dependencies` /
/// `dependency-groups` group. When uv forked the resolution and locked several versions of one
/// name, a dependency names the `version` (and `source`) it means; one that does not is linked to
/// every candidate. Roots are the local projects (`virtual`, `editable` or `directory` sources)
/// that are workspace members (`[manifest] members`) or that no other package depends on.
pub fn parse_uv(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    const WHAT: &str = "uv.lock";
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(conflict_error(shown, line));
    }
    let lock: UvLock = match toml::from_str(text) {
        Ok(l) => l,
        Err(e) => {
            // A future format is reported as such, not as whatever field it trips over.
            if let Ok(table) = text.parse::<toml::Table>() {
                check_uv_version(shown, text, table.get("version"))?;
            }
            return Err(prefixed(toml_error(shown, text, &e), WHAT));
        }
    };
    check_uv_version(shown, text, lock.version.as_ref())?;
    if lock.package.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse uv.lock: it pins no packages (expected at least one [[package]])",
        ));
    }
    let headers = super::package_header_lines(text);
    let line_of = |i: usize| headers.get(i).copied().unwrap_or(1);
    if let Some((a, b)) = super::first_duplicate(lock.package.iter().map(|p| {
        let source = p.source.as_ref().map(ToString::to_string);
        (normalise_name(&p.name), p.version.as_deref(), source)
    })) {
        let p = &lock.package[b];
        let shown_pkg = format!("{} {}", p.name, p.version.as_deref().unwrap_or(""));
        return Err(super::duplicate_error(
            shown,
            WHAT,
            shown_pkg.trim_end(),
            line_of(a),
            line_of(b),
        ));
    }
    for (i, p) in lock.package.iter().enumerate() {
        let registry = p
            .source
            .as_ref()
            .is_some_and(|s| s.contains_key("registry"));
        if let (true, Some(v)) = (registry, &p.version) {
            if let Err(e) = pep440_rs::Version::from_str(v) {
                return Err(Error::parse_at(
                    shown,
                    line_of(i),
                    None,
                    format!(
                        "failed to parse uv.lock: package {}: expected a PEP 440 version, found {v:?} ({e})",
                        p.name
                    ),
                ));
            }
        }
    }

    let names: Vec<String> = lock
        .package
        .iter()
        .map(|p| normalise_name(&p.name))
        .collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        by_name.entry(n.as_str()).or_default().push(i);
    }

    let mut packages = Vec::with_capacity(lock.package.len());
    for (i, p) in lock.package.iter().enumerate() {
        let registry = p
            .source
            .as_ref()
            .is_some_and(|s| s.contains_key("registry"));
        let version = match &p.version {
            Some(v) => v.clone(),
            None if registry => {
                return Err(located(
                    shown,
                    text,
                    &p.name,
                    format!(
                        "failed to parse uv.lock: registry package {} has no version (expected `version = \"…\"`)",
                        names[i]
                    ),
                ))
            }
            None => LOCAL_VERSION.to_owned(),
        };
        let all = p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten())
            .chain(p.dev_dependencies.values().flatten())
            .chain(p.dependency_groups.values().flatten());
        let mut deps = Vec::new();
        for d in all {
            let dn = normalise_name(&d.name);
            let candidates = by_name.get(dn.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            // The version disambiguates forks; the source, when given, narrows further (one
            // name and version from two indexes) but never empties the choice.
            let by_version: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&j| d.version.is_none() || d.version == lock.package[j].version)
                .collect();
            let by_source: Vec<usize> = by_version
                .iter()
                .copied()
                .filter(|&j| d.source.is_some() && d.source == lock.package[j].source)
                .collect();
            if by_source.is_empty() {
                deps.extend_from_slice(&by_version);
            } else {
                deps.extend_from_slice(&by_source);
            }
            if by_version.is_empty() {
                let wanted = match &d.version {
                    Some(v) => format!("{dn} {v}"),
                    None => dn,
                };
                return Err(located(
                    shown,
                    text,
                    &p.name,
                    format!(
                        "failed to parse uv.lock: package {} {} depends on {wanted}, which the lock file does not contain",
                        names[i], version
                    ),
                ));
            }
        }
        deps.sort_unstable();
        deps.dedup();
        // A project's dev group may name the project itself with an extra: no edge.
        deps.retain(|&d| d != i);
        packages.push(LockedPackage {
            name: names[i].clone().into(),
            version: version.into(),
            registry,
            deps,
        });
    }

    let members: HashSet<String> = lock
        .manifest
        .members
        .iter()
        .map(|m| normalise_name(m))
        .collect();
    let mut depended = vec![false; packages.len()];
    for p in &packages {
        for &d in &p.deps {
            depended[d] = true;
        }
    }
    let mut roots: Vec<usize> = lock
        .package
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            let local = p
                .source
                .as_ref()
                .is_some_and(|s| UV_LOCAL_SOURCES.iter().any(|k| s.contains_key(*k)));
            local && (members.contains(&names[*i]) || !depended[*i])
        })
        .map(|(i, _)| i)
        .collect();
    if roots.is_empty() {
        roots = unreached_tops(&packages);
    }
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::Pypi,
        packages,
        roots,
    })
}

fn check_uv_version(shown: &Path, text: &str, v: Option<&toml::Value>) -> Result<()> {
    match v {
        Some(toml::Value::Integer(n)) if *n == UV_SUPPORTED => Ok(()),
        Some(toml::Value::Integer(n)) => Err(Error::unsupported_version(
            shown,
            top_level_key_line(text, "version"),
            n,
            &UV_SUPPORTED.to_string(),
        )),
        Some(other) => Err(Error::parse_at(
            shown,
            top_level_key_line(text, "version"),
            None,
            format!("failed to parse uv.lock: expected lock file version {UV_SUPPORTED}, found {other}"),
        )),
        None => Err(Error::parse_at(
            shown,
            1,
            None,
            format!("failed to parse uv.lock: no top-level `version` (expected `version = {UV_SUPPORTED}`)"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// poetry.lock
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    metadata: Option<PoetryMetadata>,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    #[serde(rename = "lock-version")]
    lock_version: Option<toml::Value>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `[package.source] type`s of poetry.lock that are not a package index.
const POETRY_LOCAL_SOURCES: [&str; 4] = ["directory", "file", "git", "url"];

/// Name of the synthetic root of a poetry.lock.
pub const POETRY_ROOT: &str = "project";

/// Parses a poetry.lock (`[metadata] lock-version` 1.x or 2.x).
///
/// One entry per `[[package]]`, a registry entry unless its `[package.source] type` is
/// `directory`, `file`, `git` or `url` (a `legacy` private index counts as a registry). Edges
/// come from `[package.dependencies]` (a constraint string, a table, or an array of tables with
/// `version`/`markers`/`optional`), linked by normalised name; a dependency absent from the lock
/// (an extra nobody asked for, a marker that excludes every supported Python) is no edge. When
/// the lock holds several versions of a name, a dependency whose constraint is exactly one of
/// them is linked to that one, otherwise to all of them.
///
/// poetry.lock does not record the project itself, so a synthetic root is appended: a
/// non-registry package named `project`, version `0.0.0`, depending on every entry that nothing
/// else depends on (and on one member of each cycle that is otherwise unreachable). It is the
/// only root.
pub fn parse_poetry(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    const WHAT: &str = "poetry.lock";
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(conflict_error(shown, line));
    }
    let lock: PoetryLock = match toml::from_str(text) {
        Ok(l) => l,
        Err(e) => {
            if let Ok(table) = text.parse::<toml::Table>() {
                let v = table.get("metadata").and_then(|m| m.get("lock-version"));
                check_poetry_version(shown, text, v)?;
            }
            return Err(prefixed(toml_error(shown, text, &e), WHAT));
        }
    };
    check_poetry_version(
        shown,
        text,
        lock.metadata.as_ref().and_then(|m| m.lock_version.as_ref()),
    )?;
    if lock.package.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse poetry.lock: it pins no packages (expected at least one [[package]])",
        ));
    }
    let headers = super::package_header_lines(text);
    let line_of = |i: usize| headers.get(i).copied().unwrap_or(1);
    if let Some((a, b)) = super::first_duplicate(lock.package.iter().map(|p| {
        let kind = p.source.as_ref().and_then(|s| s.kind.as_deref());
        (normalise_name(&p.name), p.version.as_str(), kind)
    })) {
        let p = &lock.package[b];
        return Err(super::duplicate_error(
            shown,
            WHAT,
            &format!("{} {}", p.name, p.version),
            line_of(a),
            line_of(b),
        ));
    }
    for (i, p) in lock.package.iter().enumerate() {
        let local = p
            .source
            .as_ref()
            .and_then(|s| s.kind.as_deref())
            .is_some_and(|k| POETRY_LOCAL_SOURCES.contains(&k));
        if let (false, Err(e)) = (local, pep440_rs::Version::from_str(&p.version)) {
            return Err(Error::parse_at(
                shown,
                line_of(i),
                None,
                format!(
                    "failed to parse poetry.lock: package {}: expected a PEP 440 version, found {:?} ({e})",
                    p.name, p.version
                ),
            ));
        }
    }

    let names: Vec<String> = lock
        .package
        .iter()
        .map(|p| normalise_name(&p.name))
        .collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        by_name.entry(n.as_str()).or_default().push(i);
    }
    let mut packages = Vec::with_capacity(lock.package.len() + 1);
    for (i, p) in lock.package.iter().enumerate() {
        let mut deps = Vec::new();
        for (dep_name, spec) in &p.dependencies {
            let dn = normalise_name(dep_name);
            let Some(candidates) = by_name.get(dn.as_str()) else {
                continue;
            };
            if candidates.len() == 1 {
                deps.push(candidates[0]);
                continue;
            }
            // Each alternative picks the fork it pins exactly, or every fork when it is a range.
            let constraints = poetry_constraints(spec);
            if constraints.is_empty() {
                deps.extend_from_slice(candidates);
            }
            for c in constraints {
                let c = c.trim();
                let c = c.strip_prefix("==").unwrap_or(c).trim();
                match candidates.iter().find(|&&j| lock.package[j].version == c) {
                    Some(&j) => deps.push(j),
                    None => deps.extend_from_slice(candidates),
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        deps.retain(|&d| d != i);
        let registry = !p
            .source
            .as_ref()
            .and_then(|s| s.kind.as_deref())
            .is_some_and(|k| POETRY_LOCAL_SOURCES.contains(&k));
        packages.push(LockedPackage {
            name: names[i].clone().into(),
            version: p.version.clone().into(),
            registry,
            deps,
        });
    }
    let tops = unreached_tops(&packages);
    let root = packages.len();
    packages.push(LockedPackage {
        name: POETRY_ROOT.into(),
        version: LOCAL_VERSION.into(),
        registry: false,
        deps: tops,
    });
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::Pypi,
        packages,
        roots: vec![root],
    })
}

/// The version constraints of one `[package.dependencies]` value.
fn poetry_constraints(spec: &toml::Value) -> Vec<&str> {
    match spec {
        toml::Value::String(s) => vec![s.as_str()],
        toml::Value::Table(t) => t
            .get("version")
            .and_then(toml::Value::as_str)
            .into_iter()
            .collect(),
        toml::Value::Array(a) => a.iter().flat_map(poetry_constraints).collect(),
        _ => Vec::new(),
    }
}

fn check_poetry_version(shown: &Path, text: &str, v: Option<&toml::Value>) -> Result<()> {
    let line = || table_key_line(text, "metadata", "lock-version");
    match v {
        Some(toml::Value::String(s)) if s.starts_with("1.") || s.starts_with("2.") => Ok(()),
        Some(toml::Value::String(s)) => Err(Error::unsupported_version(
            shown,
            line(),
            format_args!("{s:?}"),
            "1.x and 2.x",
        )),
        Some(other) => Err(Error::parse_at(
            shown,
            line(),
            None,
            format!("failed to parse poetry.lock: expected lock-version 1.x or 2.x, found {other}"),
        )),
        None => Err(Error::parse_at(
            shown,
            line(),
            None,
            "failed to parse poetry.lock: no [metadata] lock-version (expected \"1.x\" or \"2.x\")",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// requirements.txt
// ---------------------------------------------------------------------------------------------

/// Name of the synthetic root of a requirements file.
pub const REQUIREMENTS_ROOT: &str = "requirements";

/// One logical line: physical lines joined at `\` continuations.
struct Logical {
    text: String,
    /// (byte offset in `text`, 1-based physical line, characters of that line cut before it).
    segments: Vec<(usize, usize, usize)>,
}

impl Logical {
    /// Physical (line, 1-based column) of a byte offset in the logical text.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.0 <= offset)
            .or(self.segments.first());
        match seg {
            Some(&(start, line, col)) => {
                let within = self
                    .text
                    .get(start..offset.min(self.text.len()))
                    .unwrap_or("");
                (line, col + within.chars().count() + 1)
            }
            None => (1, 1),
        }
    }
}

/// Joins continuation lines the way pip does: a line ending in `\` continues on the next one
/// unless it is a comment line; a comment line ends a continuation.
fn logical_lines(text: &str) -> Vec<Logical> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let is_comment = |l: &str| l.trim_start().starts_with('#');
    let mut out = Vec::new();
    let mut cur: Option<Logical> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let comment = is_comment(line);
        if !line.ends_with('\\') || comment {
            match cur.take() {
                Some(mut l) => {
                    // pip prefixes a comment line with a space so that it is stripped later.
                    l.segments.push((l.text.len(), n, 0));
                    if comment {
                        l.text.push(' ');
                    }
                    l.text.push_str(line);
                    out.push(l);
                }
                None => out.push(Logical {
                    text: line.to_owned(),
                    segments: vec![(0, n, 0)],
                }),
            }
        } else {
            let lead = line.len() - line.trim_start_matches('\\').len();
            let piece = line.trim_matches('\\');
            let l = cur.get_or_insert_with(|| Logical {
                text: String::new(),
                segments: Vec::new(),
            });
            l.segments.push((l.text.len(), n, lead));
            l.text.push_str(piece);
        }
    }
    if let Some(l) = cur {
        out.push(l);
    }
    out
}

/// Byte offset where a comment starts (`#` at the start or after whitespace), as pip strips it.
fn comment_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()))
}

/// Options that apply to the whole file and say nothing about what is installed.
const IGNORED_OPTIONS: [&str; 14] = [
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--require-hashes",
    "--use-feature",
    "--hash",
];

/// What one requirement line of an installed (not constraints) file contributes.
enum Entry {
    Pinned(String, String),
    Unpinned(String),
}

struct ReqWalk {
    entries: Vec<Entry>,
    constraints: HashMap<String, Vec<String>>,
    visited: HashSet<(PathBuf, bool)>,
    /// The files being read, outermost first (on disk, as shown): an include of one of them
    /// is a cycle.
    chain: Vec<(PathBuf, PathBuf)>,
}

/// Parses a requirements file with pins (`name==version`, `name===version`), following
/// `-r`/`--requirement` includes relative to `file` (each file read once; an include cycle is
/// an error, as pip never ends one; nested at most [`MAX_INCLUDE_DEPTH`] deep).
///
/// What is an entry: every pinned requirement, with or without extras and environment markers
/// (`requests[socks]==2.32.3`, `pywin32==306 ; sys_platform == "win32"`), as a registry entry;
/// an unpinned requirement (`attrs`, `requests>=2`) only when a `-c` constraints file pins it,
/// because that pin is what pip installs. Not entries: the constraints files' own pins (a
/// constraint installs nothing), `-e`/`--editable` projects, URL (`name @ https://…`) and path
/// (`./pkg`, `pkg.whl`) requirements, and unpinned requirements without a constraint. Index
/// options (`-i`, `--index-url`, `--extra-index-url`, …) are ignored and their values (which may
/// hold credentials) never appear in a message. Per-requirement options (`--hash=…`) are skipped.
///
/// A synthetic non-registry root named `requirements`, version `0.0.0`, depends on every entry.
/// A file (with its includes) that pins nothing is an error: it is a list of wishes, not a lock.
pub fn parse_requirements(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    let shown = Path::new(id);
    let mut walk = ReqWalk {
        entries: Vec::new(),
        constraints: HashMap::new(),
        visited: HashSet::new(),
        chain: Vec::new(),
    };
    let disk = file.canonicalize().unwrap_or_else(|_| file.to_owned());
    walk.visited.insert((disk.clone(), false));
    walk.chain.push((disk.clone(), shown.to_owned()));
    read_requirements(&mut walk, shown, &disk, text, false, 0)?;

    let mut packages: Vec<LockedPackage> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut push = |packages: &mut Vec<LockedPackage>, name: &str, version: &str| {
        if seen.insert((name.to_owned(), version.to_owned())) {
            packages.push(LockedPackage {
                name: name.into(),
                version: version.into(),
                registry: true,
                deps: Vec::new(),
            });
        }
    };
    for e in &walk.entries {
        match e {
            Entry::Pinned(n, v) => push(&mut packages, n, v),
            Entry::Unpinned(n) => {
                if let Some(vs) = walk.constraints.get(n) {
                    for v in vs {
                        push(&mut packages, n, v);
                    }
                }
            }
        }
    }
    if packages.is_empty() {
        return Err(Error::parse_in(
            shown,
            "no pinned requirements (expected `name==version` lines, as pip-compile or `uv pip compile` write them; \
             unpinned requirements such as `requests>=2` are not a lock)",
        ));
    }
    let root = packages.len();
    packages.push(LockedPackage {
        name: REQUIREMENTS_ROOT.into(),
        version: LOCAL_VERSION.into(),
        registry: false,
        deps: (0..root).collect(),
    });
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::Pypi,
        packages,
        roots: vec![root],
    })
}

fn read_requirements(
    walk: &mut ReqWalk,
    shown: &Path,
    disk: &Path,
    text: &str,
    constraint: bool,
    depth: usize,
) -> Result<()> {
    if let Some(line) = conflict_marker_line(text) {
        return Err(conflict_error(shown, line));
    }
    for logical in logical_lines(text) {
        let full = logical.text.as_str();
        let body = &full[..comment_start(full).unwrap_or(full.len())];
        let start = body.len() - body.trim_start().len();
        let body = body.trim_end();
        if start >= body.len() {
            continue;
        }
        let content = &body[start..];
        if content.starts_with('-') {
            read_option(
                walk, shown, disk, &logical, start, content, constraint, depth,
            )?;
        } else {
            read_requirement(walk, shown, &logical, start, content, constraint)?;
        }
    }
    Ok(())
}

/// Splits an option line into its name and value (`--name=value`, `--name value`, `-rfile`).
fn split_option(content: &str) -> (&str, &str) {
    if content.starts_with("--") {
        let end = content
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(content.len());
        let rest = &content[end..];
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        (&content[..end], rest.trim())
    } else {
        let end = content
            .char_indices()
            .nth(2)
            .map_or(content.len(), |(i, _)| i);
        (&content[..end], content[end..].trim())
    }
}

#[allow(clippy::too_many_arguments)]
fn read_option(
    walk: &mut ReqWalk,
    shown: &Path,
    disk: &Path,
    logical: &Logical,
    start: usize,
    content: &str,
    constraint: bool,
    depth: usize,
) -> Result<()> {
    let (line, col) = logical.locate(start);
    let (name, value) = split_option(content);
    let nested = match name {
        "-r" | "--requirement" => constraint,
        "-c" | "--constraint" => true,
        // Editable projects are local code, not registry pins.
        "-e" | "--editable" => return Ok(()),
        n if IGNORED_OPTIONS.contains(&n) => return Ok(()),
        n => {
            // Only the option's name: its value may be a URL with credentials.
            let n: String = n.chars().filter(|c| !c.is_control()).take(64).collect();
            return Err(Error::parse_at(
                shown,
                line,
                Some(col),
                format!(
                    "unknown option `{n}` (expected a requirement, -r/--requirement, -c/--constraint, \
                     -e/--editable or an index option)"
                ),
            ));
        }
    };
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    if value.is_empty() {
        return Err(Error::parse_at(
            shown,
            line,
            Some(col),
            format!("`{name}` without a file name (expected `{name} FILE`)"),
        ));
    }
    if value.contains("://") {
        return Err(Error::parse_at(
            shown,
            line,
            Some(col),
            format!(
                "`{name}` names a remote requirements file, which is not fetched \
                 (expected a path relative to this file; download it and pass it as an input)"
            ),
        ));
    }
    if depth + 1 > MAX_INCLUDE_DEPTH {
        return Err(Error::parse_at(
            shown,
            line,
            Some(col),
            format!("requirements includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
        ));
    }
    let rel = Path::new(value);
    let inc_disk = disk.parent().unwrap_or(Path::new("")).join(rel);
    let inc_shown = match shown.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(rel),
        _ => rel.to_owned(),
    };
    let key = inc_disk.canonicalize().unwrap_or_else(|_| inc_disk.clone());
    if let Some(start) = walk.chain.iter().position(|(d, _)| *d == key) {
        let mut names: Vec<String> = walk.chain[start..]
            .iter()
            .map(|(_, s)| s.display().to_string())
            .collect();
        names.push(walk.chain[start].1.display().to_string());
        return Err(Error::parse_at(
            shown,
            line,
            Some(col),
            format!("include cycle: {}", names.join(" → ")),
        ));
    }
    if !walk.visited.insert((key.clone(), nested)) {
        return Ok(());
    }
    let text = std::fs::read_to_string(&key).map_err(|e| {
        Error::parse_at(
            shown,
            line,
            Some(col),
            format!("cannot read included file {}: {e}", inc_shown.display()),
        )
    })?;
    walk.chain.push((key.clone(), inc_shown.clone()));
    let r = read_requirements(walk, &inc_shown, &key, &text, nested, depth + 1);
    walk.chain.pop();
    r
}

/// Whether the requirement is a path or URL rather than `name[extras] spec ; markers`.
fn is_path_or_url(req: &str) -> bool {
    let head_end = req
        .find(|c: char| "[=<>!~;@( \t".contains(c))
        .unwrap_or(req.len());
    let head = &req[..head_end];
    let lower = head.to_ascii_lowercase();
    head.contains(['/', '\\', ':'])
        || head.starts_with('.')
        || head.starts_with('~')
        || [
            ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

fn read_requirement(
    walk: &mut ReqWalk,
    shown: &Path,
    logical: &Logical,
    start: usize,
    content: &str,
    constraint: bool,
) -> Result<()> {
    // Per-requirement options (`--hash=…`) start at the first whitespace-separated token that
    // begins with `-`, as pip splits them.
    let bytes = content.as_bytes();
    let opts = (1..bytes.len())
        .find(|&i| bytes[i] == b'-' && bytes[i - 1].is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let req = content[..opts].trim_end();
    if req.is_empty() || is_path_or_url(req) {
        return Ok(());
    }
    let parsed = match pep508(req) {
        Ok(r) => r,
        Err((at, why)) => {
            let (line, col) = logical.locate(start + at);
            return Err(Error::parse_at(
                shown,
                line,
                Some(col),
                format!("invalid requirement: {why} (expected `name==version`, optionally with [extras] and `; markers`)"),
            ));
        }
    };
    let name = normalise_name(parsed.name.as_ref());
    match &parsed.version_or_url {
        None => {
            if !constraint {
                walk.entries.push(Entry::Unpinned(name));
            }
        }
        Some(pep508_rs::VersionOrUrl::Url(_)) => {}
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => {
            let pin = specs.iter().find(|s| {
                matches!(
                    s.operator(),
                    pep440_rs::Operator::Equal | pep440_rs::Operator::ExactEqual
                )
            });
            match pin {
                Some(s) => {
                    let version = written_version(req).unwrap_or_else(|| s.version().to_string());
                    if constraint {
                        walk.constraints.entry(name).or_default().push(version);
                    } else {
                        walk.entries.push(Entry::Pinned(name, version));
                    }
                }
                None => {
                    if !constraint {
                        walk.entries.push(Entry::Unpinned(name));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parses one PEP 508 requirement (`name[extras] specifiers ; markers` or `name @ url`). On
/// failure: the byte offset in `req` where it went wrong and why (a URL error only as "invalid
/// URL": its text may repeat the URL at length).
pub(crate) fn pep508(
    req: &str,
) -> std::result::Result<pep508_rs::Requirement<pep508_rs::VerbatimUrl>, (usize, String)> {
    if let Some(bad) = pep508_guard(req) {
        return Err(bad);
    }
    pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(req).map_err(|e| {
        let why = match &e.message {
            pep508_rs::Pep508ErrorSource::UrlError(_) => "invalid URL".to_owned(),
            m => m.to_string(),
        };
        (e.start.min(req.len()), why)
    })
}

/// Refuses, before pep508_rs 0.9 sees them, the requirements it panics on (found by fuzzing,
/// tests/fixtures/regress/r7-pep508-*): a package or extra name that ends in `-`, `_` or `.`
/// and is followed by more text (`acme- ==1`, `a[b-]`: "validation should match PEP 508
/// parsing"), and a non-ASCII character outside quotes in the markers (`; python_version <
/// "3" é`, or in a quoted word after an expression: it slices by a count of characters).
/// Returns the byte offset and why.
pub(crate) fn pep508_guard(req: &str) -> Option<(usize, String)> {
    pep508_name_guard(req).or_else(|| pep508_marker_guard(req))
}

/// A non-ASCII character after the marker `;` (for a URL requirement, the
/// first `;` after whitespace, since a URL may hold one).
fn pep508_marker_guard(req: &str) -> Option<(usize, String)> {
    let head = req.split(';').next().unwrap_or(req);
    let url = head.contains('@');
    let mut quote: Option<char> = None;
    let mut in_marker = false;
    let mut prev = ' ';
    for (i, c) in req.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            None if !in_marker => in_marker = c == ';' && (!url || prev.is_whitespace()),
            // Inside quotes too: a quoted word where `and`/`or` may follow an expression
            // (`; python_version < "" "é`) is sliced the same way.
            _ if !c.is_ascii() => {
                return Some((i, format!("Expected a marker (ASCII only), found `{c}`")))
            }
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
        prev = c;
    }
    None
}

/// The marker refusal for a marker on its own (Poetry's `markers = "…"`, which goes to
/// `MarkerTree::parse_str` and slices the same way: fuzz finding
/// r7-poetry-markers-non-ascii): any non-ASCII character. Returns the byte offset and why.
pub(crate) fn pep508_markers_guard(markers: &str) -> Option<(usize, String)> {
    markers
        .char_indices()
        .find(|(_, c)| !c.is_ascii())
        .map(|(i, c)| (i, format!("Expected a marker (ASCII only), found `{c}`")))
}

fn pep508_name_guard(req: &str) -> Option<(usize, String)> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let skip_ws = |at: usize| at + (req[at..].len() - req[at..].trim_start().len());
    // The name (or one extra) starting at `at`: where it ends, or the error when its last
    // character is a separator.
    let word = |at: usize, what: &str| -> Result<usize, (usize, String)> {
        let len = req[at..]
            .find(|c: char| !is_name(c))
            .unwrap_or(req.len() - at);
        match req[at..at + len].chars().last() {
            Some(c @ ('-' | '_' | '.')) => Err((
                at + len - 1,
                format!("{what} must end with an alphanumeric character, not '{c}'"),
            )),
            _ => Ok(at + len),
        }
    };
    let mut at = match word(skip_ws(0), "Package name") {
        Ok(end) => skip_ws(end),
        Err(e) => return Some(e),
    };
    if !req[at..].starts_with('[') {
        return None;
    }
    at += 1;
    loop {
        at = match word(skip_ws(at), "Extra name") {
            Ok(end) => skip_ws(end),
            Err(e) => return Some(e),
        };
        if !req[at..].starts_with(',') {
            return None;
        }
        at += 1;
    }
}

/// The version after `===` or `==` exactly as written in the requirement (before any markers).
fn written_version(req: &str) -> Option<String> {
    let spec = &req[..req.find(';').unwrap_or(req.len())];
    let (at, op) = match spec.find("===") {
        Some(i) => (i, 3),
        None => (spec.find("==")?, 2),
    };
    let v: String = spec[at + op..]
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | ')'))
        .collect();
    (!v.is_empty() && !v.contains('*')).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lockfiles/python")
            .join(rel)
    }

    fn load(
        rel: &str,
        parse: fn(&str, &Path, &str) -> Result<LockfileFact>,
    ) -> Result<LockfileFact> {
        let path = fixture(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        parse(rel, &path, &text)
    }

    fn find<'a>(l: &'a LockfileFact, name: &str, version: &str) -> (usize, &'a LockedPackage) {
        l.packages
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name} {version} not in {}", l.id))
    }

    fn dep_names(l: &LockfileFact, i: usize) -> Vec<String> {
        l.packages[i]
            .deps
            .iter()
            .map(|&d| format!("{}@{}", l.packages[d].name, l.packages[d].version))
            .collect()
    }

    fn err(rel: &str, parse: fn(&str, &Path, &str) -> Result<LockfileFact>) -> String {
        load(rel, parse).unwrap_err().to_string()
    }

    #[test]
    fn normalises_names() {
        assert_eq!(normalise_name("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(normalise_name("PySocks"), "pysocks");
        assert_eq!(normalise_name("a-_.b"), "a-b");
        assert_eq!(normalise_name("zope.interface"), "zope-interface");
    }

    // --- uv.lock ------------------------------------------------------------------------------

    #[test]
    fn uv_fixture() {
        let l = load("uv/uv.lock", parse_uv).unwrap();
        assert_eq!(l.ecosystem, Ecosystem::Pypi);
        assert_eq!(l.packages.len(), 27);
        // Local projects: the editable root, the editable workspace member, the path dependency.
        let (app, p) = find(&l, "demo-app", "0.1.0");
        assert!(!p.registry);
        let (helper, p) = find(&l, "helper", "0.2.0");
        assert!(!p.registry);
        let (local, p) = find(&l, "local-lib", "0.3.0");
        assert!(!p.registry);
        // A direct URL dependency is not a registry pin.
        let (idna, p) = find(&l, "idna", "3.10");
        assert!(!p.registry);
        assert!(find(&l, "requests", "2.32.3").1.registry);
        // PEP 440 versions as written.
        assert!(find(&l, "pytest", "8.0.0rc1").1.registry);
        assert!(find(&l, "python-dateutil", "2.9.0.post0").1.registry);
        // Roots: the project and the workspace member (a member even though the project depends
        // on it); the directory dependency is not a root.
        let mut roots = l.roots.clone();
        roots.sort_unstable();
        assert_eq!(roots, vec![app, helper]);
        assert!(!l.roots.contains(&local));
        // The project's edges: normal, the `cli` extra (click), the `dev` group (pytest), and
        // both forks of packaging, each chosen by version.
        let deps = dep_names(&l, app);
        for want in [
            "click@8.1.7",
            "colorama@0.4.6",
            "helper@0.2.0",
            "idna@3.10",
            "local-lib@0.3.0",
            "packaging@23.2",
            "packaging@24.2",
            "pytest@8.0.0rc1",
            "python-dateutil@2.9.0.post0",
            "requests@2.32.3",
        ] {
            assert!(deps.contains(&want.to_owned()), "{want} not in {deps:?}");
        }
        assert_eq!(deps.len(), 10, "{deps:?}");
        // requests: the socks extra's pysocks, the URL idna, the three urllib3 forks.
        let (req, _) = find(&l, "requests", "2.32.3");
        let deps = dep_names(&l, req);
        assert_eq!(
            deps,
            [
                "certifi@2024.8.30",
                "charset-normalizer@3.5.3",
                "idna@3.10",
                "pysocks@1.7.1",
                "urllib3@2.2.3",
                "urllib3@2.6.3",
                "urllib3@2.8.0"
            ]
        );
        assert!(l.packages[req].deps.contains(&idna));
        // pytest names three pluggy versions with markers: all three, nothing else of that name.
        let (pytest, _) = find(&l, "pytest", "8.0.0rc1");
        let pluggy: Vec<_> = dep_names(&l, pytest)
            .into_iter()
            .filter(|d| d.starts_with("pluggy@"))
            .collect();
        assert_eq!(pluggy, ["pluggy@1.5.0", "pluggy@1.6.0", "pluggy@1.7.0"]);
        assert_eq!(dep_names(&l, local), ["six@1.16.0"]);
    }

    const UV_SMALL: &str = r#"version = 1
requires-python = ">=3.9"

[[package]]
name = "app"
source = { virtual = "." }
dependencies = [
    { name = "foo-bar-baz" },
    { name = "tool", marker = "sys_platform == 'win32'" },
    { name = "vcs" },
]

[package.dependency-groups]
lint = [{ name = "linter" }, { name = "app", extra = ["test"] }]

[[package]]
name = "Foo_Bar.baz"
version = "2.0.post1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "1.0.0rc1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "0.9"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "vcs"
version = "0.1.0"
source = { git = "https://github.com/example/vcs?rev=main#0123456789abcdef0123456789abcdef01234567" }

[[package]]
name = "linter"
version = "3.0"
source = { path = "wheels/linter-3.0-py3-none-any.whl" }
"#;

    #[test]
    fn uv_inline_cases() {
        let l = parse_uv("uv.lock", Path::new("uv.lock"), UV_SMALL).unwrap();
        assert_eq!(l.packages.len(), 6);
        // A virtual project with no version, normalised names, git/path sources not registry.
        assert_eq!(l.packages[0].version, LOCAL_VERSION);
        assert_eq!(l.packages[1].name, "foo-bar-baz");
        assert_eq!(l.packages[1].version, "2.0.post1");
        assert!(l.packages[1].registry);
        assert!(!l.packages[4].registry);
        assert!(!l.packages[5].registry);
        // A dependency without a version, with two candidates, is linked to both; the dev
        // group's reference to the project itself is no edge.
        assert_eq!(l.packages[0].deps, vec![1, 2, 3, 4, 5]);
        assert_eq!(l.roots, vec![0]);
    }

    #[test]
    fn uv_missing_dependency_is_an_error() {
        let text = UV_SMALL.replace("{ name = \"vcs\" }", "{ name = \"ghost\" }");
        let e = parse_uv("x/uv.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x/uv.lock:5: "), "{e}");
        assert!(e.contains("depends on ghost"), "{e}");
        let text = UV_SMALL.replace(
            "{ name = \"foo-bar-baz\" }",
            "{ name = \"tool\", version = \"5\" }",
        );
        let e = parse_uv("uv.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("depends on tool 5"), "{e}");
    }

    #[test]
    fn uv_version_9_is_an_error() {
        let e = err("invalid/uv-version9/uv.lock", parse_uv);
        assert_eq!(
            e,
            "format version 9 of invalid/uv-version9/uv.lock:1 is not supported (supported: 1)"
        );
    }

    #[test]
    fn uv_errors() {
        let e = parse_uv("uv.lock", Path::new("x"), "version = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no packages"), "{e}");
        let e = parse_uv(
            "uv.lock",
            Path::new("x"),
            "revision = 1\n[[package]]\nname = \"a\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no top-level `version`"), "{e}");
        // A schema error is located, a future format wins over it.
        let e = parse_uv(
            "uv.lock",
            Path::new("x"),
            "version = 1\n\n[[package]]\nversion = \"1\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("uv.lock:3:") && e.contains("name"), "{e}");
        let e = parse_uv(
            "uv.lock",
            Path::new("x"),
            "version = 2\n\n[[package]]\nversion = \"1\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("format version 2 of uv.lock:1 "), "{e}");
        let e = parse_uv(
            "uv.lock",
            Path::new("x"),
            "version = 1\n[[package]]\nname = \"a\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("uv.lock:3:"), "{e}");
        let e = parse_uv(
            "uv.lock",
            Path::new("x"),
            &format!("{UV_SMALL}>>>>>>> branch\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("unresolved merge conflict markers at uv.lock:"),
            "{e}"
        );
    }

    // --- poetry.lock --------------------------------------------------------------------------

    #[test]
    fn poetry_fixture() {
        let l = load("poetry/poetry.lock", parse_poetry).unwrap();
        assert_eq!(l.ecosystem, Ecosystem::Pypi);
        // 19 [[package]] entries and the synthetic root.
        assert_eq!(l.packages.len(), 20);
        let root = *l.roots.first().unwrap();
        assert_eq!(l.roots.len(), 1);
        let r = &l.packages[root];
        assert_eq!(
            (r.name.as_str(), r.version.as_str(), r.registry),
            ("project", "0.0.0", false)
        );
        // `legacy` index sources are registries; the path dependency is not.
        assert!(find(&l, "requests", "2.32.3").1.registry);
        assert!(!find(&l, "local-lib", "0.3.0").1.registry);
        assert!(find(&l, "pytest", "8.0.0rc1").1.registry);
        assert!(find(&l, "pyyaml", "6.0.2").1.registry);
        // requests → PySocks (optional, behind the socks extra; key not normalised in the file).
        let (req, _) = find(&l, "requests", "2.32.3");
        assert_eq!(
            dep_names(&l, req),
            [
                "certifi@2026.10.19.post1",
                "charset-normalizer@3.5.3",
                "idna@3.20",
                "pysocks@1.7.1",
                "urllib3@2.6.3"
            ]
        );
        // pytest → colorama (marker win32), exceptiongroup and tomli (python < 3.11).
        let (pytest, _) = find(&l, "pytest", "8.0.0rc1");
        assert_eq!(
            dep_names(&l, pytest),
            [
                "colorama@0.4.6",
                "exceptiongroup@1.3.2",
                "iniconfig@2.1.0",
                "packaging@26.3",
                "pluggy@1.6.0",
                "tomli@2.5.0"
            ]
        );
        // The root depends on what nothing else depends on.
        assert_eq!(
            dep_names(&l, root),
            [
                "click@8.1.7",
                "local-lib@0.3.0",
                "pytest@8.0.0rc1",
                "python-dateutil@2.9.0.post0",
                "pyyaml@6.0.2",
                "requests@2.32.3"
            ]
        );
        let (local, _) = find(&l, "local-lib", "0.3.0");
        assert_eq!(dep_names(&l, local), ["six@1.16.0"]);
    }

    const POETRY_V1: &str = r#"[[package]]
name = "Foo_Bar.baz"
version = "1.0.0rc1"
description = ""
category = "main"
optional = false
python-versions = "*"

[package.dependencies]
numpy = [
    {version = "1.24.4", markers = "python_version < \"3.9\""},
    {version = "2.0.post1", markers = "python_version >= \"3.9\""},
]
Six = ">=1.5"
absent = {version = "*", optional = true}

[[package]]
name = "numpy"
version = "1.24.4"
category = "main"
optional = false
python-versions = ">=3.8"

[[package]]
name = "numpy"
version = "2.0.post1"
category = "main"
optional = false
python-versions = ">=3.9"

[[package]]
name = "numpy"
version = "2.1.0"
category = "main"
optional = false
python-versions = ">=3.10"

[[package]]
name = "six"
version = "1.16.0"
category = "main"
optional = false
python-versions = "*"

[package.source]
type = "git"
url = "https://github.com/benjaminp/six"
reference = "HEAD"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "a"
version = "1"
python-versions = "*"

[package.dependencies]
b = "1"

[[package]]
name = "b"
version = "1"
python-versions = "*"

[package.dependencies]
a = "1"

[metadata]
lock-version = "1.1"
python-versions = "^3.8"
content-hash = "0"

[metadata.files]
six = []
"#;

    #[test]
    fn poetry_inline_cases() {
        let l = parse_poetry("poetry.lock", Path::new("poetry.lock"), POETRY_V1).unwrap();
        assert_eq!(l.packages.len(), 8);
        assert_eq!(l.packages[0].name, "foo-bar-baz");
        assert_eq!(l.packages[0].version, "1.0.0rc1");
        assert!(l.packages[0].registry, "no [package.source]: PyPI");
        assert!(!l.packages[4].registry, "git source");
        // Exact constraints pick their fork; `Six` links to `six`; `absent` is no edge.
        assert_eq!(l.packages[0].deps, vec![1, 2, 4]);
        // The a ↔ b cycle is reachable from the root through one of its members.
        assert_eq!(l.packages[7].deps, vec![0, 3, 5]);
        assert_eq!(l.roots, vec![7]);
        // A range over several forks links all of them.
        let text = POETRY_V1.replace("{version = \"2.0.post1\"", "{version = \">=2\"");
        let l = parse_poetry("poetry.lock", Path::new("poetry.lock"), &text).unwrap();
        assert_eq!(l.packages[0].deps, vec![1, 2, 3, 4]);
    }

    #[test]
    fn poetry_conflict_is_an_error() {
        let e = err("invalid/poetry-conflict/poetry.lock", parse_poetry);
        assert!(
            e.starts_with(
                "unresolved merge conflict markers at invalid/poetry-conflict/poetry.lock:5: "
            ),
            "{e}"
        );
    }

    #[test]
    fn poetry_lock_version_3_is_an_error() {
        let e = err("invalid/poetry-lock-version3/poetry.lock", parse_poetry);
        assert_eq!(
            e,
            "format version \"3.0\" of invalid/poetry-lock-version3/poetry.lock:9 is not \
             supported (supported: 1.x and 2.x)"
        );
    }

    #[test]
    fn poetry_errors() {
        let no_meta = "[[package]]\nname = \"a\"\nversion = \"1\"\n";
        let e = parse_poetry("p.lock", Path::new("x"), no_meta)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [metadata] lock-version"), "{e}");
        let empty = "[metadata]\nlock-version = \"2.1\"\n";
        let e = parse_poetry("p.lock", Path::new("x"), empty)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no packages"), "{e}");
        let bad = "[[package]]\nname = \"a\"\n\n[metadata]\nlock-version = \"2.1\"\n";
        let e = parse_poetry("p.lock", Path::new("x"), bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.lock:1:") && e.contains("version"), "{e}");
    }

    // --- requirements.txt ---------------------------------------------------------------------

    #[test]
    fn requirements_fixture() {
        let l = load("requirements/requirements.txt", parse_requirements).unwrap();
        let got: Vec<(String, String, bool)> = l
            .packages
            .iter()
            .map(|p| (p.name.to_string(), p.version.to_string(), p.registry))
            .collect();
        let want = [
            // base.txt, included first (line 5)
            ("foo-bar-baz", "1.0.0rc1", true),
            ("legacy-thing", "2.0.post1", true),
            ("exact-thing", "3.1.4", true),
            ("pyyaml", "6.0.2", true),
            ("attrs", "24.2.0", true), // unpinned in base.txt, pinned by constraints.txt
            // the compiled part, with hashes and continuations
            ("certifi", "2026.10.19.post1", true),
            ("charset-normalizer", "3.5.3", true),
            ("colorama", "0.4.6", true),
            ("idna", "3.20", true),
            ("pysocks", "1.7.1", true),
            ("python-dateutil", "2.9.0.post0", true),
            ("requests", "2.32.3", true),
            ("six", "1.17.0", true),
            ("urllib3", "2.6.3", true),
            ("urllib3", "2.8.0", true),
            ("requirements", "0.0.0", false),
        ];
        let want: Vec<(String, String, bool)> = want
            .iter()
            .map(|(n, v, r)| (n.to_string(), v.to_string(), *r))
            .collect();
        assert_eq!(got, want);
        assert_eq!(l.roots, vec![15]);
        assert_eq!(l.packages[15].deps, (0..15).collect::<Vec<_>>());
        // Constraint-only pins, editables, URL/path requirements and unpinned ones are absent.
        for absent in [
            "never-installed",
            "unpinned-pkg",
            "local-wheel",
            "local",
            "thing",
        ] {
            assert!(l.packages.iter().all(|p| p.name != absent), "{absent}");
        }
    }

    #[test]
    fn requirements_cycle_is_an_error() {
        let e = err("requirements-cycle/a.txt", parse_requirements);
        assert_eq!(
            e,
            "requirements-cycle/b.txt:1:1: include cycle: requirements-cycle/a.txt → \
             requirements-cycle/b.txt → requirements-cycle/a.txt"
        );
    }

    #[test]
    fn requirements_empty_version_is_located() {
        let e = err(
            "invalid/requirements-empty-version/requirements.txt",
            parse_requirements,
        );
        assert!(
            e.starts_with("invalid/requirements-empty-version/requirements.txt:3:"),
            "{e}"
        );
        assert!(
            e.contains("invalid requirement") && e.contains("version"),
            "{e}"
        );
    }

    #[test]
    fn requirements_garbage_is_located() {
        let e = err(
            "invalid/requirements-garbage/requirements.txt",
            parse_requirements,
        );
        assert!(
            e.starts_with("invalid/requirements-garbage/requirements.txt:4:"),
            "{e}"
        );
        assert!(e.contains("expected `name==version`"), "{e}");
    }

    #[test]
    fn requirements_unpinned_is_an_error() {
        let e = err(
            "invalid/requirements-unpinned/requirements.txt",
            parse_requirements,
        );
        assert!(
            e.starts_with("invalid/requirements-unpinned/requirements.txt: "),
            "{e}"
        );
        assert!(e.contains("no pinned requirements"), "{e}");
    }

    #[test]
    fn requirements_missing_include_names_both_files() {
        let e = err(
            "invalid/requirements-missing-include/requirements.txt",
            parse_requirements,
        );
        assert!(
            e.starts_with("invalid/requirements-missing-include/requirements.txt:2:1: "),
            "{e}"
        );
        assert!(
            e.contains("invalid/requirements-missing-include/does-not-exist.txt"),
            "{e}"
        );
    }

    #[test]
    fn requirements_unknown_option_hides_its_value() {
        let e = err(
            "invalid/requirements-unknown-option/requirements.txt",
            parse_requirements,
        );
        assert!(
            e.starts_with("invalid/requirements-unknown-option/requirements.txt:2:1: "),
            "{e}"
        );
        assert!(e.contains("--frobnicate") && !e.contains("secret"), "{e}");
    }

    fn req(text: &str) -> Result<LockfileFact> {
        parse_requirements("r.txt", Path::new("/nonexistent/r.txt"), text)
    }

    #[test]
    fn requirements_lines() {
        let l = req(concat!(
            "--index-url=https://u:tok@example.invalid/simple\n",
            "-i https://u:tok@example.invalid/simple\n",
            "Foo_Bar.baz  ==  1.0.0rc1 ; python_version < '3.9' --hash=sha256:00 --hash sha256:11\n",
            "requests[socks]==2.32.3 \\\n",
            "    --hash=sha256:22 \\\n",
            "    # via nobody\n",
            "one==1.0 # a comment \\\n",
            "two==2.0\n",
            "-e git+https://example.invalid/repo.git#egg=three\n",
            "pinned-and-ranged>=1,==1.5\n",
            "starred==1.*\n",
            "url-pin==1.0 ; platform_machine == 'x86_64'\n",
        ))
        .unwrap();
        let got: Vec<_> = l
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        // `one==1.0 # … \` continues (pip joins before it strips comments): `two` is in the
        // comment.
        assert_eq!(
            got,
            [
                "foo-bar-baz@1.0.0rc1",
                "requests@2.32.3",
                "one@1.0",
                "pinned-and-ranged@1.5",
                "url-pin@1.0",
                "requirements@0.0.0"
            ]
        );
    }

    #[test]
    fn requirements_error_columns() {
        let e = req("six==1.0\nfoo==\n").unwrap_err().to_string();
        assert!(e.starts_with("r.txt:2:"), "{e}");
        let e = req("six==1.0\nok==1 \\\n  ; python_version <<< '3'\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("r.txt:3:"), "{e}");
        let e = req("-r https://u:tok@example.invalid/r.txt\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("remote") && !e.contains("tok"), "{e}");
        let e = req("-r\n").unwrap_err().to_string();
        assert!(e.contains("without a file name"), "{e}");
        let e = req("# only comments\n\n").unwrap_err().to_string();
        assert!(e.contains("no pinned requirements"), "{e}");
        let e = req("six==1.0\n<<<<<<< HEAD\n").unwrap_err().to_string();
        assert!(
            e.starts_with("unresolved merge conflict markers at r.txt:2: "),
            "{e}"
        );
    }
}
