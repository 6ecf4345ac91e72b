//! The command line (clap derive). Shared options are one flattened group; each subcommand is
//! one function in [`commands`]. Usage errors exit 2 (clap), failures to answer exit 1.

pub mod commands;

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

Inputs (files or directories, recognised by content): crates.io sparse-index files,
Cargo.lock (v1-v4), Cargo.toml, an inventory TOML. With none, the demo dataset is used.

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
    /// The whole graph, as JSON or DOT.
    #[command(after_help = EXAMPLES)]
    Export(ExportArgs),
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

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Inputs and the options every question shares.
    #[command(flatten)]
    pub common: Common,
}
