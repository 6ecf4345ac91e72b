//! Measures how fast each lockfile and registry format parses, on files you point it at.
//!
//! ```text
//! cargo run --release --example parse_speed -- ../shared/realworld/lockfiles ../shared/realworld/registry
//! ```
//!
//! Every file is loaded the way the CLI loads it (`ingest::load`: read, recognise by content,
//! parse, including a yarn.lock's package.json companion), repeatedly for at least 0.3 s, on one
//! thread. Prints one line per file and one per format: bytes, time per load, MB/s
//! (10^6 bytes per second of the file's own size). Files that are not inputs (package.json,
//! notes) are listed as skipped; a file that fails to parse is reported, not hidden.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blastradius::ingest::{self, detect::Input};

fn format_of(name: &str) -> &'static str {
    let ends = |s: &str| name == s || name.ends_with(&format!(".{s}"));
    if ends("package-lock.json") || ends("npm-shrinkwrap.json") {
        "package-lock.json"
    } else if ends("yarn.lock") {
        "yarn.lock"
    } else if ends("pnpm-lock.yaml") {
        "pnpm-lock.yaml"
    } else if ends("uv.lock") {
        "uv.lock"
    } else if ends("poetry.lock") {
        "poetry.lock"
    } else if ends("Cargo.lock") {
        "Cargo.lock"
    } else if name.starts_with("requirements") {
        "requirements.txt"
    } else if name.ends_with(".jsonl") {
        "crates.io index"
    } else if name.starts_with("npm-") || name.ends_with(".packument.json") {
        "npm packument"
    } else if name.ends_with(".json") {
        "JSON document"
    } else {
        "other"
    }
}

fn files(args: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .expect("readable directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.to_path_buf());
        }
    }
    out
}

fn main() {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: parse_speed FILE_OR_DIR...");
        std::process::exit(2);
    }
    let mut per_format: BTreeMap<&str, (u64, Duration, usize)> = BTreeMap::new();
    for file in files(&args) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let input = || vec![Input::new(&file)];
        match ingest::load(&input()) {
            Err(e)
                if e.to_string().contains("not a recognised") || name.ends_with("package.json") =>
            {
                println!("{name:<70} skipped (not an input on its own)");
                continue;
            }
            Err(e) => {
                println!("{name:<70} ERROR {e}");
                continue;
            }
            Ok(f) if f.versions.is_empty() && f.lockfiles.is_empty() => {
                println!("{name:<70} skipped (nothing read)");
                continue;
            }
            Ok(_) => {}
        }
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < Duration::from_millis(300) || n < 3 {
            std::hint::black_box(ingest::load(&input()).expect("parsed once already"));
            n += 1;
        }
        let per = start.elapsed() / n;
        let mbps = size as f64 / per.as_secs_f64() / 1e6;
        println!(
            "{name:<70} {:>9} B {:>9.2} ms {:>8.1} MB/s",
            size,
            per.as_secs_f64() * 1e3,
            mbps
        );
        let e = per_format.entry(format_of(&name)).or_default();
        e.0 += size;
        e.1 += per;
        e.2 += 1;
    }
    println!("\nper format (total bytes / total time per load):");
    for (fmt, (bytes, time, count)) in per_format {
        println!(
            "{fmt:<20} {count:>3} files {bytes:>10} B {:>9.2} ms {:>8.1} MB/s",
            time.as_secs_f64() * 1e3,
            bytes as f64 / time.as_secs_f64() / 1e6
        );
    }
}
