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
    let shown = Path::new(id);
    if let Some(line) = conflict_marker_line(text) {
        return Err(Error::parse_at(
            shown,
            line,
            Some(1),
            "failed to parse lock file: found a git merge-conflict marker; resolve the conflict first",
        ));
    }
    let lock: RawLock = toml::from_str(text).map_err(|e| {
        let mut err = toml_error(shown, text, &e);
        if let Error::Parse { message, .. } = &mut err {
            *message = format!("failed to parse lock file: {message}");
        }
        err
    })?;
    // The format version is checked before anything else, so a future format is reported as
    // such rather than as whatever field it happens to trip over.
    if let Some(v) = &lock.version {
        match v.get_ref().as_integer() {
            Some(n) if SUPPORTED.contains(&n) => {}
            _ => {
                let line = super::top_level_key_line(text, "version");
                return Err(Error::parse_at(
                    shown,
                    line,
                    None,
                    format!(
                        "failed to parse lock file: expected lock file version 1 to 4, found {}",
                        v.get_ref()
                    ),
                ));
            }
        }
    }
    if lock.package.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse lock file: it pins no packages (expected at least one [[package]])",
        ));
    }
    let at = |p: &RawPackage| crate::error::line_col(text, p.name.span().start);
    for p in &lock.package {
        if semver::Version::parse(&p.version).is_err() {
            let (line, col) = at(p);
            return Err(Error::parse_at(
                shown,
                line,
                Some(col),
                format!(
                    "failed to parse lock file: package {}: expected a semver version, found {:?}",
                    p.name.get_ref(),
                    p.version
                ),
            ));
        }
    }

    // Sources repeat: each distinct one is read once.
    let mut default_registry: FxHashMap<&str, bool> = FxHashMap::default();
    for p in &lock.package {
        if let Some(s) = &p.source {
            if !default_registry.contains_key(s.as_str()) {
                let id = cargo_lock::SourceId::from_url(s).map_err(|e| {
                    let (line, col) = at(p);
                    Error::parse_at(
                        shown,
                        line,
                        Some(col),
                        format!(
                            "failed to parse lock file: package {}: invalid source {s:?}: {e}",
                            p.name.get_ref()
                        ),
                    )
                })?;
                default_registry.insert(s, id.is_default_registry());
            }
        }
    }

    let mut by_name: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(p.name.get_ref()).or_default().push(i);
    }
    let mut packages = Vec::with_capacity(lock.package.len());
    let mut depended = vec![false; lock.package.len()];
    for p in &lock.package {
        let mut deps = Vec::with_capacity(p.dependencies.len());
        for d in &p.dependencies {
            match resolve(d, &lock.package, &by_name) {
                Some(j) => {
                    depended[j] = true;
                    deps.push(j);
                }
                None => {
                    let (line, col) = at(p);
                    return Err(Error::parse_at(
                        shown,
                        line,
                        Some(col),
                        format!(
                            "failed to parse lock file: package {} {} depends on {d}, which the lock file does not contain",
                            p.name.get_ref(),
                            p.version
                        ),
                    ));
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        packages.push(LockedPackage {
            name: p.name.get_ref().clone(),
            version: p.version.clone(),
            registry: p.source.as_deref().is_some_and(|s| default_registry[s]),
            deps,
        });
    }
    // Workspace members carry no source; a lockfile of registry packages only (rare) is rooted
    // at whatever nothing depends on.
    let mut roots: Vec<usize> = lock
        .package
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

/// Resolves one `dependencies` entry (`name`, `name version` or `name version (source)`, as
/// cargo writes them) to a package index, the way cargo does: the name, then the version
/// when given, then the source when given; an entry naming a source no package has falls
/// back to the package with that name and version.
fn resolve(
    entry: &str,
    packages: &[RawPackage],
    by_name: &FxHashMap<&str, Vec<usize>>,
) -> Option<usize> {
    let mut parts = entry.splitn(3, ' ');
    let name = parts.next()?;
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    let candidates = by_name.get(name)?;
    let mut same_version = candidates
        .iter()
        .copied()
        .filter(|&j| version.is_none_or(|v| packages[j].version == v));
    let first = same_version.next()?;
    let Some(source) = source else {
        return Some(first);
    };
    std::iter::once(first)
        .chain(same_version)
        .find(|&j| packages[j].source.as_deref() == Some(source))
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
    fn future_version_is_an_error() {
        let text = V3.replace("version = 3", "version = 9");
        let e = parse("x/Cargo.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x/Cargo.lock:2: ") && e.contains("found 9"),
            "{e}"
        );
    }

    #[test]
    fn conflict_markers_are_an_error() {
        let text = format!("{V3}<<<<<<< HEAD\n");
        let e = parse("Cargo.lock", Path::new("x"), &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("merge-conflict"), "{e}");
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
