//! npm's side: node-semver ranges, dist-tags, and the dependency specs that are not registry
//! requirements at all (git, `file:`, `link:`, URLs), which npm installs without asking the
//! registry and so are no edge of the graph (SPEC §4 rule 3).
//!
//! Ranges are read the way `npm install` reads them: npm-package-arg classifies a spec with
//! `semver.validRange(spec, true)` and npm-pick-manifest filters versions with
//! `semver.satisfies(version, range, { loose: true })`, so loose spellings (`^01.2.3`,
//! `1.2.3alpha`, a stray `-`) count. [`Range`] splits the range into `||` parts and
//! comparators as node-semver does and leaves each single comparator to `nodejs-semver`;
//! `tests/versioning.rs` checks the result against npm's own semver package.

use std::fmt;

use nodejs_semver::Version;

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
        let skip = inner.chars().next().map_or(0, char::len_utf8);
        let (name, range) = match inner[skip..].rfind('@') {
            Some(at) => (&inner[..skip + at], &inner[skip + at + 1..]),
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
    let protocol = spec.find(':').is_some_and(|i| {
        spec[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
    });
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

/// Parses a version the way npm's loose parser accepts one (`v1.2.3`, `=1.2.3`, ` 1.2.3 `).
pub fn parse_version(text: &str) -> Option<Version> {
    // node-semver's loose pattern starts with `[v=\s]*`; nodejs-semver only takes the `v`.
    Version::parse(
        text.trim()
            .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace()),
    )
    .ok()
}

/// An npm range (`^1.2.3`, `>=1 <2`, `1.2 - 2`, `1.x || >=2.5.0`), matched the way node-semver
/// matches it with `{ loose: true }`.
///
/// ```
/// use blastradius::versioning::npm::{parse_version, Range};
/// let r = Range::parse(">=1.2.3 <2 || 3.x").unwrap();
/// assert!(r.satisfies(&parse_version("1.9.0").unwrap()));
/// assert!(!r.satisfies(&parse_version("2.0.0").unwrap()));
/// // A pre-release only where a comparator names one of the same major.minor.patch.
/// assert!(!r.satisfies(&parse_version("3.1.0-rc.1").unwrap()));
/// // Contradicting comparators admit nothing.
/// assert!(!Range::parse(">=1.2.3 <1.2.3").unwrap().satisfies(&parse_version("1.2.3").unwrap()));
/// ```
#[derive(Debug, Clone)]
pub struct Range {
    /// The satisfiable `||` parts, each one interval: `nodejs-semver` merges the comparators
    /// of a part into their intersection. Empty: the range admits nothing.
    sets: Vec<nodejs_semver::Range>,
}

/// What one `||` part or one comparator of a range admits.
enum Part {
    /// Not a comparator: loose parsing drops it.
    Invalid,
    /// Every release (`*`, `x`, `>=*`, an empty part).
    Any,
    /// Nothing (`<*`, `>x`, contradicting comparators).
    Nothing,
    /// One interval.
    Interval(nodejs_semver::Range),
}

impl Range {
    /// Parses a range; `None` when npm would not read `text` as a range (then it is a
    /// dist-tag or an error).
    pub fn parse(text: &str) -> Option<Range> {
        // node-semver: `range.trim().replace(/\s+/g, ' ').split('||')`.
        let raw = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut sets = Vec::new();
        let (mut valid, mut any) = (false, false);
        for part in raw.split("||") {
            match parse_part(part.trim()) {
                Part::Invalid => {}
                Part::Any => (valid, any) = (true, true),
                Part::Nothing => valid = true,
                Part::Interval(r) => {
                    valid = true;
                    sets.push(r);
                }
            }
        }
        if !valid {
            return None;
        }
        // node-semver keeps only a lone `*` part when there is one, so `* || 1.0.0-beta`
        // admits no pre-release.
        if any {
            sets = vec![nodejs_semver::Range::any()];
        }
        Some(Range { sets })
    }

    /// Whether npm would install `v` for this range: `v` is inside one part, and a
    /// pre-release only when that part has a comparator with a pre-release of the same
    /// `major.minor.patch`.
    pub fn satisfies(&self, v: &Version) -> bool {
        self.sets.iter().any(|s| s.satisfies(v))
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sets.is_empty() {
            return f.write_str("<0.0.0-0");
        }
        for (i, s) in self.sets.iter().enumerate() {
            if i > 0 {
                f.write_str("||")?;
            }
            s.fmt(f)?;
        }
        Ok(())
    }
}

/// One `||` part: a hyphen range, or comparators separated by spaces, all of which must hold.
fn parse_part(part: &str) -> Part {
    if part.is_empty() {
        return Part::Any;
    }
    let words: Vec<&str> = part.split(' ').collect();
    let mut tokens: Vec<String> = Vec::new();
    if let [from, "-", to] = words[..] {
        if starts_xrange(from) && starts_xrange(to) {
            // `A - B` is `>=A <=B`, partial versions included (`1.2 - 2` is `>=1.2.0 <3.0.0-0`).
            tokens = vec![format!(">={from}"), format!("<={to}")];
        }
    }
    if tokens.is_empty() {
        // node-semver's COMPARATORTRIM, TILDETRIM and CARETTRIM: `>= 1.2`, `~ 1.2`, `^ 1`.
        let mut words = words.into_iter();
        while let Some(w) = words.next() {
            match (is_operator(w), words.clone().next()) {
                (true, Some(next)) => {
                    tokens.push(format!("{w}{next}"));
                    words.next();
                }
                _ => tokens.push(w.to_owned()),
            }
        }
    }
    let mut acc: Option<nodejs_semver::Range> = None;
    let (mut valid, mut nothing) = (false, false);
    for token in &tokens {
        match parse_comparator(token) {
            Part::Invalid => {}
            Part::Any => valid = true,
            Part::Nothing => (valid, nothing) = (true, true),
            Part::Interval(r) => {
                valid = true;
                acc = match acc {
                    None => Some(r),
                    Some(a) => match a.intersect(&r) {
                        Some(both) => Some(both),
                        None => {
                            nothing = true;
                            None
                        }
                    },
                };
            }
        }
        if nothing {
            return Part::Nothing;
        }
    }
    match (valid, acc) {
        (false, _) => Part::Invalid,
        (true, None) => Part::Any,
        (true, Some(r)) => Part::Interval(r),
    }
}

/// One comparator (`>=1.2`, `^1.2.3`, `~1`, `1.x`, `*`). node-semver reads a wildcard major
/// with `<` or `>` as "nothing" and with any other operator as "anything";
/// `nodejs-semver` gets `=*`, `>*`, `~*` and `^*` wrong, so those are decided here.
fn parse_comparator(token: &str) -> Part {
    let op_len = ["~>", ">=", "<=", ">", "<", "=", "~", "^"]
        .iter()
        .find(|op| token.starts_with(*op))
        .map_or(0, |op| op.len());
    let (op, version) = token.split_at(op_len);
    let version = version.trim_start_matches(['v', '=']);
    if is_wildcard_major(version) {
        return if op == ">" || op == "<" {
            Part::Nothing
        } else {
            Part::Any
        };
    }
    match nodejs_semver::Range::parse(token) {
        // node-semver turns a comparator `>=0.0.0` into `*` (its replaceGTE0), which matters
        // for `>=0.0.0 || 1.0.0-beta`: a lone `*` part swallows the others.
        Ok(r) if r.to_string() == ">=0.0.0" => Part::Any,
        Ok(r) => Part::Interval(r),
        Err(_) => Part::Invalid,
    }
}

fn is_operator(w: &str) -> bool {
    matches!(w, "<" | ">" | "<=" | ">=" | "=" | "~" | "~>" | "^")
}

/// node-semver's XRANGEPLAINLOOSE starts with `[v=\s]*` and then a number or a wildcard.
fn starts_xrange(w: &str) -> bool {
    w.trim_start_matches(['v', '='])
        .starts_with(|c: char| c.is_ascii_digit() || matches!(c, 'x' | 'X' | '*'))
}

/// `*`, `x`, `X.*`, `x.x.x-pre`: an x-range whose major is a wildcard (node-semver's
/// XRANGEPLAIN: up to three parts, a pre-release or build only after the third).
fn is_wildcard_major(v: &str) -> bool {
    let (core, suffixed) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], true),
        None => (v, false),
    };
    let parts: Vec<&str> = core.split('.').collect();
    (if suffixed {
        parts.len() == 3
    } else {
        parts.len() <= 3
    }) && matches!(parts[0], "x" | "X" | "*")
        && parts[1..].iter().all(|p| {
            matches!(*p, "x" | "X" | "*") || !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
        })
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
        Some(r) => Ok(Requirement::Npm(r)),
        None if is_tag(range) => Ok(Requirement::Tag(range.to_owned())),
        None => Err(format!(
            "expected an npm semver range (`^1.2.3`, `~1.2`, `1.x`, `>=1 <2`, `1 - 2`, `a || b`) or a dist-tag, found {range:?}"
        )),
    }
}

fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| {
            c.is_ascii_digit()
                || c == 'v' && s.len() > 1 && s[1..].starts_with(|c: char| c.is_ascii_digit())
        })
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether `range` admits a version above `highest` (the highest published version it admits;
/// `None`: none). Candidates: the successors of `highest` (next patch, minor, major, and for a
/// pre-release its release and next pre-release), and the lowest version of each interval of
/// the range above `highest`. Every candidate is checked with `satisfies`, so a `true` is
/// always backed by a concrete version.
pub(super) fn has_headroom(range: &Range, highest: Option<&Version>) -> bool {
    let mut candidates: Vec<Version> = Vec::new();
    let above = highest.and_then(|m| {
        candidates.extend(successors(m));
        nodejs_semver::Range::parse(format!(">{m}")).ok()
    });
    for set in &range.sets {
        let part = match &above {
            Some(gt) => set.intersect(gt),
            None => Some(set.clone()),
        };
        if let Some(min) = part.and_then(|p| p.min_version()) {
            candidates.extend(successors(&min));
            candidates.push(min);
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
    fn alias_with_non_ascii_name_does_not_panic() {
        assert_eq!(
            classify("npm:é@1"),
            Spec::Registry {
                alias_of: Some("é"),
                range: "1"
            }
        );
        assert_eq!(
            classify("npm:@é/x@^2"),
            Spec::Registry {
                alias_of: Some("@é/x"),
                range: "^2"
            }
        );
        assert_eq!(classify("npm:"), Spec::NotRegistry);
    }

    #[test]
    fn specs() {
        assert_eq!(classify("file:../x"), Spec::NotRegistry);
        assert_eq!(classify("link:../x"), Spec::NotRegistry);
        assert_eq!(classify("workspace:*"), Spec::NotRegistry);
        assert_eq!(
            classify("git+ssh://git@github.com/a/b.git"),
            Spec::NotRegistry
        );
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
        // Contradicting comparators admit nothing, so there is nothing to inject.
        assert!(!check(">2.0.0 <1.0.0", &p));
        assert!(!check(">=1.2.3 <1.2.3", &p));
    }

    fn satisfies(range: &str, version: &str) -> bool {
        Range::parse(range)
            .unwrap()
            .satisfies(&parse_version(version).unwrap())
    }

    /// Cases where nodejs-semver alone disagrees with npm (tests/versioning.rs has the rest).
    #[test]
    fn ranges_as_npm_reads_them() {
        // Comparators that contradict each other are not a union of the two.
        assert!(!satisfies(">=1.2.3 <1.2.3", "1.2.3"));
        assert!(!satisfies(">1.2.3 <1.0.0", "1.2.4"));
        assert!(!satisfies("^1.2.3 <1.2.3", "1.2.3"));
        // Not a hyphen range once a third comparator follows: two exact pins and a bound.
        assert!(!satisfies("1.2.3 - 2.3.4 >=2.0.0", "2.1.0"));
        assert!(!satisfies("1.2.3 - 2.3.4 >=2.0.0", "2.3.4"));
        // Wildcards with an operator.
        assert!(satisfies("=*", "1.0.0"));
        assert!(satisfies("~*", "1.0.0"));
        assert!(satisfies("^*", "1.0.0"));
        assert!(satisfies("<=X.x", "1.0.0"));
        assert!(!satisfies(">*", "1.0.0"));
        assert!(!satisfies(">x", "0.0.0"));
        // An empty `||` part is `*`, and a `*` part swallows the others.
        assert!(satisfies("|| 1.2.3", "5.0.0"));
        assert!(satisfies("=1.2.3 ||", "2.0.0"));
        assert!(!satisfies("* || 1.0.0-beta", "1.0.0-beta"));
        assert!(!satisfies(">=0.0.0 || 1.0.0-beta", "1.0.0-beta"));
        assert!(satisfies(">=0.0.1 || 1.0.0-beta", "1.0.0-beta"));
        // Loose spellings, as npm install reads them.
        assert!(satisfies("> =1.2.3", "1.2.4"));
        assert!(satisfies("1.2.3 -", "1.2.3"));
        assert!(satisfies("1.2.3", "=1.2.3"));
        assert!(satisfies("~1.2.3 || garbage", "1.2.3"));
        assert!(!satisfies("1.2.3 foo 4.5.6", "1.2.3"));
        // Not ranges: dist-tags.
        assert!(Range::parse("latest").is_none());
        assert!(Range::parse("x-beta").is_none());
        assert!(Range::parse("xmas").is_none());
        assert!(matches!(
            Requirement::parse(Ecosystem::Npm, "x-beta"),
            Ok(Requirement::Tag(_))
        ));
    }
}
