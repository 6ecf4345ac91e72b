//! Writes a generated crates.io-shaped world as input files, so blastradius and other tools
//! can be run on exactly the same data.
//!
//! ```text
//! cargo run --release --example generate -- --packages 20000 --seed 42 --out /tmp/world
//! blastradius rank --all-accounts --format json /tmp/world
//! ```
//!
//! The world is `generate::world(&WorldParams::crates_io_like(N, S))`, written by
//! `generate::write_world`: `OUT/index/` sparse-index lines (`--layout shards`, the default:
//! 10 000 crates per `.jsonl` file; `--layout cargo`: one file per crate in cargo's layout),
//! `OUT/inventory.toml` with the ownership, and `OUT/gen/app*/Cargo.lock`. `--lockfiles K`
//! overrides the number of lockfiles (0 for none). `OUT` must not exist or be empty.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use blastradius::generate::{world, write_world, IndexLayout, WorldParams};

const USAGE: &str =
    "usage: generate --packages N [--seed S] [--lockfiles K] [--layout shards|cargo] --out DIR";

struct Args {
    packages: usize,
    seed: u64,
    lockfiles: Option<usize>,
    layout: IndexLayout,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut packages = None;
    let mut seed = 42;
    let mut lockfiles = None;
    let mut layout = IndexLayout::Shards;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: expected a number, found {v:?}"))
        };
        match flag.as_str() {
            "--packages" => packages = Some(number(value()?)? as usize),
            "--seed" => seed = number(value()?)?,
            "--lockfiles" => lockfiles = Some(number(value()?)? as usize),
            "--layout" => {
                layout = match value()?.as_str() {
                    "shards" => IndexLayout::Shards,
                    "cargo" => IndexLayout::PerCrate,
                    other => {
                        return Err(format!(
                            "--layout: expected shards or cargo, found {other:?}"
                        ))
                    }
                }
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        packages: packages.ok_or("--packages is required")?,
        seed,
        lockfiles,
        layout,
        out: out.ok_or("--out is required")?,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("generate: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut params = WorldParams::crates_io_like(args.packages, args.seed);
    if let Some(k) = args.lockfiles {
        params.lockfiles = k;
    }
    let t = Instant::now();
    let facts = world(&params);
    let t_gen = t.elapsed();
    let t = Instant::now();
    if let Err(e) = write_world(&facts, &args.out, args.layout) {
        eprintln!("generate: writing {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    let t_write = t.elapsed();
    let requirements: usize = facts.versions.iter().map(|v| v.deps.len()).sum();
    let accounts: std::collections::BTreeSet<&str> =
        facts.owners.iter().map(|o| o.account.as_str()).collect();
    println!(
        "wrote {}: {} packages, {} versions, {} requirements, {} accounts, {} lockfiles \
         (seed {}; generate {t_gen:.2?}, write {t_write:.2?})",
        args.out.display(),
        params.packages,
        facts.versions.len(),
        requirements,
        accounts.len(),
        facts.lockfiles.len(),
        params.seed,
    );
    ExitCode::SUCCESS
}
