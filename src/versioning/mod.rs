//! Each ecosystem's own version and requirement rules, behind one type each, so that the graph
//! orders versions and the engine matches requirements without knowing which registry a package
//! lives in: Cargo semver for crates.io, node-semver ranges for npm, PEP 440 specifiers for
//! PyPI (SPEC §2). A bare `1.2.3` is a caret in Cargo and an exact pin in npm and PyPI; the
//! types make that difference impossible to forget.
//!
//! This module depends on nothing else in the crate: ingest validates with it, the graph orders
//! versions with it, the engine applies the headroom rule and the time-travel resolver with it.

pub mod cargo;
pub mod npm;
pub mod pypi;

use std::cmp::Ordering;
use std::fmt;

use crate::ingest::Ecosystem;

/// A published version, parsed with its ecosystem's rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Version {
    /// crates.io: Cargo's semver.
    Cargo(semver::Version),
    /// npm: node-semver (SemVer 2.0 precedence, loose spellings such as `v1.2.3` accepted).
    Npm(nodejs_semver::Version),
    /// PyPI: PEP 440 (epochs, pre/post/dev releases, local labels).
    Pypi(pep440_rs::Version),
}

impl Version {
    /// Parses `text` as a version of `eco`; `None` when the ecosystem would not accept it.
    pub fn parse(eco: Ecosystem, text: &str) -> Option<Version> {
        match eco {
            Ecosystem::CratesIo => semver::Version::parse(text).ok().map(Version::Cargo),
            Ecosystem::Npm => npm::parse_version(text).map(Version::Npm),
            Ecosystem::Pypi => text.parse().ok().map(Version::Pypi),
        }
    }

    /// A pre-release (`1.0.0-rc.1`, PEP 440 `1.0rc1` or `1.0.dev1`): fresh resolutions skip it
    /// unless asked for one.
    pub fn is_prerelease(&self) -> bool {
        match self {
            Version::Cargo(v) => !v.pre.is_empty(),
            Version::Npm(v) => v.is_prerelease(),
            Version::Pypi(v) => v.any_prerelease(),
        }
    }
}

impl Ord for Version {
    /// Ecosystem precedence within one ecosystem (versions of one package always share one);
    /// across ecosystems an arbitrary but fixed order, so sorting never panics.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Cargo(a), Version::Cargo(b)) => a.cmp(b),
            (Version::Npm(a), Version::Npm(b)) => a.cmp(b),
            (Version::Pypi(a), Version::Pypi(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Version {
    fn rank(&self) -> u8 {
        match self {
            Version::Cargo(_) => 0,
            Version::Npm(_) => 1,
            Version::Pypi(_) => 2,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Cargo(v) => v.fmt(f),
            Version::Npm(v) => v.fmt(f),
            Version::Pypi(v) => v.fmt(f),
        }
    }
}

/// A dependency requirement, parsed with its ecosystem's rules.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// crates.io: a Cargo requirement (`1.2` is `^1.2`).
    Cargo(semver::VersionReq),
    /// npm: a node-semver range, read as `npm install` reads it (`1.2.3` is exactly 1.2.3;
    /// `^ ~ x * || -` all supported).
    Npm(npm::Range),
    /// npm: a dist-tag (`latest`, `next`). The registry moves the tag to whatever the
    /// publisher says, so it always takes the newest version (SPEC §4 rule 3).
    Tag(String),
    /// PyPI: PEP 440 specifiers (`>=2,<3`, `==1.*`, `~=1.4`); empty admits everything.
    Pypi(pep440_rs::VersionSpecifiers),
}

/// The longest requirement parsed (RELIABILITY H10).
pub const MAX_REQUIREMENT_LEN: usize = 64 << 10;

impl Requirement {
    /// Parses a requirement as written in `eco`'s metadata.
    ///
    /// # Errors
    /// A message saying what was expected, for requirements the ecosystem would reject and for
    /// npm specs that are not registry requirements (git, `file:`, `link:`, URLs).
    pub fn parse(eco: Ecosystem, text: &str) -> Result<Requirement, String> {
        // Real requirements are short (the longest on crates.io, npm and PyPI are a few
        // hundred bytes); a hostile megabyte one is refused before any parser sees it, and
        // never echoed whole into a message.
        if text.len() > MAX_REQUIREMENT_LEN {
            return Err(format!(
                "expected a version requirement of at most {MAX_REQUIREMENT_LEN} bytes, found one of {} bytes",
                text.len()
            ));
        }
        match eco {
            Ecosystem::CratesIo => semver::VersionReq::parse(text)
                .map(Requirement::Cargo)
                .map_err(|e| format!("expected a Cargo version requirement, found {text:?}: {e}")),
            Ecosystem::Npm => npm::parse_requirement(text),
            Ecosystem::Pypi => pypi::parse_specifiers(text).map(Requirement::Pypi),
        }
    }

    /// Whether a fresh resolution may choose `v` for this requirement: the ecosystem's
    /// pre-release rule applies (Cargo and npm: only when the requirement names a pre-release
    /// of the same version; PyPI: only when a specifier other than `!=` names a pre-release).
    pub fn matches(&self, v: &Version) -> bool {
        match (self, v) {
            (Requirement::Cargo(r), Version::Cargo(v)) => r.matches(v),
            (Requirement::Npm(r), Version::Npm(v)) => r.satisfies(v),
            (Requirement::Tag(_), Version::Npm(v)) => !v.is_prerelease(),
            (Requirement::Pypi(r), Version::Pypi(v)) => pypi::matches(r, v, false),
            _ => false,
        }
    }

    /// Like [`Requirement::matches`], with pre-releases admitted whenever the bounds admit them:
    /// PEP 440 lets an installer take a pre-release when no final release satisfies the
    /// specifier, and a dist-tag may point at a pre-release.
    pub fn matches_any_prerelease(&self, v: &Version) -> bool {
        match (self, v) {
            (Requirement::Pypi(r), Version::Pypi(v)) => pypi::matches(r, v, true),
            (Requirement::Tag(_), Version::Npm(_)) => true,
            _ => self.matches(v),
        }
    }

    /// SPEC §4 rule 2: whether the requirement admits a version that is not published yet and
    /// is higher than every published version it admits — the version a fresh resolution would
    /// pick once a thief publishes it.
    ///
    /// # Arguments
    /// * `published_desc` — every published version of the package, highest first, yanked
    ///   included (a yanked version still occupies its number).
    ///
    /// # Complexity
    /// O(V) matches to find the highest admitted version `m`, then a constant number of
    /// candidate checks per bound: the versions a requirement admits are a union of intervals,
    /// so if any version above `m` is admitted, the successor of `m` or the lowest version of
    /// one of the intervals above `m` is.
    pub fn has_headroom<'a>(&self, published_desc: impl IntoIterator<Item = &'a Version>) -> bool {
        let highest = published_desc.into_iter().find(|v| self.matches(v));
        match self {
            Requirement::Cargo(r) => cargo::has_headroom(
                r,
                highest.and_then(|v| match v {
                    Version::Cargo(v) => Some(v),
                    _ => None,
                }),
            ),
            Requirement::Npm(r) => npm::has_headroom(
                r,
                highest.and_then(|v| match v {
                    Version::Npm(v) => Some(v),
                    _ => None,
                }),
            ),
            // The publisher moves the tag onto the version they publish.
            Requirement::Tag(_) => true,
            Requirement::Pypi(r) => pypi::has_headroom(
                r,
                highest.and_then(|v| match v {
                    Version::Pypi(v) => Some(v),
                    _ => None,
                }),
            ),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Cargo(r) => r.fmt(f),
            Requirement::Npm(r) => r.fmt(f),
            Requirement::Tag(t) => f.write_str(t),
            Requirement::Pypi(r) => r.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headroom(eco: Ecosystem, req: &str, published: &[&str]) -> bool {
        let r = Requirement::parse(eco, req).unwrap();
        let mut vs: Vec<Version> = published
            .iter()
            .map(|v| Version::parse(eco, v).unwrap())
            .collect();
        vs.sort();
        vs.reverse();
        r.has_headroom(&vs)
    }

    #[test]
    fn bare_version_is_caret_in_cargo_and_exact_elsewhere() {
        let p = ["1.2.3"];
        assert!(headroom(Ecosystem::CratesIo, "1.2.3", &p));
        assert!(!headroom(Ecosystem::Npm, "1.2.3", &p));
        assert!(!headroom(Ecosystem::Pypi, "==1.2.3", &p));
    }

    #[test]
    fn dist_tags_always_have_headroom() {
        assert!(headroom(Ecosystem::Npm, "latest", &["1.0.0"]));
        assert!(headroom(Ecosystem::Npm, "next", &[]));
    }

    #[test]
    fn versions_order_by_ecosystem_rules() {
        let npm = |s| Version::parse(Ecosystem::Npm, s).unwrap();
        assert!(npm("1.0.0-rc.1") < npm("1.0.0"));
        assert!(npm("1.10.0") > npm("1.9.0"));
        let py = |s| Version::parse(Ecosystem::Pypi, s).unwrap();
        assert!(py("1.0rc1") < py("1.0"));
        assert!(py("1.0") < py("1.0.post1"));
        assert!(py("1.0.dev1") < py("1.0a1"));
        assert!(py("1!0.1") > py("2.0"));
        assert!(!py("1.0").is_prerelease() && py("1.0.dev0").is_prerelease());
    }
}
