//! Reading registry documents: validating a fetched body with the real parsers before it is
//! cached, and filling a [`Facts`] from the cache for the packages the inputs name (what
//! `--cache` and `--offline` do for every command).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::cache::{doc_path, Cache};
use super::plan::{follows, PackageKey, Plan};
use crate::error::{Error, Result};
use crate::ingest::{
    cratesio, npm_registry, pypi_registry, Ecosystem, Facts, OwnerFact, VersionFact,
};
use crate::report::escape::terminal;

/// What one registry document says.
#[derive(Debug, Default)]
pub struct Document {
    /// Its versions.
    pub versions: Vec<VersionFact>,
    /// Owners it names.
    pub owners: Vec<OwnerFact>,
    /// What it lacks (see the parsers' notes).
    pub notes: Vec<String>,
}

impl Document {
    /// The registry packages its versions require (dev requirements excepted), as valid keys.
    pub fn requirements(&self) -> BTreeSet<PackageKey> {
        self.versions
            .iter()
            .flat_map(|v| {
                v.deps
                    .iter()
                    .filter(|d| follows(d))
                    .map(move |d| (v.ecosystem, d))
            })
            .filter_map(|(e, d)| PackageKey::new(e, &d.package).ok())
            .collect()
    }
}

/// Parses the document of `key` with the parser its ecosystem's inputs go through, and checks
/// that it describes `key`. `label` names it in errors (a URL or a cache path).
///
/// # Errors
/// The parser's error (with line and column or JSON path), invalid UTF-8, an empty document,
/// or a document about another package.
pub fn parse_document(key: &PackageKey, label: &Path, bytes: &[u8]) -> Result<Document> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::parse_in(
            label,
            format!(
                "expected UTF-8 text, found invalid UTF-8 at byte {}",
                e.valid_up_to()
            ),
        )
    })?;
    let body = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if body.is_empty() {
        return Err(Error::parse_in(
            label,
            "expected a registry document, found an empty body",
        ));
    }
    if !body.starts_with('{') {
        // A captive portal, a proxy's error page, a registry answering in another format.
        let mut end = body.len().min(120);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let what = if body.starts_with('<') {
            "HTML or XML"
        } else {
            "text"
        };
        let (line, col) = crate::error::line_col(text, text.len() - body.len());
        return Err(Error::parse_at(
            label,
            line,
            Some(col),
            format!(
                "expected a JSON registry document, found {what}: \"{}{}\"",
                terminal(&body[..end]),
                if end < body.len() { "…" } else { "" }
            ),
        ));
    }
    let doc = match key.ecosystem {
        Ecosystem::CratesIo => Document {
            versions: cratesio::parse_index(label, text)?,
            ..Document::default()
        },
        Ecosystem::Npm => {
            let d = npm_registry::parse(label, text)?;
            Document {
                versions: d.versions,
                owners: d.owners,
                notes: d.notes,
            }
        }
        Ecosystem::Pypi => {
            let d = pypi_registry::parse(label, text)?;
            Document {
                versions: d.versions,
                owners: d.owners,
                notes: d.notes,
            }
        }
    };
    if let Some(other) = doc
        .versions
        .iter()
        .find(|v| PackageKey::new(key.ecosystem, &v.name).map_or(true, |k| k.name != key.name))
    {
        return Err(Error::parse_in(
            label,
            format!(
                "expected the document of {key}, found one about {:?}",
                terminal(&other.name)
            ),
        ));
    }
    Ok(doc)
}

/// What [`read_into`] found.
#[derive(Debug, Default)]
pub struct CacheRead {
    /// Documents read.
    pub loaded: usize,
    /// Packages the inputs name that the cache does not hold, sorted.
    pub missing: Vec<PackageKey>,
}

/// Adds to `facts` the cached documents of the packages they name and, transitively, of the
/// requirements of those documents that are cached too. Only the packages the inputs name
/// directly are required: each one missing is an error naming it (a warning in `facts` under
/// `keep_going`), since a missing fact would read as "not reached". Packages whose metadata the
/// inputs carry are taken from the inputs, not the cache.
///
/// # Errors
/// A cache directory that does not exist, a cached document that cannot be read or parsed
/// (named by its path), or missing packages unless `keep_going`.
pub fn read_into(facts: &mut Facts, root: &Path, keep_going: bool) -> Result<CacheRead> {
    if !root.is_dir() {
        return Err(Error::Unknown(format!(
            "offline: the cache {} does not exist: run `blastradius fetch INPUT... --cache {}` first",
            root.display(),
            root.display()
        )));
    }
    let cache = Cache::open(root);
    let plan = Plan::from_facts(facts);
    let mut seen: BTreeSet<PackageKey> = plan.packages.clone();
    let mut frontier: Vec<PackageKey> = plan.packages.iter().cloned().collect();
    let mut out = CacheRead::default();
    while !frontier.is_empty() {
        let read: Vec<(PackageKey, Option<Result<Document>>)> = frontier
            .par_iter()
            .map(|k| (k.clone(), read_one(&cache, k)))
            .collect();
        let mut next = Vec::new();
        for (key, doc) in read {
            match doc {
                None => {
                    if plan.packages.contains(&key) {
                        out.missing.push(key);
                    }
                }
                Some(doc) => {
                    let doc = doc?;
                    out.loaded += 1;
                    for k in doc.requirements() {
                        if !plan.provided.contains(&k) && seen.insert(k.clone()) {
                            next.push(k);
                        }
                    }
                    facts.versions.extend(doc.versions);
                    facts.owners.extend(doc.owners);
                    facts.warnings.extend(doc.notes);
                }
            }
        }
        frontier = next;
    }
    out.missing.sort();
    if !out.missing.is_empty() {
        let hint = format!(
            "(cache: {}); fetch with `blastradius fetch INPUT... --cache {}`",
            root.display(),
            root.display()
        );
        if keep_going {
            for k in &out.missing {
                facts.warnings.push(format!(
                    "offline: no cached entry for {k} (cache: {})",
                    root.display()
                ));
            }
        } else {
            const SHOWN: usize = 10;
            let mut names: Vec<String> = out
                .missing
                .iter()
                .take(SHOWN)
                .map(ToString::to_string)
                .collect();
            if out.missing.len() > SHOWN {
                names.push(format!("and {} more", out.missing.len() - SHOWN));
            }
            return Err(Error::Unknown(format!(
                "offline: no cached entry for {} {hint}, or pass --keep-going to go on without them",
                names.join(", ")
            )));
        }
    }
    facts.canonicalise();
    Ok(out)
}

/// `None` when the cache has no document for `key`.
fn read_one(cache: &Cache, key: &PackageKey) -> Option<Result<Document>> {
    let rel = doc_path(key).ok()?;
    let file: PathBuf = cache.doc_file(&rel);
    match std::fs::read(&file) {
        Ok(bytes) => Some(parse_document(key, &file, &bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => Some(Err(Error::Io { path: file, source })),
    }
}
