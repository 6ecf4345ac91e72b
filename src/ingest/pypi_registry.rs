//! PyPI JSON API documents (<https://docs.pypi.org/api/json/>), in their two shapes:
//!
//! - the **project document** (`GET /pypi/<project>/json`): `releases` maps every version to
//!   its files (upload time, `yanked`, `packagetype`), `info` describes the newest release only
//!   (`info.version`, its `requires_dist`). One [`VersionFact`] per release; only the newest
//!   carries requirements (`deps_known: true`), the others are known by number, time and yank
//!   state and say `deps_known: false` rather than "depends on nothing";
//! - the **version document** (`GET /pypi/<project>/<version>/json`): `info` and `urls` of one
//!   release, no `releases`. One fact, with its requirements.
//!
//! Per release: published at the earliest upload time of its files (`upload_time_iso_8601`, or
//! `upload_time`, which has no zone and means UTC); yanked when every file is (PEP 592 yanks
//! files, not releases); `install_script` when it has a source distribution and no wheel, since
//! pip must then run the project's build backend to install it. Requirements: the name
//! PEP 503-normalised, the specifiers in pep508_rs's canonical order (`>=1.8.0,!=2.4.0`), the
//! environment marker kept as written in `target`, `optional` when the marker mentions `extra`;
//! extras requested on the dependency (`requests[socks]`) do not change the edge.
//!
//! Decisions, each because a real document must never be rejected for something the registry
//! itself serves, and nothing unknown may vanish silently:
//! - a release key that is not a PEP 440 version (legacy versions of old projects, `2004d`) is
//!   skipped with a note: PyPI still lists them, and pip (24.1 and later) ignores them, so no
//!   fresh resolution can pick one;
//! - a release with no files (every file deleted) is skipped with a note: nothing can be
//!   installed from it and it has no upload time;
//! - a `name @ <url>` requirement is not a registry edge: skipped with a note (its URL is
//!   never read, expanded or printed);
//! - a `requires_dist` entry that is not PEP 508 is an error naming its JSON path: dropping it
//!   would hide a dependency.
//!
//! Owners come from the top-level `ownership` object that PyPI's project documents now carry
//! (`roles`: `Owner` and `Maintainer` users, both of whom can upload; `organization`). When a
//! document has none, one note says so: `info.author` and `info.maintainer` are free text, not
//! accounts, and are never read as owners.
//!
//! The wire format is read as untyped JSON below the top level so that every wrong type is
//! reported with its JSON path (`releases["8.3.41"][0].yanked`), which serde's derived errors
//! cannot name.

use std::convert::Infallible;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::lockfile::python::normalise_name;
use super::{DepFact, DepKind, Ecosystem, OwnerFact, VersionFact};
use crate::error::{Error, Result};
use crate::versioning::Version;

/// What one PyPI JSON document says. Notes are complete sentences prefixed with the file, ready
/// to be shown as warnings.
pub type PypiDoc = super::RegistryDoc;

/// How much of each end of a document [`looks_like_pypi_json`] reads.
const PEEK: usize = 16 * 1024;

/// Roles of `ownership.roles` that may upload releases (PyPI's collaborator roles).
const PUBLISHING_ROLES: [&str; 2] = ["Owner", "Maintainer"];

/// How many skipped versions a note lists by name before it only counts.
const LISTED: usize = 10;

/// True when `text` looks like a PyPI JSON API document: a JSON object whose top-level keys
/// include `info` and `releases` or `urls`.
///
/// Only the first and last 16 KiB are read. PyPI writes `info` first, but `info.description`
/// (a whole README) can push `releases` and `urls` far from the start, so they are also
/// accepted as keys near the end, where the files of `urls` (with their PyPI-only
/// `upload_time_iso_8601`) always lie. npm packuments, package.json, package-lock.json and
/// crates.io index lines have no top-level `info`.
pub fn looks_like_pypi_json(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let head = &text[..floor_boundary(text, PEEK)];
    let keys = top_level_keys(head);
    if !keys.contains(&"info") {
        return false;
    }
    if keys.iter().any(|k| matches!(*k, "releases" | "urls")) {
        return true;
    }
    let tail = &text[ceil_boundary(text, text.len().saturating_sub(PEEK))..];
    ["\"releases\"", "\"urls\"", "\"upload_time_iso_8601\""]
        .iter()
        .any(|k| has_key(tail, k))
}

/// Parses one document; `file` names it in errors and notes.
///
/// # Errors
/// Malformed JSON (with line and column), and wrong types, bad names, versions of a version
/// document's `info`, times and `requires_dist` entries, each with its JSON path and what was
/// expected and found.
pub fn parse(file: &Path, text: &str) -> Result<PypiDoc> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        let offset = text.len() - trimmed.len();
        let (line, col) = crate::error::line_col(text, offset);
        let found = trimmed.chars().next().map_or_else(
            || "an empty file".to_owned(),
            |c| format!("{:?}", c.to_string()),
        );
        return Err(Error::parse_at(
            file,
            line,
            Some(col),
            format!("expected a PyPI JSON document (an object with \"info\"), found {found}"),
        ));
    }
    let doc: Doc = serde_json::from_str(text).map_err(|e| json_error(file, &e))?;
    let info = match &doc.info {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(at(
                file,
                "info",
                format!("expected an object, found {}", found(other)),
            ))
        }
        None => return Err(at(file, "info", "expected an object, found no such field")),
    };
    let name = project_name(file, info.get("name"))?;
    let version = string(file, "info.version", info.get("version"), "a version")?;
    let info_yanked = flag(file, "info.yanked", info.get("yanked"))?;
    let mut ctx = Ctx {
        file,
        name: &name,
        notes: Vec::new(),
    };
    let requires = requires_dist(&mut ctx, version, info.get("requires_dist"))?;

    let project_doc = doc.releases.is_some();
    let mut versions = match (&doc.releases, &doc.urls) {
        (Some(releases), _) => project(
            &mut ctx,
            releases,
            version,
            info_yanked,
            requires.as_deref(),
        )?,
        (None, Some(urls)) => {
            release_of_version_doc(&mut ctx, urls, version, info_yanked, requires)?
                .into_iter()
                .collect()
        }
        (None, None) => {
            return Err(Error::parse_in(
                file,
                "expected \"releases\" (a project document) or \"urls\" (a version \
                 document), found neither",
            ))
        }
    };
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    let versions: Vec<VersionFact> = versions.into_iter().map(|(_, f)| f).collect();
    let owners = owners(&mut ctx, doc.ownership.as_ref())?;

    let mut unknown = Vec::new();
    let without = versions.iter().filter(|v| !v.deps_known).count();
    if without > 0 {
        let why = "a project document carries the requirements of its newest release only; \
                   the version document /pypi/<project>/<version>/json of each has its own";
        unknown.push(match (project_doc, versions.len() - without) {
            (true, 0) => format!(
                "requirements unknown for all {without} release(s) ({why}, and those of \
                 {version} are not on record here)"
            ),
            (true, _) => format!(
                "requirements known for {version} only, not for the other {without} \
                 release(s) ({why})"
            ),
            (false, _) => {
                format!(
                    "requirements of {version} unknown (the document has no info.requires_dist)"
                )
            }
        });
    }
    if owners.is_none() {
        unknown.push(
            "owner accounts unknown (no \"ownership\" field; author and maintainer are free \
             text, not accounts)"
                .to_owned(),
        );
    }
    let mut notes = ctx.notes;
    if !unknown.is_empty() {
        notes.insert(
            0,
            format!("{}: pypi:{name}: {}", file.display(), unknown.join("; ")),
        );
    }
    Ok(PypiDoc {
        versions,
        owners: owners.unwrap_or_default(),
        notes,
    })
}

// ---------------------------------------------------------------------------------------------
// Wire format: the top level of a PyPI JSON document (`vulnerabilities`, `last_serial` and
// everything else are ignored); below it, untyped values walked with JSON paths.

/// Subset of a PyPI JSON document. `Some(Null)` is a field written as `null`, `None` one that
/// is absent: `"releases": null` is a broken project document, not a version document.
#[derive(Deserialize)]
struct Doc {
    #[serde(default, deserialize_with = "present")]
    info: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    releases: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    urls: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    ownership: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A `name @ <url>` target, accepted without being read: URL requirements are not registry
/// edges, so their URLs are neither parsed, expanded (pep508_rs's `VerbatimUrl` expands
/// environment variables) nor kept.
#[derive(Debug)]
struct UnreadUrl;

impl fmt::Display for UnreadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<url>")
    }
}

impl pep508_rs::Pep508Url for UnreadUrl {
    type Err = Infallible;

    fn parse_url(_url: &str, _working_dir: Option<&Path>) -> Result<Self, Infallible> {
        Ok(UnreadUrl)
    }
}

/// What every step needs: where the document came from, whose it is, and the notes so far.
struct Ctx<'a> {
    file: &'a Path,
    name: &'a str,
    notes: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, what: impl fmt::Display) {
        self.notes.push(format!(
            "{}: pypi:{}: {what}",
            self.file.display(),
            self.name
        ));
    }
}

/// What the files of one release say together.
struct Files {
    count: usize,
    /// Earliest upload time of any file.
    published: Option<jiff::Timestamp>,
    /// Every file is yanked (PEP 592 yanks files; a release is gone when all of them are).
    all_yanked: bool,
    /// Only source distributions, no wheel: pip must run the build backend to install it.
    builds_on_install: bool,
}

// ---------------------------------------------------------------------------------------------
// The two shapes

/// One fact per release of a project document, with its parsed version for sorting.
fn project(
    ctx: &mut Ctx<'_>,
    releases: &Value,
    info_version: &str,
    info_yanked: bool,
    requires: Option<&[DepFact]>,
) -> Result<Vec<(Version, VersionFact)>> {
    let Value::Object(releases) = releases else {
        return Err(at(
            ctx.file,
            "releases",
            format!(
                "expected an object of version → files, found {}",
                found(releases)
            ),
        ));
    };
    let mut out = Vec::with_capacity(releases.len());
    let mut legacy = Vec::new();
    let mut empty = Vec::new();
    let mut info_seen = false;
    for (key, files) in releases {
        let path = format!("releases[{key:?}]");
        let files = read_files(ctx.file, &path, files)?;
        let current = key == info_version;
        // A skipped info.version takes its requirements with it; its skip note says so.
        info_seen |= current;
        let Some(parsed) = Version::parse(Ecosystem::Pypi, key) else {
            legacy.push(key.as_str());
            continue;
        };
        if files.count == 0 {
            empty.push(key.as_str());
            continue;
        }
        let (deps, deps_known) = match (current, requires) {
            (true, Some(deps)) => (deps.to_vec(), true),
            _ => (Vec::new(), false),
        };
        out.push((
            parsed,
            fact(
                ctx.name,
                key,
                &files,
                files.all_yanked || (current && info_yanked),
                deps,
                deps_known,
            ),
        ));
    }
    if !legacy.is_empty() {
        ctx.note(format_args!(
            "skipped {} release(s) whose version is not PEP 440 (PyPI still lists such legacy \
             versions; pip 24.1 and later ignores them): {}",
            legacy.len(),
            listed(&legacy)
        ));
    }
    if !empty.is_empty() {
        ctx.note(format_args!(
            "skipped {} release(s) with no files (nothing to install, no upload time): {}",
            empty.len(),
            listed(&empty)
        ));
    }
    if !info_seen {
        ctx.note(format_args!(
            "info.version {info_version:?} is not among the releases: its requirements are not used"
        ));
    }
    Ok(out)
}

/// The one release of a version document (none when it is skipped).
fn release_of_version_doc(
    ctx: &mut Ctx<'_>,
    urls: &Value,
    version: &str,
    info_yanked: bool,
    requires: Option<Vec<DepFact>>,
) -> Result<Option<(Version, VersionFact)>> {
    let files = read_files(ctx.file, "urls", urls)?;
    let Some(parsed) = Version::parse(Ecosystem::Pypi, version) else {
        ctx.note(format_args!(
            "skipped release {version:?} (info.version): not a PEP 440 version (pip 24.1 and \
             later ignores it)"
        ));
        return Ok(None);
    };
    if files.count == 0 {
        ctx.note(format_args!(
            "skipped release {version}: \"urls\" lists no files (nothing to install, no upload \
             time)"
        ));
        return Ok(None);
    }
    let deps_known = requires.is_some();
    let yanked = info_yanked || files.all_yanked;
    Ok(Some((
        parsed,
        fact(
            ctx.name,
            version,
            &files,
            yanked,
            requires.unwrap_or_default(),
            deps_known,
        ),
    )))
}

fn fact(
    name: &str,
    version: &str,
    files: &Files,
    yanked: bool,
    deps: Vec<DepFact>,
    deps_known: bool,
) -> VersionFact {
    VersionFact {
        ecosystem: Ecosystem::Pypi,
        name: name.to_owned(),
        version: version.to_owned(),
        yanked,
        published: files.published,
        deps,
        // The JSON API does not say who uploaded a file.
        publisher: None,
        deps_known,
        install_script: files.builds_on_install,
    }
}

// ---------------------------------------------------------------------------------------------
// Fields

/// `info.name`, validated as a PEP 508 name and normalised per PEP 503.
fn project_name(file: &Path, v: Option<&Value>) -> Result<String> {
    let raw = string(file, "info.name", v, "a project name")?;
    if pep508_rs::PackageName::from_str(raw).is_err() {
        return Err(at(
            file,
            "info.name",
            format!(
                "expected a project name (letters, digits, '-', '_', '.'), found {:?}",
                clip(raw)
            ),
        ));
    }
    Ok(normalise_name(raw))
}

/// The files of one release (`releases["1.0"]` or `urls`).
fn read_files(file: &Path, path: &str, v: &Value) -> Result<Files> {
    let Value::Array(items) = v else {
        return Err(at(
            file,
            path,
            format!("expected an array of files, found {}", found(v)),
        ));
    };
    let mut out = Files {
        count: items.len(),
        published: None,
        all_yanked: true,
        builds_on_install: false,
    };
    let mut sdist = false;
    let mut wheel = false;
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        let Value::Object(f) = item else {
            return Err(at(
                file,
                &path,
                format!("expected a file object, found {}", found(item)),
            ));
        };
        if let Some(t) = upload_time(file, &path, f)? {
            out.published = Some(out.published.map_or(t, |p| p.min(t)));
        }
        out.all_yanked &= flag(file, &format!("{path}.yanked"), f.get("yanked"))?;
        match f.get("packagetype") {
            None | Some(Value::Null) => {}
            Some(Value::String(kind)) => {
                sdist |= kind == "sdist";
                wheel |= kind == "bdist_wheel";
            }
            Some(other) => {
                return Err(at(
                    file,
                    &format!("{path}.packagetype"),
                    format!(
                        "expected a string (\"sdist\", \"bdist_wheel\"), found {}",
                        found(other)
                    ),
                ))
            }
        }
    }
    out.all_yanked &= out.count > 0;
    out.builds_on_install = sdist && !wheel;
    Ok(out)
}

/// A file's upload time: `upload_time_iso_8601`, or else `upload_time`, which PyPI writes
/// without a zone and means UTC.
fn upload_time(file: &Path, path: &str, f: &Map<String, Value>) -> Result<Option<jiff::Timestamp>> {
    if let Some(v) = f.get("upload_time_iso_8601").filter(|v| !v.is_null()) {
        let path = format!("{path}.upload_time_iso_8601");
        let s = string(file, &path, Some(v), "an RFC 3339 time")?;
        return s.parse::<jiff::Timestamp>().map(Some).map_err(|e| {
            at(
                file,
                &path,
                format!(
                    "expected an RFC 3339 time (\"2024-12-04T20:51:33.123456Z\"), found {:?}: {e}",
                    clip(s)
                ),
            )
        });
    }
    if let Some(v) = f.get("upload_time").filter(|v| !v.is_null()) {
        let path = format!("{path}.upload_time");
        let s = string(file, &path, Some(v), "a UTC time")?;
        let parsed = s.parse::<jiff::Timestamp>().or_else(|_| {
            s.parse::<jiff::civil::DateTime>()
                .and_then(|dt| jiff::tz::TimeZone::UTC.to_timestamp(dt))
        });
        return parsed.map(Some).map_err(|e| {
            at(
                file,
                &path,
                format!(
                    "expected a UTC time (\"2024-12-04T20:51:33\"), found {:?}: {e}",
                    clip(s)
                ),
            )
        });
    }
    Ok(None)
}

/// `info.requires_dist`: `None` when the field is absent (unknown), empty when it is `null`
/// (PyPI's way of saying the release declares no requirements).
fn requires_dist(
    ctx: &mut Ctx<'_>,
    version: &str,
    v: Option<&Value>,
) -> Result<Option<Vec<DepFact>>> {
    let entries = match v {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(at(
                ctx.file,
                "info.requires_dist",
                format!(
                    "expected an array of PEP 508 requirements or null, found {}",
                    found(other)
                ),
            ))
        }
    };
    let mut deps = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("info.requires_dist[{i}]");
        let text = string(ctx.file, &path, Some(entry), "a PEP 508 requirement")?;
        match requirement(ctx.file, &path, text)? {
            Entry::Edge(d) => deps.push(d),
            Entry::Url(dep) => ctx.note(format_args!(
                "{version}: {path} ({dep}) is a direct URL reference, not a registry edge: skipped"
            )),
        }
    }
    Ok(Some(deps))
}

/// What one `Requires-Dist` entry contributes.
#[derive(Debug, PartialEq)]
enum Entry {
    /// A registry dependency.
    Edge(DepFact),
    /// A `name @ <url>` requirement (normalised name): not a registry edge.
    Url(String),
}

/// One `Requires-Dist` entry as an edge, or the name of a URL requirement.
///
/// Extras requested on the dependency (`requests[socks]`) do not change the edge. The marker
/// is kept as written in `target`; one that mentions `extra` makes the edge optional (it is
/// still an edge: SPEC §4 rule 3).
fn requirement(file: &Path, path: &str, text: &str) -> Result<Entry> {
    if let Some((_, why)) = crate::ingest::lockfile::python::pep508_guard(text) {
        return Err(at(
            file,
            path,
            format!(
                "expected a PEP 508 requirement, found {:?}: {why}",
                clip(text)
            ),
        ));
    }
    let parsed = pep508_rs::Requirement::<UnreadUrl>::from_str(text).map_err(|e| {
        at(
            file,
            path,
            format!(
                "expected a PEP 508 requirement, found {:?}: {}",
                clip(text),
                e.message
            ),
        )
    })?;
    let package = normalise_name(parsed.name.as_ref());
    let req = match &parsed.version_or_url {
        None => String::new(),
        Some(pep508_rs::VersionOrUrl::Url(_)) => return Ok(Entry::Url(package)),
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specs)) => specs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    };
    // Nothing before the marker (name, extras, specifiers) can hold a `;`.
    let marker = text
        .split_once(';')
        .map(|(_, m)| m.trim())
        .filter(|m| !m.is_empty());
    Ok(Entry::Edge(DepFact {
        package: package.into(),
        req: req.into(),
        kind: DepKind::Normal,
        optional: marker.is_some_and(mentions_extra),
        target: marker.map(str::to_owned).map(Into::into),
        rename: None,
    }))
}

/// Whether a marker expression uses the `extra` variable (outside quoted strings).
fn mentions_extra(marker: &str) -> bool {
    let mut chars = marker.chars();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            continue;
        }
        if word == "extra" {
            return true;
        }
        word.clear();
        if c == '"' || c == '\'' {
            for q in chars.by_ref() {
                if q == c {
                    break;
                }
            }
        }
    }
    word == "extra"
}

/// `ownership` → owner facts; `None` when the document has no ownership data.
fn owners(ctx: &mut Ctx<'_>, v: Option<&Value>) -> Result<Option<Vec<OwnerFact>>> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(at(
                ctx.file,
                "ownership",
                format!("expected an object or null, found {}", found(other)),
            ))
        }
    };
    let mut out = Vec::new();
    let owner = |account: &str| OwnerFact {
        ecosystem: Ecosystem::Pypi,
        account: account.to_owned(),
        package: ctx.name.to_owned(),
    };
    match o.get("organization") {
        None | Some(Value::Null) => {}
        // Organization owners hold every right of a project owner.
        Some(Value::String(org)) if !org.is_empty() => out.push(owner(org)),
        Some(other) => {
            return Err(at(
                ctx.file,
                "ownership.organization",
                format!(
                    "expected an organization name or null, found {}",
                    found(other)
                ),
            ))
        }
    }
    let roles = match o.get("roles") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => &a[..],
        Some(other) => {
            return Err(at(
                ctx.file,
                "ownership.roles",
                format!("expected an array of roles, found {}", found(other)),
            ))
        }
    };
    let mut skipped = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        let path = format!("ownership.roles[{i}]");
        let Value::Object(r) = r else {
            return Err(at(
                ctx.file,
                &path,
                format!("expected a role object, found {}", found(r)),
            ));
        };
        let user = string(
            ctx.file,
            &format!("{path}.user"),
            r.get("user"),
            "a user name",
        )?;
        let role = string(
            ctx.file,
            &format!("{path}.role"),
            r.get("role"),
            "a role name",
        )?;
        if user.is_empty() {
            return Err(at(
                ctx.file,
                &format!("{path}.user"),
                "expected a user name, found \"\"",
            ));
        }
        if PUBLISHING_ROLES.contains(&role) {
            out.push(owner(user));
        } else {
            skipped.push(format!("{path} ({:?})", clip(role)));
        }
    }
    if !skipped.is_empty() {
        ctx.note(format_args!(
            "{} role(s) that are not known to upload (expected Owner or Maintainer) were not \
             read as owners: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    out.sort();
    out.dedup();
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A parse error located by file and JSON path.
fn at(file: &Path, path: &str, message: impl Into<String>) -> Error {
    Error::Parse {
        location: format!("{}: {path}", file.display()),
        message: message.into(),
    }
}

/// A string field, or an error saying what was expected there.
fn string<'v>(file: &Path, path: &str, v: Option<&'v Value>, what: &str) -> Result<&'v str> {
    match v {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(at(
            file,
            path,
            format!("expected {what} (a string), found {}", found(other)),
        )),
        None => Err(at(
            file,
            path,
            format!("expected {what} (a string), found no such field"),
        )),
    }
}

/// An optional boolean (`yanked`): absent or `null` is false.
fn flag(file: &Path, path: &str, v: Option<&Value>) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(at(
            file,
            path,
            format!("expected true or false, found {}", found(other)),
        )),
    }
}

/// A JSON value as an error message names it.
fn found(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {:?}", clip(s)),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// At most 80 characters of a registry string, for messages.
fn clip(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `"a", "b", … and N more`.
fn listed(items: &[&str]) -> String {
    let mut out: Vec<String> = items
        .iter()
        .take(LISTED)
        .map(|s| format!("{s:?}"))
        .collect();
    if items.len() > LISTED {
        out.push(format!("and {} more", items.len() - LISTED));
    }
    out.join(", ")
}

/// serde_json's error at its line and column, without its own " at line L column C".
fn json_error(file: &Path, e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let what = msg.rfind(" at line ").map_or(&msg[..], |i| &msg[..i]);
    Error::parse_at(
        file,
        e.line().max(1),
        Some(e.column().max(1)),
        format!("invalid PyPI JSON document: {what}"),
    )
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The keys of the outermost object that start within `head` (a prefix of a JSON document),
/// found by tracking strings and nesting; empty when `head` does not start an object.
fn top_level_keys(head: &str) -> Vec<&str> {
    let b = head.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    if b.get(i) != Some(&b'{') {
        return Vec::new();
    }
    let mut depth = 0usize;
    let mut keys = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    break;
                }
                // `start` follows and `i` is an ASCII quote: both are char boundaries.
                if depth == 1 && head[i + 1..].trim_start().starts_with(':') {
                    keys.push(&head[start..i]);
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// Whether `"key"` occurs in `hay` followed by a colon (an object key, not a value).
fn has_key(hay: &str, key: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = hay[from..].find(key) {
        let end = from + pos + key.len();
        if hay[end..].trim_start().starts_with(':') {
            return true;
        }
        from = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    fn fixture(name: &str) -> (PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/registry/pypi")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        (PathBuf::from(format!("pypi/{name}")), text)
    }

    fn parse_fixture(name: &str) -> Result<PypiDoc> {
        let (shown, text) = fixture(name);
        parse(&shown, &text)
    }

    fn err_of(name: &str) -> String {
        parse_fixture(name).unwrap_err().to_string()
    }

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    fn dep(package: &str, req: &str, optional: bool, target: Option<&str>) -> DepFact {
        DepFact {
            package: package.to_owned().into(),
            req: req.to_owned().into(),
            kind: DepKind::Normal,
            optional,
            target: target.map(str::to_owned).map(Into::into),
            rename: None,
        }
    }

    /// The requirements of 8.3.46 in `project.pypi.json` (and of 8.3.41 in
    /// `version.pypi.json`), as worked out by hand in tests/fixtures/registry/README.md.
    fn expected_deps() -> Vec<DepFact> {
        vec![
            dep("numpy", ">=1.23.0", false, None),
            dep("typing-extensions", ">=4.0", false, None),
            dep("requests", ">=2.23.0,<3", false, None),
            dep(
                "torch",
                ">=1.8.0,!=2.4.0",
                false,
                Some("sys_platform == \"win32\""),
            ),
            dep("ultralytics-thop", ">=2.0.0", false, None),
            dep("py-cpuinfo", "", false, None),
            dep("pytest", "", true, Some("extra == \"dev\"")),
            dep(
                "mkdocs-material",
                ">=9.5.9",
                true,
                Some("python_version >= \"3.9\" and extra == \"dev\""),
            ),
            dep(
                "tensorflow",
                "<=2.13.1",
                false,
                Some("python_version <= \"3.11\""),
            ),
        ]
    }

    #[test]
    fn project_document_gives_every_release() {
        let doc = parse_fixture("project.pypi.json").unwrap();
        let got: Vec<(&str, bool, Option<jiff::Timestamp>, bool, bool)> = doc
            .versions
            .iter()
            .map(|v| {
                (
                    v.version.as_str(),
                    v.yanked,
                    v.published,
                    v.deps_known,
                    v.install_script,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("8.3.0rc1", false, ts("2024-09-30T10:00:05Z"), false, true),
                ("8.3.39", false, ts("2024-11-28T22:10:00.25Z"), false, false),
                ("8.3.40", false, ts("2024-12-02T15:00:00Z"), false, false),
                ("8.3.41", true, ts("2024-12-04T20:51:33Z"), false, false),
                ("8.3.42", false, ts("2024-12-05T09:15:10Z"), false, false),
                ("8.3.45", false, ts("2024-12-07T10:10:00Z"), false, false),
                ("8.3.46", false, ts("2024-12-07T11:59:30.5Z"), true, false),
            ]
        );
        for v in &doc.versions {
            assert_eq!(v.ecosystem, Ecosystem::Pypi);
            assert_eq!(v.name, "ultralytics");
            assert_eq!(v.publisher, None);
            if !v.deps_known {
                assert!(v.deps.is_empty(), "{}", v.version);
            }
        }
        let newest = doc.versions.last().unwrap();
        assert_eq!(newest.deps, expected_deps());
        assert_eq!(
            doc.owners,
            vec![
                OwnerFact {
                    ecosystem: Ecosystem::Pypi,
                    account: "yolo-maintainer".to_owned(),
                    package: "ultralytics".to_owned(),
                },
                OwnerFact {
                    ecosystem: Ecosystem::Pypi,
                    account: "yolo-owner".to_owned(),
                    package: "ultralytics".to_owned(),
                },
            ]
        );
    }

    #[test]
    fn requirement_strings_parse_with_pep440_rules() {
        for d in expected_deps() {
            crate::versioning::Requirement::parse(Ecosystem::Pypi, &d.req)
                .unwrap_or_else(|e| panic!("{}: {e}", d.package));
        }
    }

    #[test]
    fn project_document_notes() {
        let doc = parse_fixture("project.pypi.json").unwrap();
        assert_eq!(
            doc.notes,
            vec![
                "pypi/project.pypi.json: pypi:ultralytics: requirements known for 8.3.46 only, \
                 not for the other 6 release(s) (a project document carries the requirements of \
                 its newest release only; the version document /pypi/<project>/<version>/json \
                 of each has its own)",
                "pypi/project.pypi.json: pypi:ultralytics: 8.3.46: info.requires_dist[6] (dill) is \
                 a direct URL reference, not a registry edge: skipped",
                "pypi/project.pypi.json: pypi:ultralytics: skipped 1 release(s) whose version is \
                 not PEP 440 (PyPI still lists such legacy versions; pip 24.1 and later ignores \
                 them): \"0.0.1-yolo-preview\"",
                "pypi/project.pypi.json: pypi:ultralytics: skipped 1 release(s) with no files \
                 (nothing to install, no upload time): \"8.0.0\"",
            ]
        );
    }

    #[test]
    fn version_document_gives_one_release_with_requirements() {
        let doc = parse_fixture("version.pypi.json").unwrap();
        assert_eq!(doc.versions.len(), 1);
        let v = &doc.versions[0];
        assert_eq!(
            (v.name.as_str(), v.version.as_str()),
            ("ultralytics", "8.3.41")
        );
        assert!(v.yanked);
        assert!(v.deps_known);
        assert_eq!(v.published, ts("2024-12-04T20:51:33Z"));
        assert_eq!(v.deps, expected_deps());
        assert!(doc.owners.is_empty());
        assert_eq!(
            doc.notes,
            vec![
                "pypi/version.pypi.json: pypi:ultralytics: owner accounts unknown (no \
                 \"ownership\" field; author and maintainer are free text, not accounts)",
                "pypi/version.pypi.json: pypi:ultralytics: 8.3.41: info.requires_dist[6] (dill) is \
                 a direct URL reference, not a registry edge: skipped",
            ]
        );
    }

    #[test]
    fn malformed_documents_name_file_and_json_path() {
        let e = err_of("malformed-releases-type.pypi.json");
        assert_eq!(
            e,
            "pypi/malformed-releases-type.pypi.json: releases: expected an object of version → \
             files, found an array"
        );
        let e = err_of("malformed-requires-dist.pypi.json");
        assert!(
            e.starts_with(
                "pypi/malformed-requires-dist.pypi.json: info.requires_dist[3]: expected a PEP \
                 508 requirement, found \"numpy >>= 1.23\": "
            ),
            "{e}"
        );
        let e = err_of("malformed-time.pypi.json");
        assert!(
            e.starts_with(
                "pypi/malformed-time.pypi.json: releases[\"8.3.41\"][1].upload_time_iso_8601: \
                 expected an RFC 3339 time (\"2024-12-04T20:51:33.123456Z\"), found \
                 \"04/12/2024 20:51\": "
            ),
            "{e}"
        );
        let e = err_of("truncated.pypi.json");
        assert!(
            e.starts_with("pypi/truncated.pypi.json:27:") && e.contains("EOF while parsing"),
            "{e}"
        );
    }

    fn inline(json: &str) -> Result<PypiDoc> {
        parse(Path::new("doc.json"), json)
    }

    fn inline_err(json: &str) -> String {
        inline(json).unwrap_err().to_string()
    }

    const FILE: &str = r#"{"filename":"x-1.0.tar.gz","packagetype":"sdist","upload_time_iso_8601":"2024-01-01T00:00:00Z","yanked":false}"#;

    #[test]
    fn requires_dist_null_means_no_requirements_and_absent_means_unknown() {
        let doc = inline(&format!(
            r#"{{"info":{{"name":"x","version":"1.0","requires_dist":null}},"urls":[{FILE}]}}"#
        ))
        .unwrap();
        assert!(doc.versions[0].deps_known && doc.versions[0].deps.is_empty());
        let doc = inline(&format!(
            r#"{{"info":{{"name":"x","version":"1.0"}},"urls":[{FILE}]}}"#
        ))
        .unwrap();
        assert!(!doc.versions[0].deps_known);
        assert_eq!(
            doc.notes[0],
            "doc.json: pypi:x: requirements of 1.0 unknown (the document has no \
             info.requires_dist); owner accounts unknown (no \"ownership\" field; author and \
             maintainer are free text, not accounts)"
        );
    }

    #[test]
    fn skipped_releases_are_said_out_loud() {
        let doc =
            inline(r#"{"info":{"name":"x","version":"2004d","requires_dist":null},"urls":[]}"#)
                .unwrap();
        assert!(doc.versions.is_empty());
        assert_eq!(
            doc.notes,
            vec![
                "doc.json: pypi:x: owner accounts unknown (no \"ownership\" field; author and \
                 maintainer are free text, not accounts)",
                "doc.json: pypi:x: skipped release \"2004d\" (info.version): not a PEP 440 \
                 version (pip 24.1 and later ignores it)",
            ]
        );
        let doc = inline(
            r#"{"info":{"name":"x","version":"1.0","requires_dist":null},"urls":[],"ownership":{"roles":[]}}"#,
        )
        .unwrap();
        assert!(doc.versions.is_empty() && doc.owners.is_empty());
        assert_eq!(
            doc.notes,
            vec![
                "doc.json: pypi:x: skipped release 1.0: \"urls\" lists no files (nothing to \
                 install, no upload time)"
            ]
        );
        let doc = inline(&format!(
            r#"{{"info":{{"name":"x","version":"3.0","requires_dist":["a"]}},"releases":{{"1.0":[{FILE}]}},"ownership":null}}"#
        ))
        .unwrap();
        assert_eq!(doc.versions.len(), 1);
        assert!(!doc.versions[0].deps_known && doc.versions[0].deps.is_empty());
        assert_eq!(
            doc.notes,
            vec![
                "doc.json: pypi:x: requirements unknown for all 1 release(s) (a project document \
                 carries the requirements of its newest release only; the version document \
                 /pypi/<project>/<version>/json of each has its own, and those of 3.0 are not on \
                 record here); owner accounts unknown (no \"ownership\" field; author and \
                 maintainer are free text, not accounts)",
                "doc.json: pypi:x: info.version \"3.0\" is not among the releases: its \
                 requirements are not used",
            ]
        );
    }

    #[test]
    fn upload_time_without_zone_is_utc_and_earliest_file_wins() {
        let doc = inline(
            r#"{"info":{"name":"x","version":"1.0","requires_dist":null},"urls":[
                {"upload_time":"2024-01-02T00:00:00","yanked":true},
                {"upload_time":"2024-01-01T12:30:00.5","upload_time_iso_8601":null,"yanked":false}]}"#,
        )
        .unwrap();
        let v = &doc.versions[0];
        assert_eq!(v.published, ts("2024-01-01T12:30:00.5Z"));
        assert!(
            !v.yanked,
            "one file is not yanked and info.yanked is absent"
        );
    }

    #[test]
    fn wrong_types_name_path_expected_and_found() {
        let cases = [
            (r#"{"info":[],"urls":[]}"#, "doc.json: info: expected an object, found an array"),
            (
                r#"{"info":{"name":3,"version":"1.0"},"urls":[]}"#,
                "doc.json: info.name: expected a project name (a string), found the number 3",
            ),
            (
                r#"{"info":{"name":"x"},"urls":[]}"#,
                "doc.json: info.version: expected a version (a string), found no such field",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0","requires_dist":"a"},"urls":[]}"#,
                "doc.json: info.requires_dist: expected an array of PEP 508 requirements or null, found the string \"a\"",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0","requires_dist":["a",7]},"urls":[]}"#,
                "doc.json: info.requires_dist[1]: expected a PEP 508 requirement (a string), found the number 7",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"},"releases":{"1.0":[{"yanked":"no"}]}}"#,
                "doc.json: releases[\"1.0\"][0].yanked: expected true or false, found the string \"no\"",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"},"releases":{"1.0":{}}}"#,
                "doc.json: releases[\"1.0\"]: expected an array of files, found an object",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"},"urls":[null]}"#,
                "doc.json: urls[0]: expected a file object, found null",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"},"urls":[{"upload_time":5}]}"#,
                "doc.json: urls[0].upload_time: expected a UTC time (a string), found the number 5",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"},"urls":[],"ownership":{"roles":[{"user":"a"}]}}"#,
                "doc.json: ownership.roles[0].role: expected a role name (a string), found no such field",
            ),
            (
                r#"{"info":{"name":"bad name!","version":"1.0"},"urls":[]}"#,
                "doc.json: info.name: expected a project name (letters, digits, '-', '_', '.'), found \"bad name!\"",
            ),
            (
                r#"{"info":{"name":"x","version":"1.0"}}"#,
                "doc.json: expected \"releases\" (a project document) or \"urls\" (a version document), found neither",
            ),
            (
                r#"["info"]"#,
                "doc.json:1:1: expected a PyPI JSON document (an object with \"info\"), found \"[\"",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(inline_err(json), want, "{json}");
        }
    }

    #[test]
    fn never_panics_on_prefixes() {
        let (_, text) = fixture("project.pypi.json");
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = parse(Path::new("p"), &text[..end]);
            let _ = looks_like_pypi_json(&text[..end]);
        }
    }

    #[test]
    fn bom_is_skipped() {
        let (_, text) = fixture("version.pypi.json");
        let with_bom = format!("\u{feff}{text}");
        assert!(looks_like_pypi_json(&with_bom));
        assert_eq!(inline(&with_bom).unwrap().versions.len(), 1);
    }

    #[test]
    fn ownership_roles_and_organization() {
        let doc = inline(&format!(
            r#"{{"info":{{"name":"x","version":"1.0","requires_dist":null}},"urls":[{FILE}],
               "ownership":{{"organization":"acme","roles":[
                 {{"role":"Owner","user":"alice"}},{{"role":"Viewer","user":"eve"}}]}}}}"#
        ))
        .unwrap();
        let accounts: Vec<&str> = doc.owners.iter().map(|o| o.account.as_str()).collect();
        assert_eq!(accounts, ["acme", "alice"]);
        assert_eq!(
            doc.notes,
            vec![
                "doc.json: pypi:x: 1 role(s) that are not known to upload (expected Owner or \
                 Maintainer) were not read as owners: ownership.roles[1] (\"Viewer\")"
            ]
        );
        assert!(doc.versions[0].install_script, "sdist only: pip builds it");
    }

    #[test]
    fn markers_and_extras() {
        assert!(mentions_extra("extra == \"dev\""));
        assert!(mentions_extra("python_version < '3' and extra=='a'"));
        assert!(mentions_extra("(extra == \"a\")"));
        assert!(!mentions_extra("platform_machine == \"extra\""));
        assert!(!mentions_extra("python_version < \"3.8\""));
        let d = requirement(
            Path::new("f"),
            "p",
            "Foo.Bar[socks] (>=1.0,<2) ; extra == 'x' or os_name == 'nt'",
        )
        .unwrap();
        assert_eq!(
            d,
            Entry::Edge(dep(
                "foo-bar",
                ">=1.0,<2",
                true,
                Some("extra == 'x' or os_name == 'nt'")
            ))
        );
        assert_eq!(
            requirement(
                Path::new("f"),
                "p",
                "Dill @ file:///etc/passwd ; os_name == 'nt'"
            )
            .unwrap(),
            Entry::Url("dill".to_owned())
        );
    }

    #[test]
    fn recognises_pypi_documents_only() {
        for name in ["project.pypi.json", "version.pypi.json"] {
            assert!(looks_like_pypi_json(&fixture(name).1), "{name}");
        }
        // `info` first, then a README longer than the peek window, `urls` only at the end.
        let long = format!(
            r#"{{"info":{{"description":"{}","name":"x","version":"1.0"}},"last_serial":1,"urls":[]}}"#,
            "é".repeat(PEEK)
        );
        assert!(looks_like_pypi_json(&long));
        let negatives = [
            // npm packument
            r#"{"_id":"chalk","name":"chalk","dist-tags":{"latest":"5.6.0"},"versions":{"5.6.0":{"name":"chalk","version":"5.6.0","dist":{"tarball":"https://registry.npmjs.org/chalk/-/chalk-5.6.0.tgz"}}},"time":{"5.6.0":"2025-08-01T00:00:00.000Z"},"maintainers":[{"name":"qix","email":"q@example.com"}]}"#,
            // package-lock.json
            r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","dependencies":{"info":"^1.0.0"}},"node_modules/info":{"version":"1.0.0"}}}"#,
            // package.json with nested "info" and "urls" keys
            r#"{"name":"app","version":"1.0.0","config":{"info":{"a":1},"urls":[]},"dependencies":{"releases":"^1"}}"#,
            // crates.io index line
            r#"{"name":"serde","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}"#,
            // not JSON at all
            "[[package]]\nname = \"info\"\n",
            "",
        ];
        for text in negatives {
            assert!(!looks_like_pypi_json(text), "{text}");
        }
    }
}
