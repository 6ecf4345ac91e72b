//! Finding and recognising inputs. A file is recognised by its content (with its name as a
//! tie-breaker between TOML shapes), a directory is walked in sorted order without following
//! symlinked directories, and a file that claims a format but fails to parse is an error even
//! inside a directory walk: a lockfile silently skipped would be a false "not affected".

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use super::{
    buildlog, cratesio, dbdump, inventory, lockfile, manifest, npm_registry, pypi_registry,
    secrets, Facts,
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
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// `--keep-going`: a file that fails to parse becomes a warning in [`Facts::warnings`]
    /// (and so in the output's `warnings` array) instead of failing the run. Off by default:
    /// a dropped lockfile would turn into a false "not affected".
    pub keep_going: bool,
    /// `--max-input-size`: the largest document read whole, in bytes (checked with `stat`
    /// before reading). The streamed crates.io database dump has its own caps.
    pub max_input_size: u64,
}

/// The default `--max-input-size`: 512 MiB, four times the largest npm packument seen.
pub const DEFAULT_MAX_INPUT_SIZE: u64 = 512 << 20;

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            keep_going: false,
            max_input_size: DEFAULT_MAX_INPUT_SIZE,
        }
    }
}

/// A byte count for people: `512 MiB`, `1.2 GiB`, `900 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            // One decimal, computed in integers so no float formatting differs by platform.
            let tenths = (u128::from(n) * 10 + u128::from(size) / 2) / u128::from(size);
            return if tenths % 10 == 0 {
                format!("{} {unit}", tenths / 10)
            } else {
                format!("{}.{} {unit}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{n} bytes")
}

/// Parses a `--max-input-size` value: bytes, or a number with a binary unit (`KiB`, `MiB`,
/// `GiB`, `TiB`; `K`, `M`, `G`, `T` mean the same).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: u64 = num
        .parse()
        .map_err(|_| format!("expected a size such as 512MiB or 2GiB, found {s:?}"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        _ => {
            return Err(format!(
                "expected a size such as 512MiB or 2GiB, found {s:?}"
            ))
        }
    };
    num.checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("expected a size between 1 byte and 16 EiB, found {s:?}"))
}

/// [`load`] with options.
///
/// # Errors
/// The first input that cannot be read or parsed, unless `keep_going`; a path given on the
/// command line that does not exist, always.
pub fn load_with(inputs: &[Input], opts: LoadOptions) -> Result<Facts> {
    let keep_going = opts.keep_going;
    let limit = opts.max_input_size;
    let mut facts = Facts::default();
    let mut seen_files = BTreeSet::new();
    let mut jobs = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(&input.path).map_err(|source| {
            if is_fs_loop(&source) {
                Error::Unknown(format!("file system loop at {}", input.display))
            } else {
                Error::Io {
                    path: input.path.clone(),
                    source,
                }
            }
        })?;
        if meta.is_dir() {
            walk(&input.path, &input.display, &mut jobs, &mut facts.warnings)?;
        } else {
            jobs.push(Job {
                path: input.path.clone(),
                display: input.display.clone(),
                explicit: true,
            });
        }
    }
    load_jobs(jobs, true, (keep_going, limit), &mut facts, &mut seen_files)?;
    // Lockfiles the inventory names are inputs too, even when not passed on the command line.
    let named: Vec<_> = facts
        .inventory
        .iter()
        .flat_map(|inv| inv.environments.iter().flat_map(|e| e.lockfiles.iter()))
        .filter(|l| !seen_files.contains(&l.file))
        .map(|l| (l.file.clone(), l.id.clone()))
        .collect();
    load_named(named, (keep_going, limit), &mut facts, &mut seen_files)?;
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
    load_named(wanted, (keep_going, limit), &mut facts, &mut seen_files)?;
    facts.canonicalise();
    Ok(facts)
}

/// Loads files another input names (an inventory's lockfiles, a build's lockfile and
/// manifest): each must be recognised, and a missing one is subject to `--keep-going`.
fn load_named(
    files: Vec<(PathBuf, String)>,
    opts: (bool, u64),
    facts: &mut Facts,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    let jobs = files
        .into_iter()
        .map(|(path, display)| Job {
            path,
            display,
            explicit: true,
        })
        .collect();
    load_jobs(jobs, false, opts, facts, seen)
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

/// One file to load: where it is, how it is shown, and whether the user named it (a named
/// file must be recognised; a file met in a directory walk may be skipped).
struct Job {
    path: PathBuf,
    display: String,
    explicit: bool,
}

/// Loads files: each is read and parsed in parallel, then merged in the order given, so the
/// facts (and which error is reported first) do not depend on the thread count.
/// `must_exist`: a file that cannot be found is an error even under `--keep-going`.
fn load_jobs(
    jobs: Vec<Job>,
    must_exist: bool,
    (keep_going, limit): (bool, u64),
    facts: &mut Facts,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    use rayon::prelude::*;
    let mut todo = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job.path.canonicalize() {
            Ok(canonical) => {
                if seen.insert(canonical.clone()) {
                    todo.push((job, canonical));
                }
            }
            Err(source) => {
                let e = Error::Io {
                    path: job.path.clone(),
                    source,
                };
                if must_exist {
                    return Err(e);
                }
                kept_going(Err(e), keep_going, &job.display, facts)?;
            }
        }
    }
    crate::tally::TALLY.expect(todo.len() as u64);
    let loaded: Vec<Result<Loaded>> = todo
        .par_iter()
        .map(|(job, canonical)| {
            let r = load_file(&job.path, canonical, &job.display, (job.explicit, limit));
            crate::tally::TALLY.tick();
            r
        })
        .collect();
    for ((job, canonical), r) in todo.into_iter().zip(loaded) {
        let r = r.and_then(|l| merge(l, &job.display, canonical, facts, seen));
        kept_going(r, keep_going, &job.display, facts)?;
    }
    Ok(())
}

/// What one file gave.
enum Loaded {
    Facts(Box<Facts>),
    /// A manifest of another ecosystem met in a walk: not read now, so a fresh build may still
    /// ask for it.
    Companion,
}

/// Adds one file's facts to the run's.
fn merge(
    loaded: Loaded,
    display: &str,
    canonical: PathBuf,
    facts: &mut Facts,
    seen: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    let part = match loaded {
        Loaded::Facts(part) => *part,
        Loaded::Companion => {
            seen.remove(&canonical);
            return Ok(());
        }
    };
    if let Some(inv) = part.inventory {
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
    facts.versions.extend(part.versions);
    facts.lockfiles.extend(part.lockfiles);
    facts.manifests.extend(part.manifests);
    facts.owners.extend(part.owners);
    facts.builds.extend(part.builds);
    facts.trustpub_only.extend(part.trustpub_only);
    facts.warnings.extend(part.warnings);
    Ok(())
}

/// Whether an I/O error is ELOOP: too many levels of symbolic links (`io::ErrorKind::
/// FilesystemLoop` is not stable yet).
fn is_fs_loop(e: &std::io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ELOOP: i32 = 40;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const ELOOP: i32 = 62; // macOS and the BSDs
    cfg!(unix) && e.raw_os_error() == Some(ELOOP)
}

/// Lists the files under `dir` in sorted order (directories depth-first, also sorted).
/// Iterative (a stack of pending directories, each read whole and closed before the next is
/// opened), so neither a 1,000-level tree nor 100,000 files can overflow the stack or hold
/// more than one directory handle open. Symlinked directories are never followed, so a loop
/// of links cannot make it circle; a symlink that loops, or a directory link back to an
/// ancestor, is reported as a warning ("file system loop at …") and skipped.
fn walk(dir: &Path, display: &str, jobs: &mut Vec<Job>, warnings: &mut Vec<String>) -> Result<()> {
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
                jobs.push(Job {
                    path,
                    display: child_display,
                    explicit: false,
                });
            } else if ft.is_symlink() {
                let looped = match std::fs::metadata(&path) {
                    Err(e) => is_fs_loop(&e),
                    // Not followed anyway; one pointing at an ancestor would be a cycle.
                    Ok(m) => {
                        m.is_dir()
                            && path.canonicalize().is_ok_and(|target| {
                                dir.canonicalize().is_ok_and(|d| d.starts_with(&target))
                            })
                    }
                };
                if looped {
                    warnings.push(format!(
                        "file system loop at {child_display}: skipped (symbolic links to \
                         directories are not followed)"
                    ));
                }
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
    // An inventory's tables head lines of their own: spotting one in a .toml file saves
    // parsing a large inventory twice (here and in `inventory::parse`, which reports any TOML
    // error; a broken inventory is an error, not a file skipped). Other files take the full
    // parse: a script or a README may quote such a line.
    if name.ends_with(".toml")
        && text.lines().any(|l| {
            matches!(
                l.trim(),
                "[[account]]" | "[[credential]]" | "[[environment]]" | "[[mirror]]"
            )
        })
    {
        return Kind::Inventory;
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

/// Reads and parses one file into facts of its own.
fn load_file(
    path: &Path,
    canonical: &Path,
    display: &str,
    (explicit, limit): (bool, u64),
) -> Result<Loaded> {
    let mut facts = Facts::default();
    // A gzip file is never read whole: the crates.io database dump is streamed from the path.
    let head = first_bytes(path)?;
    if head.starts_with(&dbdump::GZIP_MAGIC) {
        if dbdump::looks_like_dump(path, &head) {
            let dump = dbdump::read(path, display)?;
            facts.versions.extend(dump.versions);
            facts.owners.extend(dump.owners);
            facts.warnings.extend(dump.notes);
            facts.trustpub_only.extend(
                dump.trustpub_only
                    .into_iter()
                    .map(|name| (super::Ecosystem::CratesIo, name)),
            );
        } else if explicit {
            return Err(Error::parse_in(
                Path::new(display),
                "gzip-compressed, but not a crates.io database dump (expected a .tar.gz whose \
                 members lie under one YYYY-MM-DD-HHMMSS/ directory, as published at \
                 https://static.crates.io/db-dump.tar.gz)",
            ));
        }
        return Ok(Loaded::Facts(Box::new(facts)));
    }
    // The size from `stat`, before reading: a document past the limit is never read.
    let size = std::fs::metadata(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size > limit {
        // Inside a walk, a large binary file (a NUL in its first bytes) is nothing we read.
        if !explicit && head.contains(&0) {
            return Ok(Loaded::Facts(Box::new(facts)));
        }
        return Err(Error::Unknown(format!(
            "{display} is {}, over the {} limit for one document (raise it with \
             --max-input-size)",
            human_size(size),
            human_size(limit)
        )));
    }
    let bytes = ReadBuf::read(path).map_err(|source| Error::Io {
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
        Err(_) => return Ok(Loaded::Facts(Box::new(facts))),
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
    // What people write or copy from CI (inventories, lockfiles, requirements) may hold a live
    // token: report it, and parse a redacted copy so that no secret value reaches the graph,
    // an error message or an output. Registry metadata is not ours and can be huge, and files
    // not read are not reported on: skipped.
    let redacted;
    let skip = match kind {
        Kind::Index | Kind::PypiJson | Kind::NpmPackument | Kind::Unknown | Kind::NotYet(_) => true,
        Kind::Companion => !explicit,
        _ => false,
    };
    let text = if skip {
        text
    } else {
        let found = secrets::findings(display, text);
        if found.is_empty() {
            // Nothing found means nothing to redact: skip the second pass.
            text
        } else {
            facts.warnings.extend(found.iter().map(ToString::to_string));
            redacted = secrets::redact(text);
            &*redacted
        }
    };
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
            .push(lockfile::cargo::parse(display, canonical, text)?),
        Kind::CargoToml => facts
            .manifests
            .push(manifest::parse(display, canonical, text)?),
        Kind::BuildLog => {
            facts
                .builds
                .extend(buildlog::parse(Path::new(display), canonical, text)?)
        }
        Kind::Inventory => {
            facts.inventory = Some(inventory::parse(Path::new(display), canonical, text)?);
        }
        Kind::NpmLock => facts
            .lockfiles
            .push(lockfile::npm::parse(display, canonical, text)?),
        Kind::YarnLock => {
            let manifest = yarn_manifest(path);
            facts.lockfiles.push(lockfile::yarn::parse(
                display,
                canonical,
                text,
                manifest.as_deref(),
            )?)
        }
        Kind::PnpmLock => facts
            .lockfiles
            .push(lockfile::pnpm::parse(display, canonical, text)?),
        Kind::UvLock => facts
            .lockfiles
            .push(lockfile::python::parse_uv(display, canonical, text)?),
        Kind::PoetryLock => facts
            .lockfiles
            .push(lockfile::python::parse_poetry(display, canonical, text)?),
        Kind::Requirements => facts.lockfiles.push(lockfile::python::parse_requirements(
            display, canonical, text,
        )?),
        // Named on the command line or by a fresh build: the manifest a fresh resolution starts
        // from. Skipped in a directory walk, where yarn.lock reads the package.json beside it.
        Kind::Companion if explicit => {
            let m = if name.ends_with("pyproject.toml") {
                manifest::python::parse(display, canonical, text)?
            } else {
                manifest::npm::parse(display, canonical, text)?
            };
            facts.manifests.push(m);
        }
        // Not read yet: a fresh build may still ask for it.
        Kind::Companion => return Ok(Loaded::Companion),
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
    Ok(Loaded::Facts(Box::new(facts)))
}

thread_local! {
    /// This thread's read buffer, kept between files (see [`ReadBuf`]).
    static READ_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A whole file's bytes in a buffer reused by the next file this thread reads. A registry
/// is gigabytes of text read once: fresh pages for each file cost a page fault each (the
/// kernel zeroes them first), a reused buffer costs only the copy.
struct ReadBuf(Vec<u8>);

impl ReadBuf {
    fn read(path: &Path) -> std::io::Result<ReadBuf> {
        use std::io::Read;
        // A nested read (none today) would take an empty buffer, never a borrowed one.
        let mut buf = READ_BUF.take();
        buf.clear();
        std::fs::File::open(path)?.read_to_end(&mut buf)?;
        Ok(ReadBuf(buf))
    }
}

impl std::ops::Deref for ReadBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for ReadBuf {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut self.0);
        let kept = READ_BUF.take();
        READ_BUF.set(if kept.capacity() > mine.capacity() {
            kept
        } else {
            mine
        });
    }
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
