//! RELIABILITY Z2: parse time grows linearly. For each huge-input shape, loads a generated input
//! of size n and of size 10 n (best of three, one thread) and checks the ratio is at most 12.
//!
//! ```text
//! cargo run --release --example scaling            # n = the RELIABILITY sizes / 10
//! cargo run --release --example scaling -- 0.1     # everything 10 times smaller (quick)
//! ```
//!
//! Shapes (10 n): a package-lock.json with 100,000 packages, a requirements.txt of 1,000,000
//! pinned lines, a 100 MB single-line npm packument and a 200 MB sparse-index file. Exits 1 when
//! a ratio is over 12. Inputs are generated into a temporary directory and removed after.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use blastradius::ingest::detect::{load_with, Input, LoadOptions};

fn package_lock(n: usize) -> String {
    let mut s = String::from(
        "{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"packages\":{\"\":{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{\"p0\":\"^1.0.0\"}}",
    );
    for i in 0..n {
        let dep = if i + 1 < n {
            format!(",\"dependencies\":{{\"p{}\":\"^1.0.0\"}}", i + 1)
        } else {
            String::new()
        };
        write!(
            s,
            ",\"node_modules/p{i}\":{{\"version\":\"1.0.{i}\",\"resolved\":\"https://registry.npmjs.org/p{i}/-/p{i}-1.0.{i}.tgz\",\"integrity\":\"sha512-x\"{dep}}}"
        )
        .unwrap();
    }
    s.push_str("}}");
    s
}

fn requirements(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        writeln!(s, "pkg-{i}==1.{}.{}", i % 97, i % 13).unwrap();
    }
    s
}

fn packument(bytes: usize) -> String {
    let mut s = String::from(
        "{\"_id\":\"big\",\"name\":\"big\",\"dist-tags\":{\"latest\":\"1.0.0\"},\"versions\":{",
    );
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        write!(
            s,
            "\"1.0.{i}\":{{\"name\":\"big\",\"version\":\"1.0.{i}\",\"dependencies\":{{\"dep-{}\":\"^1.0.0\"}},\"dist\":{{\"tarball\":\"https://registry.npmjs.org/big/-/big-1.0.{i}.tgz\"}}}}",
            i % 500
        )
        .unwrap();
        i += 1;
    }
    s.push_str("},\"time\":{}}");
    s
}

fn index(bytes: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        writeln!(
            s,
            "{{\"name\":\"big\",\"vers\":\"1.{}.{}\",\"deps\":[{{\"name\":\"dep-{}\",\"req\":\"^1\",\"kind\":\"normal\",\"optional\":false,\"default_features\":true,\"features\":[],\"target\":null}}],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}",
            i / 1000,
            i % 1000,
            i % 300,
            "0".repeat(64)
        )
        .unwrap();
        i += 1;
    }
    s
}

fn best_of_three(path: &Path, name: &str) -> Duration {
    let inputs = [Input {
        path: path.to_path_buf(),
        display: name.to_owned(),
    }];
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let facts = load_with(&inputs, LoadOptions::default()).expect("the input loads");
            std::hint::black_box(facts);
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let scale: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("a scale factor such as 0.1"))
        .unwrap_or(1.0);
    let n = |x: usize| ((x as f64) * scale).max(1.0) as usize;
    let tmp = tempfile::tempdir().expect("a temporary directory");
    type Gen = fn(usize) -> String;
    let shapes: [(&str, Gen, usize); 4] = [
        ("package-lock.json", package_lock, n(10_000)),
        ("requirements.txt", requirements, n(100_000)),
        ("big.packument.json", packument, n(10_000_000)),
        ("index-big", index, n(20_000_000)),
    ];
    let mut failed = false;
    println!("{:<20} {:>12} {:>12} {:>7}", "input", "n", "10 n", "ratio");
    for (name, generate, size) in shapes {
        let mut times = Vec::new();
        for k in [1, 10] {
            let dir = tmp.path().join(format!("{k}"));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, generate(size * k)).unwrap();
            times.push(best_of_three(&path, name));
            std::fs::remove_file(&path).unwrap();
        }
        let ratio = times[1].as_secs_f64() / times[0].as_secs_f64().max(1e-9);
        let ok = ratio <= 12.0;
        failed |= !ok;
        println!(
            "{name:<20} {:>12.3?} {:>12.3?} {ratio:>7.2}{}",
            times[0],
            times[1],
            if ok { "" } else { "  over 12: not linear" }
        );
    }
    if failed {
        std::process::exit(1);
    }
}
