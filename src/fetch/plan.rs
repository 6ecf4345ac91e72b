//! Which registry documents to fetch: every package the inputs name (lockfile pins from the
//! public registry, manifest requirements, requirements of registry metadata given as input),
//! minus the packages whose metadata the inputs already carry.
//!
//! Package names are hostile input: a [`PackageKey`] exists only for a name that is valid in its
//! ecosystem (see [`PackageKey::new`]), so every later step (URLs, cache paths) may rely on it.

use std::collections::BTreeSet;
use std::fmt;

use crate::ingest::{DepFact, DepKind, Ecosystem, Facts};

/// One package of one registry, its name validated and in the registry's canonical spelling:
/// crates.io names lowercased (the index is case-insensitive), PyPI names PEP 503-normalised,
/// npm names as written (npm is case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey {
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Canonical name.
    pub name: String,
}

impl fmt::Display for PackageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ecosystem, self.name)
    }
}

/// Longest name accepted in any ecosystem (npm's limit; crates.io allows 64).
const MAX_NAME: usize = 214;

impl PackageKey {
    /// Validates `name` by its ecosystem's rules and canonicalises it.
    ///
    /// - crates.io: 1–64 ASCII letters, digits, `-` and `_`, starting with a letter (crates.io's
    ///   own rule), and not a Windows device name (which crates.io reserves);
    /// - npm: the rules of `validate-npm-package-name` that old packages also satisfy: at most
    ///   214 characters, only characters `encodeURIComponent` leaves alone, `@scope/name` with
    ///   both parts so, no part starting with `.` or `_`, not `node_modules` or `favicon.ico`;
    /// - PyPI: a PEP 508 name (letters, digits, `.`, `-`, `_`; alphanumeric at both ends).
    ///
    /// # Errors
    /// A sentence saying what is wrong with the name (the name itself is not repeated, since it
    /// may hold anything).
    pub fn new(ecosystem: Ecosystem, name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("empty package name".into());
        }
        if name.len() > MAX_NAME {
            return Err(format!(
                "package name of {} bytes; the limit is {MAX_NAME}",
                name.len()
            ));
        }
        let name = match ecosystem {
            Ecosystem::CratesIo => crate_name(name)?,
            Ecosystem::Npm => npm_name(name)?,
            Ecosystem::Pypi => pypi_name(name)?,
        };
        Ok(PackageKey { ecosystem, name })
    }
}

/// Windows device names: reserved as file names whatever the extension.
pub(crate) fn is_device_name(stem: &str) -> bool {
    let s = stem.to_ascii_lowercase();
    matches!(s.as_str(), "con" | "prn" | "aux" | "nul")
        || (s.len() == 4
            && (s.starts_with("com") || s.starts_with("lpt"))
            && s.as_bytes()[3].is_ascii_digit())
}

fn crate_name(name: &str) -> Result<String, String> {
    if name.len() > 64 {
        return Err(format!(
            "crate name of {} characters; crates.io allows 64",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("a crate name starts with an ASCII letter".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "a crate name holds only ASCII letters, digits, `-` and `_`, found {c:?}"
        ));
    }
    if is_device_name(name) {
        return Err("a Windows device name, which crates.io reserves".into());
    }
    Ok(name.to_ascii_lowercase())
}

fn npm_part(part: &str, what: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("empty {what} in an npm package name"));
    }
    if part.starts_with('.') || part.starts_with('_') {
        return Err(format!("an npm {what} cannot start with `.` or `_`"));
    }
    if let Some(c) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.!~*'()".contains(*c)))
    {
        return Err(format!(
            "an npm {what} holds only URL-safe characters (letters, digits, -_.!~*'()), found {c:?}"
        ));
    }
    Ok(())
}

fn npm_name(name: &str) -> Result<String, String> {
    match name.strip_prefix('@') {
        Some(scoped) => {
            let (scope, pkg) = scoped
                .split_once('/')
                .ok_or("a scoped npm name is @scope/name")?;
            npm_part(scope, "scope")?;
            npm_part(pkg, "name")?;
        }
        None => {
            npm_part(name, "name")?;
            if name == "node_modules" || name == "favicon.ico" {
                return Err("a name npm reserves".into());
            }
        }
    }
    Ok(name.to_owned())
}

fn pypi_name(name: &str) -> Result<String, String> {
    let ok_end = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok_end(name.chars().next()) || !ok_end(name.chars().last()) {
        return Err("a PyPI name starts and ends with an ASCII letter or digit (PEP 508)".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Err(format!(
            "a PyPI name holds only ASCII letters, digits, `.`, `-` and `_` (PEP 508), found {c:?}"
        ));
    }
    Ok(Ecosystem::Pypi.normalise(name))
}

/// What to fetch.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Packages to fetch, sorted.
    pub packages: BTreeSet<PackageKey>,
    /// Packages whose metadata the inputs carry: never fetched, and not followed into by
    /// `--transitive` (the inputs' own documents already name what they depend on).
    pub provided: BTreeSet<PackageKey>,
    /// Names the inputs use that are not valid package names: `(ecosystem, name, why)`.
    /// Reported as failures; never turned into a URL or a path.
    pub invalid: Vec<(Ecosystem, String, String)>,
}

impl Plan {
    /// The packages `facts` names: registry pins of lockfiles, every requirement of manifests,
    /// and the non-dev requirements of registry metadata among the inputs; minus the packages
    /// that metadata describes.
    pub fn from_facts(facts: &Facts) -> Plan {
        let mut plan = Plan::default();
        for v in &facts.versions {
            if let Ok(k) = PackageKey::new(v.ecosystem, &v.name) {
                plan.provided.insert(k);
            }
        }
        for l in &facts.lockfiles {
            for p in l.packages.iter().filter(|p| p.registry) {
                plan.add(l.ecosystem, &p.name);
            }
        }
        for m in &facts.manifests {
            for d in &m.deps {
                plan.add(m.ecosystem, &d.package);
            }
        }
        for v in &facts.versions {
            for d in v.deps.iter().filter(|d| follows(d)) {
                plan.add(v.ecosystem, &d.package);
            }
        }
        plan.invalid.sort();
        plan.invalid.dedup();
        plan
    }

    /// Adds one package by name (ignored when the inputs carry its metadata).
    pub fn add(&mut self, ecosystem: Ecosystem, name: &str) {
        match PackageKey::new(ecosystem, name) {
            Ok(k) => {
                if !self.provided.contains(&k) {
                    self.packages.insert(k);
                }
            }
            Err(why) => self.invalid.push((ecosystem, name.to_owned(), why)),
        }
    }
}

/// Whether `--transitive` (and the plan, for metadata given as input) follows a requirement
/// of a published version: dev requirements do not propagate to dependents.
pub(crate) fn follows(d: &DepFact) -> bool {
    d.kind != DepKind::Dev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_per_ecosystem() {
        let ok = |e, n: &str| PackageKey::new(e, n).map(|k| k.name);
        assert_eq!(ok(Ecosystem::CratesIo, "Serde_JSON").unwrap(), "serde_json");
        assert_eq!(ok(Ecosystem::Pypi, "Foo_Bar.baz").unwrap(), "foo-bar-baz");
        assert_eq!(ok(Ecosystem::Npm, "@types/node").unwrap(), "@types/node");
        assert_eq!(ok(Ecosystem::Npm, "JSONStream").unwrap(), "JSONStream");
        for bad in [
            "../../etc/passwd",
            "..",
            ".",
            "a/b",
            "a\\b",
            "%2e%2e",
            "a\0b",
            "",
            "con",
            "1abc",
            "-x",
            "é",
        ] {
            assert!(ok(Ecosystem::CratesIo, bad).is_err(), "{bad:?}");
        }
        for bad in [
            "../x",
            "@scope/../x",
            "@scope/a/b",
            "a/b",
            "%2e%2e",
            "a\0b",
            ".hidden",
            "_x",
            "@/x",
            "@s/",
            "node_modules",
            "a b",
            "a\\b",
        ] {
            assert!(ok(Ecosystem::Npm, bad).is_err(), "{bad:?}");
        }
        for bad in ["../x", "a/b", "-x", "x-", "a\0b", "%2e"] {
            assert!(ok(Ecosystem::Pypi, bad).is_err(), "{bad:?}");
        }
        assert!(ok(Ecosystem::Npm, &"a".repeat(10_000)).is_err());
        assert!(ok(Ecosystem::CratesIo, &"a".repeat(65)).is_err());
    }
}
