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
