//! pnpm-lock.yaml, lockfile formats 5.x (pnpm 7 and older), 6.x (pnpm 8) and 9.x (pnpm 9 and
//! 10), read through `serde-saphyr` into our own structs.
//!
//! The three formats name the same thing differently:
//!
//! | format | instance key                         | reference in a dependency map |
//! |--------|--------------------------------------|-------------------------------|
//! | 5.x    | `/@scope/name/1.2.3_peer@1.0.0`      | `1.2.3_peer@1.0.0`, alias `/real/1.2.3` |
//! | 6.x    | `/@scope/name@1.2.3(peer@1.0.0)`     | `1.2.3(peer@1.0.0)`, alias `/real@1.2.3` |
//! | 9.x    | `snapshots:` `@scope/name@1.2.3(peer@1.0.0)` | `1.2.3(peer@1.0.0)`, alias `real@1.2.3` |
//!
//! Version 9 keeps the metadata (`resolution`) apart in `packages:`, keyed without the peer
//! suffix; its `snapshots:` are the instances. Every peer variant is its own instance, but all of
//! them carry the plain version (`1.2.3`). Non-registry references (`file:`, `link:`, tarball
//! URLs, git) are their own keys, or — in 5.x/6.x importers — the whole key is the reference.
//!
//! Each importer (workspace member, or the single project of a 5.x/6.x file without
//! `importers:`) becomes a root package named after its path (`.` is named after the lockfile's
//! directory), version `0.0.0`, not from the registry. A `link:` reference resolves to the
//! importer at that path; a link to a directory that is no importer becomes a non-registry
//! package named after the dependency.
//!
//! A package counts as a registry package when its key has the registry form (name and a plain
//! version: no `:` and no `/`), its resolution names no directory, git repository or commit, and
//! any tarball it names is an `http(s)` URL in the npm registry layout (`…/-/name-1.2.3.tgz`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::conflict_marker_line;
use crate::error::{Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// The lockfile format families blastradius understands (major version of `lockfileVersion`).
pub const SUPPORTED: [u32; 3] = [5, 6, 9];

/// Parses a pnpm-lock.yaml. `id` is the display path, `file` the canonical one.
pub fn parse(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(Error::ConflictMarkers {
            path: shown.to_path_buf(),
            line,
        });
    }
    // The format version is checked before the structure, so that a future format is reported
    // as such rather than as whatever field it happens to trip over. pnpm writes it as the
    // first line; a hand-written file is checked again after parsing.
    if let Some((line, found)) = scan_version(text) {
        check_version(shown, line, &found)?;
    }
    let docs: Vec<Doc> = serde_saphyr::from_multiple_with_options(text, options(text.len()))
        .map_err(|e| yaml_error(shown, &e))?;
    // pnpm 10 may put an "env lockfile" document (configDependencies, packageManager) before
    // the project's own; the project's document is the last one.
    let Some(doc) = docs.into_iter().last() else {
        return Err(Error::parse_at(
            shown,
            1,
            None,
            "failed to parse lock file: the file is empty (expected a pnpm lock file starting with lockfileVersion 5.x, 6.x or 9.x)",
        ));
    };
    let version_line = key_line(text, "lockfileVersion").unwrap_or(1);
    let format = match &doc.lockfile_version {
        Some(v) => check_version(shown, version_line, &v.0)?,
        None => {
            return Err(Error::parse_at(
                shown,
                1,
                None,
                "failed to parse lock file: expected lockfileVersion 5.x, 6.x or 9.x, found no lockfileVersion",
            ))
        }
    };
    Builder::new(id, file, text, format).build(doc)
}

/// The serde-saphyr options: budgets sized to the input, so that an alias or nesting bomb
/// fails fast while the largest real lockfiles still parse. pnpm never writes anchors or
/// aliases, and nests at most five levels deep.
fn options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // Without aliases every node and event needs at least one byte of input (`{}` is two
    // events in two bytes), so these caps only bite when something is replayed.
    budget.max_events = len.saturating_mul(2).saturating_add(10_000);
    budget.max_nodes = len.saturating_add(10_000);
    budget.max_total_scalar_bytes = len.saturating_add(1 << 20);
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = 1 << 20;
    budget.max_merge_keys = 100;
    budget.max_depth = 32;
    budget.flow_nesting_limit = 32;
    budget.max_documents = 8;
    budget.max_inclusion_depth = 0;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.with_snippet = false;
    opts
}

/// Turns a serde-saphyr error into a located parse error.
fn yaml_error(file: &Path, e: &serde_saphyr::Error) -> Error {
    let e = e.without_snippet();
    let mut what = first_line(&e.to_string());
    if what.starts_with("budget breached") {
        // The budgets stop alias bombs (and documents far larger than their bytes): say so.
        what = format!(
            "over the alias expansion limit or a size limit for YAML ({what}); pnpm writes no \
             aliases"
        );
    }
    match e.location() {
        Some(loc) if loc.line() > 0 => Error::parse_at(
            file,
            usize::try_from(loc.line()).unwrap_or(usize::MAX),
            usize::try_from(loc.column()).ok().filter(|&c| c > 0),
            format!("failed to parse lock file: {what}"),
        ),
        _ => Error::parse_in(file, format!("failed to parse lock file: {what}")),
    }
}

/// The first line of a rendered error, without a trailing " at line L, column C".
fn first_line(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or("invalid YAML").trim();
    let line = match line.find(" at line ") {
        Some(i) => &line[..i],
        None => line,
    };
    line.to_owned()
}

/// Finds `lockfileVersion: …` written at the start of a line; returns its line and value.
fn scan_version(text: &str) -> Option<(usize, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let rest = l
            .trim_start_matches('\u{feff}')
            .strip_prefix("lockfileVersion:")?;
        let v = rest.trim();
        let v = v.split(" #").next().unwrap_or(v).trim();
        let v = v.trim_matches(|c| c == '\'' || c == '"');
        Some((i + 1, v.to_owned()))
    })
}

/// The 1-based line of the first top-level `key:`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start_matches('\u{feff}');
            [key.to_owned(), format!("'{key}'"), format!("\"{key}\"")]
                .iter()
                .any(|k| {
                    l.strip_prefix(k.as_str())
                        .is_some_and(|r| r.starts_with(':'))
                })
        })
        .map(|i| i + 1)
}

/// Checks a `lockfileVersion` value and returns its format family.
fn check_version(file: &Path, line: usize, found: &str) -> Result<Format> {
    let major = found.split('.').next().unwrap_or("");
    let format = match major.parse::<u32>() {
        Ok(5) => Some(Format::V5),
        Ok(6) => Some(Format::V6),
        Ok(9) => Some(Format::V9),
        _ => None,
    };
    // Only `N` and `N.M` are versions; `6.0-foo` or `9.x` are not.
    let well_formed = found
        .split_once('.')
        .map_or(!found.is_empty(), |(_, minor)| {
            !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
        })
        && major.bytes().all(|b| b.is_ascii_digit());
    match format {
        Some(f) if well_formed => Ok(f),
        None if well_formed => Err(Error::unsupported_version(
            file,
            line,
            format_args!("{found:?}"),
            "5.x, 6.x and 9.x",
        )),
        _ => Err(Error::parse_at(
            file,
            line,
            None,
            format!(
                "failed to parse lock file: expected lockfileVersion 5.x, 6.x or 9.x, found {found:?}"
            ),
        )),
    }
}

/// The key syntax family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    V5,
    V6,
    V9,
}

// ---------------------------------------------------------------------------------------------
// Wire structs: the union of the three formats. Unknown fields (settings, overrides, time,
// patchedDependencies, catalogs, …) are ignored.

type DepMap = BTreeMap<String, DepRef>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Doc {
    lockfile_version: Option<VersionScalar>,
    importers: Option<BTreeMap<String, Importer>>,
    /// 5.x/6.x single project: the root's dependencies are top-level keys.
    dependencies: Option<DepMap>,
    dev_dependencies: Option<DepMap>,
    optional_dependencies: Option<DepMap>,
    packages: Option<BTreeMap<String, Package>>,
    snapshots: Option<BTreeMap<String, Snapshot>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Importer {
    dependencies: Option<DepMap>,
    dev_dependencies: Option<DepMap>,
    optional_dependencies: Option<DepMap>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    resolution: Option<Resolution>,
    name: Option<String>,
    version: Option<ScalarString>,
    dependencies: Option<DepMap>,
    optional_dependencies: Option<DepMap>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    dependencies: Option<DepMap>,
    optional_dependencies: Option<DepMap>,
}

#[derive(Deserialize, Default)]
struct Resolution {
    tarball: Option<String>,
    directory: Option<String>,
    repo: Option<String>,
    commit: Option<String>,
    path: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `lockfileVersion: 5.4` (a YAML float) or `'6.0'` (a string), kept as written.
struct VersionScalar(String);

impl<'de> Deserialize<'de> for VersionScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        ScalarString::deserialize(d).map(|s| VersionScalar(s.0))
    }
}

/// A scalar read as text whatever YAML type it resolved to (`1.0` is a float to YAML).
struct ScalarString(String);

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(RefVisitor { allow_map: false })
            .map(|r| ScalarString(r.0))
    }
}

/// A dependency reference: the plain string of 5.x and of package entries, or the
/// `{specifier, version}` map of 6.x/9.x importers (only `version` is kept).
struct DepRef(String);

impl<'de> Deserialize<'de> for DepRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(RefVisitor { allow_map: true })
    }
}

struct RefVisitor {
    allow_map: bool,
}

impl<'de> Visitor<'de> for RefVisitor {
    type Value = DepRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow_map {
            f.write_str("a version string or a map with `specifier` and `version`")
        } else {
            f.write_str("a version string")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<DepRef, E> {
        Ok(DepRef(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<DepRef, E> {
        Ok(DepRef(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<DepRef, E> {
        Ok(DepRef(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<DepRef, E> {
        Ok(DepRef(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<DepRef, E> {
        // `5.4` → "5.4"; `6` → "6" (never "6.0": callers only look at the major version).
        Ok(DepRef(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<DepRef, A::Error> {
        if !self.allow_map {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let mut version = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "version" {
                if version.is_some() {
                    return Err(de::Error::duplicate_field("version"));
                }
                let v: ScalarString = map.next_value()?;
                version = Some(v.0);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        version
            .map(DepRef)
            .ok_or_else(|| de::Error::missing_field("version"))
    }
}

// ---------------------------------------------------------------------------------------------
// From wire structs to facts.

/// One package instance before its dependencies are resolved.
struct Instance {
    key: String,
    name: String,
    version: String,
    registry: bool,
    deps: Vec<(String, String)>,
}

struct Builder<'a> {
    id: &'a str,
    shown: &'a Path,
    file: &'a Path,
    text: &'a str,
    format: Format,
}

impl<'a> Builder<'a> {
    fn new(id: &'a str, file: &'a Path, text: &'a str, format: Format) -> Self {
        Builder {
            id,
            shown: Path::new(id),
            file,
            text,
            format,
        }
    }

    fn build(&self, doc: Doc) -> Result<LockfileFact> {
        let Doc {
            importers,
            dependencies,
            dev_dependencies,
            optional_dependencies,
            packages,
            snapshots,
            ..
        } = doc;
        let importers: Vec<(String, Importer)> = match importers {
            Some(map) => map.into_iter().collect(),
            None => vec![(
                ".".to_owned(),
                Importer {
                    dependencies,
                    dev_dependencies,
                    optional_dependencies,
                },
            )],
        };
        let instances = self.instances(packages, snapshots)?;

        let no_deps = importers.iter().all(|(_, imp)| {
            [
                &imp.dependencies,
                &imp.dev_dependencies,
                &imp.optional_dependencies,
            ]
            .iter()
            .all(|m| m.as_ref().is_none_or(BTreeMap::is_empty))
        });
        if instances.is_empty() && no_deps {
            return Err(Error::parse_in(
                self.shown,
                "failed to parse lock file: it pins no packages (expected `packages:` or importers with dependencies)",
            ));
        }

        // Indices: importers first, then instances in key order, then link targets that are
        // no importer, in the order they are met.
        let n_roots = importers.len();
        let mut packages: Vec<LockedPackage> = Vec::with_capacity(n_roots + instances.len());
        let mut importer_at: HashMap<String, usize> = HashMap::new();
        for (i, (path, _)) in importers.iter().enumerate() {
            importer_at.insert(normalise(path), i);
            packages.push(LockedPackage {
                name: self.root_name(path).into(),
                version: "0.0.0".into(),
                registry: false,
                deps: Vec::new(),
            });
        }
        let mut key_at: HashMap<&str, usize> = HashMap::with_capacity(instances.len());
        for (i, inst) in instances.iter().enumerate() {
            key_at.insert(inst.key.as_str(), n_roots + i);
            packages.push(LockedPackage {
                name: inst.name.clone().into(),
                version: inst.version.clone().into(),
                registry: inst.registry,
                deps: Vec::new(),
            });
        }
        let mut resolver = Resolver {
            format: self.format,
            key_at,
            importer_at,
            links: HashMap::new(),
        };

        for (i, (path, imp)) in importers.iter().enumerate() {
            let mut deps = Vec::new();
            for map in [
                &imp.dependencies,
                &imp.dev_dependencies,
                &imp.optional_dependencies,
            ]
            .into_iter()
            .flatten()
            {
                for (name, r) in map {
                    match resolver.resolve(&mut packages, path, name, &r.0) {
                        Some(j) => deps.push(j),
                        None => {
                            return Err(self.dangling(
                                &format!("importer {path:?}"),
                                path,
                                name,
                                &r.0,
                            ))
                        }
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            packages[i].deps = deps;
        }
        for (i, inst) in instances.iter().enumerate() {
            let mut deps = Vec::with_capacity(inst.deps.len());
            for (name, r) in &inst.deps {
                match resolver.resolve(&mut packages, ".", name, r) {
                    Some(j) => deps.push(j),
                    None => {
                        return Err(self.dangling(
                            &format!("package {}", inst.key),
                            &inst.key,
                            name,
                            r,
                        ))
                    }
                }
            }
            deps.sort_unstable();
            deps.dedup();
            packages[n_roots + i].deps = deps;
        }
        Ok(LockfileFact {
            id: self.id.to_owned(),
            file: self.file.to_owned(),
            ecosystem: Ecosystem::Npm,
            packages,
            roots: (0..n_roots).collect(),
        })
    }

    /// The instances in key order: 9.x snapshots (with metadata from `packages:`), or the
    /// `packages:` entries of 5.x/6.x.
    fn instances(
        &self,
        packages: Option<BTreeMap<String, Package>>,
        snapshots: Option<BTreeMap<String, Snapshot>>,
    ) -> Result<Vec<Instance>> {
        let mut packages = packages.unwrap_or_default();
        let mut out = Vec::new();
        match (self.format, snapshots) {
            (Format::V9, Some(snapshots)) => {
                out.reserve(snapshots.len());
                for (key, snap) in snapshots {
                    let (name, rest) = self.split_key(&key)?;
                    let plain = strip_peers(rest);
                    let meta = packages.get(&format!("{name}@{plain}"));
                    let mut deps = Vec::new();
                    collect(&mut deps, snap.dependencies);
                    collect(&mut deps, snap.optional_dependencies);
                    out.push(self.instance(&key, name, plain, meta, deps));
                }
            }
            _ => {
                out.reserve(packages.len());
                for (key, mut pkg) in std::mem::take(&mut packages) {
                    let mut deps = Vec::new();
                    collect(&mut deps, pkg.dependencies.take());
                    collect(&mut deps, pkg.optional_dependencies.take());
                    let inst = match self.format {
                        Format::V9 => {
                            let (name, rest) = self.split_key(&key)?;
                            self.instance(&key, name, strip_peers(rest), Some(&pkg), deps)
                        }
                        _ => match key.strip_prefix('/') {
                            Some(path) => {
                                let (name, rest) = self.split_key(path)?;
                                let plain = match self.format {
                                    Format::V5 => rest.split('_').next().unwrap_or(rest),
                                    _ => strip_peers(rest),
                                };
                                self.instance(&key, name, plain, Some(&pkg), deps)
                            }
                            // `file:local`, `github.com/u/r/sha`, tarball URLs: the key is the
                            // reference; the entry carries the name.
                            None => {
                                let name = pkg.name.clone().unwrap_or_else(|| key.clone());
                                let version = pkg
                                    .version
                                    .as_ref()
                                    .map_or_else(|| key.clone(), |v| v.0.clone());
                                Instance {
                                    key: key.clone(),
                                    name,
                                    version,
                                    registry: false,
                                    deps,
                                }
                            }
                        },
                    };
                    out.push(inst);
                }
            }
        }
        // A registry package's version is semver; anything else in that place is damage, not
        // a version to look up.
        if let Some(bad) = out
            .iter()
            .find(|i| i.registry && nodejs_semver::Version::parse(&i.version).is_err())
        {
            let msg = format!(
                "failed to parse lock file: package {}: expected a semver version, found {:?}",
                bad.name, bad.version
            );
            return Err(match key_line_nested(self.text, &bad.key) {
                Some(l) => Error::parse_at(self.shown, l, None, msg),
                None => Error::parse_in(self.shown, msg),
            });
        }
        Ok(out)
    }

    /// One instance from its parsed key and, when there is one, its metadata entry.
    fn instance(
        &self,
        key: &str,
        name: &str,
        plain: &str,
        meta: Option<&Package>,
        deps: Vec<(String, String)>,
    ) -> Instance {
        let registry_form = !plain.is_empty() && !plain.contains([':', '/']);
        let resolution_ok = meta
            .and_then(|m| m.resolution.as_ref())
            .is_none_or(registry_resolution);
        let registry = registry_form && resolution_ok;
        let name = meta
            .and_then(|m| m.name.clone())
            .unwrap_or_else(|| name.to_owned());
        let version = if registry_form {
            plain.to_owned()
        } else {
            meta.and_then(|m| m.version.as_ref())
                .map_or_else(|| plain.to_owned(), |v| v.0.clone())
        };
        Instance {
            key: key.to_owned(),
            name,
            version,
            registry,
            deps,
        }
    }

    /// Splits `name@rest` (9.x, 6.x without the slash) or `name/rest` (5.x without the slash);
    /// a scoped name keeps its `@scope/`.
    fn split_key<'k>(&self, key: &'k str) -> Result<(&'k str, &'k str)> {
        let sep = if self.format == Format::V5 { '/' } else { '@' };
        let skip = if key.starts_with('@') {
            // Past `@scope/`.
            key.find('/').map(|i| i + 1)
        } else {
            Some(0)
        };
        let found = skip.and_then(|s| {
            let from = if sep == '@' { s.max(1) } else { s };
            key.get(from..)?.find(sep).map(|i| from + i)
        });
        match found {
            Some(i) if i > 0 && i + 1 < key.len() => Ok((&key[..i], &key[i + 1..])),
            _ => {
                let line = key_line_nested(self.text, key);
                let msg = format!(
                    "failed to parse lock file: package key {key:?} has no version (expected {})",
                    match self.format {
                        Format::V5 => "/name/1.2.3",
                        Format::V6 => "/name@1.2.3",
                        Format::V9 => "name@1.2.3",
                    }
                );
                Err(match line {
                    Some(l) => Error::parse_at(self.shown, l, None, msg),
                    None => Error::parse_in(self.shown, msg),
                })
            }
        }
    }

    /// The name of an importer's root package: its path, `.` named after the lockfile's
    /// directory.
    fn root_name(&self, path: &str) -> String {
        let p = normalise(path);
        if p != "." {
            return p;
        }
        self.file
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("root")
            .to_owned()
    }

    fn dangling(&self, who: &str, key: &str, name: &str, reference: &str) -> Error {
        let msg = format!(
            "failed to parse lock file: {who} depends on {name} {reference}, which the lock file does not contain"
        );
        match key_line_nested(self.text, key) {
            Some(l) => Error::parse_at(self.shown, l, None, msg),
            None => Error::parse_in(self.shown, msg),
        }
    }
}

/// Looks dependency references up among the instances and importers.
struct Resolver<'k> {
    format: Format,
    key_at: HashMap<&'k str, usize>,
    importer_at: HashMap<String, usize>,
    /// Link targets that are no importer → their synthetic package.
    links: HashMap<String, usize>,
}

impl Resolver<'_> {
    /// The index of what `name: reference` points at, seen from importer `from`.
    fn resolve(
        &mut self,
        packages: &mut Vec<LockedPackage>,
        from: &str,
        name: &str,
        reference: &str,
    ) -> Option<usize> {
        if let Some(target) = reference.strip_prefix("link:") {
            let path = normalise(&format!("{}/{target}", normalise(from)));
            if let Some(&i) = self.importer_at.get(&path) {
                return Some(i);
            }
            let next = packages.len();
            let i = *self.links.entry(format!("{name}\0{path}")).or_insert(next);
            if i == next {
                packages.push(LockedPackage {
                    name: name.into(),
                    version: reference.into(),
                    registry: false,
                    deps: Vec::new(),
                });
            }
            return Some(i);
        }
        let direct = match self.format {
            Format::V5 => format!("/{name}/{reference}"),
            Format::V6 => format!("/{name}@{reference}"),
            Format::V9 => format!("{name}@{reference}"),
        };
        self.key_at
            .get(direct.as_str())
            .or_else(|| self.key_at.get(reference))
            .copied()
    }
}

/// Appends a dependency map as (name, reference) pairs.
fn collect(out: &mut Vec<(String, String)>, map: Option<DepMap>) {
    if let Some(map) = map {
        out.extend(map.into_iter().map(|(k, v)| (k, v.0)));
    }
}

/// `1.2.3(peer@1.0.0)(other@2.0.0)` → `1.2.3` (also drops `(patch_hash=…)`).
fn strip_peers(rest: &str) -> &str {
    rest.split('(').next().unwrap_or(rest)
}

/// Whether a resolution is a registry one: an integrity-only entry, or a tarball in the npm
/// registry layout; never a directory, git repository or commit.
fn registry_resolution(r: &Resolution) -> bool {
    if r.directory.is_some() || r.repo.is_some() || r.commit.is_some() || r.path.is_some() {
        return false;
    }
    if r.kind.as_deref().is_some_and(|k| k != "registry") {
        return false;
    }
    match &r.tarball {
        None => true,
        Some(t) => {
            (t.starts_with("https://") || t.starts_with("http://"))
                && t.contains("/-/")
                && t.ends_with(".tgz")
        }
    }
}

/// Normalises a relative importer path: `./packages/../a/` → `a`; empty → `.`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut ups = 0usize;
    for seg in path.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    ups += 1;
                }
            }
            s => parts.push(s),
        }
    }
    let mut out: Vec<&str> = std::iter::repeat_n("..", ups).collect();
    out.extend(parts);
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

/// The 1-based line where a map key is written (at any indentation), plain or quoted.
fn key_line_nested(text: &str, key: &str) -> Option<usize> {
    let forms = [
        format!("{key}:"),
        format!("'{key}':"),
        format!("\"{key}\":"),
    ];
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            forms.iter().any(|f| {
                t.strip_prefix(f.as_str())
                    .is_some_and(|r| r.is_empty() || r.starts_with(' '))
            })
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "tests/fixtures/lockfiles/pnpm";

    fn load(name: &str) -> Result<LockfileFact> {
        let id = format!("{DIR}/{name}");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&id);
        let text = std::fs::read_to_string(&path).unwrap();
        parse(&id, &path, &text)
    }

    fn fixture(name: &str) -> LockfileFact {
        load(name).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn err(name: &str) -> String {
        match load(name) {
            Ok(_) => panic!("{name} parsed"),
            Err(e) => e.to_string(),
        }
    }

    fn label(l: &LockfileFact, i: usize) -> String {
        format!("{}@{}", l.packages[i].name, l.packages[i].version)
    }

    /// `name@version registry` of every instance, in order (roots excluded).
    fn triples(l: &LockfileFact) -> Vec<String> {
        l.packages
            .iter()
            .enumerate()
            .filter(|(i, _)| !l.roots.contains(i))
            .map(|(i, p)| format!("{} {}", label(l, i), p.registry))
            .collect()
    }

    /// The instances `name@version` (several when peer variants exist).
    fn find(l: &LockfileFact, nv: &str) -> Vec<usize> {
        (0..l.packages.len())
            .filter(|&i| !l.roots.contains(&i) && label(l, i) == nv)
            .collect()
    }

    fn one(l: &LockfileFact, nv: &str) -> usize {
        let found = find(l, nv);
        assert_eq!(found.len(), 1, "{nv}: {found:?}");
        found[0]
    }

    fn deps(l: &LockfileFact, i: usize) -> Vec<String> {
        l.packages[i].deps.iter().map(|&j| label(l, j)).collect()
    }

    fn root(l: &LockfileFact, name: &str) -> usize {
        *l.roots
            .iter()
            .find(|&&r| l.packages[r].name == name)
            .unwrap_or_else(|| panic!("no root {name}"))
    }

    /// The same project (debug, an alias `old-ms: npm:ms@2.0.0`, react, a peer-suffixed
    /// use-sync-external-store, a dev and an optional dependency) written by pnpm 7, 8 and 9.
    fn check_single(l: &LockfileFact) {
        assert_eq!(l.ecosystem, Ecosystem::Npm);
        assert_eq!(l.packages.len(), 11);
        assert_eq!(l.roots, vec![0]);
        // `.` is named after the lockfile's directory.
        let r = &l.packages[0];
        assert_eq!(
            (r.name.as_str(), r.version.as_str(), r.registry),
            ("pnpm", "0.0.0", false)
        );
        assert_eq!(
            triples(l),
            [
                "debug@4.4.3 true",
                "is-number@6.0.0 true",
                "is-number@7.0.0 true",
                "is-odd@3.0.1 true",
                "js-tokens@4.0.0 true",
                "loose-envify@1.4.0 true",
                "ms@2.0.0 true",
                "ms@2.1.3 true",
                "react@18.3.1 true",
                "use-sync-external-store@1.2.0 true",
            ]
        );
        // dependencies, devDependencies (is-number 7) and optionalDependencies (is-odd); the
        // alias old-ms is attributed to the real package ms.
        assert_eq!(
            deps(l, 0),
            [
                "debug@4.4.3",
                "is-number@7.0.0",
                "is-odd@3.0.1",
                "ms@2.0.0",
                "react@18.3.1",
                "use-sync-external-store@1.2.0",
            ]
        );
        assert_eq!(deps(l, one(l, "debug@4.4.3")), ["ms@2.1.3"]);
        assert_eq!(deps(l, one(l, "is-odd@3.0.1")), ["is-number@6.0.0"]);
        // Through the peer suffix (`_react@18.3.1` / `(react@18.3.1)`).
        assert_eq!(
            deps(l, one(l, "use-sync-external-store@1.2.0")),
            ["react@18.3.1"]
        );
        assert_eq!(deps(l, one(l, "react@18.3.1")), ["loose-envify@1.4.0"]);
        assert_eq!(deps(l, one(l, "loose-envify@1.4.0")), ["js-tokens@4.0.0"]);
    }

    #[test]
    fn v5_pnpm7() {
        let l = fixture("pnpm-lock.v5.yaml");
        assert_eq!(l.id, "tests/fixtures/lockfiles/pnpm/pnpm-lock.v5.yaml");
        check_single(&l);
    }

    #[test]
    fn v6_pnpm8() {
        check_single(&fixture("pnpm-lock.v6.yaml"));
    }

    #[test]
    fn v9_pnpm9_uses_snapshots() {
        check_single(&fixture("pnpm-lock.v9.yaml"));
    }

    /// Workspace: importers `.`, `packages/a` (→ b via `workspace:*`, react 18) and
    /// `packages/b` (react 17, `my-odd: npm:is-odd@^3.0.1`, `file:` dependency, dev is-number).
    /// use-sync-external-store 1.2.0 exists in two peer variants, one per react.
    fn check_workspace(l: &LockfileFact, local_version: &str) {
        assert_eq!(l.packages.len(), 15);
        assert_eq!(l.roots, vec![0, 1, 2]);
        let names: Vec<_> = l
            .roots
            .iter()
            .map(|&r| l.packages[r].name.as_str())
            .collect();
        assert_eq!(names, ["pnpm", "packages/a", "packages/b"]);
        assert!(l.roots.iter().all(|&r| !l.packages[r].registry));
        let mut t = triples(l);
        t.sort();
        assert_eq!(
            t,
            [
                "is-number@6.0.0 true".to_owned(),
                "is-number@7.0.0 true".to_owned(),
                "is-odd@3.0.1 true".to_owned(),
                "js-tokens@4.0.0 true".to_owned(),
                format!("local-thing@{local_version} false"),
                "loose-envify@1.4.0 true".to_owned(),
                "ms@2.1.3 true".to_owned(),
                "object-assign@4.1.1 true".to_owned(),
                "react@17.0.2 true".to_owned(),
                "react@18.3.1 true".to_owned(),
                "use-sync-external-store@1.2.0 true".to_owned(),
                "use-sync-external-store@1.2.0 true".to_owned(),
            ]
        );
        assert_eq!(deps(l, root(l, "pnpm")), ["ms@2.1.3"]);
        let a = root(l, "packages/a");
        let b = root(l, "packages/b");
        // `link:../b` is the importer packages/b.
        assert!(l.packages[a].deps.contains(&b));
        let uses = find(l, "use-sync-external-store@1.2.0");
        assert_eq!(uses.len(), 2);
        let (u18, u17): (Vec<usize>, Vec<usize>) =
            uses.iter().partition(|&&u| deps(l, u) == ["react@18.3.1"]);
        assert_eq!((u18.len(), u17.len()), (1, 1));
        assert_eq!(deps(l, u17[0]), ["react@17.0.2"]);
        let mut want_a = vec![b, one(l, "react@18.3.1"), u18[0]];
        want_a.sort_unstable();
        assert_eq!(l.packages[a].deps, want_a);
        let local = one(l, &format!("local-thing@{local_version}"));
        let mut want_b = vec![
            one(l, "is-number@7.0.0"),
            one(l, "is-odd@3.0.1"),
            local,
            one(l, "react@17.0.2"),
            u17[0],
        ];
        want_b.sort_unstable();
        assert_eq!(l.packages[b].deps, want_b);
        assert_eq!(deps(l, local), ["is-number@6.0.0"]);
        assert_eq!(
            deps(l, one(l, "react@17.0.2")),
            ["loose-envify@1.4.0", "object-assign@4.1.1"]
        );
    }

    #[test]
    fn workspace_v5() {
        // pnpm 7 records the file: package's version.
        check_workspace(&fixture("pnpm-lock.workspace.v5.yaml"), "0.1.0");
    }

    #[test]
    fn workspace_v6() {
        check_workspace(&fixture("pnpm-lock.workspace.v6.yaml"), "file:local");
    }

    #[test]
    fn workspace_v9() {
        check_workspace(&fixture("pnpm-lock.workspace.v9.yaml"), "file:local");
    }

    /// react-redux 8.1.3 with four peers: v5 hashes the suffix
    /// (`8.1.3_ewiuw5252zu6ssjdcefttqcpfq`), v9 nests it
    /// (`8.1.3(@types/react@18.3.31)(react-dom@18.3.1(react@18.3.1))(react@18.3.1)(redux@4.2.1)`).
    #[test]
    fn peer_suffixes() {
        let v5 = fixture("pnpm-lock.peers.v5.yaml");
        let v9 = fixture("pnpm-lock.peers.v9.yaml");
        assert_eq!(v5.packages.len(), 15);
        // pnpm 9 also installed the optional peer @types/react (and its two dependencies).
        assert_eq!(v9.packages.len(), 18);
        for l in [&v5, &v9] {
            assert_eq!(
                deps(l, 0),
                [
                    "react-dom@18.3.1",
                    "react-redux@8.1.3",
                    "react@18.3.1",
                    "redux@4.2.1"
                ]
            );
            let rr = one(l, "react-redux@8.1.3");
            let d = deps(l, rr);
            for want in [
                "@babel/runtime@7.29.15",
                "@types/hoist-non-react-statics@3.3.7",
                "react-dom@18.3.1",
                "react-is@18.3.1",
                "react@18.3.1",
                "redux@4.2.1",
                "use-sync-external-store@1.7.0",
            ] {
                assert!(d.iter().any(|x| x == want), "{want} missing from {d:?}");
            }
            assert_eq!(
                deps(l, one(l, "react-dom@18.3.1")),
                ["loose-envify@1.4.0", "react@18.3.1", "scheduler@0.23.2"]
            );
            assert!(l.packages.iter().skip(1).all(|p| p.registry));
        }
        assert!(
            deps(&v9, one(&v9, "react-redux@8.1.3")).contains(&"@types/react@18.3.31".to_owned())
        );
    }

    #[test]
    fn conflict_markers_are_an_error() {
        let e = err("invalid/conflict/pnpm-lock.yaml");
        assert!(
            e.starts_with(
                "unresolved merge conflict markers at \
                 tests/fixtures/lockfiles/pnpm/invalid/conflict/pnpm-lock.yaml:13: "
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_yaml_is_located() {
        let e = err("invalid/bad-yaml/pnpm-lock.yaml");
        // The unclosed `{` of line 18 is noticed where the flow mapping runs into `snapshots:`.
        assert!(
            e.starts_with("tests/fixtures/lockfiles/pnpm/invalid/bad-yaml/pnpm-lock.yaml:20:10: ")
                && e.contains("failed to parse lock file: ")
                && e.contains("flow mapping"),
            "{e}"
        );
    }

    #[test]
    fn unknown_version_is_an_error() {
        let e = err("invalid/version3/pnpm-lock.yaml");
        assert_eq!(
            e,
            "format version \"3.0\" of tests/fixtures/lockfiles/pnpm/invalid/version3/\
             pnpm-lock.yaml:1 is not supported (supported: 5.x, 6.x and 9.x)"
        );
        // Written further down, as a YAML number, or not at all.
        let text = "# comment\n\nlockfileVersion: 10.0\nimporters: {}\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(
            e.starts_with("format version \"10.0\" of L:3 is not supported"),
            "{e}"
        );
        let text = "importers:\n  .: {}\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(
            e.starts_with("L:1: ") && e.contains("found no lockfileVersion"),
            "{e}"
        );
        let text = "{\"lockfileVersion\": 7, \"importers\": {}}\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(e.starts_with("format version \"7\" of L:1 "), "{e}");
    }

    #[test]
    fn empty_is_an_error() {
        let e = err("invalid/empty/pnpm-lock.yaml");
        assert!(
            e.starts_with("tests/fixtures/lockfiles/pnpm/invalid/empty/pnpm-lock.yaml: ")
                && e.contains("pins no packages"),
            "{e}"
        );
        for text in ["", "\n# nothing\n", "---\n"] {
            let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
            assert!(
                e.starts_with("L:1: ") && e.contains("expected"),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn dangling_reference_is_an_error() {
        let e = err("invalid/dangling/pnpm-lock.yaml");
        assert!(
            e.starts_with("tests/fixtures/lockfiles/pnpm/invalid/dangling/pnpm-lock.yaml:14: ")
                && e.contains("package /debug@4.4.3 depends on ms 2.1.3"),
            "{e}"
        );
        let text = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      x:\n        specifier: ^1\n        version: 1.0.0(y@2.0.0)\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(
            e.starts_with("L:3: ") && e.contains("importer \".\" depends on x 1.0.0(y@2.0.0)"),
            "{e}"
        );
    }

    #[test]
    fn wrong_shape_is_located() {
        let text = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      x:\n        specifier: ^1\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(
            e.starts_with("L:6:") && e.contains("missing field `version`"),
            "{e}"
        );
        let text = "lockfileVersion: '9.0'\npackages: 5\n";
        let e = parse("L", Path::new("L"), text).unwrap_err().to_string();
        assert!(e.starts_with("L:2:"), "{e}");
    }

    #[test]
    fn alias_bomb_fails_fast() {
        let mut text =
            String::from("lockfileVersion: '9.0'\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        text.push_str("importers:\n  .:\n    dependencies:\n      x: *a9\n");
        let t = std::time::Instant::now();
        let e = parse("L", Path::new("L"), &text).unwrap_err().to_string();
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{e}");
        assert!(e.starts_with("L:") && e.contains("budget"), "{e}");
        // Deep nesting likewise.
        let text = format!(
            "lockfileVersion: '9.0'\nx: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let e = parse("L", Path::new("L"), &text).unwrap_err().to_string();
        assert!(
            e.starts_with("L:2:") && e.contains("recursion limit"),
            "{e}"
        );
    }

    #[test]
    fn non_registry_sources() {
        let v9 = "lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      gitdep:
        specifier: github:u/gitdep
        version: https://codeload.github.com/u/gitdep/tar.gz/abc123
      tar:
        specifier: https://example.com/tar.tgz
        version: '@x/tar@https://example.com/tar.tgz'
      priv:
        specifier: ^1.0.0
        version: 1.0.0
      mirrored:
        specifier: ^1.0.0
        version: 1.0.0
      outside:
        specifier: link:../outside
        version: link:../outside
packages:
  gitdep@https://codeload.github.com/u/gitdep/tar.gz/abc123:
    resolution: {tarball: https://codeload.github.com/u/gitdep/tar.gz/abc123}
    version: 2.0.0
  '@x/tar@https://example.com/tar.tgz':
    resolution: {tarball: https://example.com/tar.tgz}
    version: 1.0.0
  priv@1.0.0:
    resolution: {commit: abc, repo: https://example.com/priv.git, type: git}
  mirrored@1.0.0:
    resolution: {integrity: sha512-x, tarball: https://npm.example.com/mirrored/-/mirrored-1.0.0.tgz}
snapshots:
  gitdep@https://codeload.github.com/u/gitdep/tar.gz/abc123: {}
  '@x/tar@https://example.com/tar.tgz': {}
  priv@1.0.0: {}
  mirrored@1.0.0: {}
";
        let l = parse("L", Path::new("/p/app/pnpm-lock.yaml"), v9).unwrap();
        assert_eq!(l.packages[0].name, "app");
        let mut t = triples(&l);
        t.sort();
        assert_eq!(
            t,
            [
                "@x/tar@1.0.0 false",
                "gitdep@2.0.0 false",
                "mirrored@1.0.0 true",
                "outside@link:../outside false",
                "priv@1.0.0 false",
            ]
        );
        assert_eq!(l.packages[0].deps.len(), 5);

        let v5 = "lockfileVersion: 5.4
specifiers:
  gitdep: github:u/gitdep
dependencies:
  gitdep: github.com/u/gitdep/abc123
packages:
  github.com/u/gitdep/abc123:
    resolution: {tarball: https://codeload.github.com/u/gitdep/tar.gz/abc123}
    name: gitdep
    version: 2.0.0
    dependencies:
      ms: 2.1.3
  /ms/2.1.3:
    resolution: {integrity: sha512-x}
";
        let l = parse("L", Path::new("pnpm-lock.yaml"), v5).unwrap();
        assert_eq!(l.packages[0].name, "root");
        // Key order: `/ms/…` sorts before `github.com/…`.
        assert_eq!(triples(&l), ["ms@2.1.3 true", "gitdep@2.0.0 false"]);
        assert_eq!(deps(&l, 0), ["gitdep@2.0.0"]);
        assert_eq!(deps(&l, 2), ["ms@2.1.3"]);
    }

    /// pnpm 10 may write an env-lockfile document before the project's.
    #[test]
    fn last_document_is_the_project() {
        let text = "---
lockfileVersion: '9.0'
importers:
  .:
    configDependencies: {}
---
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      ms:
        specifier: ^2
        version: 2.1.3
packages:
  ms@2.1.3:
    resolution: {integrity: sha512-x}
snapshots:
  ms@2.1.3: {}
";
        let l = parse("L", Path::new("L"), text).unwrap();
        assert_eq!(triples(&l), ["ms@2.1.3 true"]);
        assert_eq!(deps(&l, 0), ["ms@2.1.3"]);
    }

    #[test]
    fn helpers() {
        assert_eq!(normalise("./packages/../a/"), "a");
        assert_eq!(normalise("packages/a/../../../x"), "../x");
        assert_eq!(normalise(""), ".");
        assert_eq!(strip_peers("1.0.0(a@1(b@2))(c@3)"), "1.0.0");
        assert!(registry_resolution(&Resolution::default()));
    }
}
