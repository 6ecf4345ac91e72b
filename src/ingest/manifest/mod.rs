//! Manifests: what a *fresh* build resolves (SPEC §4 rule 8). A fresh build ignores its
//! lockfile and resolves the manifest beside it at its start time, each requirement taking the
//! highest version published by then, so the manifest's direct requirements are where the
//! time-travel resolver starts.
//!
//! One reader per ecosystem, each turning its file into the same [`ManifestFact`]:
//! - [`cargo`]: Cargo.toml, through `cargo_toml`;
//! - [`npm`]: package.json, through our own serde visitors (the same reader gives yarn.lock its
//!   root requirements);
//! - [`python`]: pyproject.toml, PEP 621 `[project]` or Poetry's `[tool.poetry]`, with PEP 735
//!   dependency groups and uv's dev-dependencies.
//!
//! What every reader shares:
//! - only requirements a registry resolves are kept: path, git, URL and workspace
//!   dependencies are local code, not something a stolen publishing credential replaces;
//! - nothing that a fresh build could install is dropped: optional, extra-only and
//!   platform-only requirements are kept and marked (`optional`, `target`), because a missed
//!   requirement turns into a false "not affected";
//! - a requirement that the ecosystem's own rules cannot parse is an error naming the file and
//!   line, never a silently shorter list.
//!
//! [`ManifestFact`]: crate::ingest::ManifestFact

pub mod cargo;
pub mod npm;
pub mod python;

/// Reads a Cargo.toml; kept under its old name so that callers from before the npm and PyPI
/// readers keep working.
pub use cargo::parse;

/// Fixture helpers shared by the manifest readers' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::Path;

    use crate::error::Result;
    use crate::ingest::{DepFact, DepKind, ManifestFact};

    /// Where the hand-written manifest fixtures live.
    pub const DIR: &str = "tests/fixtures/manifests";

    /// Reads fixture `name` with `parse`, its display id being `DIR/name`.
    pub fn load(
        name: &str,
        parse: fn(&str, &Path, &str) -> Result<ManifestFact>,
    ) -> Result<ManifestFact> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse(&format!("{DIR}/{name}"), &path, &text)
    }

    /// Parses every prefix of each fixture: an error or a value, never a panic (truncated
    /// files are what an interrupted checkout or download leaves).
    pub fn every_prefix(names: &[&str], parse: fn(&str, &Path, &str) -> Result<ManifestFact>) {
        for name in names {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                let _ = parse(name, Path::new(name), &text[..end]);
            }
        }
    }

    /// A registry requirement without target or rename.
    pub fn dep(package: &str, req: &str, kind: DepKind, optional: bool) -> DepFact {
        DepFact {
            package: package.to_owned().into(),
            req: req.to_owned().into(),
            kind,
            optional,
            target: None,
            rename: None,
        }
    }
}
