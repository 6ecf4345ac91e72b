//! `blastradius fetch` against servers on loopback only: every server here binds 127.0.0.1
//! (wiremock's default, or a hand-written `TcpListener` for the faults wiremock cannot
//! produce), and every registry URL is checked to be on 127.0.0.1 before use. Retry sleeps
//! are shortened with the same setting production reads (`retry_base`,
//! `BLASTRADIUS_RETRY_BASE_MS`), never skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use blastradius::fetch::{self, FailureKind, FetchOptions, Plan, Registries, Summary};
use blastradius::ingest::Ecosystem;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---------------------------------------------------------------------------------------------
// Fixtures

fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("/1/{n}"),
        2 => format!("/2/{n}"),
        3 => format!("/3/{}/{n}", &n[..1]),
        _ => format!("/{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn index_doc(name: &str, deps: &[&str]) -> String {
    let deps: Vec<String> = deps
        .iter()
        .map(|d| {
            format!(
                r#"{{"name":"{d}","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}}"#
            )
        })
        .collect();
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"1.0.0\",\"deps\":[{}],\"cksum\":\"00\",\"features\":{{}},\"yanked\":false,\"pubtime\":\"2025-01-01T00:00:00Z\"}}\n",
        deps.join(",")
    )
}

fn packument(name: &str, deps: &[&str]) -> String {
    let deps: Vec<String> = deps
        .iter()
        .map(|d| format!("\"{d}\": \"^1.0.0\""))
        .collect();
    format!(
        r#"{{"_id":"{name}","name":"{name}","dist-tags":{{"latest":"1.0.0"}},
"maintainers":[{{"name":"someone","email":"x@example.invalid"}}],
"time":{{"created":"2025-06-01T00:00:00.000Z","modified":"2025-06-01T00:00:00.000Z","1.0.0":"2025-06-01T00:00:00.000Z"}},
"versions":{{"1.0.0":{{"name":"{name}","version":"1.0.0","_npmUser":{{"name":"someone","email":"x@example.invalid"}},
"dependencies":{{{}}},"dist":{{"tarball":"https://registry.example/{name}/-/1.0.0.tgz"}}}}}}}}"#,
        deps.join(",")
    )
}

fn pypi_doc(name: &str) -> String {
    format!(
        r#"{{"info":{{"name":"{name}","requires_dist":[],"version":"1.0","yanked":false}},
"releases":{{"1.0":[{{"filename":"{name}-1.0.tar.gz","packagetype":"sdist","upload_time_iso_8601":"2025-06-01T00:00:00.000000Z","yanked":false}}]}},
"urls":[]}}"#
    )
}

fn cargo_lock(names: &[String]) -> String {
    let mut s = String::from("version = 3\n\n");
    for n in names {
        s.push_str(&format!(
            "[[package]]\nname = \"{n}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n"
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Harness

/// A wiremock server (it runs on its own thread) and a runtime to talk to it from sync tests.
struct Server {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        assert_eq!(server.address().ip().to_string(), "127.0.0.1");
        Server { rt, server }
    }
    fn uri(&self) -> String {
        self.server.uri()
    }
    fn mount(&self, m: Mock) {
        self.rt.block_on(m.mount(&self.server));
    }
    fn requests(&self) -> Vec<wiremock::Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }
    fn verify(&self) {
        self.rt.block_on(self.server.verify());
    }
    fn reset(&self) {
        self.rt.block_on(self.server.reset());
    }
}

/// Every registry at `base`, which must be on loopback.
fn registries(base: &str) -> Registries {
    let mut r = Registries::default();
    for eco in ["crates.io", "npm", "pypi"] {
        let (e, u) = Registries::parse_override(&format!("{eco}={base}")).unwrap();
        assert_eq!(
            u.host_str(),
            Some("127.0.0.1"),
            "tests contact loopback only"
        );
        r.set(e, u);
    }
    r
}

/// Short timeouts and a 2 ms backoff base: the production schedule, scaled down.
fn opts(cache: &Path, base: &str) -> FetchOptions {
    let mut o = FetchOptions::new(cache.to_path_buf());
    o.registries = registries(base);
    o.connect_timeout = Duration::from_secs(2);
    o.read_timeout = Duration::from_millis(300);
    o.request_timeout = Duration::from_secs(3);
    o.retry_base = Duration::from_millis(2);
    o.retry_after_cap = Duration::from_secs(5);
    o.rate_per_host = 0;
    o
}

fn plan(keys: &[(Ecosystem, &str)]) -> Plan {
    let mut p = Plan::default();
    for (e, n) in keys {
        p.add(*e, n);
    }
    p
}

fn run(plan: &Plan, o: &FetchOptions) -> Summary {
    fetch::fetch(plan, o).unwrap()
}

fn cached(cache: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(cache.join(rel)).ok()
}

/// A raw HTTP server on 127.0.0.1: each connection reads one request head, then `respond`
/// writes whatever bytes it likes. Counts connections.
struct Raw {
    port: u16,
    hits: Arc<AtomicUsize>,
}

fn raw_server(respond: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Raw {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let respond = Arc::new(respond);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            h.fetch_add(1, Ordering::SeqCst);
            let respond = respond.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                respond(&mut stream);
            });
        }
    });
    Raw { port, hits }
}

impl Raw {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn serde_plan() -> Plan {
    plan(&[(Ecosystem::CratesIo, "serde")])
}

fn only_failure(s: &Summary) -> &fetch::Failure {
    assert_eq!(s.failures.len(), 1, "{:?}", s.failures);
    &s.failures[0]
}

// ---------------------------------------------------------------------------------------------
// Manners

#[test]
fn ok_with_etag_then_not_modified_sending_if_none_match() {
    let srv = Server::start();
    let body = packument("left-pad", &[]);
    srv.mount(
        Mock::given(method("GET"))
            .and(path("/left-pad"))
            .and(header("accept", "application/json"))
            .and(header("user-agent", fetch::client::user_agent().as_str()))
            .and(header("if-none-match", "\"v1\""))
            .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
            .expect(1),
    );
    srv.mount(
        Mock::given(method("GET"))
            .and(path("/left-pad"))
            .and(header("accept", "application/json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("etag", "\"v1\"")
                    .insert_header("last-modified", "Wed, 01 Jan 2025 00:00:00 GMT")
                    .set_body_string(body.clone()),
            )
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.fresh_for = Duration::ZERO; // ask every time: conditionally
    let p = plan(&[(Ecosystem::Npm, "left-pad")]);
    let first = run(&p, &o);
    assert_eq!((first.fetched, first.not_modified), (1, 0), "{first:?}");
    assert_eq!(first.bytes, body.len() as u64);
    let second = run(&p, &o);
    assert_eq!((second.fetched, second.not_modified), (0, 1), "{second:?}");
    assert_eq!(second.bytes, 0, "a 304 transfers no body");
    assert_eq!(
        cached(dir.path(), "npm/left-pad.packument.json").unwrap(),
        body
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].headers.get("if-none-match").is_none());
    assert_eq!(
        reqs[1].headers.get("if-modified-since").unwrap(),
        "Wed, 01 Jan 2025 00:00:00 GMT"
    );
    srv.verify();
}

#[test]
fn retries_429_honouring_retry_after() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .expect(1),
    );
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(200).set_body_string(index_doc("serde", &[])))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured ({:?})",
        t.elapsed()
    );
    assert_eq!((s.fetched, s.retries, s.requests), (1, 1, 2), "{s:?}");
    srv.verify();
}

#[test]
fn retry_after_longer_than_the_cap_fails_at_once() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "100000"))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    let f = only_failure(&s);
    assert!(f.message.contains("asked us to wait 100000 s"), "{f}");
    srv.verify();
}

#[test]
fn service_unavailable_twice_then_ok_is_exactly_three_requests() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .expect(2),
    );
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(200).set_body_string(index_doc("serde", &[])))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    assert_eq!((s.fetched, s.retries), (1, 2), "{s:?}");
    assert_eq!(srv.requests().len(), 3);
    srv.verify();
}

#[test]
fn persistent_503_gives_up_after_four_attempts_naming_the_url() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(503))
            .expect(4),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::Network);
    let want = format!(
        "crates.io:serde: GET {}/se/rd/serde: 503 Service Unavailable (gave up after 4 attempts)",
        srv.uri()
    );
    assert_eq!(f.to_string(), want);
    assert!(!dir.path().join("crates.io/se/rd/serde").exists());
    srv.verify();
}

#[test]
fn a_registry_failing_twenty_packages_in_a_row_is_not_asked_about_the_rest() {
    let srv = Server::start();
    srv.mount(Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)));
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.retries = 0;
    o.concurrency = 1;
    let mut p = Plan::default();
    for i in 0..50 {
        p.add(Ecosystem::CratesIo, &format!("down{i:02}"));
    }
    let s = run(&p, &o);
    assert_eq!(s.failures.len(), 50, "every package is reported");
    assert_eq!(srv.requests().len(), 20);
    assert!(
        s.failures[49]
            .message
            .starts_with("not requested: 20 packages of crates.io failed in a row"),
        "{}",
        s.failures[49]
    );
}

#[test]
fn not_found_is_not_retried() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/pypi/no-such-project/json"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(
        &plan(&[(Ecosystem::Pypi, "No_Such.Project")]),
        &opts(dir.path(), &srv.uri()),
    );
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::NotFound);
    assert!(
        f.to_string()
            .starts_with("pypi:no-such-project: no such package in pypi (GET http://127.0.0.1:"),
        "{f}"
    );
    srv.verify();
}

#[test]
fn refusals_are_not_retried() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(403))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    let f = only_failure(&s);
    assert!(
        f.message.ends_with(
            "403 Forbidden: the registry refused the request (blastradius sends no credentials)"
        ),
        "{f}"
    );
    srv.verify();
}

#[test]
fn a_redirect_loop_stops_after_five() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/se/rd/serde")),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    let f = only_failure(&s);
    assert!(f.message.contains("too many redirects"), "{f}");
    assert_eq!(
        srv.requests().len(),
        6,
        "the request and five redirects, not retried"
    );
}

#[test]
fn never_more_requests_in_flight_than_the_concurrency_cap() {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n2, p2) = (now.clone(), peak.clone());
    let raw = raw_server(move |s| {
        let cur = n2.fetch_add(1, Ordering::SeqCst) + 1;
        p2.fetch_max(cur, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(40));
        n2.fetch_sub(1, Ordering::SeqCst);
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &raw.base());
    o.concurrency = 3;
    let mut p = Plan::default();
    for i in 0..24 {
        p.add(Ecosystem::CratesIo, &format!("cap{i:02}"));
    }
    let s = run(&p, &o);
    assert_eq!(s.failures.len(), 24);
    assert_eq!(raw.hits.load(Ordering::SeqCst), 24);
    assert_eq!(peak.load(Ordering::SeqCst), 3, "peak in flight");
}

#[test]
fn the_rate_limit_spaces_requests_to_one_host() {
    let srv = Server::start();
    srv.mount(Mock::given(method("GET")).respond_with(ResponseTemplate::new(404)));
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.rate_per_host = 20;
    o.concurrency = 1;
    let mut p = Plan::default();
    for i in 0..11 {
        p.add(Ecosystem::CratesIo, &format!("rate{i:02}"));
    }
    let t = Instant::now();
    run(&p, &o);
    // 11 requests at 20/s with a burst of one: at least 10 gaps of 50 ms.
    assert!(
        t.elapsed() >= Duration::from_millis(480),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(srv.requests().len(), 11);
}

#[test]
fn connection_refused_is_retried_then_names_the_url() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    let s = run(&serde_plan(), &opts(dir.path(), &base));
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::Network);
    assert_eq!(s.requests, 4);
    let text = f.to_string();
    assert!(text.contains(&format!("GET {base}se/rd/serde: ")), "{text}");
    assert!(text.contains("gave up after 4 attempts"), "{text}");
}

#[test]
fn gzip_is_asked_for_and_decoded() {
    use flate2::write::GzEncoder;
    let srv = Server::start();
    let body = pypi_doc("requests");
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    srv.mount(
        Mock::given(path("/pypi/requests/json"))
            .and(header_exists("accept-encoding"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-encoding", "gzip")
                    .set_body_raw(gz, "application/json"),
            )
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(
        &plan(&[(Ecosystem::Pypi, "requests")]),
        &opts(dir.path(), &srv.uri()),
    );
    assert_eq!(s.fetched, 1, "{s:?}");
    let ae = srv.requests()[0]
        .headers
        .get("accept-encoding")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ae.contains("gzip"), "{ae}");
    assert_eq!(
        cached(dir.path(), "pypi/requests.project.json").unwrap(),
        body
    );
    srv.verify();
}

// ---------------------------------------------------------------------------------------------
// Broken responses

#[test]
fn body_that_stalls_past_the_read_timeout() {
    let raw = raw_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"na");
        let _ = s.flush();
        std::thread::sleep(Duration::from_secs(3));
    });
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let s = run(&serde_plan(), &opts(dir.path(), &raw.base()));
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::Network);
    assert!(f.message.contains("incomplete body after 4 bytes"), "{f}");
    assert!(
        f.message.contains("timed out") || f.message.contains("timeout"),
        "{f}"
    );
    assert_eq!(raw.hits.load(Ordering::SeqCst), 4);
    // 4 × 300 ms read timeout plus a few ms of backoff, not 4 × 3 s.
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(!dir.path().join("crates.io/se/rd/serde").exists());
}

#[test]
fn truncated_chunked_body_is_an_incomplete_body() {
    let raw = raw_server(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"name\":\"serde\",\r\n",
        );
        // Closed before the last chunk.
    });
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &raw.base()));
    let f = only_failure(&s);
    assert!(f.message.contains("incomplete body"), "{f}");
    assert!(f.message.contains("gave up after 4 attempts"), "{f}");
    assert_eq!(raw.hits.load(Ordering::SeqCst), 4);
    assert!(!dir.path().join("crates.io/se/rd/serde").exists());
}

#[test]
fn content_length_larger_than_the_body() {
    let raw = raw_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"name\":\"");
    });
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &raw.base()));
    let f = only_failure(&s);
    assert!(f.message.contains("incomplete body after 9 bytes"), "{f}");
    assert!(
        f.message
            .contains(&format!("GET {}se/rd/serde", raw.base())),
        "{f}"
    );
    assert_eq!(raw.hits.load(Ordering::SeqCst), 4);
    assert!(!dir.path().join("crates.io/se/rd/serde").exists());
}

#[test]
fn invalid_json_is_an_error_naming_package_and_url_and_nothing_is_cached() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/express"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>captive portal</html>"))
            .expect(1),
    );
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string("{\"name\":\"serde\",\"vers\":"),
            )
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(
        &plan(&[(Ecosystem::Npm, "express"), (Ecosystem::CratesIo, "serde")]),
        &opts(dir.path(), &srv.uri()),
    );
    assert_eq!(s.failures.len(), 2, "{:?}", s.failures);
    let texts: Vec<String> = s.failures.iter().map(ToString::to_string).collect();
    let uri = srv.uri();
    assert!(texts[0].starts_with(&format!("crates.io:serde: GET {uri}/se/rd/serde: not a valid crates.io document: {uri}/se/rd/serde:1:")), "{}", texts[0]);
    assert_eq!(
        texts[1],
        format!("npm:express: GET {uri}/express: not a valid npm document: {uri}/express:1:1: expected a JSON registry document, found HTML or XML: \"<html>captive portal</html>\"")
    );
    assert!(s
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::BadDocument));
    assert!(!dir.path().join("npm").exists() && !dir.path().join("crates.io").exists());
    srv.verify();
}

#[test]
fn a_document_about_another_package_is_refused() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(200).set_body_string(index_doc("evil", &[]))),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = run(&serde_plan(), &opts(dir.path(), &srv.uri()));
    assert!(only_failure(&s)
        .message
        .contains("expected the document of crates.io:serde, found one about \"evil\""));
}

#[test]
fn oversize_body_is_refused_declared_or_streamed() {
    let srv = Server::start();
    let big = format!("{}{}", index_doc("serde", &[]), " ".repeat(4096));
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(200).set_body_string(big))
            .expect(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.max_body = 1024;
    let s = run(&serde_plan(), &o);
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::Network);
    assert!(
        f.message
            .contains("over the 1024 bytes limit for one document"),
        "{f}"
    );
    srv.verify();

    // No Content-Length: counted while streaming (a gzip bomb is capped the same way, on the
    // decompressed bytes).
    let raw = raw_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..64 {
            if s.write_all(format!("100\r\n{}\r\n", " ".repeat(256)).as_bytes())
                .is_err()
            {
                return;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
    });
    let mut o = opts(dir.path(), &raw.base());
    o.max_body = 1024;
    let s = run(&serde_plan(), &o);
    assert!(only_failure(&s)
        .message
        .contains("over the 1024 bytes limit"));
    assert_eq!(
        raw.hits.load(Ordering::SeqCst),
        1,
        "an oversize body is not retried"
    );
}

#[test]
fn gzip_bomb_is_capped_on_decompressed_bytes() {
    use flate2::write::GzEncoder;
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 8 << 20]).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() < 64 * 1024);
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde")).respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(gz, "application/octet-stream"),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.max_body = 1 << 20;
    let s = run(&serde_plan(), &o);
    assert!(only_failure(&s).message.contains("over the 1 MiB limit"));
    assert!(s.bytes <= 1 << 20);
}

// ---------------------------------------------------------------------------------------------
// Names are hostile

#[test]
fn hostile_names_never_reach_the_network_or_leave_the_cache() {
    let srv = Server::start();
    let outer = tempfile::tempdir().unwrap();
    let cache = outer.path().join("cache");
    let long = "a".repeat(10_000);
    let hostile = [
        "../../etc/passwd",
        "..",
        "%2e%2e",
        "a\0b",
        "@scope/../x",
        "a/b",
        "..\\x",
        "CON",
        "nul",
        long.as_str(),
    ];
    let mut p = Plan::default();
    for e in [Ecosystem::CratesIo, Ecosystem::Npm, Ecosystem::Pypi] {
        for n in hostile {
            p.add(e, n);
        }
    }
    p.add(Ecosystem::Npm, "@evil/x");
    // Valid names (npm and PyPI have no device-name rule) whose spelling is encoded on disk.
    let served = [
        ("/CON", packument("CON", &[])),
        ("/nul", packument("nul", &[])),
        ("/@evil%2fx", packument("@evil/x", &[])),
        ("/pypi/con/json", pypi_doc("con")),
        ("/pypi/nul/json", pypi_doc("nul")),
    ];
    for (p, body) in &served {
        srv.mount(
            Mock::given(path(*p))
                .respond_with(ResponseTemplate::new(200).set_body_string(body.clone()))
                .expect(1),
        );
    }
    let s = run(&p, &opts(&cache, &srv.uri()));
    assert_eq!(s.fetched, served.len(), "{:#?}", s.failures);
    assert_eq!(s.failures.len(), 26, "{:#?}", s.failures);
    assert!(s
        .failures
        .iter()
        .all(|f| f.kind == FailureKind::InvalidName));
    // Shown escaped by the CLI; and clipped: no failure repeats a 10 KB name.
    assert!(
        s.failures.iter().all(|f| f.to_string().len() < 300),
        "{:#?}",
        s.failures
    );
    assert!(s
        .failures
        .iter()
        .any(|f| f.package.ends_with("… (10000 bytes)")));
    assert_eq!(srv.requests().len(), served.len());
    let mut files: Vec<String> = ["npm", "pypi"]
        .iter()
        .flat_map(|d| std::fs::read_dir(cache.join(d)).unwrap())
        .map(|e| {
            let e = e.unwrap();
            format!(
                "{}/{}",
                e.path()
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy(),
                e.file_name().to_string_lossy()
            )
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "npm/!c!o!n.packument.json",
            "npm/%6eul.packument.json",
            "npm/@evil%2fx.packument.json",
            "pypi/%63on.project.json",
            "pypi/%6eul.project.json",
        ]
    );
    // Nothing outside the cache directory.
    let outside: Vec<_> = std::fs::read_dir(outer.path()).unwrap().collect();
    assert_eq!(outside.len(), 1);
    srv.verify();
}

#[test]
fn a_hostile_requirement_in_a_fetched_document_is_refused_under_transitive() {
    let srv = Server::start();
    // Requirements named like paths are not valid package names: never followed, never a URL
    // or a path.
    let doc = index_doc("serde", &["../../../../tmp/x"]);
    srv.mount(
        Mock::given(path("/se/rd/serde"))
            .respond_with(ResponseTemplate::new(200).set_body_string(doc)),
    );
    let npm = packument("a-pkg", &["../../x"]);
    srv.mount(
        Mock::given(path("/a-pkg")).respond_with(ResponseTemplate::new(200).set_body_string(npm)),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.transitive = true;
    let s = run(
        &plan(&[(Ecosystem::CratesIo, "serde"), (Ecosystem::Npm, "a-pkg")]),
        &o,
    );
    let mut paths: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/a-pkg", "/se/rd/serde"]);
    assert_eq!((s.packages, s.fetched), (2, 2), "{s:?}");
}

// ---------------------------------------------------------------------------------------------
// Transitive

#[test]
fn transitive_follows_requirements_to_a_fixed_point_and_is_bounded() {
    let srv = Server::start();
    for (n, deps) in [
        ("aaaa", vec!["bbbb"]),
        ("bbbb", vec!["cccc", "aaaa"]),
        ("cccc", vec![]),
    ] {
        srv.mount(
            Mock::given(path(index_path(n)))
                .respond_with(ResponseTemplate::new(200).set_body_string(index_doc(n, &deps))),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.fresh_for = Duration::ZERO;
    let p = plan(&[(Ecosystem::CratesIo, "aaaa")]);
    assert_eq!(
        run(&p, &o).fetched,
        1,
        "without --transitive, only what the inputs name"
    );
    o.transitive = true;
    let s = run(&p, &o);
    assert_eq!(s.packages, 3);
    assert_eq!(s.fetched + s.not_modified, 3, "{s:?}");
    o.max_packages = 2;
    let s = run(&p, &o);
    let f = only_failure(&s);
    assert_eq!(f.kind, FailureKind::Limit);
    assert!(f.message.contains("stopped at 2 packages"), "{f}");
}

// ---------------------------------------------------------------------------------------------
// Resuming

#[test]
fn a_run_that_failed_half_way_is_resumed_fetching_only_the_rest() {
    let srv = Server::start();
    let names: Vec<String> = (0..20).map(|i| format!("crate{i:02}")).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), &srv.uri());
    o.retries = 0;
    let p = {
        let mut p = Plan::default();
        for n in &names {
            p.add(Ecosystem::CratesIo, n);
        }
        p
    };
    for (i, n) in names.iter().enumerate() {
        // No Cache-Control: the default --fresh-for (5 minutes) keeps what the first run got.
        let r = if i % 2 == 0 {
            ResponseTemplate::new(200).set_body_string(index_doc(n, &[]))
        } else {
            ResponseTemplate::new(500)
        };
        srv.mount(Mock::given(path(index_path(n))).respond_with(r));
    }
    let first = run(&p, &o);
    assert_eq!((first.fetched, first.failures.len()), (10, 10));
    srv.reset();
    for n in &names {
        srv.mount(
            Mock::given(path(index_path(n)))
                .respond_with(ResponseTemplate::new(200).set_body_string(index_doc(n, &[]))),
        );
    }
    let second = run(&p, &o);
    assert_eq!(
        (second.fetched, second.from_cache, second.failures.len()),
        (10, 10, 0)
    );
    assert_eq!(
        srv.requests().len(),
        10,
        "only the ten missing packages were asked for"
    );
    let third = run(&p, &o);
    assert_eq!(third.from_cache, 20);
    assert_eq!(
        srv.requests().len(),
        10,
        "fresh entries are not asked for again"
    );
}

// ---------------------------------------------------------------------------------------------
// Through the binary

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_blastradius"));
    c.env("BLASTRADIUS_RETRY_BASE_MS", "1")
        .env_remove("BLASTRADIUS_OFFLINE")
        .env_remove("BLASTRADIUS_CACHE")
        .env("NO_COLOR", "1");
    c
}

struct Out {
    code: i32,
    stderr: String,
}

fn out(c: &mut Command) -> Out {
    let o = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("panicked at"), "{stderr}");
    Out {
        code: o.status.code().unwrap_or(-1),
        stderr,
    }
}

fn registry_args(base: &str) -> Vec<String> {
    ["crates.io", "npm", "pypi"]
        .iter()
        .flat_map(|e| ["--registry".to_owned(), format!("{e}={base}")])
        .collect()
}

#[test]
fn one_package_failing_among_fifty_fails_the_run_unless_keep_going() {
    let srv = Server::start();
    let names: Vec<String> = (0..50).map(|i| format!("pkg{i:02}")).collect();
    for n in &names {
        let r = if n == "pkg13" {
            ResponseTemplate::new(500)
        } else {
            ResponseTemplate::new(200).set_body_string(index_doc(n, &[]))
        };
        srv.mount(Mock::given(path(index_path(n))).respond_with(r));
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(&lock, cargo_lock(&names)).unwrap();
    let cache = dir.path().join("cache");
    let o = out(bin()
        .arg("fetch")
        .arg(&lock)
        .arg("--cache")
        .arg(&cache)
        .args(registry_args(&srv.uri())));
    assert_eq!(o.code, 1, "{}", o.stderr);
    let url = format!("{}/pk/g1/pkg13", srv.uri());
    assert!(
        o.stderr.contains(&format!(
            "error: crates.io:pkg13: GET {url}: 500 Internal Server Error (gave up after 4 attempts)"
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("fetched 49, not modified 0, from cache 0, failed 1"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("error: 1 of 50 packages could not be fetched"),
        "{}",
        o.stderr
    );
    let kept = out(bin()
        .arg("fetch")
        .arg(&lock)
        .arg("--cache")
        .arg(&cache)
        .arg("--keep-going")
        .args(registry_args(&srv.uri())));
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(
        kept.stderr
            .contains(&format!("warning: crates.io:pkg13: GET {url}: 500")),
        "{}",
        kept.stderr
    );
    assert!(!kept.stderr.contains("error:"), "{}", kept.stderr);
}

#[test]
fn fetch_then_rank_and_offline_from_the_cache_alone() {
    let srv = Server::start();
    srv.mount(
        Mock::given(path("/se/rd/serde")).respond_with(
            ResponseTemplate::new(200).set_body_string(index_doc("serde", &["itoa"])),
        ),
    );
    srv.mount(
        Mock::given(path("/it/oa/itoa"))
            .respond_with(ResponseTemplate::new(200).set_body_string(index_doc("itoa", &[]))),
    );
    srv.mount(
        Mock::given(path("/left-pad"))
            .respond_with(ResponseTemplate::new(200).set_body_string(packument("left-pad", &[]))),
    );
    srv.mount(
        Mock::given(path("/pypi/requests/json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(pypi_doc("requests"))),
    );
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("py")).unwrap();
    std::fs::write(
        inputs.join("Cargo.lock"),
        cargo_lock(&["serde".into(), "itoa".into()]),
    )
    .unwrap();
    std::fs::write(
        inputs.join("package-lock.json"),
        r#"{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,
"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"left-pad":"^1.0.0"}},
"node_modules/left-pad":{"version":"1.0.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz"}}}"#,
    )
    .unwrap();
    std::fs::write(inputs.join("py/requirements.txt"), "requests==1.0\n").unwrap();
    let cache = dir.path().join("cache");
    let o = out(bin()
        .arg("fetch")
        .arg(&inputs)
        .arg("--cache")
        .arg(&cache)
        .args(registry_args(&srv.uri())));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("fetched 4, not modified 0, from cache 0, failed 0"),
        "{}",
        o.stderr
    );
    let requests = srv.requests().len();
    assert_eq!(requests, 4);

    // The cache is an input like any other…
    let rank = |args: &[&std::ffi::OsStr]| {
        let o = bin()
            .arg("rank")
            .args(args)
            .arg("--format")
            .arg("json")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (
            o.status.code().unwrap(),
            String::from_utf8(o.stdout).unwrap(),
            stderr,
        )
    };
    let (code, as_input, stderr) = rank(&[inputs.as_os_str(), cache.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    // Owners of the fetched crates, the npm maintainer, the PyPI project: all three registries.
    for id in [
        "owner-of:serde",
        "owner-of:itoa",
        "\"someone\"",
        "owner-of:pypi:requests",
    ] {
        assert!(as_input.contains(id), "{id} not in {as_input}");
    }
    // …and --cache / --offline read it for the inputs' packages: the same answer.
    let (code, via_cache, stderr) =
        rank(&[inputs.as_os_str(), "--cache".as_ref(), cache.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    let strip_at = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip_at(&as_input), strip_at(&via_cache));
    let o = bin()
        .arg("rank")
        .arg(&inputs)
        .args(["--format", "json"])
        .env("BLASTRADIUS_OFFLINE", "1")
        .env("BLASTRADIUS_CACHE", &cache)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // fetch --offline with a full cache: nothing is sent.
    let o = out(bin()
        .arg("fetch")
        .arg(&inputs)
        .arg("--cache")
        .arg(&cache)
        .arg("--offline")
        .args(registry_args(&srv.uri())));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("from cache 4, failed 0"), "{}", o.stderr);
    assert_eq!(srv.requests().len(), requests, "--offline sent a request");

    // A missing entry: named, with the cache, by fetch --offline and by every other command.
    std::fs::remove_file(cache.join("npm/left-pad.packument.json")).unwrap();
    let o = out(bin()
        .arg("fetch")
        .arg(&inputs)
        .arg("--cache")
        .arg(&cache)
        .arg("--offline"));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "error: npm:left-pad: offline: no cached entry (cache: {}",
            cache.display()
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("1 of 4 packages are not in the cache"),
        "{}",
        o.stderr
    );
    for cmd in ["rank", "export"] {
        let o = out(bin()
            .arg(cmd)
            .arg(&inputs)
            .arg("--offline")
            .arg("--cache")
            .arg(&cache));
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(
            o.stderr.contains(&format!(
                "error: offline: no cached entry for npm:left-pad (cache: {})",
                cache.display()
            )),
            "{}",
            o.stderr
        );
    }
    let o = out(bin()
        .arg("rank")
        .arg(&inputs)
        .arg("--offline")
        .arg("--cache")
        .arg(&cache)
        .arg("--keep-going")
        .args(["--format", "json"]));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("warning: offline: no cached entry for npm:left-pad"),
        "{}",
        o.stderr
    );
    assert_eq!(srv.requests().len(), requests);
}

#[test]
fn a_killed_run_leaves_whole_files_and_the_next_run_fetches_only_the_rest() {
    let srv = Server::start();
    let names: Vec<String> = (0..30).map(|i| format!("slow{i:02}")).collect();
    for n in &names {
        srv.mount(
            Mock::given(path(index_path(n))).respond_with(
                ResponseTemplate::new(200)
                    .insert_header("cache-control", "max-age=600")
                    .set_body_string(index_doc(n, &[]))
                    .set_delay(Duration::from_millis(60)),
            ),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::write(&lock, cargo_lock(&names)).unwrap();
    let cache = dir.path().join("cache");
    let mut child = bin()
        .arg("fetch")
        .arg(&lock)
        .arg("--cache")
        .arg(&cache)
        .args(["--concurrency", "2"])
        .args(registry_args(&srv.uri()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // About a third of the way through (30 × 60 ms / 2 in flight ≈ 0.9 s).
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap();
    child.wait().unwrap();
    let first = srv.requests().len();
    let complete = count_files(&cache.join(".blastradius-meta/crates.io"), ".meta");
    assert!(
        complete > 0 && complete < 30,
        "killed too late or too early: {complete}"
    );
    let o = out(bin()
        .arg("fetch")
        .arg(&lock)
        .arg("--cache")
        .arg(&cache)
        .args(registry_args(&srv.uri())));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        srv.requests().len() - first,
        30 - complete,
        "the second run asked again for a package it had: {}",
        o.stderr
    );
    // Every cached file is whole: the cache reads back as input.
    let o = out(bin()
        .arg("rank")
        .arg(&lock)
        .arg("--cache")
        .arg(&cache)
        .args(["--format", "json"]));
    assert_eq!(o.code, 0, "{}", o.stderr);
}

fn count_files(dir: &Path, suffix: &str) -> usize {
    let mut n = 0;
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                n += 1;
            }
        }
    }
    n
}
