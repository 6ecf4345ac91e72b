//! yarn.lock, classic (`# yarn lockfile v1`) and berry (yarn 2 and later, `__metadata:`), read
//! with the `yarn-lock-parser` crate.
//!
//! The crate's errors carry no position, and it has blind spots: it skips the first two lines
//! whatever they hold, rejects two blank lines in a row, and misreads a malformed dependency
//! line without an error (`x` with no range followed by `y "^1"` comes out as one
//! dependency). So every file first goes through a line scan here that checks the layout yarn
//! writes, records where each entry starts, and hands the crate a normalised copy (LF line
//! ends, exactly one blank line between entries, no comments, a synthetic header). The crate's
//! result is then checked against the scan (same number of entries, descriptors and
//! dependencies); the version is taken from the scan, at the entry's
//! own indentation, so a `bin:` called `version` cannot override it. When the crate rejects
//! the file, each entry is re-read alone to find the one it rejects, reported at its key line.
//!
//! Berry's `__metadata.version` must be one of [`BERRY_SUPPORTED`] (seen while writing this:
//! 6 from yarn 3.8.7 and 10 from yarn 4.18.1); a later one is an unsupported format version.
//!
//! What comes out:
//! - one package per resolved entry, attributed to the real package (an alias
//!   `alias@npm:real@^1` counts as `real`; berry names come from `resolution:`); registry
//!   entries with the same name and version are merged (a classic alias entry and the plain
//!   entry it duplicates, berry's `patch:` of a registry package and the package itself);
//! - `registry` is true for npm-registry versions (classic: a semver range or tag and a
//!   `…/-/…` tarball URL, which includes private mirrors of the registry; berry: an `npm:`
//!   resolution, or a `patch:` of one) and false for `workspace:`, `file:`, `link:`,
//!   `portal:`, git and URL resolutions;
//! - dependency edges follow `dependencies` and `optionalDependencies` (yarn does not record
//!   peers); a requirement is matched to the entry whose key lists `name@range` (berry:
//!   also `name@npm:range`, since yarn 3 leaves the `npm:` out of dependency lists); when
//!   no key lists it but exactly one entry carries the name, that one is used;
//! - roots: berry's `@workspace:` entries; for classic, a root synthesised from the
//!   package.json beside the lock file (its `dependencies`, `devDependencies` and
//!   `optionalDependencies`; requirements the lock file does not pin are left out), plus,
//!   when that package.json declares `workspaces` (whose members classic yarn does not
//!   record), every entry nothing depends on; without a package.json, the entries nothing
//!   depends on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::conflict_marker_line;
use crate::error::{Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// What the crate gets in front of a classic body: it skips two lines and wants the marker on
/// the second.
const CLASSIC_HEADER: &str = "# yarn lockfile\n# yarn lockfile v1\n\n";
/// What the crate gets in front of a berry body.
const BERRY_HEADER: &str = "# yarn lockfile\n#\n\n__metadata:\n  version: 8\n\n";

/// Parses a yarn.lock. `id` is the display path, `file` the canonical one, `package_json` the
/// text of the package.json beside the lock file, if there is one.
pub fn parse(
    id: &str,
    file: &Path,
    text: &str,
    package_json: Option<&str>,
) -> Result<LockfileFact> {
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(Error::ConflictMarkers {
            path: shown.to_path_buf(),
            line,
        });
    }
    let manifest = match package_json {
        Some(t) => Some(Manifest::parse(&manifest_path(id), t)?),
        None => None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rewritten;
    let text = if text.contains("\n? ") || text.starts_with("? ") {
        rewritten = implicit_keys(text);
        rewritten.as_str()
    } else {
        text
    };
    let scan = Scan::run(shown, text)?;
    if scan.blocks.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse lock file: it pins no packages (expected at least one entry like `name@range:`)",
        ));
    }
    let lock = yarn_lock_parser::parse_str(&scan.norm).map_err(|e| scan.crate_error(shown, &e))?;
    scan.cross_check(shown, &lock.entries)?;
    build(id, file, &scan, &lock.entries, manifest.as_ref())
}

/// Berry writes a key longer than 1024 characters (YAML's limit for implicit keys) as an
/// explicit one: `? "key"` on one line, the first field after `: ` on the next. Rewrites such
/// entries to the implicit form, line for line, so that line numbers stay those of the file.
fn implicit_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut after_key = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if let Some(key) = line.strip_prefix("? ") {
            out.push_str(key.trim_end());
            out.push(':');
            after_key = true;
        } else if let (true, Some(field)) = (after_key, line.strip_prefix(": ")) {
            out.push_str("  ");
            out.push_str(field);
            after_key = false;
        } else {
            out.push_str(line);
            after_key = after_key && line.trim().is_empty();
        }
    }
    out
}

/// Where the package.json beside `id` is reported: `<dir of id>/package.json`.
fn manifest_path(id: &str) -> PathBuf {
    Path::new(id)
        .parent()
        .map_or_else(|| PathBuf::from("package.json"), |d| d.join("package.json"))
}

// ---------------------------------------------------------------------------------------------
// The line scan

/// One top-level entry as the scan saw it.
struct Block<'t> {
    /// Line (1-based, in the original text) of its key.
    line: usize,
    /// The key without its final `:`.
    key: &'t str,
    /// How many descriptors the key lists.
    descriptors: usize,
    /// `version` at the entry's own indentation, and its line.
    version: Option<(&'t str, usize)>,
    /// Lines under `dependencies:` and `optionalDependencies:`.
    deps: usize,
    /// Whether it has a `resolution` field (berry writes one for every entry).
    resolution: bool,
    /// Byte range of the block in the normalised text.
    norm: std::ops::Range<usize>,
    /// Indentation of the entry's fields, set by its first indented line.
    indent: Option<usize>,
    /// Indentation of the lines of the dependency list being read, if any.
    dep_indent: Option<Option<usize>>,
}

/// The scanned file: its format, the normalised copy for the crate, and where entries start.
struct Scan<'t> {
    berry: bool,
    header: &'static str,
    /// The normalised text the crate reads.
    norm: String,
    blocks: Vec<Block<'t>>,
}

impl<'t> Scan<'t> {
    fn run(shown: &Path, text: &'t str) -> Result<Self> {
        let at = |line: usize, msg: String| {
            Error::parse_at(
                shown,
                line,
                None,
                format!("failed to parse lock file: {msg}"),
            )
        };
        // Berry when the first line that is neither blank nor a comment is `__metadata:`.
        let berry = text
            .lines()
            .map(str::trim_end)
            .find(|l| !l.is_empty() && !l.trim_start().starts_with('#'))
            .is_some_and(is_metadata_key);
        let header = if berry { BERRY_HEADER } else { CLASSIC_HEADER };
        let mut scan = Scan {
            berry,
            header,
            norm: String::with_capacity(text.len() + header.len() + 2),
            blocks: Vec::new(),
        };
        scan.norm.push_str(header);
        let mut cur: Option<Block<'t>> = None;
        let mut in_meta = false;
        let mut keys: HashMap<&'t str, usize> = HashMap::new();
        for (i, raw) in text.split('\n').enumerate() {
            let n = i + 1;
            let l = raw.trim_end();
            let body = l.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let indent = l.len() - body.len();
            if indent == 0 {
                if let Some(b) = cur.take() {
                    scan.finish(shown, b)?;
                }
                in_meta = false;
                if is_metadata_key(l) {
                    if !berry || !scan.blocks.is_empty() {
                        return Err(at(
                            n,
                            "unexpected `__metadata:` (expected it once, before the first entry)"
                                .into(),
                        ));
                    }
                    in_meta = true;
                    continue;
                }
                let Some(key) = l.strip_suffix(':') else {
                    return Err(at(
                        n,
                        format!(
                            "expected an entry key like `name@range:`, found `{}`",
                            excerpt(l)
                        ),
                    ));
                };
                let descriptors = check_key(key).map_err(|m| at(n, m))?;
                if let Some(first) = keys.insert(key, n) {
                    return Err(at(
                        n,
                        format!(
                            "entry `{}` is listed twice (at lines {first} and {n}; expected each key once)",
                            excerpt(key)
                        ),
                    ));
                }
                if !scan.blocks.is_empty() {
                    scan.norm.push('\n');
                }
                cur = Some(Block {
                    line: n,
                    key,
                    descriptors,
                    version: None,
                    deps: 0,
                    resolution: false,
                    norm: scan.norm.len()..scan.norm.len(),
                    indent: None,
                    dep_indent: None,
                });
            } else {
                if in_meta {
                    check_metadata_line(shown, n, indent, body)?;
                    continue;
                }
                let Some(b) = cur.as_mut() else {
                    return Err(at(
                        n,
                        format!(
                            "expected an entry key like `name@range:` before the indented line `{}`",
                            excerpt(body)
                        ),
                    ));
                };
                if body.bytes().filter(|&c| c == b'"').count() % 2 == 1 {
                    return Err(at(
                        n,
                        format!(
                            "unterminated string in `{}` (expected a closing `\"`)",
                            excerpt(body)
                        ),
                    ));
                }
                let level = *b.indent.get_or_insert(indent);
                if indent < level {
                    return Err(at(
                        n,
                        format!(
                            "unexpected indentation of `{}` ({indent} columns, the entry's fields have {level})",
                            excerpt(body)
                        ),
                    ));
                }
                if indent == level {
                    let (name, value) = split_field(body);
                    b.dep_indent = None;
                    match name {
                        "version" => {
                            if value.is_empty()
                                || !value.bytes().all(version_byte)
                                || !value.as_bytes()[0].is_ascii_digit()
                            {
                                return Err(at(
                                    n,
                                    format!(
                                        "expected a version like `1.2.3`, found `{}`",
                                        excerpt(value)
                                    ),
                                ));
                            }
                            b.version = Some((value, n));
                        }
                        "dependencies" | "optionalDependencies" if !value.is_empty() => {
                            return Err(at(
                                n,
                                format!(
                                    "expected the `{name}` of `{}` as indented `name range` lines, found `{}`",
                                    excerpt(b.key),
                                    excerpt(value)
                                ),
                            ));
                        }
                        "dependencies" | "optionalDependencies" => b.dep_indent = Some(None),
                        "resolution" => b.resolution = true,
                        _ => {}
                    }
                } else if let Some(dep_indent) = b.dep_indent.as_mut() {
                    let d = *dep_indent.get_or_insert(indent);
                    if indent == d {
                        let (name, value) = split_field(body);
                        if name.is_empty() || value.is_empty() || name.contains(' ') {
                            return Err(at(
                                n,
                                format!(
                                    "expected `name range` in the dependency list of `{}`, found `{}`",
                                    excerpt(b.key),
                                    excerpt(body)
                                ),
                            ));
                        }
                        b.deps += 1;
                    }
                }
            }
            scan.norm.push_str(l);
            scan.norm.push('\n');
            if let Some(b) = cur.as_mut() {
                b.norm.end = scan.norm.len();
            }
        }
        if let Some(b) = cur.take() {
            scan.finish(shown, b)?;
        }
        scan.norm.push('\n');
        Ok(scan)
    }

    /// Checks a finished block and keeps it.
    fn finish(&mut self, shown: &Path, b: Block<'t>) -> Result<()> {
        if self.berry && b.version.is_some() && !b.resolution {
            return Err(Error::parse_at(
                shown,
                b.line,
                None,
                format!(
                    "failed to parse lock file: entry `{}` has no resolution (expected a `resolution` line under it)",
                    excerpt(b.key)
                ),
            ));
        }
        if b.version.is_none() {
            return Err(Error::parse_at(
                shown,
                b.line,
                None,
                format!(
                    "failed to parse lock file: entry `{}` has no version (expected a `version` line under it)",
                    excerpt(b.key)
                ),
            ));
        }
        self.blocks.push(b);
        Ok(())
    }

    /// Locates an error of the crate: re-reads each entry alone and reports the first one it
    /// rejects, at the line of its key.
    fn crate_error(&self, shown: &Path, e: &yarn_lock_parser::YarnLockError) -> Error {
        for b in &self.blocks {
            let mini = format!("{}{}\n", self.header, &self.norm[b.norm.clone()]);
            let Err(e) = yarn_lock_parser::parse_str(&mini) else {
                continue;
            };
            let reason = crate_reason(&e);
            return Error::parse_at(
                shown,
                b.line,
                None,
                format!(
                    "failed to parse lock file: entry `{}` could not be read ({reason})",
                    excerpt(b.key)
                ),
            );
        }
        Error::parse_in(
            shown,
            format!("failed to parse lock file: {}", crate_reason(e)),
        )
    }

    /// Checks that the crate read every entry the scan found, completely.
    fn cross_check(&self, shown: &Path, entries: &[yarn_lock_parser::Entry<'_>]) -> Result<()> {
        let incomplete = |b: &Block<'_>, what: String| {
            Error::parse_at(
                shown,
                b.line,
                None,
                format!(
                    "failed to parse lock file: entry `{}` could not be read completely ({what})",
                    excerpt(b.key)
                ),
            )
        };
        for (i, b) in self.blocks.iter().enumerate() {
            let Some(e) = entries.get(i) else {
                return Err(incomplete(
                    b,
                    format!(
                        "the reader stopped after {} of {} entries",
                        entries.len(),
                        self.blocks.len()
                    ),
                ));
            };
            if e.descriptors.len() != b.descriptors {
                return Err(incomplete(
                    b,
                    format!(
                        "expected {} descriptors in the key, read {}",
                        b.descriptors,
                        e.descriptors.len()
                    ),
                ));
            }
            let deps = e.dependencies.len() + e.optional_dependencies.len();
            if deps != b.deps {
                return Err(incomplete(
                    b,
                    format!("expected {} dependencies, read {deps}", b.deps),
                ));
            }
        }
        if entries.len() != self.blocks.len() {
            return Err(Error::parse_in(
                shown,
                format!(
                    "failed to parse lock file: expected {} entries, read {}",
                    self.blocks.len(),
                    entries.len()
                ),
            ));
        }
        Ok(())
    }
}

/// The berry `__metadata.version`s read (yarn 2 wrote 4, yarn 3 wrote 6, yarn 4 writes 8 and
/// later 10): a version past these is an error, not a guess.
pub const BERRY_SUPPORTED: std::ops::RangeInclusive<u64> = 4..=10;

/// Checks a `version:` line of the `__metadata:` block at two-space indentation.
fn check_metadata_line(shown: &Path, line: usize, indent: usize, body: &str) -> Result<()> {
    let Some(v) = body.strip_prefix("version:").filter(|_| indent == 2) else {
        return Ok(());
    };
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    match v.parse::<u64>() {
        Ok(n) if BERRY_SUPPORTED.contains(&n) => Ok(()),
        Ok(n) => Err(Error::unsupported_version(shown, line, n, "4 to 10")),
        Err(_) => Err(Error::parse_at(
            shown,
            line,
            None,
            format!(
                "failed to parse lock file: expected `__metadata.version` to be an integer, \
                 found `{}`",
                excerpt(v)
            ),
        )),
    }
}

/// `__metadata:` (berry's header block), possibly quoted.
fn is_metadata_key(l: &str) -> bool {
    l == "__metadata:" || l == "\"__metadata\":"
}

/// Checks an entry key (`a@1, "b@npm:^2"`) and returns how many descriptors it lists.
fn check_key(key: &str) -> std::result::Result<usize, String> {
    let mut count = 0;
    for piece in key.split(", ") {
        let d = piece.strip_prefix('"').unwrap_or(piece);
        let d = d.strip_suffix('"').unwrap_or(d);
        let (name, range) = split_descriptor(d);
        if d.is_empty() || d.contains('"') || d.contains(',') || name.is_empty() || range.is_none()
        {
            return Err(format!(
                "expected `name@range` descriptors in the entry key, found `{}`",
                excerpt(piece)
            ));
        }
        count += 1;
    }
    Ok(count)
}

/// Splits `name@range` (the name may be scoped: `@scope/name@range`).
fn split_descriptor(d: &str) -> (&str, Option<&str>) {
    let from = usize::from(d.starts_with('@'));
    match d[from..].find('@') {
        Some(at) => (&d[..from + at], Some(&d[from + at + 1..])),
        None => (d, None),
    }
}

/// Splits a field line (`version "1.0.0"`, `version: 1.0.0`, `"@a/b": "npm:^1"`) into its
/// name and value, both without quotes.
fn split_field(body: &str) -> (&str, &str) {
    let (name, rest) = match body.strip_prefix('"') {
        Some(q) => match q.find('"') {
            Some(end) => (&q[..end], &q[end + 1..]),
            None => (q, ""),
        },
        None => {
            let end = body.find([' ', ':']).unwrap_or(body.len());
            (&body[..end], &body[end..])
        }
    };
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
    let value = rest.strip_prefix('"').unwrap_or(rest);
    let value = value.strip_suffix('"').unwrap_or(value);
    (name, value)
}

/// The characters the crate accepts in a version.
fn version_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'-'
                | b'+'
                | b'@'
                | b':'
                | b'/'
                | b'#'
                | b'%'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
        )
}

/// A short, single-line excerpt of input for messages.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    // Control characters are escaped once, where the message reaches the terminal.
    out
}

/// The crate's reason: its own message when it gave one, else what it was reading. Its error
/// type is built from `nom` types this crate does not depend on, so the reason is read from
/// the error's `Debug` text.
fn crate_reason(e: &yarn_lock_parser::YarnLockError) -> String {
    const MESSAGES: [&str; 4] = [
        "version is empty for an entry",
        "descriptor does not end with : followed by newline",
        "version format error: @ not found",
        "bool property not 'true' or 'false'",
    ];
    let debug = format!("{e:?}");
    if let Some(m) = MESSAGES
        .iter()
        .find(|m| debug.contains(&format!("\"{m}\"")))
    {
        return (*m).to_owned();
    }
    let context = debug
        .split("Context(\"")
        .nth(1)
        .and_then(|c| c.split('"').next())
        .filter(|c| !c.is_empty());
    match context {
        Some(c) => format!("unexpected input while reading the {c}"),
        None => "unexpected input".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// From entries to packages

/// What one entry resolves to.
struct Resolved<'a> {
    name: &'a str,
    registry: bool,
    workspace: bool,
}

/// Classifies an entry: real name, registry or not, workspace or not.
fn resolve_entry<'a>(berry: bool, e: &yarn_lock_parser::Entry<'a>) -> Resolved<'a> {
    if berry && !e.resolved.is_empty() {
        let (name, reference) = split_descriptor(e.resolved);
        let reference = reference.unwrap_or("");
        if let Some(r) = reference.strip_prefix("patch:") {
            // `patch:resolve@npm%3A1.22.14#…`: the patched package is what matters.
            let inner = r.split('#').next().unwrap_or(r);
            let inner = percent_decode(inner);
            let (_, iref) = split_descriptor(&inner);
            let registry = iref.is_some_and(|r| r.starts_with("npm:") || !r.contains(':'));
            return Resolved {
                name,
                registry,
                workspace: false,
            };
        }
        return Resolved {
            name,
            registry: reference.starts_with("npm:"),
            workspace: reference.starts_with("workspace:"),
        };
    }
    // Classic (or a berry entry without a resolution): the descriptors tell.
    let mut alias_target = None;
    let mut plain = None;
    let mut registry = true;
    for &(name, range) in &e.descriptors {
        match alias(range) {
            Some((real, r)) => {
                alias_target.get_or_insert(real);
                registry &= r.is_none_or(registry_range);
            }
            None => {
                plain.get_or_insert(name);
                registry &= registry_range(range.strip_prefix("npm:").unwrap_or(range));
            }
        }
    }
    let name = plain
        .or(alias_target)
        .or_else(|| e.descriptors.first().map(|d| d.0))
        .unwrap_or(e.name);
    let resolved = e.resolved;
    registry &= resolved.is_empty()
        || ((resolved.starts_with("https://") || resolved.starts_with("http://"))
            && resolved.contains("/-/"));
    Resolved {
        name,
        registry,
        workspace: false,
    }
}

/// `npm:real@range` → (`real`, `range`); `npm:real` → (`real`, none). A berry range
/// (`npm:^1.2`) is not an alias.
fn alias(range: &str) -> Option<(&str, Option<&str>)> {
    let inner = range.strip_prefix("npm:")?;
    let (name, r) = split_descriptor(inner);
    r.map(|r| (name, Some(r)))
}

/// A range the registry resolves: a semver range or a dist-tag, not a path, URL, git or other
/// protocol.
fn registry_range(range: &str) -> bool {
    !range.contains(':') && !range.contains('/')
}

/// Decodes `%XX` escapes (berry escapes `:` and `@` inside `patch:` references).
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Maps `name@range` requirements to package indices.
struct Resolver<'a> {
    berry: bool,
    by_descriptor: HashMap<String, usize>,
    by_name: HashMap<&'a str, Vec<usize>>,
}

impl Resolver<'_> {
    fn find(&self, name: &str, range: &str) -> Option<usize> {
        if let Some(&i) = self.by_descriptor.get(&format!("{name}@{range}")) {
            return Some(i);
        }
        if self.berry && !range.contains(':') {
            if let Some(&i) = self.by_descriptor.get(&format!("{name}@npm:{range}")) {
                return Some(i);
            }
        }
        match self.by_name.get(name).map(Vec::as_slice) {
            Some(&[only]) => Some(only),
            _ => None,
        }
    }
}

fn build(
    id: &str,
    file: &Path,
    scan: &Scan<'_>,
    entries: &[yarn_lock_parser::Entry<'_>],
    manifest: Option<&Manifest>,
) -> Result<LockfileFact> {
    let shown = Path::new(id);
    let mut packages: Vec<LockedPackage> = Vec::with_capacity(entries.len() + 1);
    let mut workspaces = Vec::new();
    let mut merged: HashMap<(&str, &str), usize> = HashMap::new();
    let mut of_entry = Vec::with_capacity(entries.len());
    let mut resolver = Resolver {
        berry: scan.berry,
        by_descriptor: HashMap::with_capacity(entries.len() * 2),
        by_name: HashMap::new(),
    };
    for (e, b) in entries.iter().zip(&scan.blocks) {
        let r = resolve_entry(scan.berry, e);
        let version = b.version.map_or(e.version, |v| v.0);
        let existing = if r.registry {
            merged.get(&(r.name, version)).copied()
        } else {
            None
        };
        let idx = existing.unwrap_or_else(|| {
            packages.push(LockedPackage {
                name: r.name.into(),
                version: version.into(),
                registry: r.registry,
                deps: Vec::new(),
            });
            packages.len() - 1
        });
        if r.registry {
            merged.insert((r.name, version), idx);
        }
        if r.workspace && !workspaces.contains(&idx) {
            workspaces.push(idx);
        }
        of_entry.push(idx);
        for &(name, range) in &e.descriptors {
            resolver
                .by_descriptor
                .entry(format!("{name}@{range}"))
                .or_insert(idx);
            let ids = resolver.by_name.entry(name).or_default();
            if !ids.contains(&idx) {
                ids.push(idx);
            }
        }
    }
    let mut depended = vec![false; packages.len()];
    for ((e, b), &idx) in entries.iter().zip(&scan.blocks).zip(&of_entry) {
        for &(name, range) in e.dependencies.iter().chain(&e.optional_dependencies) {
            let Some(j) = resolver.find(name, range) else {
                return Err(Error::parse_at(
                    shown,
                    b.line,
                    None,
                    format!(
                        "failed to parse lock file: entry `{}` depends on `{name}@{range}`, which no entry of the lock file provides",
                        excerpt(b.key)
                    ),
                ));
            };
            if j != idx {
                depended[j] = true;
                packages[idx].deps.push(j);
            }
        }
    }
    for p in &mut packages {
        p.deps.sort_unstable();
        p.deps.dedup();
    }
    let orphans = || (0..depended.len()).filter(|&i| !depended[i]);
    let roots = if !workspaces.is_empty() {
        workspaces
    } else if let Some(m) = manifest {
        let mut deps: Vec<usize> = m
            .deps
            .iter()
            .filter_map(|(name, range)| resolver.find(name, range))
            .collect();
        deps.sort_unstable();
        deps.dedup();
        let mut roots: Vec<usize> = Vec::new();
        if m.workspaces {
            roots.extend(orphans().filter(|i| deps.binary_search(i).is_err()));
        }
        let name = m.name.clone().unwrap_or_else(|| {
            Path::new(id)
                .parent()
                .and_then(Path::file_name)
                .map_or_else(|| "(root)".to_owned(), |n| n.to_string_lossy().into_owned())
        });
        packages.push(LockedPackage {
            name: name.into(),
            version: m
                .version
                .clone()
                .map_or_else(|| "0.0.0-use.local".into(), Into::into),
            registry: false,
            deps,
        });
        roots.insert(0, packages.len() - 1);
        roots
    } else {
        orphans().collect()
    };
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::Npm,
        packages,
        roots,
    })
}

// ---------------------------------------------------------------------------------------------
// package.json

/// What the lock file reader needs from package.json.
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    /// `dependencies`, `devDependencies`, `optionalDependencies`, in that order.
    deps: Vec<(String, String)>,
    /// Declares `workspaces`.
    workspaces: bool,
}

impl Manifest {
    /// Through the crate's one package.json reader, [`crate::ingest::manifest::npm`].
    fn parse(path: &Path, text: &str) -> Result<Self> {
        let pj = crate::ingest::manifest::npm::read(path, text, None)?;
        let deps = [
            pj.dependencies,
            pj.dev_dependencies,
            pj.optional_dependencies,
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(Manifest {
            name: pj.name,
            version: pj.version,
            deps,
            workspaces: pj.workspaces,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "tests/fixtures/lockfiles/yarn";

    fn read(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Parses fixture `<stem>.lock` with `<stem>.package.json` when `with_manifest`.
    fn fixture(stem: &str, with_manifest: bool) -> LockfileFact {
        let id = format!("{DIR}/{stem}.lock");
        let manifest = with_manifest.then(|| read(&format!("{stem}.package.json")));
        parse(
            &id,
            Path::new(&id),
            &read(&format!("{stem}.lock")),
            manifest.as_deref(),
        )
        .unwrap_or_else(|e| panic!("{stem}: {e}"))
    }

    fn error(name: &str) -> String {
        let id = format!("{DIR}/invalid/{name}");
        parse(&id, Path::new(&id), &read(&format!("invalid/{name}")), None)
            .unwrap_err()
            .to_string()
    }

    fn find(l: &LockfileFact, name: &str, version: &str) -> usize {
        l.packages
            .iter()
            .position(|p| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{name}@{version} not in {:?}", l.packages))
    }

    fn names(l: &LockfileFact, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&i| format!("{}@{}", l.packages[i].name, l.packages[i].version))
            .collect()
    }

    fn triples(l: &LockfileFact) -> Vec<(String, String, bool)> {
        l.packages
            .iter()
            .map(|p| (p.name.to_string(), p.version.to_string(), p.registry))
            .collect()
    }

    #[test]
    fn classic_v1_with_package_json() {
        let l = fixture("yarn.v1", true);
        assert_eq!(l.ecosystem, Ecosystem::Npm);
        // 14 entries in the file; `my-ms@npm:ms@^2.1.0` is ms 2.1.3 again and is merged
        // into `ms@^2.1.0, ms@^2.1.3`; plus the synthesised root.
        assert_eq!(l.packages.len(), 14);
        let t = triples(&l);
        assert_eq!(t[0], ("ansi-styles".into(), "4.3.0".into(), true));
        assert_eq!(t[9], ("left-pad".into(), "1.3.0".into(), false));
        assert_eq!(t[10], ("local-lib".into(), "1.0.0".into(), false));
        assert_eq!(t[11], ("ms".into(), "2.1.3".into(), true));
        assert_eq!(t[13], ("fixture-app".into(), "1.2.3".into(), false));
        assert_eq!(l.packages.iter().filter(|p| p.name == "ms").count(), 1);
        assert_eq!(l.roots, vec![13]);
        assert_eq!(
            names(&l, &l.packages[13].deps),
            [
                "chalk@4.1.2",
                "debug@4.4.3",
                "is-number@7.0.0",
                "is-odd@3.0.1",
                "left-pad@1.3.0",
                "local-lib@1.0.0",
                "ms@2.1.3",
            ]
        );
        let chalk = find(&l, "chalk", "4.1.2");
        assert_eq!(
            names(&l, &l.packages[chalk].deps),
            ["ansi-styles@4.3.0", "supports-color@7.2.0"]
        );
        // is-odd needs is-number ^6: the other of the two is-number entries.
        let odd = find(&l, "is-odd", "3.0.1");
        assert_eq!(names(&l, &l.packages[odd].deps), ["is-number@6.0.0"]);
        let local = find(&l, "local-lib", "1.0.0");
        assert_eq!(names(&l, &l.packages[local].deps), ["ms@2.1.3"]);
        let debug = find(&l, "debug", "4.4.3");
        assert_eq!(names(&l, &l.packages[debug].deps), ["ms@2.1.3"]);
    }

    #[test]
    fn classic_v1_without_package_json_roots_at_what_nothing_needs() {
        let l = fixture("yarn.v1", false);
        assert_eq!(l.packages.len(), 13);
        assert_eq!(
            names(&l, &l.roots),
            [
                "chalk@4.1.2",
                "debug@4.4.3",
                "is-number@7.0.0",
                "is-odd@3.0.1",
                "left-pad@1.3.0",
                "local-lib@1.0.0",
            ]
        );
    }

    #[test]
    fn classic_layout_variants_read_the_same() {
        let text = read("yarn.v1.lock");
        let base = triples(&fixture("yarn.v1", false));
        let crlf = text.replace('\n', "\r\n");
        let spaced = text.replace("\n\n", "\n\n\n# a comment\n\n");
        let headless = text.lines().skip(4).collect::<Vec<_>>().join("\n");
        for variant in [crlf, spaced, headless, format!("\u{feff}{text}")] {
            let l = parse("yarn.lock", Path::new("yarn.lock"), &variant, None).unwrap();
            assert_eq!(triples(&l), base);
            assert_eq!(l.roots.len(), 6);
        }
    }

    #[test]
    fn berry_workspace() {
        let l = fixture("yarn.berry", true);
        // 22 entries: the alias shares `ms@npm:^2.1.3`'s entry, and resolve's
        // `patch:…<compat/resolve>` entry is merged into resolve 1.22.14.
        assert_eq!(l.packages.len(), 21);
        let t = triples(&l);
        assert_eq!(
            t[6],
            ("fixture-berry".into(), "0.0.0-use.local".into(), false)
        );
        assert_eq!(
            t[7],
            ("fixture-lib".into(), "0.0.0-use.local".into(), false)
        );
        assert_eq!(t[15], ("left-pad".into(), "1.3.0".into(), false));
        assert_eq!(t[18], ("resolve".into(), "1.22.14".into(), true));
        assert_eq!(l.packages.iter().filter(|p| p.name == "resolve").count(), 1);
        assert_eq!(
            names(&l, &l.roots),
            [
                "fixture-berry@0.0.0-use.local",
                "fixture-lib@0.0.0-use.local"
            ]
        );
        assert_eq!(
            names(&l, &l.packages[6].deps),
            [
                "chalk@4.1.2",
                "debug@4.4.3",
                "fixture-lib@0.0.0-use.local",
                "is-number@7.0.0",
                "is-odd@3.0.1",
                "left-pad@1.3.0",
                "ms@2.1.3",
                "resolve@1.22.14",
            ]
        );
        assert_eq!(names(&l, &l.packages[7].deps), ["ms@2.1.3"]);
        assert_eq!(
            names(&l, &l.packages[18].deps),
            [
                "es-errors@1.3.0",
                "is-core-module@2.18.0",
                "path-parse@1.0.7",
                "supports-preserve-symlinks-flag@1.0.0"
            ]
        );
        // The package.json changes nothing: berry records its workspaces itself.
        let bare = fixture("yarn.berry", false);
        assert_eq!(triples(&bare), t);
        assert_eq!(bare.roots, l.roots);
    }

    #[test]
    fn berry_v6_without_npm_prefix_in_dependencies_reads_like_v10() {
        // yarn 3 writes `ms: ^2.1.3` where yarn 4 writes `ms: "npm:^2.1.3"`.
        let v6 = fixture("yarn.berry-v6", true);
        let v10 = fixture("yarn.berry", true);
        assert_eq!(triples(&v6), triples(&v10));
        let deps = |l: &LockfileFact| {
            l.packages
                .iter()
                .map(|p| p.deps.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(deps(&v6), deps(&v10));
        assert_eq!(v6.roots, v10.roots);
    }

    #[test]
    fn aliases_are_attributed_to_the_real_package() {
        for stem in ["yarn.alias.v1", "yarn.alias.berry"] {
            let l = fixture(stem, true);
            let root = l.roots[0];
            assert_eq!(l.roots.len(), 1, "{stem}");
            assert!(!l.packages[root].registry, "{stem}");
            assert_eq!(l.packages[root].name, "alias-app", "{stem}");
            // `types-ms: npm:@types/ms@^0.7.31`, `@scoped/ms: npm:ms@2.1.2`, `ms: ^2.1.3`.
            assert_eq!(
                names(&l, &l.packages[root].deps),
                ["ms@2.1.2", "ms@2.1.3", "@types/ms@0.7.34"],
                "{stem}"
            );
            assert!(l
                .packages
                .iter()
                .all(|p| p.name != "types-ms" && p.name != "@scoped/ms"));
            assert_eq!(l.packages.len(), 4, "{stem}");
        }
    }

    #[test]
    fn conflict_markers_are_located() {
        let e = error("conflict.yarn.lock");
        assert!(
            e.starts_with(&format!(
                "unresolved merge conflict markers at {DIR}/invalid/conflict.yarn.lock:29: "
            )),
            "{e}"
        );
    }

    #[test]
    fn truncated_entry_is_located() {
        let e = error("truncated.yarn.lock");
        assert!(
            e.starts_with(&format!("{DIR}/invalid/truncated.yarn.lock:22: ")),
            "{e}"
        );
        assert!(e.contains("unterminated string"), "{e}");
    }

    #[test]
    fn garbage_line_is_located() {
        let e = error("garbage.yarn.lock");
        assert!(
            e.starts_with(&format!("{DIR}/invalid/garbage.yarn.lock:12: ")),
            "{e}"
        );
        assert!(
            e.contains("expected an entry key like `name@range:`"),
            "{e}"
        );
        assert!(e.contains("this is not a yarn entry"), "{e}");
    }

    #[test]
    fn empty_is_an_error() {
        let e = error("empty.yarn.lock");
        assert!(
            e.starts_with(&format!("{DIR}/invalid/empty.yarn.lock: ")),
            "{e}"
        );
        assert!(e.contains("pins no packages"), "{e}");
        let e = parse("y.lock", Path::new("y"), "", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pins no packages"), "{e}");
    }

    #[test]
    fn dependency_without_range_is_located() {
        let e = error("bad-dep.yarn.lock");
        assert!(
            e.starts_with(&format!("{DIR}/invalid/bad-dep.yarn.lock:10: ")),
            "{e}"
        );
        assert!(e.contains("expected `name range`"), "{e}");
    }

    #[test]
    fn entry_without_version_is_located() {
        let e = error("no-version.berry.lock");
        assert!(
            e.starts_with(&format!("{DIR}/invalid/no-version.berry.lock:8: ")),
            "{e}"
        );
        assert!(e.contains("has no version"), "{e}");
    }

    #[test]
    fn key_without_at_is_an_error() {
        let text = "# yarn lockfile v1\n\nleft-pad:\n  version \"1.3.0\"\n";
        let e = parse("y.lock", Path::new("y"), text, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("y.lock:3: "), "{e}");
        assert!(e.contains("expected `name@range`"), "{e}");
    }

    #[test]
    fn crate_rejection_is_located_at_its_entry() {
        // The scan accepts this; the crate rejects `optional: maybe`.
        let text = "__metadata:\n  version: 8\n\n\"a@npm:^1\":\n  version: 1.0.0\n  resolution: \"a@npm:1.0.0\"\n\n\"b@npm:^1\":\n  version: 1.0.0\n  resolution: \"b@npm:1.0.0\"\n  dependencies:\n    a: \"npm:^1\"\n  dependenciesMeta:\n    a:\n      optional: maybe\n";
        let e = parse("y.lock", Path::new("y"), text, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("y.lock:8: "), "{e}");
        assert!(e.contains("bool property not 'true' or 'false'"), "{e}");
    }

    #[test]
    fn dangling_dependency_is_an_error() {
        let text =
            "# yarn lockfile v1\n\na@^1:\n  version \"1.0.0\"\n  dependencies:\n    b \"^2\"\n";
        let e = parse("y.lock", Path::new("y"), text, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("y.lock:3: ") && e.contains("`b@^2`"), "{e}");
    }

    #[test]
    fn invalid_package_json_names_the_package_json() {
        let text = read("yarn.v1.lock");
        let e = parse(
            "proj/yarn.lock",
            Path::new("x"),
            &text,
            Some("{\n  \"name\": \"x\",\n  oops\n}"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("proj/package.json:3:3: failed to parse package.json"),
            "{e}"
        );
        let e = parse(
            "proj/yarn.lock",
            Path::new("x"),
            &text,
            Some("{\"dependencies\": {\"a\": 1}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("proj/package.json:1:") && e.contains("dependencies[\"a\"]"),
            "{e}"
        );
    }

    #[test]
    fn package_json_without_name_or_version() {
        let text = read("yarn.v1.lock");
        let l = parse(
            "proj/yarn.lock",
            Path::new("x"),
            &text,
            Some("{\"dependencies\": {\"debug\": \"^4.3.4\", \"gone\": \"^1\"}}"),
        )
        .unwrap();
        let root = &l.packages[l.roots[0]];
        assert_eq!(
            (root.name.as_str(), root.version.as_str()),
            ("proj", "0.0.0-use.local")
        );
        assert_eq!(names(&l, &root.deps), ["debug@4.4.3"]);
    }

    #[test]
    fn no_prefix_panics_or_reads_garbage() {
        for stem in ["yarn.v1", "yarn.berry"] {
            let text = read(&format!("{stem}.lock"));
            for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                if let Ok(l) = parse("y.lock", Path::new("y"), &text[..end], None) {
                    assert!(!l.packages.is_empty());
                    assert!(l.packages.iter().all(|p| !p.version.is_empty()));
                }
            }
        }
    }
}
