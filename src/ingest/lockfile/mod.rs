//! Lockfiles: the resolved dependency sets that turn a compromised version into a compromised
//! build. One file per format family.

pub mod cargo;
pub mod npm;
pub mod pnpm;
pub mod python;
pub mod yarn;

/// Finds the first git merge-conflict marker; a conflicted lockfile is an error, never a
/// silently partial answer.
pub fn conflict_marker_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.starts_with("<<<<<<< ") || l == "<<<<<<<" || l.starts_with(">>>>>>> "))
        .map(|i| i + 1)
}
