//! A Cargo workspace the user points at explicitly (`--workspace DIR`), resolved with
//! `cargo metadata`. Only for the user's own, trusted checkout: cargo honours the checkout's
//! `.cargo/config.toml` and may run its code, so lockfiles under analysis never come here.

use std::collections::HashMap;
use std::path::Path;

use super::{Ecosystem, LockedPackage, LockfileFact};
use crate::error::{Error, Result};

/// Runs `cargo metadata` in `dir` and turns its resolve graph into a lockfile fact.
pub fn load(dir: &Path, display: &str) -> Result<LockfileFact> {
    let manifest = dir.join("Cargo.toml");
    let meta = cargo_metadata::MetadataCommand::new()
        .manifest_path(&manifest)
        .exec()
        .map_err(|e| Error::Workspace {
            path: dir.to_path_buf(),
            message: e.to_string(),
        })?;
    let resolve = meta.resolve.as_ref().ok_or_else(|| Error::Workspace {
        path: dir.to_path_buf(),
        message: "cargo metadata returned no resolve graph".into(),
    })?;
    let mut ids: Vec<&cargo_metadata::PackageId> = resolve.nodes.iter().map(|n| &n.id).collect();
    ids.sort();
    let pos: HashMap<&cargo_metadata::PackageId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let by_id: HashMap<&cargo_metadata::PackageId, &cargo_metadata::Package> =
        meta.packages.iter().map(|p| (&p.id, p)).collect();
    let mut packages = vec![None; ids.len()];
    for node in &resolve.nodes {
        let Some(p) = by_id.get(&node.id) else {
            continue;
        };
        let mut deps: Vec<usize> = node
            .deps
            .iter()
            .filter_map(|d| pos.get(&d.pkg).copied())
            .collect();
        deps.sort_unstable();
        deps.dedup();
        packages[pos[&node.id]] = Some(LockedPackage {
            name: p.name.as_str().into(),
            version: p.version.to_string().into(),
            registry: p.source.as_ref().is_some_and(|s| s.is_crates_io()),
            deps,
        });
    }
    let packages: Vec<LockedPackage> = packages.into_iter().flatten().collect();
    let mut roots: Vec<usize> = meta
        .workspace_members
        .iter()
        .filter_map(|m| pos.get(m).copied())
        .collect();
    roots.sort_unstable();
    Ok(LockfileFact {
        id: format!("{display} (cargo metadata)"),
        file: manifest.canonicalize().unwrap_or(manifest),
        ecosystem: Ecosystem::CratesIo,
        packages,
        roots,
    })
}
