//! package-lock.json / npm-shrinkwrap.json, format versions 1 to 3, read with our own serde
//! structs (a subset of npm's format; unknown fields are ignored).
//!
//! - v2 and v3 keep a flat `packages` map keyed by install path (`""` is the root project,
//!   `node_modules/a/node_modules/b` a nested copy, `packages/ws-a` a workspace member). Each
//!   path is one installed package instance, so one name may appear at several versions.
//!   Dependencies are resolved the way Node resolves `require`: `<path>/node_modules/<name>`,
//!   then the same in each parent directory up to the project root. A `link: true` entry
//!   (workspace member, `file:` directory) is the same package as the entry it points at.
//! - v1 keeps a nested `dependencies` tree with `requires` maps, resolved by walking up the
//!   nested scopes the same way. v1 has no root entry: one is made from the top-level `name`
//!   and `version`, depending on every top-level entry (dev ones included).
//! - A lockfile of version 2 carries both; its `packages` map is read.
//!
//! Aliases (`"my-ms": "npm:ms@^2"`) are attributed to the real package (`name` in v2/v3,
//! `"version": "npm:ms@2.0.0"` in v1). Root, workspace members, link targets, `file:`, git and
//! non-registry URL packages are not registry packages. A root or workspace member without a
//! version keeps an empty version string.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::conflict_marker_line;
use crate::error::{line_col, Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// The `lockfileVersion`s blastradius understands.
pub const SUPPORTED: std::ops::RangeInclusive<i64> = 1..=3;

const PREFIX: &str = "failed to parse lock file:";

/// Parses a package-lock.json or npm-shrinkwrap.json. `id` is the display path, `file` the
/// canonical one.
pub fn parse(id: &str, file: &Path, text: &str) -> Result<LockfileFact> {
    let shown = Path::new(id);
    // npm strips a UTF-8 byte order mark; serde_json does not.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(line) = conflict_marker_line(text) {
        return Err(Error::ConflictMarkers {
            path: shown.to_path_buf(),
            line,
        });
    }
    let lock: Lock<'_> = match serde_json::from_str(text) {
        Ok(lock) => lock,
        Err(e) => {
            // A future format may trip over a field before its version is seen: report the
            // version, not the field.
            if e.is_data() {
                if let Ok(v) = serde_json::from_str::<VersionOnly>(text) {
                    check_version(shown, text, v.lockfile_version.as_ref())?;
                }
            }
            return Err(json_error(shown, &e));
        }
    };
    let version = check_version(shown, text, lock.lockfile_version.as_ref())?;

    let root_name = || -> String {
        lock.name
            .as_ref()
            .map(|n| n.0.to_string())
            .or_else(|| {
                file.parent()
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "(root)".to_owned())
    };
    let root_version = || {
        lock.version
            .as_ref()
            .map_or_else(String::new, |v| v.0.to_string())
    };

    let has_packages = lock.packages.as_ref().is_some_and(|p| !p.0.is_empty());
    let has_v1 = lock.dependencies.as_ref().is_some_and(|d| !d.0.is_empty());
    let (packages, roots) = if version >= 2 && has_packages {
        let entries = lock.packages.as_ref().map_or(&[][..], |p| &p.0[..]);
        check_entries(shown, text, entries)?;
        from_packages(entries, &root_name, &root_version)
    } else if version <= 2 && has_v1 {
        let deps = lock.dependencies.as_ref().map_or(&[][..], |d| &d.0[..]);
        from_v1(deps, root_name(), root_version())
    } else {
        let (key, expected) = if version == 1 {
            ("\"dependencies\"", "a non-empty \"dependencies\" object")
        } else {
            (
                "\"packages\"",
                "a non-empty \"packages\" object, with at least the root entry \"\"",
            )
        };
        let line = key_line(text, key).unwrap_or(1);
        return Err(Error::parse_at(
            shown,
            line,
            None,
            format!("{PREFIX} it pins no packages (expected {expected})"),
        ));
    };
    Ok(LockfileFact {
        id: id.to_owned(),
        file: file.to_owned(),
        ecosystem: Ecosystem::Npm,
        packages,
        roots,
    })
}

/// Checks `lockfileVersion`, returning it when supported.
fn check_version(shown: &Path, text: &str, v: Option<&serde_json::Value>) -> Result<i64> {
    match v.and_then(serde_json::Value::as_i64) {
        Some(n) if SUPPORTED.contains(&n) => Ok(n),
        Some(n) => {
            let line = key_line(text, "\"lockfileVersion\"").unwrap_or(1);
            Err(Error::unsupported_version(shown, line, n, "1, 2 and 3"))
        }
        None => {
            let found = v.map_or_else(
                || "no \"lockfileVersion\" field".to_owned(),
                |v| v.to_string(),
            );
            let line = key_line(text, "\"lockfileVersion\"")
                .or_else(|| text.find('{').map(|o| line_col(text, o).0))
                .unwrap_or(1);
            Err(Error::parse_at(
                shown,
                line,
                None,
                format!("{PREFIX} expected \"lockfileVersion\" 1, 2 or 3, found {found}"),
            ))
        }
    }
}

/// The line of the first occurrence of `key` followed by a colon.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text[from..].find(key) {
        let at = from + pos;
        if text[at + key.len()..].trim_start().starts_with(':') {
            return Some(line_col(text, at).0);
        }
        from = at + key.len();
    }
    None
}

/// A located error from serde_json.
fn json_error(shown: &Path, e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let what = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => &msg[..],
    };
    Error::parse_at(
        shown,
        e.line().max(1),
        Some(e.column().max(1)),
        // serde names our private wire structs; say what they are in npm's terms.
        format!(
            "{PREFIX} {}",
            what.replace("expected struct Dep", "expected a dependency object")
                .replace("expected struct Entry", "expected a package entry object")
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Wire format (a subset of npm's package-lock.json)

/// A JSON string, borrowed from the input unless it contained escapes.
#[derive(Debug, Clone)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The keys of a dependency map (`"dependencies": {"ms": "^2.1.3"}`); the ranges are not
/// needed, the lockfile says what they resolved to. v1's `requires` may also be `true`.
#[derive(Debug, Default)]
struct Names<'a>(Vec<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Names<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of dependency names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(k) = map.next_key::<Str<'a>>()? {
                    map.next_value::<IgnoredAny>()?;
                    names.push(k);
                }
                Ok(Names(names))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Names(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Names(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An ordered JSON object, kept in file order (npm writes keys sorted).
#[derive(Debug)]
struct Ordered<'a, T>(Vec<(Str<'a>, T)>);

impl<T> Default for Ordered<'_, T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Ordered<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(std::marker::PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Ordered<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of packages")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(k) = map.next_key::<Str<'a>>()? {
                    out.push((k, map.next_value::<T>()?));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// The top level of package-lock.json (subset). Read by hand so that v2's legacy
/// `dependencies` tree, which follows `packages`, is skipped without building it.
#[derive(Debug, Default)]
struct Lock<'a> {
    name: Option<Str<'a>>,
    version: Option<Str<'a>>,
    lockfile_version: Option<serde_json::Value>,
    packages: Option<Ordered<'a, Entry<'a>>>,
    dependencies: Option<Ordered<'a, Dep<'a>>>,
}

impl<'de> Deserialize<'de> for Lock<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lock<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a package-lock.json object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut lock = Lock::default();
                while let Some(k) = map.next_key::<Str<'de>>()? {
                    match &*k.0 {
                        "name" => lock.name = map.next_value()?,
                        "version" => lock.version = map.next_value()?,
                        "lockfileVersion" => lock.lockfile_version = map.next_value()?,
                        "packages" => lock.packages = map.next_value()?,
                        // v2 carries both: the flat map wins, the legacy tree is skipped.
                        "dependencies"
                            if lock.packages.as_ref().is_some_and(|p| !p.0.is_empty())
                                && lock.lockfile_version != Some(serde_json::Value::from(1)) =>
                        {
                            map.next_value::<IgnoredAny>()?;
                        }
                        "dependencies" => lock.dependencies = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(lock)
            }
        }
        d.deserialize_map(V)
    }
}

/// Only the format version, to report it when the rest does not fit.
#[derive(Deserialize)]
struct VersionOnly {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
}

/// One entry of the v2/v3 `packages` map (subset).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Entry<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    resolved: Option<Str<'a>>,
    link: Option<bool>,
    #[serde(borrow)]
    dependencies: Names<'a>,
    #[serde(borrow)]
    optional_dependencies: Names<'a>,
    #[serde(borrow)]
    peer_dependencies: Names<'a>,
    #[serde(borrow)]
    dev_dependencies: Names<'a>,
    workspaces: Option<serde_json::Value>,
}

/// One entry of the v1 `dependencies` tree (subset).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Dep<'a> {
    #[serde(borrow)]
    version: Option<Str<'a>>,
    #[serde(borrow)]
    resolved: Option<Str<'a>>,
    #[serde(borrow)]
    requires: Names<'a>,
    #[serde(borrow)]
    dependencies: Ordered<'a, Dep<'a>>,
}

// ---------------------------------------------------------------------------------------------
// v2 / v3

const NM: &str = "node_modules/";

/// Byte offset of the last `node_modules/` path segment in `path`.
fn last_nm(path: &str) -> Option<usize> {
    let mut end = path.len();
    while let Some(i) = path[..end].rfind(NM) {
        if i == 0 || path.as_bytes()[i - 1] == b'/' {
            return Some(i);
        }
        end = i;
    }
    None
}

/// Whether `path` is outside every `node_modules` (the root, a workspace member, the target
/// of a `file:` link): npm installs such a package's devDependencies.
fn is_top(path: &str) -> bool {
    last_nm(path).is_none()
}

/// The package name an install path stands for (`node_modules/@s/a` → `@s/a`).
fn name_from_path(path: &str) -> &str {
    match last_nm(path) {
        Some(i) => &path[i + NM.len()..],
        None => path.rsplit('/').next().unwrap_or(path),
    }
}

/// The directory Node looks in next: `node_modules/a/node_modules/@s/b` → `node_modules/a`,
/// `packages/ws-a` → `packages`.
fn parent_dir(dir: &str) -> &str {
    if let Some(i) = last_nm(dir) {
        let rest = &dir[i + NM.len()..];
        let segments = rest.split('/').count();
        if segments == 1 || (segments == 2 && rest.starts_with('@')) {
            return dir[..i].trim_end_matches('/');
        }
    }
    dir.rfind('/').map_or("", |i| &dir[..i])
}

/// Node's lookup of `name` from the package at `from`.
fn resolve(
    index: &FxHashMap<&str, usize>,
    from: &str,
    name: &str,
    buf: &mut String,
) -> Option<usize> {
    let mut dir = from;
    loop {
        buf.clear();
        if !dir.is_empty() {
            buf.push_str(dir);
            buf.push('/');
        }
        buf.push_str(NM);
        buf.push_str(name);
        if let Some(&i) = index.get(buf.as_str()) {
            return Some(i);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent_dir(dir);
    }
}

/// A plain version (`4.4.2`, `1.0.0-rc.1`), not a URL, path, git or alias spec.
fn is_plain_version(v: &str) -> bool {
    v.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
}

/// Whether a `resolved` value is a registry tarball (`https://registry.npmjs.org/ms/-/ms-2.1.3.tgz`,
/// or a mirror's with the same layout), not git, a local file or some other URL.
fn is_registry_tarball(resolved: &str) -> bool {
    (resolved.starts_with("https://") || resolved.starts_with("http://"))
        && resolved.contains("/-/")
}

fn is_registry(version: &str, resolved: Option<&str>) -> bool {
    is_plain_version(version) && resolved.is_none_or(is_registry_tarball)
}

/// What npm never writes into `packages`, each a located error: a path listed twice (serde
/// and npm would silently keep the last), a registry package without a valid version, and a
/// link whose target inside the project is missing (in a lockfile with a root entry; npm's
/// hidden lockfile may leave targets out).
fn check_entries(shown: &Path, text: &str, entries: &[(Str<'_>, Entry<'_>)]) -> Result<()> {
    let at = |key: &str, nth: usize, msg: String| {
        let line = key_lines(text, &format!("{:?}", key))
            .get(nth)
            .copied()
            .unwrap_or(1);
        Error::parse_at(shown, line, None, format!("{PREFIX} {msg}"))
    };
    let mut seen: FxHashMap<&str, ()> = FxHashMap::default();
    for (k, _) in entries {
        if seen.insert(&k.0, ()).is_some() {
            let lines = key_lines(text, &format!("{:?}", &*k.0));
            let (first, second) = (
                lines.first().copied().unwrap_or(1),
                lines.get(1).copied().unwrap_or(1),
            );
            return Err(at(
                &k.0,
                1,
                format!(
                    "packages[{:?}] is listed twice (at lines {first} and {second}; expected \
                     each install path once)",
                    &*k.0
                ),
            ));
        }
    }
    let has_root = seen.contains_key("");
    for (k, e) in entries {
        let path: &str = &k.0;
        if e.link == Some(true) {
            let target = e.resolved.as_ref().map_or("", |r| &*r.0);
            let target = target
                .strip_prefix("./")
                .unwrap_or(target)
                .trim_end_matches('/');
            // A target outside the project (`../x`) is left to `from_packages`, which keeps it
            // as a package of its own; one inside it is always recorded by npm.
            let inside = !target.starts_with("..") && !target.starts_with('/');
            if has_root && inside && !seen.contains_key(target) {
                return Err(at(
                    path,
                    0,
                    format!(
                        "packages[{path:?}] links to {target:?}, which the lock file does not \
                         contain (expected an entry packages[{target:?}])"
                    ),
                ));
            }
            continue;
        }
        let registry = last_nm(path).is_some()
            && e.resolved
                .as_ref()
                .is_some_and(|r| is_registry_tarball(&r.0));
        if !registry {
            continue;
        }
        match &e.version {
            None => {
                return Err(at(
                    path,
                    0,
                    format!("packages[{path:?}].version: missing (expected the version of a registry package)"),
                ))
            }
            Some(v) if nodejs_semver::Version::parse(&*v.0).is_err() => {
                return Err(at(
                    path,
                    0,
                    format!(
                        "packages[{path:?}].version: expected a semver version, found {:?}",
                        &*v.0
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Lines where `quoted` (a JSON string with its quotes) occurs followed by a colon.
fn key_lines(text: &str, quoted: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find(quoted) {
        let at = from + pos;
        from = at + quoted.len();
        if text[from..].trim_start().starts_with(':') {
            out.push(line_col(text, at).0);
        }
    }
    out
}

/// Reads the flat `packages` map of v2/v3.
fn from_packages(
    entries: &[(Str<'_>, Entry<'_>)],
    root_name: &dyn Fn() -> String,
    root_version: &dyn Fn() -> String,
) -> (Vec<LockedPackage>, Vec<usize>) {
    // Path → entry; with a duplicated key the last one wins, as in serde_json and npm.
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    index.reserve(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        index.insert(&k.0, i);
    }
    let live = |i: usize| index.get(&*entries[i].0 .0) == Some(&i);
    let is_link = |e: &Entry<'_>| e.link == Some(true);

    const NONE: usize = usize::MAX;
    let mut slot = vec![NONE; entries.len()];
    let mut packages: Vec<LockedPackage> = Vec::with_capacity(entries.len());
    // For each package, the entry whose dependencies it has.
    let mut source: Vec<Option<usize>> = Vec::with_capacity(entries.len());
    let mut root = None;
    for (i, (k, e)) in entries.iter().enumerate() {
        if !live(i) || is_link(e) {
            continue;
        }
        let path: &str = &k.0;
        let name = match (&e.name, path.is_empty()) {
            (Some(n), _) => n.0.to_string(),
            (None, true) => root_name(),
            (None, false) => name_from_path(path).to_owned(),
        };
        let version = match (&e.version, path.is_empty()) {
            (Some(v), _) => v.0.to_string(),
            (None, true) => root_version(),
            (None, false) => String::new(),
        };
        let registry = !is_top(path) && is_registry(&version, e.resolved.as_ref().map(|r| &*r.0));
        slot[i] = packages.len();
        if path.is_empty() {
            root = Some(packages.len());
        }
        packages.push(LockedPackage {
            name: name.into(),
            version: version.into(),
            registry,
            deps: Vec::new(),
        });
        source.push(Some(i));
    }
    // Links are the package they point at. A link whose target is missing stays a package of
    // its own, named after its path, with the link target as its version (as v1 spells it).
    let mut link_name: Vec<Option<&str>> = vec![None; packages.len()];
    for (i, (k, e)) in entries.iter().enumerate() {
        if !live(i) || !is_link(e) {
            continue;
        }
        let target = e.resolved.as_ref().map_or("", |r| &*r.0);
        let target = target
            .strip_prefix("./")
            .unwrap_or(target)
            .trim_end_matches('/');
        match index.get(target) {
            Some(&t) if slot[t] != NONE => {
                slot[i] = slot[t];
                if entries[t].1.name.is_none() && link_name[slot[t]].is_none() {
                    link_name[slot[t]] = Some(name_from_path(&k.0));
                }
            }
            _ => {
                slot[i] = packages.len();
                packages.push(LockedPackage {
                    name: e
                        .name
                        .as_ref()
                        .map_or_else(|| name_from_path(&k.0).into(), |n| n.0.to_string().into()),
                    version: e.version.as_ref().map_or_else(
                        || format!("file:{target}").into(),
                        |v| v.0.to_string().into(),
                    ),
                    registry: false,
                    deps: Vec::new(),
                });
                source.push(None);
                link_name.push(None);
            }
        }
    }
    // A link target without a `name` of its own (a `file:` directory) is called what the
    // link is called.
    for (p, n) in link_name.iter().enumerate() {
        if let (Some(n), Some(i)) = (n, source[p]) {
            if !entries[i].0 .0.is_empty() {
                packages[p].name = (*n).into();
            }
        }
    }

    // Without a root entry (npm's hidden lockfile `node_modules/.package-lock.json`), the root
    // is made from the top level and depends on every top-level package.
    let root = match root {
        Some(r) => r,
        None => {
            let deps = entries
                .iter()
                .enumerate()
                .filter(|&(i, (k, _))| {
                    live(i) && k.0.starts_with(NM) && parent_dir(&k.0).is_empty()
                })
                .map(|(i, _)| slot[i])
                .collect();
            packages.push(LockedPackage {
                name: root_name().into(),
                version: root_version().into(),
                registry: false,
                deps,
            });
            source.push(None);
            packages.len() - 1
        }
    };

    let mut depended = vec![false; packages.len()];
    let mut buf = String::new();
    for p in 0..packages.len() {
        let Some(i) = source[p] else { continue };
        let (k, e) = &entries[i];
        let path: &str = &k.0;
        let dev = is_top(path).then_some(&e.dev_dependencies.0);
        let mut deps = std::mem::take(&mut packages[p].deps);
        for name in e
            .dependencies
            .0
            .iter()
            .chain(&e.optional_dependencies.0)
            .chain(&e.peer_dependencies.0)
            .chain(dev.into_iter().flatten())
        {
            // A dependency the tree lacks (an optional one for another platform, a peer not
            // installed) is not an edge.
            if let Some(j) = resolve(&index, path, &name.0, &mut buf) {
                let d = slot[j];
                if d != NONE && d != p {
                    deps.push(d);
                    depended[d] = true;
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        packages[p].deps = deps;
    }

    // Roots: the project, then its workspace members (matched by the root's `workspaces`
    // patterns) and any other package outside node_modules that nothing depends on.
    let patterns = source[root]
        .and_then(|i| entries[i].1.workspaces.as_ref())
        .map(workspace_patterns)
        .unwrap_or_default();
    let mut roots = vec![root];
    for (p, src) in source.iter().enumerate() {
        let Some(i) = *src else { continue };
        let path: &str = &entries[i].0 .0;
        if p == root || path.is_empty() || !is_top(path) {
            continue;
        }
        if !depended[p] || is_workspace(&patterns, path) {
            roots.push(p);
        }
    }
    roots[1..].sort_unstable();
    (packages, roots)
}

/// The root's `workspaces` field: an array of patterns or `{"packages": [...]}`.
fn workspace_patterns(v: &serde_json::Value) -> Vec<(bool, Vec<String>)> {
    let list = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(o) => match o.get("packages") {
            Some(serde_json::Value::Array(a)) => a,
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    list.iter()
        .filter_map(serde_json::Value::as_str)
        .map(|p| {
            let (negated, p) = match p.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, p),
            };
            let p = p.trim_start_matches("./").trim_end_matches('/');
            (
                negated,
                p.split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .map(str::to_owned)
                    .collect(),
            )
        })
        .collect()
}

fn is_workspace(patterns: &[(bool, Vec<String>)], path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let mut matched = false;
    for (negated, pat) in patterns {
        if glob(pat, &segments) {
            matched = !negated;
        }
    }
    matched
}

/// Path glob over segments: `**` matches any number of segments, `*` and `?` work within one.
/// Dynamic programming, so hostile patterns cost at most patterns × segments steps.
fn glob(pat: &[String], path: &[&str]) -> bool {
    // ok[j]: the pattern so far matches path[..j].
    let mut ok = vec![false; path.len() + 1];
    ok[0] = true;
    for p in pat {
        let mut next = vec![false; path.len() + 1];
        if p == "**" {
            let mut any = false;
            for j in 0..=path.len() {
                any |= ok[j];
                next[j] = any;
            }
        } else {
            for j in 0..path.len() {
                if ok[j] && segment_glob(p.as_bytes(), path[j].as_bytes()) {
                    next[j + 1] = true;
                }
            }
        }
        ok = next;
    }
    ok[path.len()]
}

/// `*` / `?` wildcard match within one path segment (linear backtracking on the last `*`).
fn segment_glob(p: &[u8], s: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        if i < p.len() && (p[i] == b'?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&b| b == b'*')
}

// ---------------------------------------------------------------------------------------------
// v1

/// Reads the nested `dependencies` tree of v1, with a synthesized root at index 0.
fn from_v1(
    top: &[(Str<'_>, Dep<'_>)],
    root_name: String,
    root_version: String,
) -> (Vec<LockedPackage>, Vec<usize>) {
    struct Scope<'s> {
        parent: Option<usize>,
        names: FxHashMap<&'s str, usize>,
    }
    struct Node<'s, 'a> {
        /// The scope Node searches first: its own nested `dependencies`, else the one it is in.
        scope: usize,
        requires: &'s [Str<'a>],
    }
    let mut packages = vec![LockedPackage {
        name: root_name.into(),
        version: root_version.into(),
        registry: false,
        deps: Vec::new(),
    }];
    let mut nodes: Vec<Node<'_, '_>> = vec![Node {
        scope: 0,
        requires: &[],
    }];
    let mut scopes = vec![Scope {
        parent: None,
        names: FxHashMap::default(),
    }];
    // Depth-first, iteratively: (entries of a scope, its id).
    let mut stack = vec![(top, 0usize)];
    while let Some((deps, scope)) = stack.pop() {
        for (k, d) in deps {
            let key: &str = &k.0;
            let written = d.version.as_ref().map_or("", |v| &*v.0);
            let (name, version) = match written.strip_prefix("npm:") {
                // Past the first character (a scope's `@`), which may be multi-byte (fuzzing:
                // tests/fixtures/regress/r7-npm-alias-multibyte.package-lock.json).
                Some(spec) => {
                    let from = spec.chars().next().map_or(0, char::len_utf8);
                    match spec[from..].rfind('@') {
                        Some(at) => (&spec[..from + at], &spec[from + at + 1..]),
                        None => (spec, ""),
                    }
                }
                None => (key, written),
            };
            let idx = packages.len();
            packages.push(LockedPackage {
                name: name.into(),
                version: version.into(),
                registry: is_registry(version, d.resolved.as_ref().map(|r| &*r.0)),
                deps: Vec::new(),
            });
            scopes[scope].names.insert(key, idx);
            let own = if d.dependencies.0.is_empty() {
                scope
            } else {
                scopes.push(Scope {
                    parent: Some(scope),
                    names: FxHashMap::default(),
                });
                stack.push((&d.dependencies.0, scopes.len() - 1));
                scopes.len() - 1
            };
            nodes.push(Node {
                scope: own,
                requires: &d.requires.0,
            });
        }
    }
    let mut root_deps: Vec<usize> = scopes[0].names.values().copied().collect();
    root_deps.sort_unstable();
    packages[0].deps = root_deps;
    for (p, node) in nodes.iter().enumerate().skip(1) {
        let mut deps = Vec::with_capacity(node.requires.len());
        for name in node.requires {
            let mut s = Some(node.scope);
            while let Some(id) = s {
                if let Some(&j) = scopes[id].names.get(&*name.0) {
                    if j != p {
                        deps.push(j);
                    }
                    break;
                }
                s = scopes[id].parent;
            }
        }
        deps.sort_unstable();
        deps.dedup();
        packages[p].deps = deps;
    }
    (packages, vec![0])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "tests/fixtures/lockfiles/npm";

    fn load(name: &str) -> LockfileFact {
        let id = format!("{DIR}/{name}");
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&id))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        parse(&id, Path::new(&id), &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(name: &str) -> String {
        let id = format!("{DIR}/invalid/{name}/package-lock.json");
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&id))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let e = parse(&id, Path::new(&id), &text).unwrap_err().to_string();
        assert!(
            e.contains("failed to parse lock file: ")
                || e.starts_with("unresolved merge conflict markers at "),
            "{e}"
        );
        e
    }

    /// The one package `name@version`.
    fn find(l: &LockfileFact, name: &str, version: &str) -> usize {
        let hits: Vec<usize> = (0..l.packages.len())
            .filter(|&i| l.packages[i].name == name && l.packages[i].version == version)
            .collect();
        assert_eq!(hits.len(), 1, "{name}@{version} in {:?}", l.packages);
        hits[0]
    }

    fn label(l: &LockfileFact, i: usize) -> String {
        format!("{}@{}", l.packages[i].name, l.packages[i].version)
    }

    /// `name@version` of the dependencies of `name@version`, sorted.
    fn deps(l: &LockfileFact, name: &str, version: &str) -> Vec<String> {
        let mut d: Vec<String> = l.packages[find(l, name, version)]
            .deps
            .iter()
            .map(|&j| label(l, j))
            .collect();
        d.sort();
        d
    }

    fn roots(l: &LockfileFact) -> Vec<String> {
        l.roots.iter().map(|&r| label(l, r)).collect()
    }

    fn registry(l: &LockfileFact, name: &str, version: &str) -> bool {
        l.packages[find(l, name, version)].registry
    }

    /// The registry pins, as a sorted list of `name@version`.
    fn pins(l: &LockfileFact) -> Vec<String> {
        let mut p: Vec<String> = (0..l.packages.len())
            .filter(|&i| l.packages[i].registry)
            .map(|i| label(l, i))
            .collect();
        p.sort();
        p
    }

    const BASIC_PINS: [&str; 5] = [
        "debug@2.6.9",
        "has-flag@4.0.0",
        "is-arrayish@0.3.2",
        "ms@2.0.0",
        "ms@2.1.3",
    ];

    /// fx-basic: debug@^2.6.9 (→ ms 2.0.0, nested), ms 2.1.3 direct, a `file:` package
    /// local-lib (→ ms 2.1.3), dev has-flag, optional is-arrayish.
    fn check_basic_flat(l: &LockfileFact) {
        assert_eq!(l.ecosystem, Ecosystem::Npm);
        // 8 entries, the link node_modules/local-lib merged into its target.
        assert_eq!(l.packages.len(), 7, "{:?}", l.packages);
        assert_eq!(roots(l), ["fx-basic@1.0.0"]);
        assert_eq!(l.roots, [0]);
        assert_eq!(pins(l), BASIC_PINS);
        assert!(!registry(l, "fx-basic", "1.0.0"));
        assert!(!registry(l, "local-lib", "0.1.0"));
        assert!(registry(l, "debug", "2.6.9"));
        // Two copies of ms: debug's nested one, and the top-level one everybody else sees.
        assert_eq!(deps(l, "debug", "2.6.9"), ["ms@2.0.0"]);
        assert_eq!(deps(l, "local-lib", "0.1.0"), ["ms@2.1.3"]);
        assert_eq!(
            deps(l, "fx-basic", "1.0.0"),
            [
                "debug@2.6.9",
                "has-flag@4.0.0",
                "is-arrayish@0.3.2",
                "local-lib@0.1.0",
                "ms@2.1.3"
            ]
        );
        assert!(deps(l, "ms", "2.0.0").is_empty());
    }

    #[test]
    fn v3() {
        check_basic_flat(&load("package-lock.v3.json"));
    }

    #[test]
    fn v2_reads_packages_not_the_legacy_tree() {
        let l = load("package-lock.v2.json");
        check_basic_flat(&l);
        // The legacy tree would have said `local-lib@file:local-lib`.
        assert!(!l.packages.iter().any(|p| p.version.starts_with("file:")));
    }

    #[test]
    fn shrinkwrap_without_resolved_urls() {
        // Written with `omit-lockfile-registry-resolved`: registry entries carry only
        // `version` and `integrity`.
        check_basic_flat(&load("npm-shrinkwrap.json"));
    }

    #[test]
    fn v1() {
        let l = load("package-lock.v1.json");
        assert_eq!(l.packages.len(), 7, "{:?}", l.packages);
        assert_eq!(roots(&l), ["fx-basic@1.0.0"]);
        assert_eq!(pins(&l), BASIC_PINS);
        // v1 spells a `file:` dependency's version as its spec.
        assert!(!registry(&l, "local-lib", "file:local-lib"));
        assert!(!registry(&l, "fx-basic", "1.0.0"));
        assert_eq!(deps(&l, "debug", "2.6.9"), ["ms@2.0.0"]);
        assert_eq!(deps(&l, "local-lib", "file:local-lib"), ["ms@2.1.3"]);
        // The synthesized root depends on every top-level entry, dev ones included.
        assert_eq!(
            deps(&l, "fx-basic", "1.0.0"),
            [
                "debug@2.6.9",
                "has-flag@4.0.0",
                "is-arrayish@0.3.2",
                "local-lib@file:local-lib",
                "ms@2.1.3"
            ]
        );
    }

    /// fx-workspaces: root → debug@^2.6.9; ws-a → ws-b, debug@^4.3.0 (nested under
    /// packages/ws-a with its own ms 2.1.3); ws-b → peer ms@^2.0.0, dev has-flag.
    fn check_workspaces(l: &LockfileFact) {
        // 10 entries, two of them links.
        assert_eq!(l.packages.len(), 8, "{:?}", l.packages);
        assert_eq!(
            roots(l),
            ["fx-workspaces@1.0.0", "ws-a@1.0.0", "ws-b@1.0.0"]
        );
        assert!(!registry(l, "ws-a", "1.0.0"));
        assert!(!registry(l, "ws-b", "1.0.0"));
        assert!(registry(l, "debug", "4.4.3"));
        assert_eq!(deps(l, "fx-workspaces", "1.0.0"), ["debug@2.6.9"]);
        assert_eq!(deps(l, "ws-a", "1.0.0"), ["debug@4.4.3", "ws-b@1.0.0"]);
        assert_eq!(deps(l, "debug", "4.4.3"), ["ms@2.1.3"]);
        assert_eq!(deps(l, "debug", "2.6.9"), ["ms@2.0.0"]);
        // A workspace member's peer and dev dependencies are installed.
        assert_eq!(deps(l, "ws-b", "1.0.0"), ["has-flag@4.0.0", "ms@2.0.0"]);
    }

    #[test]
    fn workspaces_v3() {
        check_workspaces(&load("workspaces.v3.json"));
    }

    #[test]
    fn workspaces_v2() {
        check_workspaces(&load("workspaces.v2.json"));
    }

    fn check_alias(l: &LockfileFact) {
        assert_eq!(l.packages.len(), 4, "{:?}", l.packages);
        assert_eq!(roots(l), ["fx-alias@0.2.0"]);
        assert!(!l.packages.iter().any(|p| p.name == "ms-old"));
        assert_eq!(pins(l), ["@types/ms@0.7.34", "ms@2.0.0", "ms@2.1.3"]);
        assert_eq!(
            deps(l, "fx-alias", "0.2.0"),
            ["@types/ms@0.7.34", "ms@2.0.0", "ms@2.1.3"]
        );
    }

    #[test]
    fn alias_v3() {
        check_alias(&load("alias.v3.json"));
    }

    #[test]
    fn alias_v1() {
        check_alias(&load("alias.v1.json"));
    }

    #[test]
    fn git_and_url_dependencies_are_not_registry() {
        let v3 = r#"{"name": "g", "lockfileVersion": 3, "packages": {
  "": {"name": "g", "dependencies": {"is-number": "github:jonschlinkert/is-number#98e8ff1",
        "t": "https://example.com/t.tgz", "m": "file:../m-1.0.0.tgz"}},
  "node_modules/is-number": {"version": "7.0.0",
    "resolved": "git+ssh://git@github.com/jonschlinkert/is-number.git#98e8ff1da1a89f93d1397a24d7413ed15421c139"},
  "node_modules/t": {"version": "1.0.0", "resolved": "https://example.com/t.tgz", "integrity": "sha512-x"},
  "node_modules/m": {"version": "1.0.0", "resolved": "file:../m-1.0.0.tgz", "integrity": "sha512-y"}
}}"#;
        let l = parse("package-lock.json", Path::new("x"), v3).unwrap();
        assert_eq!(l.packages.len(), 4);
        // A root without a version keeps an empty one.
        assert_eq!(roots(&l), ["g@"]);
        assert!(pins(&l).is_empty(), "{:?}", l.packages);
        assert_eq!(deps(&l, "g", "").len(), 3);

        let v1 = r#"{"name": "g", "version": "1.0.0", "lockfileVersion": 1, "dependencies": {
  "is-number": {"version": "github:jonschlinkert/is-number#98e8ff1da1a89f93d1397a24d7413ed15421c139"},
  "t": {"version": "https://example.com/t.tgz", "integrity": "sha512-x"},
  "ms": {"version": "2.1.3", "integrity": "sha512-z"}
}}"#;
        let l = parse("package-lock.json", Path::new("x"), v1).unwrap();
        assert_eq!(l.packages.len(), 4);
        assert_eq!(pins(&l), ["ms@2.1.3"]);
        assert!(!registry(
            &l,
            "is-number",
            "github:jonschlinkert/is-number#98e8ff1da1a89f93d1397a24d7413ed15421c139"
        ));
    }

    #[test]
    fn scoped_alias_in_v1_and_requires_walk_up() {
        let v1 = r#"{"name": "s", "version": "1.0.0", "lockfileVersion": 1, "requires": true,
 "dependencies": {
  "a": {"version": "1.0.0", "requires": {"b": "^1", "c": "^2"},
        "dependencies": {"b": {"version": "1.0.0", "requires": {"c": "^2"}}}},
  "b": {"version": "2.0.0"},
  "c": {"version": "2.0.0"},
  "my-types": {"version": "npm:@types/node@20.1.0",
    "resolved": "https://registry.npmjs.org/@types/node/-/node-20.1.0.tgz"}
}}"#;
        let l = parse("package-lock.json", Path::new("x"), v1).unwrap();
        assert_eq!(l.packages.len(), 6);
        assert!(registry(&l, "@types/node", "20.1.0"));
        assert_eq!(deps(&l, "a", "1.0.0"), ["b@1.0.0", "c@2.0.0"]);
        assert_eq!(deps(&l, "b", "1.0.0"), ["c@2.0.0"]);
    }

    #[test]
    fn hidden_lockfile_without_root_entry() {
        let text = r#"{"name": "h", "lockfileVersion": 3, "requires": true, "packages": {
  "node_modules/@s/a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/@s/a/-/a-1.0.0.tgz",
    "dependencies": {"b": "^1"}},
  "node_modules/@s/a/node_modules/b": {"version": "1.1.0", "integrity": "sha512-x"},
  "node_modules/b": {"version": "2.0.0", "integrity": "sha512-y"}
}}"#;
        let l = parse("package-lock.json", Path::new("x"), text).unwrap();
        assert_eq!(l.packages.len(), 4);
        assert_eq!(roots(&l), ["h@"]);
        assert_eq!(deps(&l, "h", ""), ["@s/a@1.0.0", "b@2.0.0"]);
        assert_eq!(deps(&l, "@s/a", "1.0.0"), ["b@1.1.0"]);
    }

    #[test]
    fn byte_order_mark_is_tolerated() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("{DIR}/package-lock.v3.json")),
        )
        .unwrap();
        let l = parse("p", Path::new("p"), &format!("\u{feff}{text}")).unwrap();
        check_basic_flat(&l);
    }

    #[test]
    fn workspace_globs() {
        let pats = workspace_patterns(&serde_json::json!({
            "packages": ["./packages/*", "tools/**", "!packages/skip", "apps/web/"]
        }));
        assert!(is_workspace(&pats, "packages/a"));
        assert!(!is_workspace(&pats, "packages/skip"));
        assert!(!is_workspace(&pats, "packages/a/b"));
        assert!(is_workspace(&pats, "tools/x/y"));
        assert!(is_workspace(&pats, "apps/web"));
        assert!(!is_workspace(&pats, "apps/api"));
        assert!(segment_glob(b"ws-*", b"ws-a"));
        assert!(segment_glob(b"*-?", b"ws-a"));
        assert!(!segment_glob(b"ws-*b", b"ws-a"));
        // A hostile pattern costs patterns × segments, not an exponential search.
        let hostile: Vec<String> = std::iter::repeat_n(["**".to_owned(), "a".to_owned()], 200)
            .flatten()
            .chain(["b".to_owned()])
            .collect();
        let deep = vec!["a"; 300];
        assert!(!glob(&hostile, &deep));
    }

    #[test]
    fn parent_directories() {
        assert_eq!(
            parent_dir("node_modules/a/node_modules/@s/b"),
            "node_modules/a"
        );
        assert_eq!(parent_dir("node_modules/a"), "");
        assert_eq!(parent_dir("packages/ws-a/node_modules/x"), "packages/ws-a");
        assert_eq!(parent_dir("packages/ws-a"), "packages");
        assert_eq!(parent_dir("packages"), "");
        assert_eq!(name_from_path("node_modules/a/node_modules/@s/b"), "@s/b");
        assert!(is_top("packages/ws-a") && !is_top("packages/ws-a/node_modules/x"));
    }

    #[test]
    fn invalid_truncated() {
        let e = error("truncated");
        assert!(e.contains("/truncated/package-lock.json:39:"), "{e}");
        assert!(e.contains("EOF while parsing"), "{e}");
    }

    #[test]
    fn invalid_conflict_markers() {
        let e = error("conflict");
        assert!(
            e.starts_with("unresolved merge conflict markers at ")
                && e.contains("/conflict/package-lock.json:65: "),
            "{e}"
        );
    }

    #[test]
    fn invalid_future_version() {
        let id = format!("{DIR}/invalid/version9/package-lock.json");
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&id)).unwrap();
        let e = parse(&id, Path::new(&id), &text).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("format version 9 of {id}:4 is not supported (supported: 1, 2 and 3)")
        );
    }

    #[test]
    fn invalid_empty_object() {
        let e = error("empty");
        assert!(e.contains("/empty/package-lock.json:1: "), "{e}");
        assert!(
            e.contains(
                "expected \"lockfileVersion\" 1, 2 or 3, found no \"lockfileVersion\" field"
            ),
            "{e}"
        );
    }

    #[test]
    fn invalid_version_not_a_string() {
        let e = error("version-not-string");
        assert!(
            e.contains("/version-not-string/package-lock.json:44:"),
            "{e}"
        );
        assert!(
            e.contains("invalid type: integer `4`, expected a string"),
            "{e}"
        );
    }

    #[test]
    fn invalid_no_packages() {
        let e = error("no-packages");
        assert!(e.contains("/no-packages/package-lock.json:6: "), "{e}");
        assert!(
            e.contains("pins no packages (expected a non-empty \"packages\""),
            "{e}"
        );
    }

    #[test]
    fn other_malformed_inputs_are_errors_not_panics() {
        for text in [
            "",
            "[]",
            "null",
            "\u{feff}",
            r#"{"lockfileVersion": "3"}"#,
            r#"{"lockfileVersion": 1}"#,
            r#"{"lockfileVersion": 3, "dependencies": {"a": {"version": "1.0.0"}}}"#,
            r#"{"lockfileVersion": 3, "packages": {"": {"version": ["1"]}}}"#,
            r#"{"lockfileVersion": 9, "packages": {"": {"version": ["1"]}}}"#,
            r#"{"lockfileVersion": 3, "packages": []}"#,
            r#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "npm:"}}}"#,
        ] {
            let e = parse("p", Path::new("p"), text);
            let e = e.map(|l| l.packages.len()).map_err(|e| e.to_string());
            match e {
                Err(e) => assert!(
                    (e.starts_with("p:") && e.contains("failed to parse lock file: "))
                        || e.starts_with("format version 9 of p:1 is not supported"),
                    "{e}"
                ),
                Ok(n) => assert!(text.contains("npm:") && n == 2, "{text} parsed to {n}"),
            }
        }
        let e = parse(
            "p",
            Path::new("p"),
            r#"{"lockfileVersion": 9, "packages": {"": {"version": ["1"]}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("format version 9 of p:1 "), "{e}");
    }

    #[test]
    fn link_to_a_missing_target_is_its_own_package() {
        let text = r#"{"name": "l", "version": "1.0.0", "lockfileVersion": 3, "packages": {
  "": {"name": "l", "version": "1.0.0", "dependencies": {"x": "file:../x"}},
  "node_modules/x": {"resolved": "../x", "link": true}
}}"#;
        let l = parse("p", Path::new("p"), text).unwrap();
        assert_eq!(deps(&l, "l", "1.0.0"), ["x@file:../x"]);
        assert!(!registry(&l, "x", "file:../x"));
    }
}
