//! Cargo.lock v1–v4 through the `cargo-lock` crate, whose errors carry no path: every error is
//! wrapped here with the file, and the line and column when TOML reports them.

use std::collections::HashMap;
use std::path::Path;

use super::conflict_marker_line;
use crate::error::{Error, Result};
use crate::ingest::{Ecosystem, LockedPackage, LockfileFact};

/// The lockfile format versions blastradius understands.
pub const SUPPORTED: std::ops::RangeInclusive<i64> = 1..=4;

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
    // The format version is checked before cargo-lock sees the file, so a future format is
    // reported as such rather than as whatever field it happens to trip over.
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| toml_error(shown, text, &e))?;
    if let Some(v) = table.get("version") {
        match v.as_integer() {
            Some(n) if SUPPORTED.contains(&n) => {}
            _ => {
                let line = super::top_level_key_line(text, "version");
                return Err(Error::parse_at(
                    shown,
                    line,
                    None,
                    format!(
                        "failed to parse lock file: expected lock file version 1 to 4, found {v}"
                    ),
                ));
            }
        }
    }
    if let Some(bad) = non_ascii_checksum(&table) {
        let line = text
            .lines()
            .position(|l| l.contains(bad))
            .map_or(1, |i| i + 1);
        return Err(Error::parse_at(
            shown,
            line,
            None,
            format!("failed to parse lock file: invalid checksum {bad:?}: expected 64 hex digits"),
        ));
    }
    let lock: cargo_lock::Lockfile = text.parse().map_err(|e: cargo_lock::Error| {
        let msg = e.to_string();
        match locate_toml_message(&msg) {
            Some((line, col, what)) => Error::parse_at(
                shown,
                line,
                Some(col),
                format!("failed to parse lock file: {what}"),
            ),
            None => Error::parse_in(shown, format!("failed to parse lock file: {msg}")),
        }
    })?;
    if lock.packages.is_empty() {
        return Err(Error::parse_in(
            shown,
            "failed to parse lock file: it pins no packages (expected at least one [[package]])",
        ));
    }

    let mut index: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (i, p) in lock.packages.iter().enumerate() {
        index
            .entry((p.name.as_str(), p.version.to_string()))
            .or_default()
            .push(i);
    }
    let mut packages = Vec::with_capacity(lock.packages.len());
    let mut depended = vec![false; lock.packages.len()];
    for p in &lock.packages {
        let mut deps = Vec::with_capacity(p.dependencies.len());
        for d in &p.dependencies {
            let candidates = index
                .get(&(d.name.as_str(), d.version.to_string()))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let found = candidates
                .iter()
                .copied()
                .find(|&j| d.matches(&lock.packages[j]))
                .or_else(|| candidates.first().copied());
            match found {
                Some(j) => {
                    depended[j] = true;
                    deps.push(j);
                }
                None => {
                    return Err(Error::parse_in(
                        shown,
                        format!(
                            "failed to parse lock file: package {} {} depends on {} {}, which the lock file does not contain",
                            p.name, p.version, d.name, d.version
                        ),
                    ))
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        packages.push(LockedPackage {
            name: p.name.as_str().to_owned(),
            version: p.version.to_string(),
            registry: p.source.as_ref().is_some_and(|s| s.is_default_registry()),
            deps,
        });
    }
    // Workspace members carry no source; a lockfile of registry packages only (rare) is rooted
    // at whatever nothing depends on.
    let mut roots: Vec<usize> = lock
        .packages
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

/// A checksum (`[[package]] checksum` or a v1 `[metadata]` `"checksum …"` entry) that is not
/// ASCII: cargo-lock 11 slices it two bytes at a time and panics inside a multi-byte character
/// (found by fuzzing, tests/fixtures/regress/r7-cargo-checksum-non-ascii.Cargo.lock).
fn non_ascii_checksum(table: &toml::Table) -> Option<&str> {
    let in_packages = table
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("checksum"));
    let in_metadata = table
        .get("metadata")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("checksum "))
        .map(|(_, v)| v);
    in_packages
        .chain(in_metadata)
        .filter_map(toml::Value::as_str)
        .find(|c| !c.is_ascii())
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

/// Finds "at line L, column C" in a rendered TOML error and the description under it.
fn locate_toml_message(msg: &str) -> Option<(usize, usize, String)> {
    let at = msg.find("at line ")?;
    let rest = &msg[at + "at line ".len()..];
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let what = msg
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with('^'))
        .unwrap_or("invalid TOML")
        .to_owned();
    Some((line.trim().parse().ok()?, col.parse().ok()?, what))
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
