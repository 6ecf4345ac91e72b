//! The cache directory: registry documents laid out so that the directory is itself an input
//! (`blastradius rank lockfiles/ ~/.cache/blastradius`), plus what revalidation needs kept
//! apart, where input detection never looks.
//!
//! ```text
//! <cache>/
//!   CACHEDIR.TAG                      marks the directory as a cache for backup tools
//!   crates.io/se/rd/serde             sparse-index file, in the index's own layout
//!   crates.io/3/l/log
//!   npm/express.packument.json        full packument
//!   npm/@types%2fnode.packument.json  `/` of a scoped name encoded: one path component
//!   npm/!j!s!o!n!stream.packument.json  upper case spelled `!` + lower (case-insensitive disks)
//!   pypi/requests.project.json        PyPI JSON project document
//!   .blastradius-meta/                skipped by input detection
//!     crates.io/se/rd/serde.meta      URL, ETag, Last-Modified, fetched_at, max-age, length, hash
//!     tmp/                            temp files, renamed into place (same file system)
//! ```
//!
//! The suffixes keep a document from being taken for something else by its file name: an npm
//! package called `package` must not become `package.json`. Every path is built from a validated
//! [`PackageKey`] and encoded so that it is a plain relative path of normal components: nothing
//! can escape the cache directory (a property test checks this).
//!
//! Writes are atomic (temp file, then rename over the old entry), document first and metadata
//! second; metadata records the document's length and hash and is ignored when they do not
//! match, so a crash between the two writes costs one unconditional request, never a stale
//! document kept forever. Two processes sharing a cache each write whole files; the last one
//! wins.

use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::plan::{is_device_name, PackageKey};
use crate::ingest::Ecosystem;

/// The directory of revalidation metadata and temp files; input detection skips it.
pub const META_DIR: &str = ".blastradius-meta";

/// Version of the metadata format; other versions are ignored (the entry is refetched).
const FORMAT: u32 = 1;

/// Longest file name written (most file systems allow 255 bytes).
const MAX_FILE_NAME: usize = 240;

/// Freshness granted by a server's `max-age` is capped at one day.
const MAX_FRESH_SECS: u64 = 24 * 60 * 60;

/// The document's path relative to the cache root.
///
/// # Errors
/// When the encoded file name would be too long for common file systems.
pub fn doc_path(key: &PackageKey) -> Result<PathBuf, String> {
    let name = &key.name;
    let mut p = PathBuf::from(key.ecosystem.as_str());
    let file = match key.ecosystem {
        Ecosystem::CratesIo => {
            // Validated: ASCII lowercase letters, digits, `-`, `_`.
            match name.len() {
                1 => p.push("1"),
                2 => p.push("2"),
                3 => {
                    p.push("3");
                    p.push(&name[..1]);
                }
                _ => {
                    p.push(&name[..2]);
                    p.push(&name[2..4]);
                }
            }
            name.clone()
        }
        Ecosystem::Npm => format!("{}.packument.json", guard_device(encode_npm(name))),
        Ecosystem::Pypi => format!("{}.project.json", guard_device(name.clone())),
    };
    if file.len() > MAX_FILE_NAME {
        return Err(format!(
            "its cache file name would be {} bytes, over the {MAX_FILE_NAME}-byte limit",
            file.len()
        ));
    }
    p.push(file);
    Ok(p)
}

/// `[a-z0-9._-]` and a leading `@` stay; upper case becomes `!` + lower case (as the Go module
/// proxy does, so that `JSONStream` and `jsonstream` differ on case-insensitive disks); every
/// other byte becomes `%xx`. Injective, since `!` and `%` themselves are encoded.
fn encode_npm(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, b) in name.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => out.push(b as char),
            b'@' if i == 0 => out.push('@'),
            b'A'..=b'Z' => {
                out.push('!');
                out.push(b.to_ascii_lowercase() as char);
            }
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// `con.packument.json` is a device on Windows: encode the first character of such a stem.
fn guard_device(s: String) -> String {
    let stem = s.split('.').next().unwrap_or("");
    if is_device_name(stem) {
        format!("%{:02x}{}", s.as_bytes()[0], &s[1..])
    } else {
        s
    }
}

/// Revalidation metadata of one cached document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta {
    /// Version of this format (1); other versions are ignored and the entry refetched.
    pub format: u32,
    /// Where the document came from.
    pub url: String,
    /// The `ETag` it was served with.
    pub etag: Option<String>,
    /// The `Last-Modified` it was served with.
    pub last_modified: Option<String>,
    /// When it was last fetched or revalidated (Unix seconds).
    pub fetched_at: i64,
    /// For how long after `fetched_at` the server said it stays fresh (seconds).
    pub max_age: u64,
    /// Length of the document.
    pub len: u64,
    /// Hash of the document ([`hash`]).
    pub hash: u64,
}

impl Meta {
    /// Whether the document may be used without asking the server: it is younger than
    /// `fresh_for` seconds or than the server's own `max-age` (capped at a day), whichever is
    /// longer. `fresh_for == 0` means "always ask" (a conditional request, cheap with a 304).
    pub fn is_fresh(&self, now: i64, fresh_for: u64) -> bool {
        if fresh_for == 0 {
            return false;
        }
        let age = now.saturating_sub(self.fetched_at);
        age >= 0 && (age as u64) < self.max_age.min(MAX_FRESH_SECS).max(fresh_for)
    }
}

/// A hash of a document, to tie metadata to the exact bytes it describes (not a security
/// measure: a mismatch only means "revalidate without conditions").
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    h.finish()
}

/// An open cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Opens (creating when needed) a cache directory for writing.
    ///
    /// # Errors
    /// When the directory or its metadata directory cannot be created.
    pub fn create(root: &Path) -> std::io::Result<Cache> {
        std::fs::create_dir_all(root.join(META_DIR).join("tmp"))?;
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            // https://bford.info/cachedir/
            std::fs::write(
                &tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n\
                 # This file is a cache directory tag created by blastradius (registry metadata).\n",
            )?;
        }
        let cache = Cache {
            root: root.to_path_buf(),
        };
        cache.clean_temp();
        Ok(cache)
    }

    /// A cache directory for reading only.
    pub fn open(root: &Path) -> Cache {
        Cache {
            root: root.to_path_buf(),
        }
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a document lives (absolute, under the root).
    pub fn doc_file(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }

    fn meta_file(&self, rel: &Path) -> PathBuf {
        let mut p = self.root.join(META_DIR).join(rel).into_os_string();
        p.push(".meta");
        PathBuf::from(p)
    }

    /// The cached document, when there is one.
    pub fn read_doc(&self, rel: &Path) -> Option<Vec<u8>> {
        std::fs::read(self.doc_file(rel)).ok()
    }

    /// The metadata of a cached document, when it exists, is of this format and describes
    /// exactly `doc`.
    pub fn read_meta(&self, rel: &Path, doc: &[u8]) -> Option<Meta> {
        let text = std::fs::read(self.meta_file(rel)).ok()?;
        let meta: Meta = serde_json::from_slice(&text).ok()?;
        (meta.format == FORMAT && meta.len == doc.len() as u64 && meta.hash == hash(doc))
            .then_some(meta)
    }

    /// Stores a document, then its metadata, each atomically.
    ///
    /// # Errors
    /// Any I/O error, with the path it concerns.
    pub fn write(
        &self,
        rel: &Path,
        doc: &[u8],
        meta: &Meta,
    ) -> Result<(), (PathBuf, std::io::Error)> {
        let doc_file = self.doc_file(rel);
        self.write_atomic(&doc_file, doc)
            .map_err(|e| (doc_file, e))?;
        self.write_meta(rel, meta)
    }

    /// Stores metadata only (after a 304, the document is unchanged).
    ///
    /// # Errors
    /// Any I/O error, with the path it concerns.
    pub fn write_meta(&self, rel: &Path, meta: &Meta) -> Result<(), (PathBuf, std::io::Error)> {
        let meta_file = self.meta_file(rel);
        let text = serde_json::to_vec(meta).expect("metadata serialises");
        self.write_atomic(&meta_file, &text)
            .map_err(|e| (meta_file, e))
    }

    /// Temp file in the metadata directory (never read as input, same file system), then a
    /// rename over the destination.
    fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(self.root.join(META_DIR).join("tmp"))?;
        tmp.write_all(bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        tmp.persist(dest).map_err(|e| e.error)?;
        Ok(())
    }

    /// Removes temp files left by a killed run more than an hour ago (a younger one may belong
    /// to a run still going).
    fn clean_temp(&self) {
        let Ok(rd) = std::fs::read_dir(self.root.join(META_DIR).join("tmp")) else {
            return;
        };
        for e in rd.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Component;

    fn key(e: Ecosystem, n: &str) -> PackageKey {
        PackageKey::new(e, n).unwrap()
    }

    #[test]
    fn index_layout() {
        let p = |n: &str| doc_path(&key(Ecosystem::CratesIo, n)).unwrap();
        assert_eq!(p("a"), Path::new("crates.io/1/a"));
        assert_eq!(p("ab"), Path::new("crates.io/2/ab"));
        assert_eq!(p("abc"), Path::new("crates.io/3/a/abc"));
        assert_eq!(p("Serde"), Path::new("crates.io/se/rd/serde"));
        let n = |n: &str| doc_path(&key(Ecosystem::Npm, n)).unwrap();
        assert_eq!(
            n("@types/node"),
            Path::new("npm/@types%2fnode.packument.json")
        );
        assert_eq!(
            n("JSONStream"),
            Path::new("npm/!j!s!o!n!stream.packument.json")
        );
        assert_eq!(n("package"), Path::new("npm/package.packument.json"));
        assert_eq!(n("con"), Path::new("npm/%63on.packument.json"));
        assert_eq!(n("a~b!"), Path::new("npm/a%7eb%21.packument.json"));
        let y = |n: &str| doc_path(&key(Ecosystem::Pypi, n)).unwrap();
        assert_eq!(y("Foo_Bar"), Path::new("pypi/foo-bar.project.json"));
        assert_eq!(y("aux"), Path::new("pypi/%61ux.project.json"));
    }

    #[test]
    fn long_upper_case_npm_name_is_refused_not_truncated() {
        let k = key(Ecosystem::Npm, &"A".repeat(200));
        assert!(doc_path(&k).is_err());
    }

    fn stays_inside(rel: &Path) -> bool {
        rel.components().all(|c| match c {
            Component::Normal(s) => {
                let s = s.to_string_lossy();
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.len() <= 255
                    && !s.contains(['/', '\\', '\0', ':'])
                    && !s.starts_with(META_DIR)
            }
            _ => false,
        }) && rel.components().count() >= 2
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn cache_paths_stay_under_the_root(name in "\\PC{0,80}|[@./\\\\%a-zA-Z0-9_~!-]{0,40}") {
            for e in [Ecosystem::CratesIo, Ecosystem::Npm, Ecosystem::Pypi] {
                if let Ok(k) = PackageKey::new(e, &name) {
                    if let Ok(rel) = doc_path(&k) {
                        prop_assert!(stays_inside(&rel), "{e} {name:?} -> {rel:?}");
                    }
                }
            }
        }

        #[test]
        fn npm_encoding_is_injective(a in "[@a-zA-Z0-9._~!%/-]{1,12}", b in "[@a-zA-Z0-9._~!%/-]{1,12}") {
            if a != b {
                prop_assert_ne!(encode_npm(&a), encode_npm(&b));
            }
        }
    }

    #[test]
    fn metadata_must_match_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::create(dir.path()).unwrap();
        let rel = doc_path(&key(Ecosystem::CratesIo, "serde")).unwrap();
        let doc = b"{}\n";
        let meta = Meta {
            format: FORMAT,
            url: "http://127.0.0.1/se/rd/serde".into(),
            etag: Some("\"x\"".into()),
            last_modified: None,
            fetched_at: 100,
            max_age: 60,
            len: doc.len() as u64,
            hash: hash(doc),
        };
        cache.write(&rel, doc, &meta).unwrap();
        assert_eq!(cache.read_doc(&rel).unwrap(), doc);
        assert_eq!(cache.read_meta(&rel, doc), Some(meta.clone()));
        assert_eq!(cache.read_meta(&rel, b"{} \n"), None);
        assert!(meta.is_fresh(159, 1) && !meta.is_fresh(160, 1));
        assert!(meta.is_fresh(299, 200) && !meta.is_fresh(300, 200));
        assert!(!meta.is_fresh(101, 0), "0: always ask");
        // Nothing but the tag, the document and the metadata directory.
        let mut top: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(top, [".blastradius-meta", "CACHEDIR.TAG", "crates.io"]);
        assert_eq!(
            std::fs::read_dir(dir.path().join(META_DIR).join("tmp"))
                .unwrap()
                .count(),
            0
        );
    }
}
