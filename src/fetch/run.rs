//! One run: a bounded set of tasks, one per package, each getting its document from the
//! cache or the registry; with `--transitive`, what a document requires joins the queue.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::cache::{self, doc_path, Cache, Meta};
use super::client::{GetError, Got, Http, Stats, Validators};
use super::{read, Failure, FailureKind, FetchOptions, PackageKey, Plan, Registries, Summary};
use crate::error::Error;
use crate::ingest::Ecosystem;

fn accept(eco: Ecosystem) -> &'static str {
    match eco {
        // The full packument (owners, publishers); not application/vnd.npm.install-v1+json.
        Ecosystem::Npm | Ecosystem::Pypi => "application/json",
        Ecosystem::CratesIo => "*/*",
    }
}

/// After this many packages of one registry fail in a row, the rest are not requested.
const BREAKER: u32 = 20;

pub(super) struct Ctx {
    pub(super) http: Option<Http>,
    pub(super) cache: Cache,
    pub(super) registries: Registries,
    pub(super) stats: Stats,
    pub(super) transitive: bool,
    pub(super) offline: bool,
    pub(super) fresh_for: u64,
    pub(super) failed_in_a_row: [AtomicU32; 3],
}

impl Ctx {
    fn breaker(&self, eco: Ecosystem) -> &AtomicU32 {
        &self.failed_in_a_row[eco as usize]
    }
}

/// How one package was had.
enum Outcome {
    Fetched,
    NotModified,
    FromCache,
}

struct Done {
    outcome: std::result::Result<Outcome, Failure>,
    /// Requirements of its document (with `--transitive`).
    requires: BTreeSet<PackageKey>,
}

pub(super) async fn run(plan: &Plan, opts: &FetchOptions, ctx: Arc<Ctx>) -> Summary {
    let mut s = Summary::default();
    for (eco, name, why) in &plan.invalid {
        // The name is hostile: shown clipped (and escaped by whoever prints it).
        let shown = match name.char_indices().nth(64) {
            Some((i, _)) => format!("{}… ({} bytes)", &name[..i], name.len()),
            None => name.clone(),
        };
        s.failures.push(Failure {
            package: format!("{eco}:{shown}"),
            kind: FailureKind::InvalidName,
            message: format!("not fetched: {why}"),
        });
    }
    let mut seen: BTreeSet<PackageKey> = BTreeSet::new();
    let mut queue: VecDeque<PackageKey> = VecDeque::new();
    let mut over_limit = 0usize;
    for k in &plan.packages {
        if seen.len() >= opts.max_packages {
            over_limit += 1;
        } else {
            seen.insert(k.clone());
            queue.push_back(k.clone());
        }
    }
    let bar = progress_bar(opts.progress, seen.len() as u64);
    let mut tasks = tokio::task::JoinSet::new();
    let mut running: HashMap<tokio::task::Id, PackageKey> = HashMap::new();
    loop {
        while tasks.len() < opts.concurrency.max(1) {
            let Some(key) = queue.pop_front() else { break };
            let handle = tasks.spawn(fetch_one(ctx.clone(), key.clone()));
            running.insert(handle.id(), key);
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let done = match joined {
            Ok((id, done)) => {
                running.remove(&id);
                done
            }
            Err(e) => {
                let key = running.remove(&e.id());
                let what = if e.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                };
                Done {
                    outcome: Err(Failure {
                        package: key.as_ref().map_or_else(|| "?".into(), ToString::to_string),
                        kind: FailureKind::Aborted,
                        message: format!("the fetch task {what}"),
                    }),
                    requires: BTreeSet::new(),
                }
            }
        };
        match done.outcome {
            Ok(Outcome::Fetched) => s.fetched += 1,
            Ok(Outcome::NotModified) => s.not_modified += 1,
            Ok(Outcome::FromCache) => s.from_cache += 1,
            Err(f) => {
                // Shown above the bar as they happen; the caller lists them all at the end.
                if !bar.is_hidden() {
                    bar.println(format!(
                        "failed: {}",
                        crate::report::escape::message(&f.to_string())
                    ));
                }
                s.failures.push(f);
            }
        }
        for k in done.requires {
            if plan.provided.contains(&k) || seen.contains(&k) {
                continue;
            }
            if seen.len() >= opts.max_packages {
                over_limit += 1;
                continue;
            }
            seen.insert(k.clone());
            queue.push_back(k);
            bar.inc_length(1);
        }
        bar.inc(1);
        bar.set_message(format!(
            "{} · {} retries",
            indicatif::HumanBytes(ctx.stats.bytes.load(Ordering::Relaxed)),
            ctx.stats.retries.load(Ordering::Relaxed)
        ));
    }
    bar.finish_and_clear();
    if over_limit > 0 {
        s.failures.push(Failure {
            package: "--max-packages".into(),
            kind: FailureKind::Limit,
            message: format!(
                "stopped at {} packages (--max-packages); {over_limit} more named packages were not fetched",
                opts.max_packages
            ),
        });
    }
    s.packages = seen.len();
    s.failures
        .sort_by(|a, b| a.package.cmp(&b.package).then(a.kind.cmp(&b.kind)));
    s
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} fetch [{bar:30}] {pos}/{len} packages · {msg} · {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn fail(key: &PackageKey, kind: FailureKind, message: String) -> Done {
    Done {
        outcome: Err(Failure {
            package: key.to_string(),
            kind,
            message,
        }),
        requires: BTreeSet::new(),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Gets one package's document: from the cache when fresh (or offline), else from the
/// registry, conditionally when a copy is cached; validates and stores what comes back.
async fn fetch_one(ctx: Arc<Ctx>, key: PackageKey) -> Done {
    let rel = match doc_path(&key) {
        Ok(r) => r,
        Err(why) => {
            return fail(
                &key,
                FailureKind::InvalidName,
                format!("not fetched: {why}"),
            )
        }
    };
    let (c, r) = (ctx.clone(), rel.clone());
    let cached = tokio::task::spawn_blocking(move || {
        let doc = c.cache.read_doc(&r)?;
        let meta = c.cache.read_meta(&r, &doc);
        Some((doc, meta))
    })
    .await
    .ok()
    .flatten();
    let cached_file = ctx.cache.doc_file(&rel);
    let from_cache = |doc: Vec<u8>, ctx: Arc<Ctx>, key: PackageKey, outcome: Outcome| async move {
        let requires = if ctx.transitive {
            let k = key.clone();
            let label = ctx.cache.doc_file(&doc_path(&key).unwrap_or_default());
            match tokio::task::spawn_blocking(move || read::parse_document(&k, &label, &doc)).await
            {
                Ok(Ok(d)) => d.requirements(),
                Ok(Err(e)) => {
                    return fail(&key, FailureKind::BadDocument, format!("cached copy: {e}"))
                }
                Err(_) => return fail(&key, FailureKind::Aborted, "parsing panicked".into()),
            }
        } else {
            BTreeSet::new()
        };
        Done {
            outcome: Ok(outcome),
            requires,
        }
    };
    if ctx.offline {
        return match cached {
            Some((doc, _)) => from_cache(doc, ctx, key, Outcome::FromCache).await,
            None => fail(
                &key,
                FailureKind::NotCached,
                format!(
                    "offline: no cached entry (cache: {}; expected {})",
                    ctx.cache.root().display(),
                    cached_file.display()
                ),
            ),
        };
    }
    if let Some((doc, Some(meta))) = &cached {
        if meta.is_fresh(now(), ctx.fresh_for) {
            let doc = doc.clone();
            return from_cache(doc, ctx, key, Outcome::FromCache).await;
        }
    }
    let Some(http) = &ctx.http else {
        return fail(&key, FailureKind::Network, "no HTTP client".into());
    };
    let url = ctx.registries.url(&key);
    if ctx.breaker(key.ecosystem).load(Ordering::Relaxed) >= BREAKER {
        return fail(
            &key,
            FailureKind::Network,
            format!(
                "not requested: {BREAKER} packages of {} failed in a row ({url} was next)",
                key.ecosystem
            ),
        );
    }
    let conditional = match &cached {
        Some((_, Some(meta))) => Some(Validators {
            etag: meta.etag.clone(),
            last_modified: meta.last_modified.clone(),
            max_age: 0,
        }),
        _ => None,
    };
    let got = http
        .get(
            &url,
            accept(key.ecosystem),
            conditional.as_ref(),
            &ctx.stats,
        )
        .await;
    let breaker = ctx.breaker(key.ecosystem);
    match got {
        Err(GetError { message, attempts }) => {
            breaker.fetch_add(1, Ordering::Relaxed);
            let tries = if attempts > 1 {
                format!(" (gave up after {attempts} attempts)")
            } else {
                String::new()
            };
            fail(
                &key,
                FailureKind::Network,
                format!("GET {url}: {message}{tries}"),
            )
        }
        Ok(Got::NotFound(status)) => {
            breaker.store(0, Ordering::Relaxed);
            fail(
                &key,
                FailureKind::NotFound,
                format!("no such package in {} (GET {url}: {status})", key.ecosystem),
            )
        }
        Ok(Got::NotModified(v)) => {
            breaker.store(0, Ordering::Relaxed);
            let Some((doc, Some(old))) = cached else {
                return fail(
                    &key,
                    FailureKind::BadDocument,
                    format!("GET {url}: 304 Not Modified to an unconditional request"),
                );
            };
            let meta = Meta {
                etag: v.etag.or(old.etag),
                last_modified: v.last_modified.or(old.last_modified),
                fetched_at: now(),
                max_age: v.max_age,
                url: redacted_url(&url),
                ..old
            };
            let (c, r) = (ctx.clone(), rel.clone());
            let written = tokio::task::spawn_blocking(move || c.cache.write_meta(&r, &meta)).await;
            if let Err(f) = cache_result(&key, written) {
                return f;
            }
            from_cache(doc, ctx, key, Outcome::NotModified).await
        }
        Ok(Got::Body(body, v)) => {
            breaker.store(0, Ordering::Relaxed);
            let (c, r, k, u) = (ctx.clone(), rel.clone(), key.clone(), url.clone());
            let stored = tokio::task::spawn_blocking(move || {
                let label = PathBuf::from(redacted_url(&u));
                let doc = read::parse_document(&k, &label, &body)?;
                let meta = Meta {
                    format: 1,
                    url: redacted_url(&u),
                    etag: v.etag,
                    last_modified: v.last_modified,
                    fetched_at: now(),
                    max_age: v.max_age,
                    len: body.len() as u64,
                    hash: cache::hash(&body),
                };
                Ok::<_, Error>((doc, c.cache.write(&r, &body, &meta)))
            })
            .await;
            match stored {
                Err(_) => fail(&key, FailureKind::Aborted, "validation panicked".into()),
                Ok(Err(e)) => fail(
                    &key,
                    FailureKind::BadDocument,
                    format!("GET {url}: not a valid {} document: {e}", key.ecosystem),
                ),
                Ok(Ok((doc, written))) => {
                    if let Err(f) = cache_result(&key, Ok(written)) {
                        return f;
                    }
                    Done {
                        outcome: Ok(Outcome::Fetched),
                        requires: if ctx.transitive {
                            doc.requirements()
                        } else {
                            BTreeSet::new()
                        },
                    }
                }
            }
        }
    }
}

fn cache_result(
    key: &PackageKey,
    r: std::result::Result<
        std::result::Result<(), (PathBuf, std::io::Error)>,
        tokio::task::JoinError,
    >,
) -> std::result::Result<(), Done> {
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err((path, e))) => Err(fail(
            key,
            FailureKind::Cache,
            format!("cannot write {}: {e}", path.display()),
        )),
        Err(_) => Err(fail(key, FailureKind::Aborted, "writing panicked".into())),
    }
}

/// A URL as it may be stored or shown: a `--registry` URL's password never is.
fn redacted_url(u: &reqwest::Url) -> String {
    crate::ingest::secrets::redact(u.as_str()).into_owned()
}
