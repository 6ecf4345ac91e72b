//! Glob patterns of the inventory (`acme-*`, `services/*/Cargo.lock`). Only `*` is special;
//! matching is linear in the name for a given pattern (no backtracking blow-up on hostile
//! patterns such as `*a*a*a*a*b`).

/// Matches `name` against a pattern whose only wildcard is `*` (any run of characters).
///
/// Linear: each literal between stars is found once, leftmost (optimal when `*` is the only
/// wildcard), with the standard library's two-way substring search; nothing is allocated.
pub fn matches(pattern: &str, name: &str) -> bool {
    let Some((first, tail)) = pattern.split_once('*') else {
        // No `*` at all: an exact name.
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let (middle, last) = tail.rsplit_once('*').unwrap_or(("", tail));
    // The last literal is anchored at the end: check it first (most names fail here), then
    // find the middle ones, leftmost, in what lies between.
    match rest.strip_suffix(last) {
        Some(between) => rest = between,
        None => return false,
    }
    for seg in middle.split('*').filter(|s| !s.is_empty()) {
        match rest.find(seg) {
            Some(at) => rest = &rest[at + seg.len()..],
            None => return false,
        }
    }
    true
}

/// Matches a `/`-separated path: `*` stays inside one component, a `**` component matches any
/// number of components.
pub fn matches_path(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let comps: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    // Dynamic programming over (pattern component, path component): O(|pat| * |comps|).
    let (n, m) = (pat.len(), comps.len());
    let mut ok = vec![vec![false; m + 1]; n + 1];
    ok[n][m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            ok[i][j] = if pat[i] == "**" {
                ok[i + 1][j] || (j < m && ok[i][j + 1])
            } else {
                j < m && matches(pat[i], comps[j]) && ok[i + 1][j + 1]
            };
        }
    }
    ok[0][0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches("acme-*", "acme-core"));
        assert!(matches("acme-*", "acme-"));
        assert!(!matches("acme-*", "acm"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(!matches("a*b*c", "a-x-c-y-b"));
        assert!(matches("serde", "serde"));
        assert!(!matches("serde", "serde_json"));
        assert!(matches("*ab", "aab"));
        assert!(!matches("ab*ab", "ab"));
        let hostile = "*a".repeat(50) + "b";
        assert!(!matches(&hostile, &"a".repeat(10_000)));
    }

    #[test]
    fn paths() {
        assert!(matches_path(
            "services/*/Cargo.lock",
            "services/api/Cargo.lock"
        ));
        assert!(!matches_path(
            "services/*/Cargo.lock",
            "services/a/b/Cargo.lock"
        ));
        assert!(matches_path("**/Cargo.lock", "a/b/c/Cargo.lock"));
        assert!(matches_path("**/Cargo.lock", "Cargo.lock"));
        assert!(matches_path("./x/Cargo.lock", "x/Cargo.lock"));
    }
}
