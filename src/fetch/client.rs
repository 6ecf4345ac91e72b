//! The HTTP client and its manners: one `reqwest` client with explicit timeouts, a rate limit
//! per host, conditional requests, a byte cap on every body, and our own retry loop
//! (reqwest's has neither backoff nor `Retry-After`).
//!
//! # Retries
//! Connect, timeout and body errors (a reset, a truncated body, a `Content-Length` the body
//! does not reach) and the statuses 408, 429 and 5xx are retried, [`Settings::retries`] times
//! (3, as cargo and uv do). The wait before retry `n` (0-based) is
//! `min(base × 4ⁿ, 20 × base) + jitter` with jitter uniform in `[0, base)`: with the default
//! base of 500 ms, 0.5–1 s, 2–2.5 s, 8–8.5 s. A `Retry-After` (seconds or an HTTP date) on
//! 429 or 503 replaces a shorter wait; one longer than [`Settings::retry_after_cap`] fails at
//! once, since waiting minutes inside a run helps nobody. 404, 410 and 451 mean "no such
//! package"; 401 and 403 are refusals, neither is retried.
//!
//! # Credentials
//! blastradius sends none of its own. A `--registry` URL may carry `user:password@`: it is
//! taken out of the URL, the password held as a [`Secret`] and sent as a Basic
//! `Authorization` header that reqwest marks sensitive. A refusal's body is shown cut to 200
//! bytes, with that password and anything token-shaped redacted, escaped for a terminal.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, ACCEPT, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};

use crate::ingest::secrets::{self, Secret};
use crate::report::escape;

/// `blastradius/<version> (<purpose>; +<repository>)`: who is asking, per crates.io's crawler
/// policy (the repository once Cargo.toml names one).
pub fn user_agent() -> String {
    let repo = env!("CARGO_PKG_REPOSITORY");
    let purpose = "registry metadata for supply-chain blast-radius analysis";
    if repo.is_empty() {
        format!("blastradius/{} ({purpose})", env!("CARGO_PKG_VERSION"))
    } else {
        format!(
            "blastradius/{} ({purpose}; +{repo})",
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Timeouts, retries and limits of the client.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Connecting (TCP and TLS).
    pub connect_timeout: Duration,
    /// Silence between two reads of a response.
    pub read_timeout: Duration,
    /// One whole request, body included.
    pub request_timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Base of the backoff schedule.
    pub retry_base: Duration,
    /// Longest `Retry-After` honoured; a longer one fails the request at once.
    pub retry_after_cap: Duration,
    /// Largest body accepted (after decompression).
    pub max_body: u64,
    /// Requests per second per host; 0 for no limit.
    pub rate_per_host: u32,
    /// Requests in flight (also the rate limiter's burst).
    pub concurrency: usize,
    /// Honour `HTTP(S)_PROXY`; off for registries on loopback.
    pub proxy: bool,
}

/// Validators and freshness of a response.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age` minus `Age` (0 with `no-cache`, `no-store` or none).
    pub max_age: u64,
}

/// What a GET came back with.
#[derive(Debug)]
pub enum Got {
    /// 200, with the whole body.
    Body(Vec<u8>, Validators),
    /// 304: the cached copy is current.
    NotModified(Validators),
    /// 404, 410 or 451: the registry has no such package.
    NotFound(StatusCode),
}

/// A request that failed for good.
#[derive(Debug)]
pub struct GetError {
    /// What went wrong last.
    pub message: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Counters shared with the progress display.
#[derive(Debug, Default)]
pub struct Stats {
    /// Body bytes received (after decompression).
    pub bytes: AtomicU64,
    /// Retries made.
    pub retries: AtomicU64,
    /// Requests sent.
    pub requests: AtomicU64,
}

/// One attempt's failure.
struct Attempt {
    message: String,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Attempt {
    fn fatal(message: impl Into<String>) -> Self {
        Attempt {
            message: message.into(),
            retry: false,
            retry_after: None,
        }
    }
    fn transient(message: impl Into<String>) -> Self {
        Attempt {
            message: message.into(),
            retry: true,
            retry_after: None,
        }
    }
}

/// The client.
pub struct Http {
    client: reqwest::Client,
    settings: Settings,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl Http {
    /// Builds the client.
    ///
    /// # Errors
    /// When reqwest cannot build it (no TLS roots, bad settings).
    pub fn new(settings: Settings) -> Result<Http, String> {
        // reqwest is built without a default crypto provider; ring is ours. A second call
        // (another run in the same process) finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .retry(reqwest::retry::never())
            .gzip(true)
            .pool_max_idle_per_host(settings.concurrency);
        if !settings.proxy {
            b = b.no_proxy();
        }
        let client = b
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", chain(&e)))?;
        Ok(Http {
            client,
            settings,
            limiters: Mutex::new(HashMap::new()),
        })
    }

    fn limiter(&self, url: &Url) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = NonZeroU32::new(self.settings.rate_per_host)?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let burst = NonZeroU32::new(self.settings.concurrency.max(1) as u32).unwrap_or(rate);
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            map.entry(host)
                .or_insert_with(|| {
                    Arc::new(RateLimiter::direct(
                        Quota::per_second(rate).allow_burst(burst),
                    ))
                })
                .clone(),
        )
    }

    /// GETs `url`, conditionally when validators are given, retrying transient failures.
    pub async fn get(
        &self,
        url: &Url,
        accept: &str,
        cached: Option<&Validators>,
        stats: &Stats,
    ) -> Result<Got, GetError> {
        let limiter = self.limiter(url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if let Some(l) = &limiter {
                l.until_ready().await;
            }
            stats.requests.fetch_add(1, Ordering::Relaxed);
            let failure = match self.once(url, accept, cached, stats).await {
                Ok(got) => return Ok(got),
                Err(f) => f,
            };
            if !failure.retry || attempt > self.settings.retries {
                return Err(GetError {
                    message: failure.message,
                    attempts: attempt,
                });
            }
            let mut wait = backoff(self.settings.retry_base, attempt - 1);
            if let Some(asked) = failure.retry_after {
                if asked > self.settings.retry_after_cap {
                    return Err(GetError {
                        message: format!(
                            "{}; the registry asked us to wait {} s (Retry-After), longer than the {} s we wait: try later, or use --offline",
                            failure.message,
                            asked.as_secs(),
                            self.settings.retry_after_cap.as_secs()
                        ),
                        attempts: attempt,
                    });
                }
                wait = wait.max(asked);
            }
            stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    async fn once(
        &self,
        url: &Url,
        accept: &str,
        cached: Option<&Validators>,
        stats: &Stats,
    ) -> Result<Got, Attempt> {
        // Credentials in a `--registry` URL are taken out of it: the password is held as a
        // `Secret` and sent as a sensitive Basic header, so no URL we print carries it.
        let (url, auth) = split_credentials(url);
        let url = &url;
        let mut req = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some((user, password)) = &auth {
            req = req.basic_auth(user, password.as_ref().map(Secret::expose));
        }
        if let Some(v) = cached {
            if let Some(e) = &v.etag {
                req = req.header(IF_NONE_MATCH, e);
            }
            if let Some(m) = &v.last_modified {
                req = req.header(IF_MODIFIED_SINCE, m);
            }
        }
        let mut resp = req.send().await.map_err(|e| {
            if e.is_redirect() {
                Attempt::fatal(chain(&e))
            } else {
                Attempt::transient(chain(&e))
            }
        })?;
        let status = resp.status();
        let validators = validators(resp.headers());
        match status.as_u16() {
            200 => {}
            304 => return Ok(Got::NotModified(validators)),
            404 | 410 | 451 => return Ok(Got::NotFound(status)),
            401 | 403 => {
                let who = match &auth {
                    Some((user, _)) => format!(
                        "the credentials of user {:?} from the --registry URL",
                        escape::terminal(&secrets::redact(user))
                    ),
                    None => "blastradius sends no credentials".to_owned(),
                };
                let said = refusal_excerpt(resp, auth.as_ref().and_then(|a| a.1.as_ref())).await;
                return Err(Attempt::fatal(format!(
                    "{status}: the registry refused the request ({who}){said}"
                )));
            }
            408 | 429 | 500..=599 => {
                let retry_after = if matches!(status.as_u16(), 429 | 503) {
                    resp.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
                } else {
                    None
                };
                return Err(Attempt {
                    message: status.to_string(),
                    retry: true,
                    retry_after,
                });
            }
            _ => return Err(Attempt::fatal(format!("unexpected HTTP status {status}"))),
        }
        let max = self.settings.max_body;
        if let Some(len) = resp.content_length() {
            if len > max {
                return Err(Attempt::fatal(oversize(max, Some(len))));
            }
        }
        let mut body =
            Vec::with_capacity(resp.content_length().unwrap_or(64 * 1024).min(8 << 20) as usize);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > max {
                        return Err(Attempt::fatal(oversize(max, None)));
                    }
                    stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(Attempt::transient(format!(
                        "incomplete body after {} bytes: {}",
                        body.len(),
                        chain(&e)
                    )))
                }
            }
        }
        Ok(Got::Body(body, validators))
    }
}

/// Longest excerpt of a refusal's body shown in the error.
const REFUSAL_EXCERPT: usize = 200;

/// `; it said: "…"`: the start of a 401/403 body, which may echo the credential back. The
/// password sent (when there was one) and anything token-shaped are redacted, the text is cut
/// to [`REFUSAL_EXCERPT`] bytes and escaped for a terminal; empty when the body is.
async fn refusal_excerpt(mut resp: reqwest::Response, sent: Option<&Secret>) -> String {
    let mut body = Vec::new();
    while body.len() < 16 * 1024 {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let mut text = secrets::redact(&text).into_owned();
    if let Some(p) = sent.map(Secret::expose).filter(|p| !p.is_empty()) {
        text = text.replace(p, "[REDACTED]");
    }
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut cut = text.len().min(REFUSAL_EXCERPT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let more = if cut < text.len() { "…" } else { "" };
    format!("; it said: \"{}{more}\"", escape::terminal(&text[..cut]))
}

/// A URL without its userinfo, and the user and password it carried.
fn split_credentials(url: &Url) -> (Url, Option<(String, Option<Secret>)>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let user = url.username().to_owned();
    let password = url.password().map(Secret::new);
    let mut bare = url.clone();
    // Only fails for URLs that cannot have credentials, which we never get here.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    (bare, Some((user, password)))
}

fn oversize(max: u64, declared: Option<u64>) -> String {
    match declared {
        Some(len) => format!(
            "response of {} is over the {} limit for one document (raise it with --max-size)",
            mib(len),
            mib(max)
        ),
        None => format!(
            "response is over the {} limit for one document (raise it with --max-size)",
            mib(max)
        ),
    }
}

fn mib(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// An error and its sources, without reqwest's copy of the URL (the caller names it).
pub(crate) fn chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    if let Some(u) = e.url() {
        out = out.replace(&format!(" for url ({u})"), "");
    }
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
    }
    out
}

/// The wait before retry `n` (0-based).
pub fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base.saturating_mul(4u32.saturating_pow(n.min(8)));
    let capped = exp.min(base.saturating_mul(20));
    let jitter = base.mul_f64(fastrand::f64());
    capped + jitter
}

/// `Retry-After`: whole seconds or an HTTP date. A date in the past, zero, or anything
/// unreadable gives `None` (the backoff schedule applies).
pub fn parse_retry_after(v: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return (secs > 0).then(|| Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    at.duration_since(now).ok().filter(|d| !d.is_zero())
}

fn validators(h: &HeaderMap) -> Validators {
    let get = |name: reqwest::header::HeaderName| {
        h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let mut max_age = 0u64;
    let mut no_cache = false;
    if let Some(cc) = get(reqwest::header::CACHE_CONTROL) {
        for d in cc.split(',').map(str::trim) {
            let lower = d.to_ascii_lowercase();
            if lower == "no-cache" || lower == "no-store" {
                no_cache = true;
            } else if let Some(n) = lower.strip_prefix("max-age=") {
                max_age = n.trim_matches('"').parse().unwrap_or(0);
            }
        }
    }
    let age: u64 = get(reqwest::header::AGE)
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(0);
    Validators {
        etag: get(reqwest::header::ETAG),
        last_modified: get(reqwest::header::LAST_MODIFIED),
        max_age: if no_cache {
            0
        } else {
            max_age.saturating_sub(age)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn retry_after_parsing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("abc", now), None);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), None);
    }

    #[test]
    fn backoff_schedule() {
        let base = Duration::from_millis(500);
        for _ in 0..100 {
            let b: Vec<_> = (0..4).map(|n| backoff(base, n).as_millis()).collect();
            assert!((500..1000).contains(&b[0]), "{b:?}");
            assert!((2000..2500).contains(&b[1]), "{b:?}");
            assert!((8000..8500).contains(&b[2]), "{b:?}");
            assert!((10000..10500).contains(&b[3]), "{b:?}");
        }
        assert!(backoff(Duration::from_millis(1), 30) < Duration::from_millis(30));
    }

    #[test]
    fn freshness_headers() {
        let mut h = HeaderMap::new();
        h.insert("cache-control", "public, max-age=600".parse().unwrap());
        h.insert("age", "100".parse().unwrap());
        h.insert("etag", "\"abc\"".parse().unwrap());
        let v = validators(&h);
        assert_eq!(v.max_age, 500);
        assert_eq!(v.etag.as_deref(), Some("\"abc\""));
        h.insert("cache-control", "max-age=600, no-cache".parse().unwrap());
        assert_eq!(validators(&h).max_age, 0);
    }
}
