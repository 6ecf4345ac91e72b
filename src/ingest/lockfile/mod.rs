//! Lockfiles: the resolved dependency sets that turn a compromised version into a compromised
//! build. One file per format family.

pub mod cargo;
pub mod npm;
pub mod pnpm;
pub mod python;
pub mod yarn;

/// 1-based line of the first top-level `key = …` of a TOML document (before any table
/// header), or 1: where to point when a top-level value such as `version` is wrong.
pub fn top_level_key_line(text: &str, key: &str) -> usize {
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with('[') {
            break;
        }
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return i + 1;
            }
        }
    }
    1
}

/// Finds the first git merge-conflict marker; a conflicted lockfile is an error, never a
/// silently partial answer.
pub fn conflict_marker_line(text: &str) -> Option<usize> {
    // Almost no lockfile has one: two substring searches instead of a pass over every line.
    if !text.contains("<<<<<<<") && !text.contains(">>>>>>>") {
        return None;
    }
    text.lines()
        .position(|l| l.starts_with("<<<<<<< ") || l == "<<<<<<<" || l.starts_with(">>>>>>> "))
        .map(|i| i + 1)
}

/// 1-based lines of the `[[package]]` headers of a TOML lockfile, in order: where to point
/// at the n-th package.
pub fn package_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[package]]")
        .map(|(i, _)| i + 1)
        .collect()
}

/// The indices of the first key that occurs twice: (first, second).
pub fn first_duplicate<K: Eq + std::hash::Hash>(
    keys: impl Iterator<Item = K>,
) -> Option<(usize, usize)> {
    let mut seen = rustc_hash::FxHashMap::default();
    seen.reserve(keys.size_hint().0);
    for (i, k) in keys.enumerate() {
        if let Some(&first) = seen.get(&k) {
            return Some((first, i));
        }
        seen.insert(k, i);
    }
    None
}

/// A package listed twice, at `first` and `second` (both 1-based lines), as cargo reports it.
pub fn duplicate_error(
    shown: &std::path::Path,
    what: &str,
    package: &str,
    first: usize,
    second: usize,
) -> crate::error::Error {
    crate::error::Error::parse_at(
        shown,
        second,
        None,
        format!(
            "failed to parse {what}: package {package} is specified twice (at lines {first} and \
             {second}; expected each name, version and source once)"
        ),
    )
}
