//! Cargo's side of the headroom rule (SPEC §4 rule 2): `^1.2`, `~1.2.3`, `*`, `>=1` have
//! headroom; `=1.2.3` and `>=1, <=1.4.0` with 1.4.0 published do not.

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

/// Whether `req` admits a version above `highest`, the highest published version it admits
/// (`None`: it admits no published version).
///
/// The versions admitted by a conjunction of comparators form an interval, so if any
/// unpublished version above `m` is admitted, the next version after `m` is.
pub fn has_headroom(req: &VersionReq, highest: Option<&Version>) -> bool {
    match highest {
        Some(m) => candidates_above(m).iter().any(|c| req.matches(c)),
        None => admits_anything(req),
    }
}

/// The smallest versions above `m` that a fresh resolution could prefer: the next patch,
/// minor and major releases, and for a pre-release `m` its release and a later pre-release.
fn candidates_above(m: &Version) -> Vec<Version> {
    let mut out = vec![
        Version::new(m.major, m.minor, m.patch.saturating_add(1)),
        Version::new(m.major, m.minor.saturating_add(1), 0),
        Version::new(m.major.saturating_add(1), 0, 0),
    ];
    if !m.pre.is_empty() {
        out.push(Version::new(m.major, m.minor, m.patch));
        if let Ok(pre) = Prerelease::new(&format!("{}.0", m.pre)) {
            let mut later = Version::new(m.major, m.minor, m.patch);
            later.pre = pre;
            out.push(later);
        }
    }
    out
}

/// Whether a requirement admits any version at all (`>2, <1` does not).
fn admits_anything(req: &VersionReq) -> bool {
    let mut candidates = vec![
        Version::new(0, 0, 0),
        Version::new(0, 0, 1),
        Version::new(0, 1, 0),
        Version::new(1, 0, 0),
    ];
    for c in &req.comparators {
        let base = comparator_base(c);
        candidates.extend(candidates_above(&base));
        candidates.push(base);
    }
    candidates.iter().any(|v| req.matches(v))
}

fn comparator_base(c: &Comparator) -> Version {
    let mut v = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
    if c.op != Op::Less {
        v.pre = c.pre.clone();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(req: &str, published: &[&str]) -> bool {
        let req = VersionReq::parse(req).unwrap();
        let mut vs: Vec<Version> = published
            .iter()
            .map(|v| Version::parse(v).unwrap())
            .collect();
        vs.sort();
        vs.reverse();
        has_headroom(&req, vs.iter().find(|v| req.matches(v)))
    }

    #[test]
    fn caret_tilde_wildcard_open_have_headroom() {
        let p = ["1.0.0", "1.2.3", "2.0.0"];
        assert!(check("^1.2", &p));
        assert!(check("1.2.3", &p)); // a bare version is a caret in Cargo
        assert!(check("~1.2.3", &p));
        assert!(check("*", &p));
        assert!(check(">=1.0", &p));
        assert!(check("1.*", &p));
    }

    #[test]
    fn exact_pin_and_published_upper_bound_do_not() {
        let p = ["1.0.0", "1.2.3", "1.4.0", "2.0.0"];
        assert!(!check("=1.2.3", &p));
        assert!(!check(">=1.0, <=1.4.0", &p));
        assert!(check(">=1.0, <=1.5.0", &p)); // 1.4.1 would be picked
        assert!(check(">=1.0, <1.4.0", &p)); // 1.3.0 would not beat... it is below 1.4.0 but above 1.2.3
    }

    #[test]
    fn exact_pin_of_unpublished_version_has_headroom() {
        assert!(check("=3.0.0", &["1.0.0"]));
        assert!(!check(">2, <1", &["1.0.0"]));
    }

    #[test]
    fn yanked_versions_still_occupy_their_number() {
        // 1.2.4 published (yanked or not): `<=1.2.4` has nothing left to inject.
        assert!(!check(">=1.2, <=1.2.4", &["1.2.3", "1.2.4"]));
    }

    #[test]
    fn prerelease_requirements() {
        assert!(check("^1.0.0-alpha.1", &["1.0.0-alpha.1"]));
        assert!(!check("=1.0.0-alpha.1", &["1.0.0-alpha.1"]));
        // `^0.3.0-rc.1` admits 0.3.0 and 0.3.1: headroom.
        assert!(check("^0.3.0-rc.1", &["0.3.0-rc.1", "0.2.0"]));
    }

    #[test]
    fn zero_major_caret() {
        // ^0.2.1 = >=0.2.1, <0.3.0
        assert!(check("^0.2.1", &["0.2.1", "0.3.0"]));
        assert!(!check("^0.0.3", &["0.0.3"])); // ^0.0.3 = =0.0.3
    }
}
