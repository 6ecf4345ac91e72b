//! Fuzz targets for blastradius's parsers; see `README.md`. The properties live in
//! [`targets`], shared with the stable mutation test (`tests/mutation.rs`).

pub mod targets;

/// Body of a parser target: panics (so libFuzzer records a crash) when a property breaks.
pub fn check(name: &str, data: &[u8]) {
    let p = targets::parser(name);
    if let Some(why) = targets::violation(p, data) {
        panic!("{name}: {why}");
    }
}
