//! Deterministic generator of crates.io-shaped worlds, for benchmarks and property tests.
