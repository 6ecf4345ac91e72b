//! Graph snapshots: `blastradius ingest INPUT... --snapshot FILE` stores the built graph, and
//! every command accepts the file as its input, so a registry-sized graph is parsed and built
//! once and then loaded in about a second.
//!
//! Layout: the 16-byte magic `BLASTRADIUS-SNAP`, a little-endian `u32` format version, then a
//! zstd stream of the postcard encoding of `(Graph, warnings)`. Parsed versions and
//! requirements are not stored (their types belong to other crates and are cheap to parse
//! again); they are rebuilt on load in parallel. A snapshot of another format version is an
//! error naming both versions, never a misread graph; after decoding, every index in the graph
//! is bounds-checked ([`Graph::check_bounds`]) so that a corrupt or hostile file is an error,
//! not a panic later in the engine.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::Graph;
use crate::error::{Error, Result};
use crate::versioning::{Requirement, Version};

/// The first bytes of every snapshot.
pub const MAGIC: &[u8; 16] = b"BLASTRADIUS-SNAP";

/// Bumped whenever the stored layout changes.
pub const FORMAT_VERSION: u32 = 2;

/// Largest decompressed snapshot read (8 GiB): a bound against decompression bombs.
pub const MAX_DECOMPRESSED: u64 = 8 << 30;

/// Whether a file starts like a snapshot.
pub fn looks_like_snapshot(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(MAGIC)
}

/// Encodes a graph and the warnings of the inputs it was built from.
///
/// # Errors
/// Only if encoding fails (it does not for a graph built by [`Graph::build`]).
pub fn encode(graph: &Graph, warnings: &[String]) -> Result<Vec<u8>> {
    let body = postcard::to_allocvec(&(graph, warnings))
        .map_err(|e| Error::Unknown(format!("encoding the snapshot failed: {e}")))?;
    let mut out = Vec::with_capacity(body.len() / 4 + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let compressed = zstd::bulk::compress(&body, 3)
        .map_err(|e| Error::Unknown(format!("compressing the snapshot failed: {e}")))?;
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// Decodes a snapshot read from `file`.
///
/// # Errors
/// A wrong magic or format version, a corrupt zstd stream or postcard body, a body larger
/// than [`MAX_DECOMPRESSED`], or a graph whose invariants do not hold.
pub fn decode(file: &Path, bytes: &[u8]) -> Result<(Graph, Vec<String>)> {
    let bad = |msg: String| Error::parse_in(file, msg);
    if !looks_like_snapshot(bytes) {
        return Err(bad(
            "not a blastradius snapshot (expected the magic BLASTRADIUS-SNAP)".into(),
        ));
    }
    let Some(version) = bytes.get(16..20) else {
        return Err(bad("truncated snapshot header".into()));
    };
    let version = u32::from_le_bytes(version.try_into().expect("four bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "snapshot format version {version}, but this blastradius reads version {FORMAT_VERSION}: run `blastradius ingest` again"
        )));
    }
    let decoder = zstd::stream::read::Decoder::new(&bytes[20..])
        .map_err(|e| bad(format!("corrupt snapshot: {e}")))?;
    let mut body = Vec::new();
    decoder
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut body)
        .map_err(|e| bad(format!("corrupt snapshot (zstd): {e}")))?;
    if body.len() as u64 > MAX_DECOMPRESSED {
        return Err(bad(format!(
            "snapshot decompresses to more than {MAX_DECOMPRESSED} bytes"
        )));
    }
    let (mut graph, warnings): (Graph, Vec<String>) =
        postcard::from_bytes(&body).map_err(|e| bad(format!("corrupt snapshot body: {e}")))?;
    drop(body);
    // Bounds, not full verification: O(size), and enough that nothing indexes out of range.
    // (`Graph::verify` re-derives every edge and takes longer than the load itself.)
    graph
        .check_bounds()
        .map_err(|e| bad(format!("inconsistent snapshot: {e}")))?;
    reparse(&mut graph)?;
    Ok((graph, warnings))
}

/// Rebuilds the parsed forms a snapshot does not store.
fn reparse(graph: &mut Graph) -> Result<()> {
    let ecosystems: Vec<_> = graph.packages.iter().map(|p| p.ecosystem).collect();
    if graph
        .versions
        .iter()
        .any(|v| v.package.index() >= ecosystems.len())
    {
        return Err(Error::Unknown(
            "inconsistent snapshot: a version of an unknown package".into(),
        ));
    }
    graph.versions.par_iter_mut().for_each(|v| {
        v.parsed = Version::parse(ecosystems[v.package.index()], &v.version);
    });
    graph.reqs.par_iter_mut().for_each(|r| {
        r.parsed = Requirement::parse(r.ecosystem, &r.text).ok();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{world, WorldParams};

    #[test]
    fn round_trip_keeps_every_answer() {
        let facts = world(&WorldParams::crates_io_like(500, 7));
        let g = Graph::build(&facts).unwrap();
        let bytes = encode(&g, &["a warning".to_owned()]).unwrap();
        let (h, warnings) = decode(Path::new("snap"), &bytes).unwrap();
        assert_eq!(warnings, ["a warning"]);
        assert_eq!(g.size(), h.size());
        for (a, b) in g.versions.iter().zip(&h.versions) {
            assert_eq!(a.parsed, b.parsed);
        }
        for (a, b) in g.reqs.iter().zip(&h.reqs) {
            assert_eq!(a.text, b.text);
            assert_eq!(a.parsed.is_some(), b.parsed.is_some());
        }
        // Encoding is deterministic: the same graph, the same bytes.
        assert_eq!(bytes, encode(&h, &warnings).unwrap());
    }

    #[test]
    fn wrong_version_truncation_and_garbage_are_errors() {
        let facts = world(&WorldParams::crates_io_like(50, 1));
        let g = Graph::build(&facts).unwrap();
        let bytes = encode(&g, &[]).unwrap();
        let mut other = bytes.clone();
        other[16] = 9;
        let e = decode(Path::new("s"), &other).unwrap_err().to_string();
        assert!(e.contains("format version 9"), "{e}");
        for cut in [0, 10, 18, 20, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(Path::new("s"), &bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        let _ = decode(Path::new("s"), &flipped); // an error or a verified graph, never a panic
    }
}
