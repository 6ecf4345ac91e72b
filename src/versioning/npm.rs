//! npm's side: node-semver ranges through `nodejs-semver`, dist-tags, and the dependency specs
//! that are not registry requirements at all (git, `file:`, `link:`, URLs), which npm installs
//! without asking the registry and so are no edge of the graph (SPEC §4 rule 3).

use nodejs_semver::{Range, Version};

use super::Requirement;

/// What an npm dependency spec (the value in `"dependencies": {"name": SPEC}`) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec<'a> {
    /// A registry requirement on `name` (the key, or the real package of an alias
    /// `npm:real@range`) with `range` (a range or a dist-tag; empty means `*`).
    Registry {
        /// The real package: `Some` only for an alias.
        alias_of: Option<&'a str>,
        /// Range or dist-tag as written.
        range: &'a str,
    },
    /// git, GitHub shorthand, `file:`, `link:`, `workspace:`, a tarball URL: not a registry
    /// version, so no edge.
    NotRegistry,
}

/// Classifies an npm dependency spec.
///
/// ```
/// use blastradius::versioning::npm::{classify, Spec};
/// assert_eq!(classify("^4.4.1"), Spec::Registry { alias_of: None, range: "^4.4.1" });
/// assert_eq!(
///     classify("npm:strip-ansi@^6.0.1"),
///     Spec::Registry { alias_of: Some("strip-ansi"), range: "^6.0.1" }
/// );
/// assert_eq!(classify("github:chalk/chalk#main"), Spec::NotRegistry);
/// ```
pub fn classify(spec: &str) -> Spec<'_> {
    let spec = spec.trim();
    if let Some(inner) = spec.strip_prefix("npm:") {
        // `npm:@scope/name@range` — the version separator is the last `@` after the first
        // character (a scope starts with `@`).
        let (name, range) = match inner[1.min(inner.len())..].rfind('@') {
            Some(at) => (&inner[..at + 1], &inner[at + 2..]),
            None => (inner, ""),
        };
        if name.is_empty() {
            return Spec::NotRegistry;
        }
        return Spec::Registry {
            alias_of: Some(name),
            range,
        };
    }
    let protocol = spec
        .find(':')
        .is_some_and(|i| spec[..i].chars().all(|c| c.is_ascii_alphanumeric() || c == '+'));
    // `user/repo` GitHub shorthand, paths (`./x`, `../x`, `~/x`, `/x`), protocols.
    if protocol
        || spec.contains('/')
        || spec.starts_with('.')
        || spec.starts_with('~') && spec[1..].starts_with('/')
    {
        return Spec::NotRegistry;
    }
    Spec::Registry {
        alias_of: None,
        range: spec,
    }
}

/// Parses a version the way the registry accepts one (loose: `v1.2.3`, `=1.2.3`).
pub fn parse_version(text: &str) -> Option<Version> {
    Version::parse(text).ok()
}

/// A range or a dist-tag. Dist-tags are what npm accepts as tag names: anything that is not a
/// valid range and needs no URI encoding.
pub(super) fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let range = match classify(text) {
        Spec::Registry { range, .. } => range,
        Spec::NotRegistry => {
            return Err(format!(
                "expected an npm registry range or dist-tag, found {text:?} (git, file, link and URL specs are not registry versions)"
            ))
        }
    };
    match Range::parse(range) {
        Ok(r) => Ok(Requirement::Npm(r)),
        Err(_) if is_tag(range) => Ok(Requirement::Tag(range.to_owned())),
        Err(_) => Err(format!(
            "expected an npm semver range (`^1.2.3`, `~1.2`, `1.x`, `>=1 <2`, `1 - 2`, `a || b`) or a dist-tag, found {range:?}"
        )),
    }
}

fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == 'v' && s.len() > 1 && s[1..].starts_with(|c: char| c.is_ascii_digit()))
        && s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether `range` admits a version above `highest` (the highest published version it admits;
/// `None`: none). Candidates: the successors of `highest` (next patch, minor, major, and for a
/// pre-release its release and next pre-release), and the lowest version of each interval of
/// the range above `highest`. Every candidate is checked with `satisfies`, so a `true` is
/// always backed by a concrete version.
pub(super) fn has_headroom(range: &Range, highest: Option<&Version>) -> bool {
    let mut candidates: Vec<Version> = Vec::new();
    let above = match highest {
        Some(m) => {
            candidates.extend(successors(m));
            match Range::parse(format!(">{m}")) {
                Ok(gt) => range.intersect(&gt),
                Err(_) => None,
            }
        }
        None => Some(range.clone()),
    };
    if let Some(above) = above {
        for part in above.to_string().split("||") {
            if let Some(min) = Range::parse(part).ok().and_then(|p| p.min_version()) {
                candidates.extend(successors(&min));
                candidates.push(min);
            }
        }
    }
    candidates
        .iter()
        .any(|c| highest.is_none_or(|m| c > m) && range.satisfies(c))
}

fn successors(m: &Version) -> Vec<Version> {
    let (ma, mi, pa) = (m.major(), m.minor(), m.patch());
    let mut out = vec![
        Version::from((ma, mi, pa.saturating_add(1))),
        Version::from((ma, mi.saturating_add(1), 0)),
        Version::from((ma.saturating_add(1), 0, 0)),
    ];
    if m.is_prerelease() {
        out.push(Version::from((ma, mi, pa)));
        let pre: Vec<String> = m.pre_release().iter().map(|i| i.to_string()).collect();
        if let Ok(v) = Version::parse(format!("{ma}.{mi}.{pa}-{}.0", pre.join("."))) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Ecosystem;

    fn check(req: &str, published: &[&str]) -> bool {
        let r = Requirement::parse(Ecosystem::Npm, req).unwrap();
        let mut vs: Vec<super::super::Version> = published
            .iter()
            .map(|v| super::super::Version::parse(Ecosystem::Npm, v).unwrap())
            .collect();
        vs.sort();
        vs.reverse();
        r.has_headroom(&vs)
    }

    #[test]
    fn specs() {
        assert_eq!(classify("file:../x"), Spec::NotRegistry);
        assert_eq!(classify("link:../x"), Spec::NotRegistry);
        assert_eq!(classify("workspace:*"), Spec::NotRegistry);
        assert_eq!(classify("git+ssh://git@github.com/a/b.git"), Spec::NotRegistry);
        assert_eq!(classify("https://example.com/x.tgz"), Spec::NotRegistry);
        assert_eq!(classify("expressjs/express"), Spec::NotRegistry);
        assert_eq!(classify("./local"), Spec::NotRegistry);
        assert_eq!(
            classify("npm:@types/ms@^0.7.31"),
            Spec::Registry {
                alias_of: Some("@types/ms"),
                range: "^0.7.31"
            }
        );
        assert_eq!(
            classify("npm:ms"),
            Spec::Registry {
                alias_of: Some("ms"),
                range: ""
            }
        );
        assert_eq!(
            classify(">= 1.2.3 < 2"),
            Spec::Registry {
                alias_of: None,
                range: ">= 1.2.3 < 2"
            }
        );
        assert!(matches!(
            Requirement::parse(Ecosystem::Npm, "latest"),
            Ok(Requirement::Tag(_))
        ));
        assert!(matches!(
            Requirement::parse(Ecosystem::Npm, ""),
            Ok(Requirement::Npm(_))
        ));
        assert!(Requirement::parse(Ecosystem::Npm, "file:../x").is_err());
        assert!(Requirement::parse(Ecosystem::Npm, "^^1").is_err());
    }

    #[test]
    fn headroom_of_npm_ranges() {
        let p = ["1.0.0", "1.2.3", "1.4.0", "2.0.0"];
        assert!(check("^1.2.3", &p));
        assert!(check("~1.2.3", &p));
        assert!(check("1.x", &p));
        assert!(check("*", &p));
        assert!(check("", &p));
        assert!(check(">=1.0.0", &p));
        assert!(!check("1.2.3", &p)); // bare version: exact pin in npm
        assert!(!check("=1.2.3", &p));
        assert!(!check(">=1.0.0 <=1.4.0", &p));
        assert!(check("1.0.0 - 1.5.0", &p)); // 1.4.1 would be picked
        assert!(!check("1.0.0 - 1.4.0", &p));
        assert!(check("1.0.0 - 1.4", &p)); // hyphen with partial upper: < 1.5.0-0
        // A union with an exact pin that is published and an open part above it.
        assert!(!check("1.2.3 || 2.0.0", &p));
        assert!(check("1.2.3 || ^2.0.0", &p));
        // A later interval of a union above every published version.
        assert!(check("1.0.0 || >=3.0.0", &p));
        assert!(check("3.0.0", &p)); // an unpublished exact pin
        // Pre-releases: `<2.0.0-0` has room below 2.0.0 pre-releases? only 1.4.x and above.
        assert!(check(">=1.0.0 <2.0.0-0", &p));
        assert!(check("^1.0.0-beta.1", &["1.0.0-beta.1"]));
        assert!(!check("1.0.0-beta.1", &["1.0.0-beta.1"]));
        // ^0.0.3 is exactly 0.0.3 in npm too.
        assert!(!check("^0.0.3", &["0.0.3"]));
        assert!(check("^0.2.1", &["0.2.1", "0.3.0"]));
    }
}
