//! # blastradius
//!
//! Measures the blast radius of a stolen package-publishing credential: which packages the
//! thief can put a new version into, which dependents a fresh resolution would then pull it
//! into, which lockfiles, CI environments and mirrors that exposes, and which further
//! credentials are stored where the injected code runs.
//!
//! Data walks one way: [`ingest`] (wire formats → facts) → [`graph`] (one immutable graph,
//! each node kind an index range) → [`engine`] (reach, rank, witness paths) → [`report`]
//! (JSON types, table, DOT) → [`cli`].
//!
//! ```
//! use blastradius::{engine, graph::Graph, ingest};
//! let inputs = [ingest::detect::Input { path: ingest::demo_dir(), display: "data".into() }];
//! let facts = ingest::load(&inputs).unwrap();
//! let graph = Graph::build(&facts).unwrap();
//! let query = engine::Query {
//!     at: "2026-06-01T00:00:00Z".parse().unwrap(),
//!     versions: engine::VersionsMode::Latest,
//!     hops: 1,
//! };
//! let index = engine::AttackIndex::new(&graph, query.versions);
//! let ranking = engine::rank(&graph, &index, &query, engine::RankSubject::Credentials, true);
//! assert!(ranking[0].score >= ranking[ranking.len() - 1].score);
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod generate;
pub mod graph;
pub mod ingest;
pub mod report;
pub mod tally;
pub mod versioning;

pub use error::{Error, Result};
