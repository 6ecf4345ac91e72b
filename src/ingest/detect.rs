//! Finding and recognising inputs. A file is recognised by its content (with its name as a
//! tie-breaker between TOML shapes), a directory is walked in sorted order without following
//! symlinked directories, and a file that claims a format but fails to parse is an error even
//! inside a directory walk: a lockfile silently skipped would be a false "not affected".

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::{
    buildlog, cratesio, dbdump, inventory, lockfile, manifest, npm_registry, pypi_registry, Facts,
};
use crate::error::{Error, Result};

/// One input as the user named it: where it is and how to show paths under it.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it is on disk.
    pub path: PathBuf,
    /// How paths under it are shown in output (the path as typed, or `data` for the demo).
    pub display: String,
}

impl Input {
    /// An input shown exactly as given.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let display = path.display().to_string();
        Input { path, display }
    }
}

/// Directories never worth walking into (`node_modules` holds npm's own hidden lockfile and
/// thousands of installed manifests: the project's lockfile already says what is in it).
const SKIP_DIRS: [&str; 6] = [
    ".git",
    "target",
    ".hg",
    "node_modules",
    ".venv",
    // The fetch cache's revalidation metadata and temp files (fetch::cache::META_DIR).
    ".blastradius-meta",
];

/// Loads every input into one [`Facts`].
pub fn load(inputs: &[Input]) -> Result<Facts> {
    load_with(inputs, LoadOptions::default())
}

/// How [`load_with`] treats inputs it cannot read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// `--keep-going`: a file that fails to parse becomes a warning in [`Facts::warnings`]
    /// (and so in the output's `warnings` array) instead of failing the run. Off by default:
    /// a dropped lockfile would turn into a false "not affected".
    pub keep_going: bool,
}

/// [`load`] with options.
///
/// # Errors
/// The first input that cannot be read or parsed, unless `keep_going`; a path given on the
/// command line that does not exist, always.
pub fn load_with(inputs: &[Input], opts: LoadOptions) -> Result<Facts> {
    let keep_going = opts.keep_going;
    let mut facts = Facts::default();
    let mut seen_files = BTreeSet::new();
    for input in inputs {
        let meta = std::fs::metadata(&input.path).map_err(|source| Error::Io {
            path: input.path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(
                &input.path,
                &input.display,
                keep_going,
                &mut facts,
                &mut seen_files,
            )?;
        } else {
            let r = load_file(
                &input.path,
                &input.display,
                true,
                &mut facts,
                &mut seen_files,
            );
            kept_going(r, keep_going, &input.display, &mut facts)?;
        }
    }
    // Lockfiles the inventory names are inputs too, even when not passed on the command line.
    let named: Vec<_> = facts
        .inventory
        .iter()
        .flat_map(|inv| inv.environments.iter().flat_map(|e| e.lockfiles.iter()))
        .filter(|l| !seen_files.contains(&l.file))
        .map(|l| (l.file.clone(), l.id.clone()))
        .collect();
    for (file, id) in named {
        if seen_files.contains(&file) {
            continue;
        }
        let r = load_file(&file, &id, true, &mut facts, &mut seen_files);
        kept_going(r, keep_going, &id, &mut facts)?;
    }
    // So are the lockfiles a build log names, and, for fresh builds, the manifest beside each.
    let mut wanted: Vec<(PathBuf, String)> = Vec::new();
    for b in &facts.builds {
        wanted.push((b.lockfile_file.clone(), b.lockfile_id.clone()));
        if b.fresh {
            if let (Some(dir), Some(idir)) =
                (b.lockfile_file.parent(), Path::new(&b.lockfile_id).parent())
            {
                let lock_name = b
                    .lockfile_file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let name = match by_name(&lock_name) {
                    Some(Kind::NpmLock | Kind::YarnLock | Kind::PnpmLock) => "package.json",
                    Some(Kind::UvLock | Kind::PoetryLock | Kind::Requirements) => "pyproject.toml",
                    _ => "Cargo.toml",
                };
                let manifest = dir.join(name);
                if manifest.is_file() {
                    wanted.push((manifest, display_join(idir, name)));
                }
            }
        }
    }
    for (file, id) in wanted {
        let canonical = file.canonicalize().unwrap_or(file);
        if !seen_files.contains(&canonical) {
            let r = load_file(&canonical, &id, true, &mut facts, &mut seen_files);
            kept_going(r, keep_going, &id, &mut facts)?;
        }
    }
    facts.canonicalise();
    Ok(facts)
}

/// Under `--keep-going`, turns a failed input into a warning naming it.
fn kept_going(r: Result<()>, keep_going: bool, display: &str, facts: &mut Facts) -> Result<()> {
    match r {
        Err(e) if keep_going => {
            facts
                .warnings
                .push(format!("skipped {display} (--keep-going): {e}"));
            Ok(())
        }
        other => other,
    }
}

fn walk(
    dir: &Path,
    display: &str,
    keep_going: bool,
    facts: &mut Facts,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    // Iterative, so a deep tree cannot overflow the stack.
    let mut stack = vec![(dir.to_path_buf(), display.to_owned())];
    while let Some((dir, display)) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let mut entries = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            entries.push(entry);
        }
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            let name_str = name.to_string_lossy().into_owned();
            let path = entry.path();
            let child_display = display_join(Path::new(&display), &name_str);
            let ft = entry.file_type().map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            if ft.is_dir() {
                if !SKIP_DIRS.contains(&name_str.as_str()) {
                    subdirs.push((path, child_display));
                }
            } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
                let r = load_file(&path, &child_display, false, facts, seen);
                kept_going(r, keep_going, &child_display, facts)?;
            }
        }
        // Reverse so that the stack pops directories in sorted order.
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

/// What a file turned out to be.
enum Kind {
    Index,
    NpmPackument,
    PypiJson,
    CargoLock,
    CargoToml,
    Inventory,
    BuildLog,
    NpmLock,
    YarnLock,
    PnpmLock,
    UvLock,
    PoetryLock,
    Requirements,
    /// A manifest of another ecosystem (package.json, pyproject.toml): read only as the
    /// companion of a lockfile, so skipped in a walk.
    Companion,
    /// A format blastradius does not read yet.
    NotYet(&'static str),
    Unknown,
}

/// Lockfiles of npm and PyPI by file name (`name` or a prefixed copy such as
/// `webpack@2025-09-08.yarn.lock`).
fn by_name(name: &str) -> Option<Kind> {
    let is = |base: &str| name == base || name.ends_with(&format!(".{base}"));
    Some(if is("package-lock.json") || is("npm-shrinkwrap.json") {
        Kind::NpmLock
    } else if is("yarn.lock") {
        Kind::YarnLock
    } else if is("pnpm-lock.yaml") {
        Kind::PnpmLock
    } else if is("uv.lock") {
        Kind::UvLock
    } else if is("poetry.lock") {
        Kind::PoetryLock
    } else if name.starts_with("requirements") && name.ends_with(".txt") {
        Kind::Requirements
    } else if is("package.json") || is("pyproject.toml") {
        Kind::Companion
    } else if name == "Pipfile.lock" {
        Kind::NotYet("Pipfile.lock")
    } else {
        return None;
    })
}

impl Kind {
    /// Every lockfile format, text all of them.
    fn is_lockfile(&self) -> bool {
        matches!(
            self,
            Kind::CargoLock
                | Kind::NpmLock
                | Kind::YarnLock
                | Kind::PnpmLock
                | Kind::UvLock
                | Kind::PoetryLock
                | Kind::Requirements
        )
    }
}

fn classify(name: &str, text: &str) -> Kind {
    if let Some(kind) = by_name(name) {
        return kind;
    }
    if name == "Cargo.lock" || name.ends_with(".Cargo.lock") {
        return Kind::CargoLock;
    }
    if name == "Cargo.toml" {
        return Kind::CargoToml;
    }
    if name.ends_with(".json") || text.trim_start().starts_with('{') {
        if pypi_registry::looks_like_pypi_json(text) {
            return Kind::PypiJson;
        }
        if npm_registry::looks_like_packument(text) {
            return Kind::NpmPackument;
        }
    }
    if cratesio::looks_like_index(text) {
        return Kind::Index;
    }
    if buildlog::looks_like_build_log(text) {
        return Kind::BuildLog;
    }
    if name.ends_with(".lock")
        && text.contains("[[package]]")
        && !text.contains("python-versions")
        && !text.contains("requires-python")
    {
        return Kind::CargoLock;
    }
    let Ok(table) = text.parse::<toml::Table>() else {
        return Kind::Unknown;
    };
    if inventory::looks_like_inventory(&table) {
        return Kind::Inventory;
    }
    // uv.lock and poetry.lock also hold `[[package]]` entries with a name and a version.
    if table.contains_key("requires-python") {
        return Kind::UvLock;
    }
    if table
        .get("metadata")
        .and_then(|m| m.get("python-versions").or_else(|| m.get("content-hash")))
        .is_some()
    {
        return Kind::PoetryLock;
    }
    match table.get("package") {
        Some(toml::Value::Array(pkgs))
            if pkgs
                .iter()
                .all(|p| p.get("name").is_some() && p.get("version").is_some())
                && !pkgs.is_empty() =>
        {
            Kind::CargoLock
        }
        Some(toml::Value::Table(_)) if name.ends_with(".toml") => Kind::CargoToml,
        _ => Kind::Unknown,
    }
}

fn load_file(
    path: &Path,
    display: &str,
    explicit: bool,
    facts: &mut Facts,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    let canonical = path.canonicalize().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !seen.insert(canonical.clone()) {
        return Ok(());
    }
    // A gzip file is never read whole: the crates.io database dump is streamed from the path.
    let head = first_bytes(path)?;
    if head.starts_with(&dbdump::GZIP_MAGIC) {
        if dbdump::looks_like_dump(path, &head) {
            let dump = dbdump::read(path, display)?;
            facts.versions.extend(dump.versions);
            facts.owners.extend(dump.owners);
            facts.warnings.extend(dump.notes);
            // `dump.trustpub_only` has no place in `Facts` yet (see the dbdump module docs).
        } else if explicit {
            return Err(Error::parse_in(
                Path::new(display),
                "gzip-compressed, but not a crates.io database dump (expected a .tar.gz whose \
                 members lie under one YYYY-MM-DD-HHMMSS/ directory, as published at \
                 https://static.crates.io/db-dump.tar.gz)",
            ));
        }
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let shown = Path::new(display);
    // A lockfile's name is a claim about its content: a binary, empty or conflicted one is an
    // error even in a directory walk, where other unreadable files are skipped.
    let named_lock = by_name(&name).is_some_and(|k| k.is_lockfile())
        || name == "Cargo.lock"
        || name.ends_with(".Cargo.lock");
    let text = match super::text::decode(shown, &bytes) {
        Ok(text) => text,
        Err(e) if explicit || named_lock => return Err(e),
        Err(_) => return Ok(()),
    };
    let kind = classify(&name, text);
    if kind.is_lockfile() || (explicit && matches!(kind, Kind::Unknown)) {
        if super::text::is_blank(text) {
            return Err(Error::Empty {
                path: shown.to_path_buf(),
                expected: if kind.is_lockfile() {
                    "a lockfile; an empty one would read as \"depends on nothing\"".into()
                } else {
                    "an input blastradius reads".into()
                },
            });
        }
        if let Some(line) = lockfile::conflict_marker_line(text) {
            return Err(Error::ConflictMarkers {
                path: shown.to_path_buf(),
                line,
            });
        }
    }
    match kind {
        Kind::Index => {
            let (versions, notes) = cratesio::parse_index_with_notes(shown, text)?;
            facts.versions.extend(versions);
            facts.warnings.extend(notes);
        }
        Kind::PypiJson => {
            let doc = pypi_registry::parse(Path::new(display), text)?;
            facts.versions.extend(doc.versions);
            facts.owners.extend(doc.owners);
            facts.warnings.extend(doc.notes);
        }
        Kind::NpmPackument => {
            let doc = npm_registry::parse(Path::new(display), text)?;
            facts.versions.extend(doc.versions);
            facts.owners.extend(doc.owners);
            facts.warnings.extend(doc.notes);
        }
        Kind::CargoLock => facts
            .lockfiles
            .push(lockfile::cargo::parse(display, &canonical, text)?),
        Kind::CargoToml => facts
            .manifests
            .push(manifest::parse(display, &canonical, text)?),
        Kind::BuildLog => {
            facts
                .builds
                .extend(buildlog::parse(Path::new(display), &canonical, text)?)
        }
        Kind::Inventory => {
            let inv = inventory::parse(Path::new(display), &canonical, text)?;
            if let Some(prev) = &facts.inventory {
                return Err(Error::parse_in(
                    Path::new(display),
                    format!(
                        "a second inventory (the first is {}); expected one inventory per run",
                        prev.path.display()
                    ),
                ));
            }
            facts.inventory = Some(inv);
        }
        Kind::NpmLock => facts
            .lockfiles
            .push(lockfile::npm::parse(display, &canonical, text)?),
        Kind::YarnLock => {
            let manifest = yarn_manifest(path);
            facts.lockfiles.push(lockfile::yarn::parse(
                display,
                &canonical,
                text,
                manifest.as_deref(),
            )?)
        }
        Kind::PnpmLock => facts
            .lockfiles
            .push(lockfile::pnpm::parse(display, &canonical, text)?),
        Kind::UvLock => facts
            .lockfiles
            .push(lockfile::python::parse_uv(display, &canonical, text)?),
        Kind::PoetryLock => facts
            .lockfiles
            .push(lockfile::python::parse_poetry(display, &canonical, text)?),
        Kind::Requirements => facts.lockfiles.push(lockfile::python::parse_requirements(
            display, &canonical, text,
        )?),
        // Named on the command line or by a fresh build: the manifest a fresh resolution starts
        // from. Skipped in a directory walk, where yarn.lock reads the package.json beside it.
        Kind::Companion if explicit => {
            let m = if name.ends_with("pyproject.toml") {
                manifest::python::parse(display, &canonical, text)?
            } else {
                manifest::npm::parse(display, &canonical, text)?
            };
            facts.manifests.push(m);
        }
        // Not read yet: a fresh build may still ask for it.
        Kind::Companion => {
            seen.remove(&canonical);
        }
        Kind::NotYet(what) if explicit => {
            return Err(Error::parse_in(
                Path::new(display),
                format!("{what} is not read by this version of blastradius"),
            ))
        }
        Kind::NotYet(what) => facts.warnings.push(format!(
            "{display}: skipped: {what} is not read by this version"
        )),
        // A named `.toml` file that is not TOML at all: its syntax error says more than "not
        // recognised" (an inventory with one typo would otherwise look like an unknown format).
        Kind::Unknown if explicit && name.ends_with(".toml") => {
            return Err(match text.parse::<toml::Table>() {
                Err(e) => lockfile::cargo::toml_error(shown, text, &e),
                Ok(_) => Error::Unrecognised {
                    path: PathBuf::from(display),
                },
            })
        }
        Kind::Unknown if explicit => {
            return Err(Error::Unrecognised {
                path: PathBuf::from(display),
            })
        }
        Kind::Unknown => {}
    }
    Ok(())
}

/// Up to the first 512 bytes of a file, enough to recognise a binary format by its magic.
fn first_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut head = Vec::with_capacity(512);
    file.take(512).read_to_end(&mut head).map_err(io_err)?;
    Ok(head)
}

/// The package.json beside a yarn.lock (`yarn.lock` → `package.json`,
/// `x.yarn.lock` → `x.package.json`): yarn.lock lists no root requirements of its own.
fn yarn_manifest(lock: &Path) -> Option<String> {
    let name = lock.file_name()?.to_string_lossy().into_owned();
    let sibling = match name.strip_suffix("yarn.lock") {
        Some(prefix) => format!("{prefix}package.json"),
        None => "package.json".into(),
    };
    std::fs::read_to_string(lock.with_file_name(sibling)).ok()
}

/// Joins a display directory and a relative path lexically (`a/./b/../c` → `a/c`), with `/`
/// separators on every platform so that ids are the same everywhere.
pub fn display_join(dir: &Path, rel: &str) -> String {
    let joined = dir.join(rel);
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for c in joined.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::Prefix(p) => parts.push(p.as_os_str().to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..".into());
                }
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let body = parts.join("/");
    if absolute {
        format!("/{body}")
    } else if body.is_empty() {
        ".".into()
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(
            display_join(Path::new("data"), "services/a/../b/Cargo.lock"),
            "data/services/b/Cargo.lock"
        );
        assert_eq!(display_join(Path::new(""), "./x"), "x");
        assert_eq!(display_join(Path::new("/t"), "x"), "/t/x");
        assert_eq!(display_join(Path::new(".."), "x"), "../x");
    }
}
