//! PyPI's side: PEP 440 specifiers through `pep440_rs`, with the rule it leaves to installers —
//! pre-releases (and dev releases) are taken only when a specifier names one, or when no final
//! release satisfies the requirement (then [`super::Requirement::matches_any_prerelease`]).
//!
//! Membership follows `packaging` 26 (the library pip vendors; it reads PEP 440 as written):
//! `<V` stops below `V.dev0` only when V is a final release, `>V` skips only V's own
//! post-releases, `==V.*` is the interval from `V.dev0` to the next prefix. `pep440_rs` 0.7
//! keeps the older readings (`<2.0rc1` refusing `2.0a1`, `>1.0a1` refusing `1.0.post1`), so
//! those operators are decided here; `tests/versioning.rs` checks them against `packaging`.

use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

/// Parses a specifier list (`>=2.0,<3`, `==1.*`, `~=1.4.2`); empty or `*` admits everything.
pub(super) fn parse_specifiers(text: &str) -> Result<VersionSpecifiers, String> {
    let t = text.trim();
    // Old metadata writes the specifiers in parentheses: `requests (>=2.0)`.
    let t = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(t)
        .trim();
    // `packaging` skips empty items, so `>=1.0,` and `>=1,,<2` are valid.
    let items: Vec<&str> = t
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() || items == ["*"] {
        return Ok(VersionSpecifiers::empty());
    }
    VersionSpecifiers::from_str(&items.join(","))
        .map_err(|e| format!("expected PEP 440 version specifiers, found {text:?}: {e}"))
}

/// Membership with the pre-release rule: a pre-release or dev release is admitted only when
/// `any_prerelease` says so or a specifier asks for pre-releases.
pub(super) fn matches(spec: &VersionSpecifiers, v: &Version, any_prerelease: bool) -> bool {
    spec.iter().all(|s| contains(s, v))
        && (any_prerelease || !v.any_prerelease() || asks_for_prerelease(spec))
}

/// `packaging`'s `Specifier.prereleases`: a specifier naming a pre-release or dev release
/// asks for them, except `!=` (and `==V.*`, which cannot name one).
fn asks_for_prerelease(spec: &VersionSpecifiers) -> bool {
    spec.iter().any(|s| {
        !matches!(
            s.operator(),
            Operator::NotEqual | Operator::NotEqualStar | Operator::EqualStar
        ) && s.version().any_prerelease()
    })
}

/// Whether `x` lies inside one specifier, pre-release rule aside.
fn contains(s: &VersionSpecifier, x: &Version) -> bool {
    let v = s.version();
    match s.operator() {
        // `<V` excludes the pre-releases of V unless V is one itself: `<1.0` is `<1.0.dev0`,
        // `<1.0.post1` is `<1.0.post1.dev0` (so 1.0rc1 is in), `<2.0rc1` admits 2.0a1.
        Operator::LessThan if v.any_prerelease() => x < v,
        Operator::LessThan => *x < v.clone().with_dev(Some(0)),
        // `>V` excludes V's own post-releases (and V with a local label) unless V is a post
        // or dev release: `>1.0a1` admits 1.0b1.post1 and 1.0.post1, not 1.0a1.post1.
        Operator::GreaterThan => match (v.dev(), v.post()) {
            (Some(dev), _) => *x >= v.clone().with_dev(Some(dev.saturating_add(1))),
            (None, Some(post)) => {
                *x >= v
                    .clone()
                    .with_post(Some(post.saturating_add(1)))
                    .with_dev(Some(0))
            }
            (None, None) => {
                x > v
                    && !(x.epoch() == v.epoch()
                        && release_of(x) == release_of(v)
                        && x.pre() == v.pre())
            }
        },
        // `==1.2.*` is `>=1.2.dev0, <1.3.dev0`; `~=1.4.2` is `>=1.4.2, <1.5.dev0`.
        Operator::EqualStar => in_prefix(v.epoch(), v.release(), x),
        Operator::NotEqualStar => !in_prefix(v.epoch(), v.release(), x),
        Operator::TildeEqual => {
            let prefix = &v.release()[..v.release().len().saturating_sub(1)];
            x >= v && *x < next_prefix_dev0(v.epoch(), prefix)
        }
        _ => s.contains(x),
    }
}

/// Epoch and release only, so that `1.0` and `1.0.0` compare equal.
fn release_of(v: &Version) -> Version {
    Version::new(v.release().iter().copied()).with_epoch(v.epoch())
}

fn in_prefix(epoch: u64, prefix: &[u64], x: &Version) -> bool {
    let base = Version::new(prefix.iter().copied())
        .with_epoch(epoch)
        .with_dev(Some(0));
    *x >= base && *x < next_prefix_dev0(epoch, prefix)
}

/// `1.2` → `1.3.dev0`: the lowest version outside the prefix.
fn next_prefix_dev0(epoch: u64, prefix: &[u64]) -> Version {
    let mut release = prefix.to_vec();
    if let Some(last) = release.last_mut() {
        *last = last.saturating_add(1);
    }
    Version::new(release).with_epoch(epoch).with_dev(Some(0))
}

/// Whether `spec` admits a version above `highest` (the highest published version it admits;
/// `None`: none), by [`matches`]. Candidates are the successors of `highest` and of each
/// specifier's version (every release position incremented, one position appended, the next
/// post, pre-release and dev number, the final release), and the versions themselves
/// (`>1.4` → `1.4.1`, `==1.*` → `1.0`, `<2.0rc5` → `2.0rc2` after `2.0rc1`).
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
    candidates
        .iter()
        .any(|c| highest.is_none_or(|m| c > m) && matches(spec, c, false))
}

/// The next releases after `m`: each release position incremented (later ones dropped to
/// zero), one more position appended, the final release of a pre-release, the next post
/// release, and for a pre-release or dev release the next one of its kind.
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
    let public = m.clone().without_local();
    if let Some(mut pre) = m.pre() {
        pre.number = pre.number.saturating_add(1);
        out.push(
            public
                .clone()
                .with_pre(Some(pre))
                .with_post(None)
                .with_dev(None),
        );
        out.push(
            public
                .clone()
                .with_post(Some(m.post().map_or(0, |p| p.saturating_add(1))))
                .with_dev(None),
        );
    }
    if let Some(dev) = m.dev() {
        out.push(public.clone().with_dev(Some(dev.saturating_add(1))));
        out.push(public.with_dev(None));
    }
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
        // `!=` naming a pre-release does not ask for pre-releases.
        assert!(!admits("!=1.0rc1", "1.0rc2"));
        assert!(admits(">=1.0,", "1.5"));
        assert!(admits(">=1.0,,<2", "1.5"));
    }

    fn admits_any_prerelease(req: &str, v: &str) -> bool {
        Requirement::parse(Ecosystem::Pypi, req)
            .unwrap()
            .matches_any_prerelease(&Version::parse(Ecosystem::Pypi, v).unwrap())
    }

    /// Where pep440_rs 0.7 keeps packaging 25's reading and packaging 26 (the PEP text) differs.
    #[test]
    fn exclusive_comparisons_as_packaging_reads_them() {
        // `<V` excludes the pre-releases of V only when V is a final release.
        assert!(admits("<2.0rc1", "2.0a1"));
        assert!(admits("<1.0.dev1", "1.0.dev0"));
        assert!(admits(">=1.0,<2.0a1", "2.0.dev1"));
        assert!(admits_any_prerelease("<1.0.post1", "1.0rc1"));
        assert!(!admits_any_prerelease("<1.0.post1", "1.0.post1.dev1"));
        assert!(!admits_any_prerelease("<2.0", "2.0rc1"));
        // `>V` excludes V's own post-releases, not those of other versions.
        assert!(admits(">1.0a1", "1.0.post1"));
        assert!(admits(">1.0a1", "1.0b1.post1"));
        assert!(!admits(">1.0a1", "1.0a1.post1"));
        assert!(!admits(">1.0", "1.0.post1"));
        assert!(admits(">1.0.post1", "1.0.post2"));
        // `==1.2.*` is an interval, so `1` (1.0) is outside it.
        assert!(!admits("==1.2.*", "1"));
        assert!(admits("!=1.2.*", "1"));
        assert!(admits("==1.0.*", "1"));
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
        // Room between two pre-releases: 1.0rc2, or 1.0a2.post0.
        assert!(check(">=1.0rc1,<1.0rc5", &["1.0rc1"]));
        assert!(check(">1.0a1,<1.0a3", &["1.0a1", "1.0a2"]));
        assert!(!check("<1.0.post2", &["1.0.post1"]));
    }
}
