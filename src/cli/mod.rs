//! The command line (clap derive). Shared options are one flattened group; each subcommand is
//! one function in [`commands`]. Usage errors exit 2 (clap), failures to answer exit 1.

pub mod commands;
pub mod progress;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::VersionsMode;

const EXAMPLES: &str = "\
Examples:
  blastradius                                   rank the demo dataset's credentials (data/)
  blastradius rank path/to/dir                  rank the credentials of your inventory
  blastradius reach --credential acme-ci-token  what that token reaches, with paths
  blastradius explain --credential acme-ci-token --to ci:acme-worker
  blastradius reach --credential acme-ci-token --format dot | dot -Tsvg > reach.svg
  blastradius rank --all-accounts --format json --at 2026-01-01T00:00:00Z
  blastradius incident --bad acme-core@0.2.3 --window 2026-03-10T14:05:00Z..2026-03-10T16:20:00Z

Inputs (files or directories, recognised by content): crates.io sparse-index files,
Cargo.lock (v1-v4), Cargo.toml, package-lock.json (v1-v3), yarn.lock, pnpm-lock.yaml,
uv.lock, poetry.lock, requirements.txt, an inventory TOML, a build log CSV. With none, the
demo dataset is used.

Exit codes: 0 answered, 1 could not answer (bad input, unknown id), 2 usage error.";

const INCIDENT_EXAMPLES: &str = "\
Examples:
  blastradius incident --bad acme-core@0.2.3 --window 2026-03-10T14:05:00Z..2026-03-10T16:20:00Z
  blastradius incident --bad-from data/incident/bad-versions.txt --window 2026-03-10T14:05..2026-03-10T16:20
  blastradius incident --bad-from advisories/ --window 2025-09-08T13:16:00Z..2025-09-08T15:20:00Z repos/
  blastradius incident --credential acme-ci-token --window 2026-03-10T14:05:00Z..2026-03-10T16:20:00Z

The window is [T0, T1): RFC 3339 times; a time without a zone is UTC.
Builds come from a build log (CSV: build,lockfile,started_at,mode,mirror) among the inputs.

Exit codes: 0 answered, 1 could not answer (bad input, unknown id), 2 usage error.";

/// Measures the blast radius of a stolen package-publishing credential.
#[derive(Debug, Parser)]
#[command(name = "blastradius", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to answer; with none, ranks the demo dataset and suggests next commands.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which credentials amplify most: every credential's reach, highest score first.
    #[command(after_help = EXAMPLES)]
    Rank(RankArgs),
    /// What one stolen credential (or account) reaches, with a witness path per node.
    #[command(after_help = EXAMPLES)]
    Reach(ReachArgs),
    /// The shortest witness path from a credential to one node.
    #[command(after_help = EXAMPLES)]
    Explain(ExplainArgs),
    /// Which lockfiles, builds and mirrors pulled bad versions during a window.
    #[command(after_help = INCIDENT_EXAMPLES)]
    Incident(IncidentArgs),
    /// The whole graph, as JSON or DOT.
    #[command(after_help = EXAMPLES)]
    Export(ExportArgs),
    /// Parse and build the graph once, and store it: every command accepts the snapshot as
    /// its only INPUT and loads it in about a second.
    #[command(after_help = INGEST_EXAMPLES)]
    Ingest(IngestArgs),
    /// Fetch the registry metadata the inputs need into a cache that every command reads.
    #[command(after_help = FETCH_EXAMPLES)]
    Fetch(FetchArgs),
}

const INGEST_EXAMPLES: &str = "Examples:
  blastradius ingest crates-index/ inventory.toml --snapshot registry.snap
  blastradius rank --all-accounts registry.snap";

/// `ingest` arguments.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Input files or directories, as for every other command.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to write the snapshot (atomically).
    #[arg(long, value_name = "FILE")]
    pub snapshot: PathBuf,
    /// Skip inputs that fail to parse, recording them as warnings in the snapshot.
    #[arg(long)]
    pub keep_going: bool,
    /// Largest input document read (bytes, or with a unit: 512MiB, 2GiB).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = crate::ingest::detect::parse_size)]
    pub max_input_size: u64,
    /// Print the wall time of each phase (reading, graph, ranking, output) to stderr at the end.
    #[arg(long)]
    pub timings: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned, coloured text for people (default on a terminal).
    Table,
    /// Stable JSON (default when stdout is not a terminal).
    Json,
    /// Graphviz DOT of the witness paths.
    Dot,
}

/// Options every question shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Input files or directories; none = the demo dataset in data/.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Analysis time (RFC 3339, or a date); credentials expired by then publish nothing.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Which versions' requirements count: each package's latest release, or all.
    #[arg(long, value_enum, default_value = "latest")]
    pub versions: VersionsArg,
    /// Continue from credentials stolen on the way this many times, minus one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub hops: u32,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A trusted Cargo workspace of your own to resolve with `cargo metadata` (it can run the
    /// workspace's build configuration: never point it at code under analysis).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Skip inputs that fail to parse, listing them in the output's `warnings` instead of
    /// failing (off by default: a skipped lockfile could turn into a false "not affected").
    #[arg(long)]
    pub keep_going: bool,
    /// Read the registry metadata of the packages the inputs name from this `blastradius fetch`
    /// cache (failing, unless --keep-going, for each one it lacks).
    #[arg(long, value_name = "DIR", env = "BLASTRADIUS_CACHE")]
    pub cache: Option<PathBuf>,
    /// Work from the cache alone (--cache, or the default cache directory), as --cache does;
    /// nothing is ever fetched by this command.
    #[arg(long, env = "BLASTRADIUS_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,
    /// Largest input document read (bytes, or with a unit: 512MiB, 2GiB); a larger one is an
    /// error, found from its size before reading it.
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = crate::ingest::detect::parse_size)]
    pub max_input_size: u64,
    /// Print the wall time of each phase (reading, graph, ranking, output) to stderr at the end.
    #[arg(long)]
    pub timings: bool,
}

const FETCH_EXAMPLES: &str = "\
Examples:
  blastradius fetch lockfiles/                  fetch into the default cache (~/.cache/blastradius)
  blastradius rank lockfiles/ --cache ~/.cache/blastradius
  blastradius fetch Cargo.lock --transitive     also what the fetched versions require
  blastradius rank lockfiles/ --offline         from the cache alone; names what is missing
  blastradius fetch lockfiles/ --cache cache/ --registry npm=https://npm.example.internal/

Documents: crates.io sparse-index files (index.crates.io), npm packuments
(registry.npmjs.org), PyPI JSON documents (pypi.org). Only the packages the inputs name
(and with --transitive their requirements) are asked for; a registry is never listed.
A document fetched less than 5 minutes ago (--fresh-for) is not asked for again; older ones
are revalidated with ETag/Last-Modified (304: not modified), so a second run moves few bytes.

Exit codes: 0 everything fetched, 1 something failed (listed; --keep-going makes it a
warning), 2 usage error.";

/// `fetch` options.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Inputs naming the packages: lockfiles, manifests, registry metadata (files or directories).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Cache directory [default: the platform cache directory, e.g. ~/.cache/blastradius].
    #[arg(long, value_name = "DIR", env = "BLASTRADIUS_CACHE")]
    pub cache: Option<PathBuf>,
    /// Another base URL for a registry (a mirror): ECOSYSTEM=URL, ECOSYSTEM one of crates.io, npm, pypi.
    #[arg(long = "registry", value_name = "ECOSYSTEM=URL", value_parser = crate::fetch::RegistryOverride::parse)]
    pub registries: Vec<crate::fetch::RegistryOverride>,
    /// Also fetch what the fetched documents require (every version's non-dev requirements),
    /// to a fixed point.
    #[arg(long)]
    pub transitive: bool,
    /// Fetch at most this many packages (bounds --transitive).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_packages: usize,
    /// Report packages that could not be fetched as warnings and exit 0.
    #[arg(long)]
    pub keep_going: bool,
    /// Send nothing: check that the cache holds every package (exit 1 naming those it lacks).
    #[arg(long, env = "BLASTRADIUS_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    pub offline: bool,
    /// Use a cached document without asking the registry when it is younger than this (or than
    /// the registry's own Cache-Control max-age); 0: ask about every one (ETag/Last-Modified).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub fresh_for: u64,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Requests per second to one host (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rate_limit: u32,
    /// Give up on one request after this many seconds (each attempt; connect and silence
    /// limits are 10 s and 30 s, or this when shorter).
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Largest document accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_size: u64,
}

/// `--versions` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionsArg {
    /// Each package's highest non-yanked release.
    Latest,
    /// Every non-yanked version.
    All,
}

impl From<VersionsArg> for VersionsMode {
    fn from(v: VersionsArg) -> Self {
        match v {
            VersionsArg::Latest => VersionsMode::Latest,
            VersionsArg::All => VersionsMode::All,
        }
    }
}

/// `rank` options.
#[derive(Debug, Args)]
pub struct RankArgs {
    /// Rank every account (each acting with all its rights) instead of credentials.
    #[arg(long)]
    pub all_accounts: bool,
    /// Show only the first N rows in the table (JSON always lists all).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Add the concentration curve: how many distinct packages the top k reach together, and
    /// how few reach 10, 50 and 90 % of all packages.
    ///
    /// For k = 1, 2, … in rank order: the packages at least one of the top k reaches by
    /// injection (the union, not the sum), and the smallest k reaching 10, 50 and 90 % of
    /// every package in the inputs ("not reached" / null when all of them together fall
    /// short). JSON gains `summary`: {"total_packages", "curve": [one number per entry],
    /// "k_for": {"10", "50", "90"}}.
    ///
    /// Example: blastradius rank --all-accounts --summary --plot curve.svg index/
    #[arg(long)]
    pub summary: bool,
    /// Also draw the concentration curve as an SVG image into FILE, atomically (implies
    /// --summary).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}

/// Who the thief is.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// A credential id from the inventory (without one: an account id or `owner-of:NAME`).
    #[arg(long, value_name = "ID")]
    pub credential: Option<String>,
    /// An account id: everything it owns, with all rights.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

/// `reach` options.
#[derive(Debug, Args)]
pub struct ReachArgs {
    /// The stolen credential or account.
    #[command(flatten)]
    pub who: Who,
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}

/// `explain` options.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The stolen credential or account.
    #[command(flatten)]
    pub who: Who,
    /// The node to explain: a package (`crates.io:serde`), lockfile path, environment, mirror
    /// or credential id.
    #[arg(long, value_name = "NODE")]
    pub to: String,
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}

/// `incident` options.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["bad", "bad_from", "credential"])))]
pub struct IncidentArgs {
    /// Bad versions: NAME@VERSION or ECOSYSTEM:NAME@VERSION (repeat, or separate with commas).
    #[arg(long, value_name = "NAME@VERSION", num_args = 1.., value_delimiter = ',')]
    pub bad: Vec<String>,
    /// Files (or directories) of bad versions: NAME@VERSION lines with `#` comments, or OSV
    /// JSON records such as MAL- advisories.
    #[arg(long, value_name = "FILE")]
    pub bad_from: Vec<PathBuf>,
    /// A stolen credential: the bad versions are those of packages it could publish whose
    /// publication time lies in the window.
    #[arg(long, value_name = "ID")]
    pub credential: Option<String>,
    /// The window T0..T1 during which the bad versions were live upstream.
    #[arg(long, value_name = "T0..T1", value_parser = parse_window)]
    pub window: crate::engine::incident::Window,
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}

/// Parses `T0..T1` (RFC 3339, or without a zone: UTC).
fn parse_window(s: &str) -> Result<crate::engine::incident::Window, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected T0..T1, found {s:?}"))?;
    let t = |x: &str| {
        crate::ingest::buildlog::parse_time(x).ok_or_else(|| {
            format!("expected an RFC 3339 time such as 2026-03-10T14:05:00Z, found {x:?}")
        })
    };
    let (from, to) = (t(a)?, t(b)?);
    if from >= to {
        return Err(format!("the window must end after it starts, found {s:?}"));
    }
    Ok(crate::engine::incident::Window { from, to })
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}
