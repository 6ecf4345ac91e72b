//! PyPI's side: PEP 440 specifiers through `pep440_rs`, with the rule it leaves to installers —
//! pre-releases (and dev releases) are taken only when a specifier names one, or when no final
//! release satisfies the requirement (then [`super::Requirement::matches_any_prerelease`]).

use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifiers};

/// Parses a specifier list (`>=2.0,<3`, `==1.*`, `~=1.4.2`); empty or `*` admits everything.
pub(super) fn parse_specifiers(text: &str) -> Result<VersionSpecifiers, String> {
    let t = text.trim();
    // Old metadata writes the specifiers in parentheses: `requests (>=2.0)`.
    let t = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(t)
        .trim();
    if t.is_empty() || t == "*" {
        return Ok(VersionSpecifiers::empty());
    }
    VersionSpecifiers::from_str(t)
        .map_err(|e| format!("expected PEP 440 version specifiers, found {text:?}: {e}"))
}

/// Membership with the pre-release rule: a pre-release or dev release is admitted only when
/// `any_prerelease` says so or a specifier itself names a pre-release.
pub(super) fn matches(spec: &VersionSpecifiers, v: &Version, any_prerelease: bool) -> bool {
    spec.contains(v)
        && (any_prerelease || !v.any_prerelease() || spec.iter().any(|s| s.any_prerelease()))
}

/// Whether `spec` admits a release above `highest` (the highest published version it admits;
/// `None`: none). Candidates are final and post releases: the successors of `highest` at every
/// release position and its next post release, and each specifier's version with its
/// successors (`>1.4` → `1.4.1`, `==1.*` → `1.0`).
pub(super) fn has_headroom(spec: &VersionSpecifiers, highest: Option<&Version>) -> bool {
    let mut candidates: Vec<Version> = Vec::new();
    if let Some(m) = highest {
        candidates.extend(successors(m));
    } else {
        candidates.push(Version::new([0]));
    }
    for s in spec.iter() {
        let base = s.version().clone();
        if matches!(s.operator(), Operator::ExactEqual) {
            continue;
        }
        candidates.extend(successors(&base));
        candidates.push(base);
    }
    let pre_ok = spec.iter().any(|s| s.any_prerelease());
    candidates.iter().any(|c| {
        highest.is_none_or(|m| c > m) && (pre_ok || !c.any_prerelease()) && spec.contains(c)
    })
}

/// The next releases after `m`: each release position incremented (later ones dropped to
/// zero), one more position appended, the final release of a pre-release, and the next post
/// release.
fn successors(m: &Version) -> Vec<Version> {
    let release = m.release();
    let mut out = Vec::new();
    let len = release.len().max(3);
    let padded: Vec<u64> = (0..len)
        .map(|i| release.get(i).copied().unwrap_or(0))
        .collect();
    for i in 0..len {
        let mut r = padded.clone();
        r[i] = r[i].saturating_add(1);
        for x in &mut r[i + 1..] {
            *x = 0;
        }
        out.push(Version::new(r).with_epoch(m.epoch()));
    }
    let mut appended = padded.clone();
    appended.push(1);
    out.push(Version::new(appended).with_epoch(m.epoch()));
    let final_release = Version::new(release.iter().copied()).with_epoch(m.epoch());
    out.push(
        final_release
            .clone()
            .with_post(Some(m.post().map_or(0, |p| p.saturating_add(1)))),
    );
    out.push(final_release);
    out
}

#[cfg(test)]
mod tests {
    use crate::ingest::Ecosystem;
    use crate::versioning::{Requirement, Version};

    fn check(req: &str, published: &[&str]) -> bool {
        let r = Requirement::parse(Ecosystem::Pypi, req).unwrap();
        let mut vs: Vec<Version> = published
            .iter()
            .map(|v| Version::parse(Ecosystem::Pypi, v).unwrap())
            .collect();
        vs.sort();
        vs.reverse();
        r.has_headroom(&vs)
    }

    fn admits(req: &str, v: &str) -> bool {
        Requirement::parse(Ecosystem::Pypi, req)
            .unwrap()
            .matches(&Version::parse(Ecosystem::Pypi, v).unwrap())
    }

    #[test]
    fn prereleases_only_when_asked() {
        assert!(!admits(">=1.0", "2.0rc1"));
        assert!(!admits("", "2.0.dev1"));
        assert!(admits(">=1.0rc1", "2.0rc1"));
        assert!(admits(">=1.0", "2.0.post1"));
        assert!(admits("==1.*", "1.9"));
        assert!(!admits("==1.*", "2.0"));
        assert!(!admits("==1.*", "1.5a1"));
        assert!(admits("~=1.4.2", "1.4.9"));
        assert!(!admits("~=1.4.2", "1.5.0"));
        assert!(admits("(>=2.0)", "2.1"));
    }

    #[test]
    fn headroom_of_specifiers() {
        let p = ["1.0", "1.4.2", "1.5.0", "2.0"];
        assert!(check(">=1.0", &p));
        assert!(check("", &p));
        assert!(check("==1.*", &p)); // 1.5.1
        assert!(check("~=1.4.2", &p)); // 1.4.3
        assert!(check(">=1.0,<2", &p)); // 1.5.1
        assert!(!check("==1.4.2", &p));
        assert!(!check("===1.4.2", &p));
        assert!(!check(">=1.0,<=1.5.0", &p));
        assert!(check(">=1.0,<=1.5.1", &p));
        assert!(check("==3.0", &p)); // not published yet
        assert!(!check(">2,<1", &p));
        // `>1.5.0,<1.5.1`: 1.5.0.1 is a final release in between.
        assert!(check(">1.5.0,<1.5.1", &["1.5.0"]));
        // Only pre-releases admitted and asked for: `==2.0rc1` published, no room.
        assert!(!check("==2.0rc1", &["2.0rc1"]));
        assert!(check(">=2.0rc1", &["2.0rc1"]));
    }
}
