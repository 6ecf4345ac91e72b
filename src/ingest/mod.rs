//! Wire formats → plain facts. Nothing here knows about petgraph; the graph module turns a
//! [`Facts`] into the one immutable graph.
//!
//! Inputs are recognised by content (see [`detect`]); a directory is walked recursively in
//! sorted order so that the same tree always yields the same facts.

pub mod advisory;
pub mod buildlog;
pub mod cratesio;
pub mod dbdump;
pub mod detect;
pub mod inventory;
pub mod lockfile;
pub mod manifest;
pub mod npm_registry;
pub mod pattern;
pub mod pypi_registry;
pub mod secrets;
pub mod text;
pub mod workspace;

use std::fmt;
use std::path::PathBuf;

pub use compact_str::CompactString;
pub use inventory::Inventory;

/// A package registry. Names never match across ecosystems: `supports-color` the crate and
/// `supports-color` the npm package are different packages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Ecosystem {
    /// crates.io, Cargo's default registry.
    #[serde(rename = "crates.io")]
    CratesIo,
    /// The npm registry.
    #[serde(rename = "npm")]
    Npm,
    /// The Python Package Index.
    #[serde(rename = "pypi")]
    Pypi,
}

impl Ecosystem {
    /// The prefix used in node ids (`crates.io:serde`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }

    /// A package name as the registry compares it: PyPI folds case and treats runs of `-`,
    /// `_` and `.` as one `-` (PEP 503); crates.io and npm names are taken as written.
    pub fn normalise(self, name: &str) -> String {
        match self {
            Ecosystem::Pypi => lockfile::python::normalise_name(name),
            _ => name.to_owned(),
        }
    }

    /// Parses the spelling used in inventories and on the command line.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "crates.io" | "crates-io" | "cratesio" | "cargo" => Some(Ecosystem::CratesIo),
            "npm" => Some(Ecosystem::Npm),
            "pypi" | "PyPI" => Some(Ecosystem::Pypi),
            _ => None,
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of a dependency edge; it decides whether compromise propagates past the first hop.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    /// Linked into the dependent: propagates.
    Normal,
    /// Runs at build time (build scripts, proc macros' deps): propagates.
    Build,
    /// Only for the dependent's own tests: does not propagate to its dependents.
    Dev,
}

/// One requirement of one published version on another package.
///
/// A registry holds about eight per version (ten million for crates.io), so the two texts
/// every requirement has are stored inline when short (names and requirements almost always
/// are) and the two rare ones are boxed: 88 bytes and usually no heap allocation, where four
/// `String`s took 104 bytes and two allocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepFact {
    /// The real package name (a Cargo rename is resolved through `package`).
    pub package: CompactString,
    /// The requirement as written (`^1.0`, `=1.2.3`, `*`).
    pub req: CompactString,
    /// Normal, build or dev.
    pub kind: DepKind,
    /// Only pulled in when a feature enables it.
    pub optional: bool,
    /// Only on some platforms (`cfg(windows)`).
    pub target: Option<Box<str>>,
    /// The name the dependent uses when it renamed the dependency.
    pub rename: Option<Box<str>>,
}

/// One published version, as registry metadata describes it.
#[derive(Debug, Clone)]
pub struct VersionFact {
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Package name.
    pub name: String,
    /// Version string as published.
    pub version: String,
    /// Withdrawn from fresh resolution.
    pub yanked: bool,
    /// Publication time, when the metadata records it (`pubtime`).
    pub published: Option<jiff::Timestamp>,
    /// Its requirements.
    pub deps: Vec<DepFact>,
    /// The account that published it, when the metadata says (crates.io db-dump
    /// `published_by`, npm `_npmUser`); the sparse index does not.
    pub publisher: Option<String>,
    /// Whether `deps` is the version's complete list of requirements. A PyPI project document
    /// lists every release but the requirements of only the newest; the others are known by
    /// number and time, and must not be read as "depends on nothing".
    pub deps_known: bool,
    /// Code runs when it is installed (npm `preinstall`/`install`/`postinstall` scripts):
    /// installing a bad version compromised the machine, not only the build output.
    pub install_script: bool,
}

/// One package pinned in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Package name (inline up to 24 bytes: a big lockfile holds thousands).
    pub name: CompactString,
    /// Pinned version.
    pub version: CompactString,
    /// Whether it comes from the ecosystem's public registry (path and git packages do not).
    pub registry: bool,
    /// Indices (into [`LockfileFact::packages`]) of the packages it depends on.
    pub deps: Vec<usize>,
}

/// A resolved dependency set of one project.
#[derive(Debug, Clone)]
pub struct LockfileFact {
    /// Display id: the path as reached from the command line.
    pub id: String,
    /// The file on disk (canonical), used to match inventory references.
    pub file: PathBuf,
    /// Registry whose versions it pins.
    pub ecosystem: Ecosystem,
    /// Every package it pins.
    pub packages: Vec<LockedPackage>,
    /// Indices of its root packages (workspace members).
    pub roots: Vec<usize>,
}

/// A manifest (Cargo.toml): what a fresh resolution would start from.
#[derive(Debug, Clone)]
pub struct ManifestFact {
    /// Display id: the path as reached from the command line.
    pub id: String,
    /// The file on disk (canonical): a fresh build resolves the manifest beside its lockfile.
    pub file: PathBuf,
    /// Package name, when the manifest has a `[package]`.
    pub name: Option<String>,
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Its direct requirements.
    pub deps: Vec<DepFact>,
}

/// What one registry-metadata document (an npm packument, a PyPI JSON document) says.
#[derive(Debug, Clone, Default)]
pub struct RegistryDoc {
    /// One fact per version the document lists, in version order.
    pub versions: Vec<VersionFact>,
    /// Publishing accounts the document names, sorted (empty when it names none).
    pub owners: Vec<OwnerFact>,
    /// What the document lacks or gets wrong without being malformed (no owners, times that
    /// look like sync times, skipped releases): shown as warnings, because an absent fact
    /// would read as "not reached".
    pub notes: Vec<String>,
}

/// Ownership recorded by registry metadata (crates.io owners, npm maintainers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwnerFact {
    /// Registry.
    pub ecosystem: Ecosystem,
    /// Owning account (user, team).
    pub account: String,
    /// Owned package.
    pub package: String,
}

/// Everything ingested from the inputs, before it becomes a graph.
#[derive(Debug, Default)]
pub struct Facts {
    /// Published versions from registry metadata.
    pub versions: Vec<VersionFact>,
    /// Lockfiles.
    pub lockfiles: Vec<LockfileFact>,
    /// Manifests.
    pub manifests: Vec<ManifestFact>,
    /// Ownership from registry metadata.
    pub owners: Vec<OwnerFact>,
    /// The user's inventory, when one was given.
    pub inventory: Option<Inventory>,
    /// Builds from build logs.
    pub builds: Vec<buildlog::BuildFact>,
    /// Packages whose registry takes new versions only from trusted publishing (crates.io
    /// `trustpub_only`): an API token of an owner cannot publish them.
    pub trustpub_only: Vec<(Ecosystem, String)>,
    /// Inputs that were found but not used, said out loud (never a silent skip).
    pub warnings: Vec<String>,
}

impl Facts {
    /// Puts every list in a canonical order so that input order never changes the output.
    pub fn canonicalise(&mut self) {
        // Among duplicates the one with its requirements on record comes first and is kept.
        self.versions.sort_by(|a, b| {
            (a.ecosystem, &a.name, &a.version, !a.deps_known).cmp(&(
                b.ecosystem,
                &b.name,
                &b.version,
                !b.deps_known,
            ))
        });
        self.versions.dedup_by(|b, a| {
            a.ecosystem == b.ecosystem && a.name == b.name && a.version == b.version
        });
        self.lockfiles.sort_by(|a, b| a.id.cmp(&b.id));
        self.lockfiles.dedup_by(|b, a| a.file == b.file);
        self.manifests.sort_by(|a, b| a.id.cmp(&b.id));
        self.manifests.dedup_by(|b, a| a.file == b.file);
        self.builds.sort_by(|a, b| a.id.cmp(&b.id));
        self.owners.sort();
        self.owners.dedup();
        self.trustpub_only.sort();
        self.trustpub_only.dedup();
    }
}

/// Where the demo dataset lives: `data/` beside this crate's manifest.
pub fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

pub use detect::{load, load_with, LoadOptions};

#[cfg(test)]
mod tests {
    use super::Ecosystem;

    #[test]
    fn pep503_names() {
        assert_eq!(Ecosystem::Pypi.normalise("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(Ecosystem::Pypi.normalise("a--_b"), "a-b");
        assert_eq!(Ecosystem::Npm.normalise("Foo_Bar"), "Foo_Bar");
    }
}
