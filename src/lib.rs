pub mod error;
pub mod graph;
pub mod ingest;
