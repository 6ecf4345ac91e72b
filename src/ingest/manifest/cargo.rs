//! Cargo.toml manifests through `cargo_toml`: the requirements a fresh resolution starts from.
//! Only registry requirements are kept; path, git and alternative-registry dependencies are
//! local code, not something a stolen crates.io token can replace.

use std::path::Path;

use cargo_toml::{Dependency, DepsSet, Manifest};

use crate::error::{Error, Result};
use crate::ingest::{DepFact, DepKind, Ecosystem, ManifestFact};

/// Parses a Cargo.toml. Workspace-inherited requirements are taken from the same file's
/// `[workspace.dependencies]` when it has them and otherwise left out (the root manifest is
/// another input).
pub fn parse(id: &str, file: &Path, text: &str) -> Result<ManifestFact> {
    let shown = Path::new(id);
    let manifest = Manifest::from_str(text).map_err(|e| match e {
        // cargo_toml's own wording for a dependency it cannot read ("for some reason, a
        // dependency requirement could not be parsed") says neither what it wanted nor what
        // it found.
        cargo_toml::Error::Parse(t) if t.message().contains("dependency requirement") => {
            let found = t
                .span()
                .and_then(|s| text.get(s))
                .map_or(String::new(), |s| s.trim().chars().take(60).collect());
            let located = crate::ingest::lockfile::cargo::toml_error(shown, text, &t);
            match located {
                Error::Parse { location, .. } => Error::Parse {
                    location,
                    message: format!(
                        "failed to parse manifest: expected a dependency (a version requirement \
                         such as \"1.2\", or a table such as {{ version = \"1.2\" }}), found \
                         `{found}`"
                    ),
                },
                other => other,
            }
        }
        cargo_toml::Error::Parse(t) => crate::ingest::lockfile::cargo::toml_error(shown, text, &t),
        other => Error::parse_in(shown, format!("failed to parse manifest: {other}")),
    })?;
    let workspace_deps = manifest.workspace.as_ref().map(|w| &w.dependencies);
    let mut deps = Vec::new();
    let mut add = |set: &DepsSet, kind: DepKind, target: Option<&str>| {
        for (key, dep) in set {
            let resolved = match dep {
                Dependency::Inherited(inh) => match workspace_deps.and_then(|w| w.get(key)) {
                    Some(Dependency::Inherited(_)) | None => continue,
                    Some(base) => (base, inh.optional),
                },
                other => (other, other.optional()),
            };
            let (dep, optional) = resolved;
            let registry = match dep {
                Dependency::Simple(_) => true,
                Dependency::Detailed(d) => {
                    d.path.is_none()
                        && d.git.is_none()
                        && d.registry.is_none()
                        && d.registry_index.is_none()
                }
                Dependency::Inherited(_) => false,
            };
            if !registry {
                continue;
            }
            let req = match dep.try_req() {
                Ok(r) => r.to_string(),
                Err(_) => continue,
            };
            let package = dep.package().unwrap_or(key).to_owned();
            let rename = (package != *key).then(|| key.clone());
            deps.push(DepFact {
                package: package.into(),
                req: req.into(),
                kind,
                optional,
                target: target.map(str::to_owned).map(Into::into),
                rename: rename.map(Into::into),
            });
        }
    };
    add(&manifest.dependencies, DepKind::Normal, None);
    add(&manifest.build_dependencies, DepKind::Build, None);
    add(&manifest.dev_dependencies, DepKind::Dev, None);
    for (cfg, t) in &manifest.target {
        add(&t.dependencies, DepKind::Normal, Some(cfg));
        add(&t.build_dependencies, DepKind::Build, Some(cfg));
        add(&t.dev_dependencies, DepKind::Dev, Some(cfg));
    }
    Ok(ManifestFact {
        id: id.to_owned(),
        file: file.to_owned(),
        name: manifest.package.as_ref().map(|p| p.name.clone()),
        ecosystem: Ecosystem::CratesIo,
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_deps_only_with_kinds_and_renames() {
        let text = r#"
[package]
name = "svc"
version = "0.1.0"

[dependencies]
serde = "1"
core2 = { package = "acme-core", version = "=1.2.0", optional = true }
local = { path = "../local" }

[build-dependencies]
cc = "1.0"

[dev-dependencies]
proptest = "1"

[target.'cfg(windows)'.dependencies]
winapi = "0.3"
"#;
        let m = parse("svc/Cargo.toml", Path::new("svc/Cargo.toml"), text).unwrap();
        assert_eq!(m.name.as_deref(), Some("svc"));
        let names: Vec<_> = m
            .deps
            .iter()
            .map(|d| (d.package.as_str(), d.kind))
            .collect();
        assert!(names.contains(&("acme-core", DepKind::Normal)));
        assert!(names.contains(&("cc", DepKind::Build)));
        assert!(names.contains(&("proptest", DepKind::Dev)));
        assert!(!names.iter().any(|(n, _)| *n == "local"));
        let core = m.deps.iter().find(|d| d.package == "acme-core").unwrap();
        assert!(core.optional);
        assert_eq!(core.rename.as_deref(), Some("core2"));
        let win = m.deps.iter().find(|d| d.package == "winapi").unwrap();
        assert_eq!(win.target.as_deref(), Some("cfg(windows)"));
    }
}
