//! `blastradius fetch` against a loopback registry: 2,000 packuments, each answered after
//! 20 ms. A cold run (empty cache, every document downloaded and validated) and a warm run
//! (every document revalidated: 304), at concurrency 8; the warm run should be bounded by
//! round trips (2,000 × 20 ms / 8 = 5 s), not bytes. A third run within `--fresh-for` (default
//! 5 minutes) sends nothing.
//!
//! `cargo bench --bench fetch` (a plain harness: each run takes seconds, so criterion's
//! repetitions would say little more). `FETCH_BENCH_PACKAGES` changes the count.

use std::time::{Duration, Instant};

use blastradius::fetch::{self, FetchOptions, Plan, Registries};
use blastradius::ingest::Ecosystem;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LATENCY: Duration = Duration::from_millis(20);

/// A packument of ten versions with a few requirements each (about 5 KB).
fn packument(name: &str) -> String {
    let mut versions = Vec::new();
    let mut times = vec![
        r#""created":"2024-01-01T00:00:00.000Z""#.to_owned(),
        r#""modified":"2025-01-01T00:00:00.000Z""#.to_owned(),
    ];
    for i in 0..10 {
        versions.push(format!(
            r#""1.{i}.0":{{"name":"{name}","version":"1.{i}.0","_npmUser":{{"name":"owner-{name}"}},"dependencies":{{"dep-a":"^1.0.0","dep-b":"~2.{i}.0","dep-c":">=3 <4"}},"scripts":{{"test":"node test.js"}},"dist":{{"tarball":"https://registry.example/{name}/-/{name}-1.{i}.0.tgz","shasum":"0000000000000000000000000000000000000000"}}}}"#
        ));
        times.push(format!(
            r#""1.{i}.0":"2024-0{}-01T00:00:00.000Z""#,
            1 + i % 9
        ));
    }
    format!(
        r#"{{"_id":"{name}","name":"{name}","dist-tags":{{"latest":"1.9.0"}},"maintainers":[{{"name":"owner-{name}"}}],"time":{{{}}},"versions":{{{}}}}}"#,
        times.join(","),
        versions.join(",")
    )
}

/// Serves `/<name>` with an ETag; answers 304 when it is sent back.
struct Registry;

impl Respond for Registry {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let name = req.url.path().trim_start_matches('/').to_owned();
        let etag = format!("\"{name}-v1\"");
        let t = if req
            .headers
            .get("if-none-match")
            .is_some_and(|v| v.to_str().ok() == Some(etag.as_str()))
        {
            ResponseTemplate::new(304)
        } else {
            ResponseTemplate::new(200).set_body_string(packument(&name))
        };
        t.insert_header("etag", etag.as_str()).set_delay(LATENCY)
    }
}

fn main() {
    let n: usize = std::env::var("FETCH_BENCH_PACKAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(wiremock::matchers::method("GET"))
            .respond_with(Registry)
            .mount(&server),
    );
    let mut plan = Plan::default();
    for i in 0..n {
        plan.add(Ecosystem::Npm, &format!("pkg-{i:05}"));
    }
    for (label, rate) in [
        ("no rate limit", 0),
        ("default rate limit (100/s per host)", 100),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut o = FetchOptions::new(dir.path().to_path_buf());
        let mut r = Registries::default();
        let (e, u) = Registries::parse_override(&format!("npm={}", server.uri())).unwrap();
        r.set(e, u);
        o.registries = r;
        o.concurrency = 8;
        o.fresh_for = Duration::ZERO; // the warm run revalidates every document
        o.rate_per_host = rate;
        for run in [
            "cold",
            "warm (revalidated: 304)",
            "again within --fresh-for",
        ] {
            if run.starts_with("again") {
                o.fresh_for = FetchOptions::new(dir.path().to_path_buf()).fresh_for;
            }
            let t = Instant::now();
            let s = fetch::fetch(&plan, &o).unwrap();
            let took = t.elapsed();
            assert!(s.failures.is_empty(), "{:?}", &s.failures[..1]);
            println!(
                "fetch {n} packuments, {LATENCY:?} latency, concurrency 8, {label}: {run}: {:.2} s ({} fetched, {} not modified, {} from cache, {} requests, {} received)",
                took.as_secs_f64(),
                s.fetched,
                s.not_modified,
                s.from_cache,
                s.requests,
                indicatif::HumanBytes(s.bytes)
            );
        }
    }
}
