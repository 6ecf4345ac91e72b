//! `blastradius fetch`: the registry metadata the inputs need, fetched the way a well-behaved
//! registry client does it, into a cache directory that every command can read.
//!
//! This module is the only place where the network, `reqwest` and `tokio` live (STYLE,
//! "Networking behind one door"). Its API is synchronous: [`fetch`] builds its own runtime and
//! returns when everything is done; the rest of blastradius never sees a future.
//!
//! - [`plan`]: which packages the inputs name ([`Plan::from_facts`]), with names validated;
//! - [`client`]: the HTTP client (timeouts, rate limit per host, retries with backoff and
//!   `Retry-After`, conditional requests, gzip, a byte cap per body);
//! - [`cache`]: the cache layout, atomic writes, revalidation metadata;
//! - [`read`]: validating documents with the real parsers, and reading the cache back into
//!   [`Facts`](crate::ingest::Facts) for `--cache` / `--offline`;
//! - `run`: the bounded task set, one task per package (cache or registry), to a fixed point
//!   with `--transitive`; a panicking task is a failure of its package, never a lost one.
//!
//! ```no_run
//! use blastradius::{fetch, ingest};
//! let facts = ingest::load(&[ingest::detect::Input::new("Cargo.lock")]).unwrap();
//! let plan = fetch::Plan::from_facts(&facts);
//! let summary = fetch::fetch(&plan, &fetch::FetchOptions::new("cache".into())).unwrap();
//! assert!(summary.failures.is_empty());
//! ```

pub mod cache;
pub mod client;
pub mod plan;
pub mod read;
mod run;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;

pub use plan::{PackageKey, Plan};

use self::cache::{doc_path, Cache};
use self::client::{Http, Settings, Stats};
use self::run::Ctx;
use crate::error::{Error, Result};
use crate::ingest::Ecosystem;

/// Where each registry is. Defaults are the public registries; tests point them at loopback.
#[derive(Debug, Clone)]
pub struct Registries {
    /// crates.io's sparse index (`https://index.crates.io/`).
    pub crates_io: Url,
    /// The npm registry (`https://registry.npmjs.org/`).
    pub npm: Url,
    /// PyPI (`https://pypi.org/`; documents at `pypi/<name>/json`).
    pub pypi: Url,
}

impl Default for Registries {
    fn default() -> Self {
        let u = |s: &str| Url::parse(s).expect("a valid default URL");
        Registries {
            crates_io: u("https://index.crates.io/"),
            npm: u("https://registry.npmjs.org/"),
            pypi: u("https://pypi.org/"),
        }
    }
}

/// `--registry ECOSYSTEM=URL`: another base URL for one registry.
#[derive(Debug, Clone)]
pub struct RegistryOverride {
    ecosystem: Ecosystem,
    url: Url,
}

impl RegistryOverride {
    /// Parses `ECOSYSTEM=URL` (`crates.io=http://127.0.0.1:8080/`).
    ///
    /// # Errors
    /// An unknown ecosystem, or a URL that is not http(s).
    pub fn parse(spec: &str) -> std::result::Result<Self, String> {
        let (ecosystem, url) = Registries::parse_override(spec)?;
        Ok(RegistryOverride { ecosystem, url })
    }
}

impl Registries {
    /// Applies a `--registry` override.
    pub fn apply(&mut self, o: &RegistryOverride) {
        self.set(o.ecosystem, o.url.clone());
    }

    /// Parses `ECOSYSTEM=URL` (`crates.io=http://127.0.0.1:8080/`).
    ///
    /// # Errors
    /// An unknown ecosystem, or a URL that is not http(s).
    pub fn parse_override(spec: &str) -> std::result::Result<(Ecosystem, Url), String> {
        let (eco, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("expected ECOSYSTEM=URL, found {spec:?}"))?;
        let eco = Ecosystem::parse(eco.trim()).ok_or_else(|| {
            format!("expected an ecosystem (crates.io, npm or pypi), found {eco:?}")
        })?;
        let mut url = Url::parse(url.trim())
            .map_err(|e| format!("expected a URL after {eco}=, found {url:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "expected an http(s) URL with a host, found {:?}",
                crate::ingest::secrets::redact(url.as_str())
            ));
        }
        if !url.path().ends_with('/') {
            let p = format!("{}/", url.path());
            url.set_path(&p);
        }
        url.set_query(None);
        url.set_fragment(None);
        Ok((eco, url))
    }

    /// Sets one registry's base URL.
    pub fn set(&mut self, eco: Ecosystem, url: Url) {
        match eco {
            Ecosystem::CratesIo => self.crates_io = url,
            Ecosystem::Npm => self.npm = url,
            Ecosystem::Pypi => self.pypi = url,
        }
    }

    fn base(&self, eco: Ecosystem) -> &Url {
        match eco {
            Ecosystem::CratesIo => &self.crates_io,
            Ecosystem::Npm => &self.npm,
            Ecosystem::Pypi => &self.pypi,
        }
    }

    /// The document URL of a package: the index path for crates.io, `<name>` with a scoped
    /// name's `/` encoded as `%2f` for npm, `pypi/<name>/json` for PyPI.
    pub fn url(&self, key: &PackageKey) -> Url {
        let base = self.base(key.ecosystem);
        // Names are validated (plan::PackageKey::new): only URL-safe characters remain, and
        // `/` only in a scoped npm name.
        let path = match key.ecosystem {
            Ecosystem::CratesIo => doc_path(key)
                .ok()
                .and_then(|p| {
                    p.strip_prefix("crates.io")
                        .ok()
                        .map(|p| p.to_string_lossy().replace('\\', "/"))
                })
                .unwrap_or_else(|| key.name.clone()),
            Ecosystem::Npm => key.name.replace('/', "%2f"),
            Ecosystem::Pypi => format!("pypi/{}/json", key.name),
        };
        base.join(&path).unwrap_or_else(|_| base.clone())
    }

    /// Whether every registry is on loopback (a local mirror or a test server: no proxy).
    fn all_loopback(&self) -> bool {
        [&self.crates_io, &self.npm, &self.pypi].iter().all(|u| {
            let host = u.host_str().unwrap_or("").trim_matches(['[', ']']);
            host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback())
        })
    }
}

/// How to fetch. [`FetchOptions::new`] gives the defaults a user gets.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The cache directory.
    pub cache: PathBuf,
    /// Registry base URLs.
    pub registries: Registries,
    /// Also fetch what the fetched documents require (non-dev requirements of every version),
    /// to a fixed point.
    pub transitive: bool,
    /// At most this many packages in one run (a bound on `--transitive`).
    pub max_packages: usize,
    /// Send nothing: report what the cache holds and what it lacks.
    pub offline: bool,
    /// Use a cached document without asking when it is younger than this (or than the
    /// registry's `Cache-Control: max-age`, when longer); zero: always ask (conditionally).
    pub fresh_for: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests per second per host (0: no limit).
    pub rate_per_host: u32,
    /// Connecting (TCP and TLS).
    pub connect_timeout: Duration,
    /// Silence between two reads of a response.
    pub read_timeout: Duration,
    /// One whole request.
    pub request_timeout: Duration,
    /// Retries after a transient failure.
    pub retries: u32,
    /// Base of the backoff schedule (tests shorten it; see [`client`]).
    pub retry_base: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// Largest document accepted, in bytes.
    pub max_body: u64,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl FetchOptions {
    /// Defaults: documents younger than 5 minutes used without asking (a registry's CDN
    /// caches about that long anyway), concurrency 8, 100 requests/s per host, timeouts of 10 s (connect), 30 s
    /// (between reads) and 120 s (whole request), 3 retries on a 500 ms backoff base,
    /// `Retry-After` up to 60 s, documents up to 256 MiB, at most 20,000 packages.
    pub fn new(cache: PathBuf) -> Self {
        FetchOptions {
            cache,
            registries: Registries::default(),
            transitive: false,
            max_packages: 20_000,
            offline: false,
            fresh_for: Duration::from_secs(300),
            concurrency: 8,
            rate_per_host: 100,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            retries: 3,
            retry_base: Duration::from_millis(500),
            retry_after_cap: Duration::from_secs(60),
            max_body: 256 << 20,
            progress: false,
        }
    }
}

/// The platform's cache directory for blastradius (`~/.cache/blastradius` on Linux and
/// macOS, `%LOCALAPPDATA%\blastradius` on Windows).
///
/// # Errors
/// When there is no home directory to put it in.
pub fn default_cache_dir() -> Result<PathBuf> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().map_err(|e| {
        Error::Unknown(format!(
            "cannot find a cache directory ({e}): pass --cache DIR"
        ))
    })?;
    Ok(base.cache_dir().join("blastradius"))
}

/// Why a package could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FailureKind {
    /// The name is not a valid package name of its ecosystem.
    InvalidName,
    /// The registry has no such package (404, 410, 451).
    NotFound,
    /// `--offline` and the cache has no copy.
    NotCached,
    /// The network or the server failed (after retries).
    Network,
    /// The response was not a valid document for the package (or too large).
    BadDocument,
    /// The cache could not be written.
    Cache,
    /// The fetch task panicked or was cancelled.
    Aborted,
    /// `--max-packages` was reached; the rest was not fetched.
    Limit,
}

/// One package that could not be had.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `crates.io:serde` (or the invalid name as given).
    pub package: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// What went wrong, naming the URL when a request was made.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.package, self.message)
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The cache directory.
    pub cache: PathBuf,
    /// Packages considered (planned and, with `--transitive`, discovered).
    pub packages: usize,
    /// Downloaded (200) and cached.
    pub fetched: usize,
    /// Revalidated (304): the cached copy is current.
    pub not_modified: usize,
    /// Taken from the cache without a request (fresh within the server's `max-age`, or
    /// `--offline`).
    pub from_cache: usize,
    /// What failed, sorted by package.
    pub failures: Vec<Failure>,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Retries.
    pub retries: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// The one-line summary shown at the end of `blastradius fetch`.
    pub fn line(&self) -> String {
        format!(
            "fetched {}, not modified {}, from cache {}, failed {} ({} received, {}, {}, {:.1} s; cache: {})",
            self.fetched,
            self.not_modified,
            self.from_cache,
            self.failures.len(),
            indicatif::HumanBytes(self.bytes),
            plural(self.requests, "request"),
            plural(self.retries, "retry"),
            self.elapsed.as_secs_f64(),
            self.cache.display()
        )
    }
}

fn plural(n: u64, what: &str) -> String {
    match (n, what) {
        (1, _) => format!("1 {what}"),
        (_, "retry") => format!("{n} retries"),
        _ => format!("{n} {what}s"),
    }
}

/// Fetches the plan's packages (and, with `--transitive`, what they require) into the cache.
///
/// Per-package failures do not make this fail: they are in [`Summary::failures`], for the
/// caller to turn into an error or warnings (`--keep-going`).
///
/// # Errors
/// Only what stops the whole run: the cache directory cannot be created, the HTTP client or
/// the runtime cannot be built.
pub fn fetch(plan: &Plan, opts: &FetchOptions) -> Result<Summary> {
    let started = Instant::now();
    // Offline, nothing is written: the cache is only looked at.
    let cache = if opts.offline {
        Cache::open(&opts.cache)
    } else {
        Cache::create(&opts.cache).map_err(|source| Error::Write {
            path: opts.cache.clone(),
            source,
        })?
    };
    let http = if opts.offline {
        None
    } else {
        Some(
            Http::new(Settings {
                connect_timeout: opts.connect_timeout,
                read_timeout: opts.read_timeout,
                request_timeout: opts.request_timeout,
                retries: opts.retries,
                retry_base: opts.retry_base,
                retry_after_cap: opts.retry_after_cap,
                max_body: opts.max_body,
                rate_per_host: opts.rate_per_host,
                concurrency: opts.concurrency,
                proxy: !opts.registries.all_loopback(),
            })
            .map_err(Error::Unknown)?,
        )
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Unknown(format!("cannot start the network runtime: {e}")))?;
    let ctx = Arc::new(Ctx {
        http,
        cache,
        registries: opts.registries.clone(),
        stats: Stats::default(),
        transitive: opts.transitive,
        offline: opts.offline,
        fresh_for: opts.fresh_for.as_secs(),
        failed_in_a_row: Default::default(),
    });
    let mut summary = rt.block_on(run::run(plan, opts, ctx.clone()));
    // Let in-flight blocking work (none is left after `run`) and sockets close before return.
    rt.shutdown_timeout(Duration::from_secs(1));
    summary.cache = opts.cache.clone();
    summary.requests = ctx.stats.requests.load(Ordering::Relaxed);
    summary.retries = ctx.stats.retries.load(Ordering::Relaxed);
    summary.bytes = ctx.stats.bytes.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Whether `path` is the cache directory or lies inside it (such an input is not planned
/// from: its packages are what the cache holds, not what the user needs).
pub fn is_inside(path: &Path, cache: &Path) -> bool {
    match (path.canonicalize(), cache.canonicalize()) {
        (Ok(p), Ok(c)) => p.starts_with(c),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_urls() {
        let r = Registries::default();
        let k = |e, n: &str| PackageKey::new(e, n).unwrap();
        assert_eq!(
            r.url(&k(Ecosystem::CratesIo, "Serde")).as_str(),
            "https://index.crates.io/se/rd/serde"
        );
        assert_eq!(
            r.url(&k(Ecosystem::CratesIo, "a")).as_str(),
            "https://index.crates.io/1/a"
        );
        assert_eq!(
            r.url(&k(Ecosystem::Npm, "@types/node")).as_str(),
            "https://registry.npmjs.org/@types%2fnode"
        );
        assert_eq!(
            r.url(&k(Ecosystem::Pypi, "Foo_Bar")).as_str(),
            "https://pypi.org/pypi/foo-bar/json"
        );
        let (e, u) = Registries::parse_override("npm=http://127.0.0.1:9/sub").unwrap();
        assert_eq!(e, Ecosystem::Npm);
        assert_eq!(u.as_str(), "http://127.0.0.1:9/sub/");
        assert!(Registries::parse_override("cargo").is_err());
        assert!(Registries::parse_override("nope=http://x/").is_err());
        assert!(Registries::parse_override("npm=file:///etc/").is_err());
    }
}
