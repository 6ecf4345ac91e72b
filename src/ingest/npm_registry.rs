//! npm registry packuments (`GET /<name>`): every published version of one package, its
//! requirements, install scripts and publication times, and, when the document carries them,
//! the package's maintainers and each version's publisher.
//!
//! Three shapes are read, all walked as a `serde_json::Value` so that every wrong type is
//! reported with its JSON path (`versions["1.0.0"].dependencies["ms"]`):
//!
//! - the full packument (`application/json`): `_id`, `name`, `dist-tags`, `versions`, `time`
//!   with `created` and `modified`, top-level `maintainers`, per-version `_npmUser`;
//! - the abbreviated one (`application/vnd.npm.install-v1+json`): top-level `modified` and no
//!   `time`, no owners, and `hasInstallScript` per version instead of `scripts`;
//! - a mirror's copy: the full shape without `maintainers`, `_npmUser`, `time.created` or
//!   `time.modified`, whose `time` entries may be the mirror's sync times.
//!
//! What is missing is said in [`Packument::notes`], never filled in: publication times stay
//! `None` without `time`, and ownership stays unknown without `maintainers`. Per-version
//! `maintainers` are not read as ownership: they are what the package.json or the registry said
//! at that publish, not who can publish now. Emails are never copied.
//!
//! # Dependencies
//! - `dependencies`, `optionalDependencies` and `peerDependencies` are [`DepKind::Normal`]
//!   (npm 7+ installs peers); `devDependencies` are [`DepKind::Dev`]. A name listed in several
//!   of the first three is one edge, later lists winning in the order npm loads them
//!   (`@npmcli/arborist`, `Node#loadDeps`, which lets a later edge replace an earlier one):
//!   peer, then `dependencies`, then `optionalDependencies` (npm copies optional deps
//!   into `dependencies`, so those come out once, optional). A dev edge is kept beside them.
//! - A peer is optional when `peerDependenciesMeta[name].optional` is `true`. A name only in
//!   `peerDependenciesMeta` is no edge: npm 7+ installs only what `peerDependencies` declares.
//! - Bundled dependencies (`bundleDependencies` / `bundledDependencies`: an array of names, or
//!   `true` for all) ship inside the bundler's tarball, so a new publish of a bundled package
//!   reaches the bundler only when the bundler republishes; past that hop it propagates like
//!   any other dependency. The edge is kept, marked `target: Some("bundled")`, so output can
//!   say so without a new edge kind. A bundled name that is not a dependency is no edge.
//! - Every spec goes through [`classify`]: git, `file:`, `link:`, URLs and GitHub shorthands
//!   are no edge; an alias `npm:real@range` is an edge to `real`, renamed to the key; an empty
//!   range is `*`.
//!
//! # Install scripts and yanking
//! A non-blank `preinstall`, `install` or `postinstall` script, or `hasInstallScript: true`,
//! sets [`VersionFact::install_script`]. npm has no yank: a `deprecated` version stays
//! installable, so `yanked` is always `false` (unpublished versions are simply absent).
//!
//! # Times that run backwards
//! A mirror may stamp versions with the time it copied them. When `time` has neither
//! `created` nor `modified`, the parser counts the versions whose time is later than the time
//! of some higher non-pre-release version of the same major (`0.0.1` stamped after `4.4.3`
//! counts only when a higher `0.x` release is older; backports to an older major never
//! count). Any such version makes a note; the times are kept. With `created`/`modified`
//! present the document is the registry's own, and a late patch to an older minor is a
//! backport, not a sign of sync times.
//!
//! # Leniency
//! `null` is read as absent everywhere, and an empty array as an empty dependency map (old
//! documents have both). Anything else of the wrong type is an error.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value};

use super::{DepFact, DepKind, Ecosystem, OwnerFact, VersionFact};
use crate::error::{Error, Result};
use crate::versioning::npm::{classify, Spec};
use crate::versioning::Version;

/// What one packument says.
pub type Packument = super::RegistryDoc;

/// How much of a document [`looks_like_packument`] reads: the identifying keys come first in
/// every shape the registry and its mirrors write.
const SNIFF_BYTES: usize = 8 * 1024;

/// The scripts npm runs when it installs a registry tarball (`prepare` runs only for git
/// dependencies).
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// True when `text` looks like a packument: a JSON object whose first few KB have a
/// `"dist-tags"` key, or `"_id"` with `"versions"` or `"time"` (a fully unpublished package
/// keeps only `time`). package.json has neither `dist-tags` nor `versions`, package-lock.json
/// has `lockfileVersion`, a PyPI document has `info` and `releases`, and a crates.io index
/// line has none of these keys.
pub fn looks_like_packument(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut end = text.len().min(SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.trim_start().starts_with('{')
        && !has_key(head, "lockfileVersion")
        && (has_key(head, "dist-tags")
            || has_key(head, "_id") && (has_key(head, "versions") || has_key(head, "time")))
}

/// Whether `"key"` occurs in `text` as an object key (followed by a colon).
fn has_key(text: &str, key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let mut from = 0;
    while let Some(pos) = text[from..].find(&quoted) {
        let at = from + pos;
        from = at + quoted.len();
        let escaped = text[..at].ends_with('\\');
        if !escaped && text[from..].trim_start().starts_with(':') {
            return true;
        }
    }
    false
}

/// Parses one packument. `file` names the document in errors and notes.
///
/// # Errors
/// Malformed JSON (with line and column), and any value of the wrong type or an invalid
/// version or time (with its JSON path, what was expected and what was found).
pub fn parse(file: &Path, text: &str) -> Result<Packument> {
    // npm strips a UTF-8 byte order mark; serde_json does not.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| json_error(file, &e))?;
    let cx = Cx { file };
    let Value::Object(doc) = &doc else {
        return Err(cx.wrong("the document", "a JSON object (an npm packument)", &doc));
    };
    let name = package_name(&cx, doc)?;
    let time = object(
        &cx,
        doc.get("time"),
        "time",
        "an object of publication times",
    )?;
    let unpublished = time.is_some_and(|t| t.contains_key("unpublished"));
    let empty = Map::new();
    let versions = match object(
        &cx,
        doc.get("versions"),
        "versions",
        "an object mapping version numbers to their metadata",
    )? {
        Some(v) => v,
        // A fully unpublished package keeps only `time.unpublished`.
        None if unpublished => &empty,
        None => {
            return Err(cx.at(
                "versions",
                "expected an object mapping version numbers to their metadata, found nothing",
            ))
        }
    };

    let mut parsed = Vec::with_capacity(versions.len());
    for (key, entry) in versions {
        let path = format!("versions[{key:?}]");
        let Some(Version::Npm(number)) = Version::parse(Ecosystem::Npm, key) else {
            return Err(cx.at(
                &path,
                format!(
                    "expected an npm (semver) version as the key, found {:?}",
                    clip(key)
                ),
            ));
        };
        let Value::Object(entry) = entry else {
            return Err(cx.wrong(&path, "an object (the version's metadata)", entry));
        };
        let fact = VersionFact {
            ecosystem: Ecosystem::Npm,
            name: name.clone(),
            version: key.clone(),
            yanked: false,
            published: published(&cx, time, key)?,
            deps: deps(&cx, entry, &path)?,
            publisher: match entry.get("_npmUser") {
                None => None,
                Some(user) => account(&cx, user, &format!("{path}._npmUser"))?,
            },
            deps_known: true,
            install_script: install_script(&cx, entry, &path)?,
        };
        parsed.push((number, fact));
    }
    parsed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.version.cmp(&b.1.version)));
    let owners = owners(&cx, doc, &name)?;

    let notes = notes(file, &name, doc, time, &parsed, &owners);
    Ok(Packument {
        versions: parsed.into_iter().map(|(_, f)| f).collect(),
        owners,
        notes,
    })
}

/// What the document lacks, as user-facing warnings (see [`Packument::notes`]).
fn notes(
    file: &Path,
    name: &str,
    doc: &Map<String, Value>,
    time: Option<&Map<String, Value>>,
    parsed: &[(nodejs_semver::Version, VersionFact)],
    owners: &[OwnerFact],
) -> Vec<String> {
    let say = |what: &str| {
        format!(
            "npm packument {} ({}): {what}",
            name.escape_debug(),
            file.display()
        )
    };
    let mut notes = Vec::new();
    let total = parsed.len();
    if total == 0 {
        notes.push(say("no versions: every version was unpublished"));
    }
    match time {
        None if total == 0 => {}
        None if doc.contains_key("modified") => notes.push(say(
            "abbreviated (install-v1) document: \"modified\" but no \"time\": publication times unknown",
        )),
        None => notes.push(say("no \"time\": publication times unknown")),
        Some(time) => {
            let dated = parsed.iter().filter(|(_, f)| f.published.is_some()).count();
            if dated < total {
                notes.push(say(&format!(
                    "{} of {total} versions have no \"time\" entry: their publication times unknown",
                    total - dated
                )));
            }
            let backwards = backwards(parsed);
            if backwards > 0 && !time.contains_key("created") && !time.contains_key("modified") {
                notes.push(say(&format!(
                    "\"time\" has no created/modified entries and {backwards} of {dated} version times run backwards against version order: they may be mirror sync times, not publication times"
                )));
            }
        }
    }
    let any_publisher = parsed.iter().any(|(_, f)| f.publisher.is_some());
    match (owners.is_empty(), any_publisher) {
        (true, false) => notes.push(say(
            "no maintainers or _npmUser: ownership and publishers unknown",
        )),
        (true, true) => notes.push(say("no maintainers: ownership unknown")),
        (false, false) if total > 0 => notes.push(say("no _npmUser: publishers unknown")),
        _ => {}
    }

    notes
}

/// Where errors point: the file, plus a JSON path per error.
struct Cx<'a> {
    file: &'a Path,
}

impl Cx<'_> {
    /// An error at `path` with a full message.
    fn at(&self, path: &str, message: impl std::fmt::Display) -> Error {
        Error::parse_in(self.file, format!("{path}: {message}"))
    }

    /// An error at `path`: `expected`, but `found` is of another type.
    fn wrong(&self, path: &str, expected: &str, found: &Value) -> Error {
        self.at(
            path,
            format!("expected {expected}, found {}", describe(found)),
        )
    }
}

/// A located error from serde_json (syntax, truncation, nesting too deep).
fn json_error(file: &Path, e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let what = msg.rfind(" at line ").map_or(&msg[..], |i| &msg[..i]);
    Error::parse_at(
        file,
        e.line().max(1),
        Some(e.column().max(1)),
        format!("invalid npm packument: {what}"),
    )
}

/// A value's type, and the value itself when it is short enough to help.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {:?}", clip(s)),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// At most 64 characters of a hostile string, for messages.
fn clip(s: &str) -> &str {
    s.char_indices().nth(64).map_or(s, |(i, _)| &s[..i])
}

/// An optional object field (`null` is absent).
fn object<'v>(
    cx: &Cx<'_>,
    v: Option<&'v Value>,
    path: &str,
    expected: &str,
) -> Result<Option<&'v Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(cx.wrong(path, expected, other)),
    }
}

/// `name`, or `_id` when a mirror dropped `name`.
fn package_name(cx: &Cx<'_>, doc: &Map<String, Value>) -> Result<String> {
    for key in ["name", "_id"] {
        match doc.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.trim().is_empty() => return Ok(s.clone()),
            Some(other) => {
                return Err(cx.wrong(key, "the package name as a non-empty string", other))
            }
        }
    }
    Err(cx.at(
        "name",
        "expected the package name in \"name\" or \"_id\", found neither",
    ))
}

/// `time[version]`, when recorded.
fn published(
    cx: &Cx<'_>,
    time: Option<&Map<String, Value>>,
    version: &str,
) -> Result<Option<jiff::Timestamp>> {
    match time.and_then(|t| t.get(version)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|e| {
            cx.at(
                &format!("time[{version:?}]"),
                format!("expected an RFC 3339 time, found {:?}: {e}", clip(s)),
            )
        }),
        Some(other) => Err(cx.wrong(
            &format!("time[{version:?}]"),
            "an RFC 3339 time string",
            other,
        )),
    }
}

/// The top-level maintainers, sorted and deduplicated.
fn owners(cx: &Cx<'_>, doc: &Map<String, Value>, package: &str) -> Result<Vec<OwnerFact>> {
    let items = match doc.get("maintainers") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(cx.wrong(
                "maintainers",
                "an array of {\"name\", \"email\"} objects or \"name <email>\" strings",
                other,
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(account) = account(cx, item, &format!("maintainers[{i}]"))? {
            out.push(OwnerFact {
                ecosystem: Ecosystem::Npm,
                account,
                package: package.to_owned(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The account name of a maintainer or `_npmUser`: `{"name": .., "email": ..}` or
/// `"name <email> (url)"`.
fn account(cx: &Cx<'_>, v: &Value, path: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(account_name(s)),
        Value::Object(o) => match o.get("name") {
            Some(Value::String(s)) => Ok(account_name(s)),
            None | Some(Value::Null) => Err(cx.at(
                path,
                "expected an object with a \"name\" string, found an object without \"name\"",
            )),
            Some(other) => Err(cx.wrong(&format!("{path}.name"), "a user name string", other)),
        },
        other => Err(cx.wrong(
            path,
            "a {\"name\", \"email\"} object or a \"name <email>\" string",
            other,
        )),
    }
}

/// The name part of `name <email> (url)`; `None` when blank or when it is an email itself
/// (npm user names cannot contain `@`, and emails are never copied).
fn account_name(s: &str) -> Option<String> {
    let end = s.find(['<', '(']).unwrap_or(s.len());
    let name = s[..end].trim();
    (!name.is_empty() && !name.contains('@')).then(|| name.to_owned())
}

/// `hasInstallScript: true`, or a non-blank install-time script.
fn install_script(cx: &Cx<'_>, entry: &Map<String, Value>, path: &str) -> Result<bool> {
    let flagged = match entry.get("hasInstallScript") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(cx.wrong(&format!("{path}.hasInstallScript"), "true or false", other))
        }
    };
    let scripts = match entry.get("scripts") {
        None | Some(Value::Null) => return Ok(flagged),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(cx.wrong(
                &format!("{path}.scripts"),
                "an object mapping script names to commands",
                other,
            ))
        }
    };
    let mut scripted = false;
    for name in INSTALL_SCRIPTS {
        match scripts.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(command)) => scripted |= !command.trim().is_empty(),
            Some(other) => {
                return Err(cx.wrong(
                    &format!("{path}.scripts[{name:?}]"),
                    "a command string",
                    other,
                ))
            }
        }
    }
    Ok(flagged || scripted)
}

/// One version's requirements, sorted by kind, package and rename (see the module docs).
fn deps(cx: &Cx<'_>, entry: &Map<String, Value>, path: &str) -> Result<Vec<DepFact>> {
    let meta = object(
        cx,
        entry.get("peerDependenciesMeta"),
        &format!("{path}.peerDependenciesMeta"),
        "an object such as {\"name\": {\"optional\": true}}",
    )?;
    // (key, spec, optional), one per key, in first-seen order.
    let mut installed: Vec<(&str, &str, bool)> = Vec::new();
    let mut slot: FxHashMap<&str, usize> = FxHashMap::default();
    let mut put = |key, spec, optional| match slot.entry(key) {
        Entry::Occupied(e) => installed[*e.get()] = (key, spec, optional),
        Entry::Vacant(e) => {
            e.insert(installed.len());
            installed.push((key, spec, optional));
        }
    };
    for (key, spec) in dep_map(cx, entry, "peerDependencies", path)? {
        put(key, spec, peer_optional(cx, meta, key, path)?);
    }
    for (key, spec) in dep_map(cx, entry, "dependencies", path)? {
        put(key, spec, false);
    }
    for (key, spec) in dep_map(cx, entry, "optionalDependencies", path)? {
        put(key, spec, true);
    }
    let bundled = bundled(cx, entry, path)?;
    let mut out = Vec::with_capacity(installed.len());
    for (key, spec, optional) in installed {
        let target = bundled.contains(key).then(|| "bundled".to_owned());
        out.extend(edge(key, spec, DepKind::Normal, optional, target));
    }
    for (key, spec) in dep_map(cx, entry, "devDependencies", path)? {
        out.extend(edge(key, spec, DepKind::Dev, false, None));
    }
    out.sort_by(|a, b| {
        (a.kind, &a.package, &a.rename, &a.req).cmp(&(b.kind, &b.package, &b.rename, &b.req))
    });
    Ok(out)
}

/// The entries of one dependency map, checked to be name → string.
fn dep_map<'v>(
    cx: &Cx<'_>,
    entry: &'v Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Vec<(&'v str, &'v str)>> {
    let map = match entry.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) if a.is_empty() => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(cx.wrong(
                &format!("{path}.{field}"),
                "an object mapping package names to version ranges",
                other,
            ))
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, spec) in map {
        match spec {
            Value::String(s) if !key.is_empty() => out.push((key.as_str(), s.as_str())),
            Value::String(_) => {
                return Err(cx.at(
                    &format!("{path}.{field}[\"\"]"),
                    "expected a package name as the key, found an empty one",
                ))
            }
            other => {
                return Err(cx.wrong(
                    &format!("{path}.{field}[{key:?}]"),
                    "a version range string",
                    other,
                ))
            }
        }
    }
    Ok(out)
}

/// `peerDependenciesMeta[key].optional`.
fn peer_optional(
    cx: &Cx<'_>,
    meta: Option<&Map<String, Value>>,
    key: &str,
    path: &str,
) -> Result<bool> {
    match meta.and_then(|m| m.get(key)) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Object(o)) => match o.get("optional") {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(cx.wrong(
                &format!("{path}.peerDependenciesMeta[{key:?}].optional"),
                "true or false",
                other,
            )),
        },
        Some(other) => Err(cx.wrong(
            &format!("{path}.peerDependenciesMeta[{key:?}]"),
            "an object such as {\"optional\": true}",
            other,
        )),
    }
}

/// Which dependencies ship inside the tarball.
enum Bundled<'v> {
    All,
    Names(FxHashSet<&'v str>),
}

impl Bundled<'_> {
    fn contains(&self, key: &str) -> bool {
        match self {
            Bundled::All => true,
            Bundled::Names(names) => names.contains(key),
        }
    }
}

/// `bundleDependencies` and its older spelling `bundledDependencies`, merged.
fn bundled<'v>(cx: &Cx<'_>, entry: &'v Map<String, Value>, path: &str) -> Result<Bundled<'v>> {
    let mut all = false;
    let mut names = FxHashSet::default();
    for field in ["bundleDependencies", "bundledDependencies"] {
        match entry.get(field) {
            None | Some(Value::Null | Value::Bool(false)) => {}
            Some(Value::Bool(true)) => all = true,
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => {
                            names.insert(s.as_str());
                        }
                        other => {
                            return Err(cx.wrong(
                                &format!("{path}.{field}[{i}]"),
                                "a package name string",
                                other,
                            ))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(cx.wrong(
                    &format!("{path}.{field}"),
                    "an array of package names or true",
                    other,
                ))
            }
        }
    }
    Ok(if all {
        Bundled::All
    } else {
        Bundled::Names(names)
    })
}

/// The registry edge a spec stands for, if any.
fn edge(
    key: &str,
    spec: &str,
    kind: DepKind,
    optional: bool,
    target: Option<String>,
) -> Option<DepFact> {
    let (package, range, rename) = match classify(spec) {
        Spec::NotRegistry => return None,
        Spec::Registry {
            alias_of: Some(real),
            range,
        } => (real, range, Some(key.to_owned())),
        Spec::Registry {
            alias_of: None,
            range,
        } => (key, range, None),
    };
    Some(DepFact {
        package: package.to_owned().into(),
        req: if range.is_empty() { "*" } else { range }.to_owned().into(),
        kind,
        optional,
        target: target.map(Into::into),
        rename: rename.map(Into::into),
    })
}

/// How many versions have a time later than that of some higher non-pre-release version of
/// the same major. `parsed` is in ascending version order; one pass from the top keeps the
/// earliest time seen among the higher releases of the current major, so this is O(n).
/// Versions that compare equal (`1.0.0` and `v1.0.0`) are not "higher" than each other.
fn backwards(parsed: &[(nodejs_semver::Version, VersionFact)]) -> usize {
    let mut count = 0;
    let mut earliest_above: Option<jiff::Timestamp> = None;
    let mut major = None;
    let mut end = parsed.len();
    while end > 0 {
        let top = &parsed[end - 1].0;
        let mut start = end - 1;
        while start > 0 && parsed[start - 1].0.cmp(top) == Ordering::Equal {
            start -= 1;
        }
        let run = &parsed[start..end];
        if major != Some(top.major()) {
            major = Some(top.major());
            earliest_above = None;
        }
        count += run
            .iter()
            .filter(|(_, f)| matches!((f.published, earliest_above), (Some(t), Some(e)) if t > e))
            .count();
        if !top.is_prerelease() {
            for t in run.iter().filter_map(|(_, f)| f.published) {
                earliest_above = Some(earliest_above.map_or(t, |e| e.min(t)));
            }
        }
        end = start;
    }
    count
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const DIR: &str = "tests/fixtures/registry/npm";

    /// A fixture's text, and the path it is named by in errors and notes.
    fn fixture(name: &str) -> (PathBuf, String) {
        let shown = Path::new(DIR).join(name);
        let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join(&shown);
        let text = std::fs::read_to_string(&on_disk).unwrap();
        (shown, text)
    }

    fn parse_fixture(name: &str) -> Packument {
        let (shown, text) = fixture(name);
        parse(&shown, &text).unwrap()
    }

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    fn dep(kind: DepKind, package: &str, req: &str) -> DepFact {
        DepFact {
            package: package.to_owned().into(),
            req: req.to_owned().into(),
            kind,
            optional: false,
            target: None,
            rename: None,
        }
    }

    fn normal(package: &str, req: &str) -> DepFact {
        dep(DepKind::Normal, package, req)
    }

    fn dev(package: &str, req: &str) -> DepFact {
        dep(DepKind::Dev, package, req)
    }

    fn bundled(package: &str, req: &str) -> DepFact {
        DepFact {
            target: Some("bundled".into()),
            ..normal(package, req)
        }
    }

    fn version<'a>(p: &'a Packument, v: &str) -> &'a VersionFact {
        p.versions.iter().find(|f| f.version == v).unwrap()
    }

    fn owner(account: &str, package: &str) -> OwnerFact {
        OwnerFact {
            ecosystem: Ecosystem::Npm,
            account: account.to_owned(),
            package: package.to_owned(),
        }
    }

    #[test]
    fn full_packument() {
        let p = parse_fixture("full.packument.json");
        let order: Vec<&str> = p.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(
            order,
            ["1.0.0", "1.0.1", "2.0.0", "2.0.1", "2.1.0", "3.0.0-rc.1"]
        );
        for v in &p.versions {
            assert_eq!(v.ecosystem, Ecosystem::Npm);
            assert_eq!(v.name, "acme-widget");
            assert!(v.deps_known && !v.yanked, "{}", v.version);
        }

        let v = version(&p, "1.0.0");
        assert_eq!(
            v.deps,
            [
                normal("left-pad", "^1.3.0"),
                normal("ms", "*"),
                dev("mocha", "^10.0.0")
            ]
        );
        assert!(!v.install_script, "a blank install script runs nothing");
        assert_eq!(v.publisher.as_deref(), Some("alice"));
        assert_eq!(v.published, ts("2024-01-02T03:04:05.678Z"));

        // Deprecated is not yanked: npm still installs it.
        let v = version(&p, "1.0.1");
        assert!(!v.yanked);
        assert_eq!(v.deps, [normal("left-pad", "^1.3.0")]);

        let v = version(&p, "2.0.0");
        assert_eq!(
            v.deps,
            [
                DepFact {
                    optional: true,
                    ..normal("fsevents", "^2.3.2")
                },
                normal("ms", "^2.1.3"),
                bundled("native-helper", "^1.0.0"),
                normal("react", ">=17"),
                DepFact {
                    optional: true,
                    ..normal("react-dom", ">=17")
                },
                DepFact {
                    rename: Some("my-ansi".into()),
                    ..normal("strip-ansi", "^6.0.1")
                },
                dev("ms", "^2.0.0"),
            ]
        );
        assert!(v.install_script);
        assert_eq!(v.publisher.as_deref(), Some("bob"));
        assert_eq!(v.published, ts("2025-09-08T13:16:46.178Z"));

        let v = version(&p, "2.1.0");
        assert_eq!(
            v.deps,
            [
                bundled("@acme/core", "~2.1.0"),
                bundled("helper", "latest"),
                bundled("ms", "^2.1.3"),
            ]
        );
        assert!(v.install_script);
        assert_eq!(v.publisher.as_deref(), Some("carol"));

        let v = version(&p, "3.0.0-rc.1");
        assert_eq!(v.deps, [normal("@acme/core", "3.0.0-rc.1")]);
        assert_eq!(v.published, ts("2025-10-01T23:46:46.283Z"));

        assert_eq!(
            p.owners,
            [
                owner("alice", "acme-widget"),
                owner("bob", "acme-widget"),
                owner("carol", "acme-widget")
            ]
        );
        // 2.0.1 was published after 2.1.0, but a registry document (created/modified present)
        // has backports, not sync times.
        assert_eq!(p.notes, Vec::<String>::new());
        // Emails never reach the facts.
        assert!(!format!("{p:?}").contains("example.invalid"));
    }

    #[test]
    fn served_mirror_shape() {
        let p = parse_fixture("served.packument.json");
        let order: Vec<&str> = p.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(
            order,
            [
                "0.1.0",
                "0.2.0",
                "0.3.0",
                "1.0.0",
                "1.1.0",
                "1.2.0-beta.1",
                "1.2.0",
                "2.0.0"
            ]
        );
        assert_eq!(version(&p, "0.1.0").deps, [dev("mocha", "*")]);
        assert_eq!(version(&p, "0.2.0").deps, [normal("ms", "0.6.2")]);
        assert_eq!(
            version(&p, "1.1.0").deps,
            [normal("ms", "2.0.0"), dev("mocha", "^3.0.0")]
        );
        // `peerDependenciesMeta` alone declares no peer.
        assert_eq!(
            version(&p, "2.0.0").deps,
            [normal("ms", "^2.1.3"), dev("mocha", "^10.0.0")]
        );
        // The times are kept, however implausible.
        assert_eq!(
            version(&p, "0.1.0").published,
            ts("2026-03-29T09:42:15.988Z")
        );
        assert!(p
            .versions
            .iter()
            .all(|v| v.published.is_some() && v.publisher.is_none() && !v.install_script));
        // Per-version `maintainers` are not ownership.
        assert!(p.owners.is_empty());
        let file = "tests/fixtures/registry/npm/served.packument.json";
        assert_eq!(
            p.notes,
            [
                format!("npm packument tick-logger ({file}): \"time\" has no created/modified entries and 3 of 8 version times run backwards against version order: they may be mirror sync times, not publication times"),
                format!("npm packument tick-logger ({file}): no maintainers or _npmUser: ownership and publishers unknown"),
            ]
        );
    }

    #[test]
    fn abbreviated_shape() {
        let p = parse_fixture("abbreviated.packument.json");
        assert_eq!(p.versions.len(), 2);
        let v = version(&p, "1.0.0");
        assert_eq!(
            v.deps,
            [
                normal("node-addon-api", "^7.0.0"),
                DepFact {
                    optional: true,
                    ..normal("prebuild-install", "^7.1.1")
                },
            ]
        );
        assert!(v.install_script, "hasInstallScript");
        let v = version(&p, "1.0.1");
        assert_eq!(
            v.deps,
            [
                normal("node-addon-api", "^8.0.0"),
                DepFact {
                    optional: true,
                    ..normal("typescript", "^5")
                },
            ]
        );
        assert!(!v.install_script);
        assert!(p
            .versions
            .iter()
            .all(|v| v.published.is_none() && v.publisher.is_none()));
        assert!(p.owners.is_empty());
        let file = "tests/fixtures/registry/npm/abbreviated.packument.json";
        assert_eq!(
            p.notes,
            [
                format!("npm packument tick-native ({file}): abbreviated (install-v1) document: \"modified\" but no \"time\": publication times unknown"),
                format!("npm packument tick-native ({file}): no maintainers or _npmUser: ownership and publishers unknown"),
            ]
        );
    }

    #[test]
    fn unpublished_package() {
        let p = parse_fixture("unpublished.packument.json");
        assert!(p.versions.is_empty() && p.owners.is_empty());
        let file = "tests/fixtures/registry/npm/unpublished.packument.json";
        assert_eq!(
            p.notes,
            [
                format!("npm packument gone-widget ({file}): no versions: every version was unpublished"),
                format!("npm packument gone-widget ({file}): no maintainers or _npmUser: ownership and publishers unknown"),
            ]
        );
    }

    #[test]
    fn empty_versions_is_valid_and_said() {
        let text = r#"{"_id":"e","name":"e","dist-tags":{},"versions":{},"time":{"created":"2025-01-01T00:00:00Z","modified":"2025-01-02T00:00:00Z"},"maintainers":[{"name":"zed","email":"z@example.invalid"}]}"#;
        let p = parse(Path::new("e.json"), text).unwrap();
        assert!(p.versions.is_empty());
        assert_eq!(p.owners, [owner("zed", "e")]);
        assert_eq!(
            p.notes,
            ["npm packument e (e.json): no versions: every version was unpublished"]
        );
    }

    #[test]
    fn malformed_fixtures_name_file_and_path() {
        let cases = [
            (
                "malformed-version.packument.json",
                r#": versions["1.2"]: expected an npm (semver) version as the key, found "1.2""#,
            ),
            (
                "malformed-deps-type.packument.json",
                r#": versions["1.0.0"].dependencies["left-pad"]: expected a version range string, found the number 13"#,
            ),
            (
                "malformed-time.packument.json",
                r#": time["1.2.3"]: expected an RFC 3339 time, found "last tuesday""#,
            ),
            (
                "malformed-versions-array.packument.json",
                ": versions: expected an object mapping version numbers to their metadata, found an array",
            ),
            (
                "malformed-truncated.packument.json",
                ":9:35: invalid npm packument: EOF while parsing a string",
            ),
        ];
        for (name, expected) in cases {
            let (shown, text) = fixture(name);
            assert!(looks_like_packument(&text), "{name}");
            let err = parse(&shown, &text).unwrap_err().to_string();
            let want = format!("{DIR}/{name}{expected}");
            assert!(err.starts_with(&want), "{err}\n  wanted {want}");
        }
    }

    #[test]
    fn wrong_types_are_errors_with_json_paths() {
        let wrap = |version_body: &str| {
            format!(r#"{{"name":"w","dist-tags":{{}},"versions":{{"1.0.0":{{{version_body}}}}}}}"#)
        };
        let cases = [
            ("[1, 2]".to_owned(), "f: the document: expected a JSON object (an npm packument), found an array"),
            (r#"{"name":7,"versions":{}}"#.to_owned(), "f: name: expected the package name as a non-empty string, found the number 7"),
            (r#"{"versions":{}}"#.to_owned(), "f: name: expected the package name in \"name\" or \"_id\", found neither"),
            (r#"{"name":"w"}"#.to_owned(), "f: versions: expected an object mapping version numbers to their metadata, found nothing"),
            (r#"{"name":"w","versions":{"1.0.0":"x"}}"#.to_owned(), r#"f: versions["1.0.0"]: expected an object (the version's metadata), found the string "x""#),
            (r#"{"name":"w","versions":{},"time":[]}"#.to_owned(), "f: time: expected an object of publication times, found an array"),
            (r#"{"name":"w","versions":{"1.0.0":{}},"time":{"1.0.0":5}}"#.to_owned(), r#"f: time["1.0.0"]: expected an RFC 3339 time string, found the number 5"#),
            (r#"{"name":"w","versions":{},"maintainers":{"name":"a"}}"#.to_owned(), "f: maintainers: expected an array of"),
            (r#"{"name":"w","versions":{},"maintainers":[{"email":"a@example.invalid"}]}"#.to_owned(), "f: maintainers[0]: expected an object with a \"name\" string, found an object without \"name\""),
            (r#"{"name":"w","versions":{},"maintainers":[true]}"#.to_owned(), "f: maintainers[0]: expected a {\"name\", \"email\"} object or a \"name <email>\" string, found the boolean true"),
            (wrap(r#""dependencies":["ms"]"#), r#"f: versions["1.0.0"].dependencies: expected an object mapping package names to version ranges, found an array"#),
            (wrap(r#""devDependencies":{"ms":null}"#), r#"f: versions["1.0.0"].devDependencies["ms"]: expected a version range string, found null"#),
            (wrap(r#""dependencies":{"":"1"}"#), r#"f: versions["1.0.0"].dependencies[""]: expected a package name as the key, found an empty one"#),
            (wrap(r#""peerDependencies":{"r":"1"},"peerDependenciesMeta":{"r":{"optional":"yes"}}"#), r#"f: versions["1.0.0"].peerDependenciesMeta["r"].optional: expected true or false, found the string "yes""#),
            (wrap(r#""peerDependencies":{"r":"1"},"peerDependenciesMeta":{"r":true}"#), r#"f: versions["1.0.0"].peerDependenciesMeta["r"]: expected an object such as {"optional": true}, found the boolean true"#),
            (wrap(r#""bundleDependencies":"ms""#), r#"f: versions["1.0.0"].bundleDependencies: expected an array of package names or true, found the string "ms""#),
            (wrap(r#""bundledDependencies":[1]"#), r#"f: versions["1.0.0"].bundledDependencies[0]: expected a package name string, found the number 1"#),
            (wrap(r#""scripts":["install"]"#), r#"f: versions["1.0.0"].scripts: expected an object mapping script names to commands, found an array"#),
            (wrap(r#""scripts":{"install":1}"#), r#"f: versions["1.0.0"].scripts["install"]: expected a command string, found the number 1"#),
            (wrap(r#""hasInstallScript":"true""#), r#"f: versions["1.0.0"].hasInstallScript: expected true or false, found the string "true""#),
            (wrap(r#""_npmUser":3"#), r#"f: versions["1.0.0"]._npmUser: expected a {"name", "email"} object or a "name <email>" string, found the number 3"#),
            (wrap(r#""_npmUser":{"name":[]}"#), r#"f: versions["1.0.0"]._npmUser.name: expected a user name string, found an array"#),
        ];
        for (text, expected) in cases {
            let err = parse(Path::new("f"), &text).unwrap_err().to_string();
            assert!(
                err.starts_with(expected),
                "{text}\n  gave   {err}\n  wanted {expected}"
            );
        }
    }

    #[test]
    fn nulls_and_legacy_empty_arrays_are_absent() {
        let text = r#"{"name":"n","versions":{"1.0.0":{"dependencies":[],"devDependencies":null,"scripts":null,"_npmUser":null,"bundleDependencies":false,"peerDependenciesMeta":null}},"time":{"1.0.0":null},"maintainers":null}"#;
        let p = parse(Path::new("n"), text).unwrap();
        let v = &p.versions[0];
        assert!(v.deps.is_empty() && v.published.is_none() && v.publisher.is_none());
        assert!(!v.install_script);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let (shown, text) = fixture("abbreviated.packument.json");
        let with_bom = format!("\u{feff}{text}");
        assert!(looks_like_packument(&with_bom));
        assert_eq!(parse(&shown, &with_bom).unwrap().versions.len(), 2);
    }

    #[test]
    fn both_time_spellings() {
        let text = r#"{"name":"t","versions":{"1.0.0":{},"1.0.1":{}},"time":{"1.0.0":"2025-09-08T13:16:46.178Z","1.0.1":"2025-10-01T23:46:46.283000+00:00"}}"#;
        let p = parse(Path::new("t"), text).unwrap();
        assert_eq!(p.versions[0].published, ts("2025-09-08T13:16:46.178Z"));
        assert_eq!(p.versions[1].published, ts("2025-10-01T23:46:46.283Z"));
    }

    #[test]
    fn backwards_is_per_major_against_higher_releases() {
        // Without created/modified. 1.0.0 after 1.1.0: counts. 1.1.0-rc.1 after 1.1.0:
        // counts. 1.0.1 after 1.2.0-beta.1 only (a pre-release): does not. 0.9.0 after
        // everything in major 1: does not (no higher 0.x). 1.2.0-beta.1 has no time.
        let text = r#"{"name":"b","versions":{"0.9.0":{},"1.0.0":{},"1.0.1":{},"1.1.0-rc.1":{},"1.1.0":{},"1.2.0-beta.1":{}},
            "time":{"0.9.0":"2025-12-01T00:00:00Z","1.0.0":"2025-06-01T00:00:00Z","1.0.1":"2025-01-03T00:00:00Z","1.1.0-rc.1":"2025-05-01T00:00:00Z","1.1.0":"2025-02-01T00:00:00Z"}}"#;
        let p = parse(Path::new("b"), text).unwrap();
        assert_eq!(
            p.notes,
            [
                "npm packument b (b): 1 of 6 versions have no \"time\" entry: their publication times unknown",
                "npm packument b (b): \"time\" has no created/modified entries and 2 of 5 version times run backwards against version order: they may be mirror sync times, not publication times",
                "npm packument b (b): no maintainers or _npmUser: ownership and publishers unknown",
            ]
        );
        // In order, nothing is noted about times.
        let ordered = r#"{"name":"o","versions":{"1.0.0":{},"1.1.0":{}},"time":{"1.0.0":"2025-01-01T00:00:00Z","1.1.0":"2025-02-01T00:00:00Z"},"maintainers":["o"],"_unused":1}"#;
        let p = parse(Path::new("o"), ordered).unwrap();
        assert_eq!(
            p.notes,
            ["npm packument o (o): no _npmUser: publishers unknown"]
        );
        assert_eq!(p.owners, [owner("o", "o")]);
    }

    #[test]
    fn account_names_never_carry_emails() {
        assert_eq!(
            account_name("bob <bob@example.invalid>").as_deref(),
            Some("bob")
        );
        assert_eq!(
            account_name("Sindre Sorhus <s@example.invalid> (s.example)").as_deref(),
            Some("Sindre Sorhus")
        );
        assert_eq!(account_name("bob@example.invalid"), None);
        assert_eq!(account_name("  <x@example.invalid>"), None);
        assert_eq!(account_name("alice").as_deref(), Some("alice"));
    }

    #[test]
    fn looks_like_packuments_only() {
        for name in [
            "full.packument.json",
            "served.packument.json",
            "abbreviated.packument.json",
            "unpublished.packument.json",
        ] {
            assert!(looks_like_packument(&fixture(name).1), "{name}");
        }
        let package_lock = r#"{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "app", "version": "1.0.0", "dependencies": { "debug": "^4.4.1" } },
    "node_modules/debug": { "version": "4.4.1", "resolved": "https://registry.npmjs.org/debug/-/debug-4.4.1.tgz" }
  }
}"#;
        let package_lock_v1 = r#"{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{"versions":{"version":"1.0.0"},"_id":{"version":"1.0.0"}}}"#;
        let package_json = r#"{
  "name": "app",
  "version": "1.0.0",
  "description": "mentions \"versions\": and \"dist-tags\": in prose",
  "scripts": { "test": "node test.js" },
  "dependencies": { "debug": "^4.4.1" }
}"#;
        let installed_package_json = r#"{"_id":"debug@4.4.1","_from":"debug@^4.4.1","name":"debug","version":"4.4.1","_resolved":"https://registry.npmjs.org/debug/-/debug-4.4.1.tgz"}"#;
        let pypi = r#"{"info":{"name":"requests","version":"2.32.3","requires_dist":["idna<4,>=2.5"]},"last_serial":1,"releases":{"2.32.3":[{"upload_time_iso_8601":"2024-05-29T15:37:47.027Z"}]},"urls":[],"vulnerabilities":[]}"#;
        let pypi_simple =
            r#"{"meta":{"api-version":"1.1"},"name":"requests","files":[],"versions":["2.32.3"]}"#;
        let index_line = r#"{"name":"serde","vers":"1.0.200","deps":[],"cksum":"00","features":{},"yanked":false}"#;
        for (what, text) in [
            ("package-lock.json", package_lock),
            ("package-lock.json v1", package_lock_v1),
            ("package.json", package_json),
            ("installed package.json", installed_package_json),
            ("PyPI JSON", pypi),
            ("PyPI simple JSON", pypi_simple),
            ("crates.io index line", index_line),
            ("empty", ""),
            ("array", r#"[{"dist-tags":{}}]"#),
        ] {
            assert!(!looks_like_packument(text), "{what}");
        }
        // The sniff never slices inside a character.
        let long = format!(
            "{{\"_id\":\"x\",\"readme\":\"{}\"}}",
            "é".repeat(SNIFF_BYTES)
        );
        assert!(!looks_like_packument(&long));
    }

    #[test]
    fn never_panics_on_truncations_and_junk() {
        let (shown, text) = fixture("full.packument.json");
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = parse(&shown, &text[..end]);
            let _ = looks_like_packument(&text[..end]);
        }
        let deep = "[".repeat(100_000);
        for junk in [
            "",
            "\u{feff}",
            "null",
            "1e999",
            "\"x\"",
            "{}",
            &deep,
            r#"{"name":"","_id":"x","versions":{}}"#,
            r#"{"name":"x","versions":{"99999999999999999999.0.0":{}}}"#,
            r#"{"name":"x","versions":{"1.0.0":{"dependencies":{"a":"npm:"}}}}"#,
            r#"{"name":"x","versions":{"1.0.0":{"dependencies":{"a":"npm:@"}}}}"#,
            r#"{"name":"x","versions":{"1.0.0":{}},"time":{"1.0.0":"9999999-01-01T00:00:00Z"}}"#,
        ] {
            let _ = parse(Path::new("junk"), junk);
            let _ = looks_like_packument(junk);
        }
    }
}
