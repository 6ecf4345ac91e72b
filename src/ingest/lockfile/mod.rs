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
    text.lines()
        .position(|l| l.starts_with("<<<<<<< ") || l == "<<<<<<<" || l.starts_with(">>>>>>> "))
        .map(|i| i + 1)
}
