//! blastradius's version rules against the ecosystems' own implementations.
//!
//! The tables under `tests/fixtures/versioning/` were written by npm's own `semver` package and
//! by Python's `packaging` (see the README there); no row is edited by hand. Every row must
//! agree with [`Requirement::matches`], [`Requirement::matches_any_prerelease`],
//! [`Requirement::has_headroom`] or the [`Version`] order, except the rows in
//! [`KNOWN_DIFFERENCES`], which must still differ: a listed difference that stops being one
//! fails the test, so the list stays honest.

use std::collections::HashSet;

use blastradius::ingest::Ecosystem;
use blastradius::versioning::{Requirement, Version};

/// A row where blastradius deliberately or knowingly answers differently from the ecosystem.
struct Known {
    /// The table file.
    table: &'static str,
    /// The row's key cells: range or specifiers, then version or published list.
    row: &'static [&'static str],
    /// The column that differs.
    column: &'static str,
    /// Why the difference is kept.
    why: &'static str,
}

/// npm install reads ranges and versions loosely: npm-package-arg classifies a spec with
/// `semver.validRange(spec, true)` and npm-pick-manifest filters the packument's versions with
/// `semver.satisfies(version, range, { loose: true })`. blastradius follows npm install, so it
/// agrees with the `satisfies_loose` column and differs from the strict default here.
const LOOSE: &str = "npm install parses loosely; the satisfies_loose column agrees";

/// A dist-tag is no range: npm's `satisfies` is false and `validRange` null, while npm install
/// takes the version the tag points at, and the publisher moves the tag onto what they
/// publish (SPEC §4 rule 3). blastradius reads it as `Requirement::Tag`: every release
/// matches and there is always headroom.
const TAG: &str = "dist-tag: Requirement::Tag admits every release and always has headroom";

/// The published list of npm-max-satisfying.tsv.
const NPM_PUBLISHED: &str =
    "0.9.0,1.0.0,1.2.3,1.2.4-beta.1,1.4.0,1.5.0-rc.1,2.0.0-beta.1,2.0.0,2.1.0,3.0.0-alpha";
/// The published list of most rows of npm-headroom.tsv.
const NPM_HEADROOM_PUBLISHED: &str = "0.1.0,1.0.0,1.2.3,1.4.0,2.0.0";

const fn known(
    table: &'static str,
    row: &'static [&'static str],
    column: &'static str,
    why: &'static str,
) -> Known {
    Known {
        table,
        row,
        column,
        why,
    }
}

const KNOWN_DIFFERENCES: &[Known] = &[
    // npm: strict `satisfies` against npm install's loose reading.
    known("npm-ranges.tsv", &["1.2.3", "=1.2.3"], "satisfies", LOOSE),
    // CRATES.md's known `^01.2.3`: a leading zero is invalid strictly, `^1.2.3` loosely.
    known("npm-ranges.tsv", &["^01.2.3", "1.2.3"], "satisfies", LOOSE),
    known("npm-ranges.tsv", &["^01.2.3", "1.9.0"], "satisfies", LOOSE),
    known("npm-ranges.tsv", &["01.2.3", "1.2.3"], "satisfies", LOOSE),
    known("npm-ranges.tsv", &["^1.2.3", "01.2.3"], "satisfies", LOOSE),
    known("npm-ranges.tsv", &["^1.2.3", "1.02.3"], "satisfies", LOOSE),
    // `1.2.3alpha` is `1.2.3-alpha` loosely.
    known(
        "npm-ranges.tsv",
        &["1.2.3alpha", "1.2.3-alpha"],
        "satisfies",
        LOOSE,
    ),
    known(
        "npm-ranges.tsv",
        &[">=1.2.3beta", "1.2.3-beta"],
        "satisfies",
        LOOSE,
    ),
    known(
        "npm-ranges.tsv",
        &[">=1.2.3beta", "1.2.3-gamma"],
        "satisfies",
        LOOSE,
    ),
    known(
        "npm-ranges.tsv",
        &[">=1.2.3beta", "1.3.0"],
        "satisfies",
        LOOSE,
    ),
    // The loose parser drops words that are no comparator (`foo`, a stray `-`, a `||` part
    // with nothing valid in it).
    known(
        "npm-ranges.tsv",
        &["1.2.3 foo", "1.2.3"],
        "satisfies",
        LOOSE,
    ),
    known("npm-ranges.tsv", &["1.2.3 -", "1.2.3"], "satisfies", LOOSE),
    known(
        "npm-ranges.tsv",
        &["~1.2.3 || garbage", "1.2.3"],
        "satisfies",
        LOOSE,
    ),
    known(
        "npm-max-satisfying.tsv",
        &["^01.2.3", NPM_PUBLISHED],
        "maxSatisfying",
        LOOSE,
    ),
    // npm: dist-tags.
    known("npm-ranges.tsv", &["latest", "1.0.0"], "satisfies", TAG),
    known(
        "npm-ranges.tsv",
        &["latest", "1.0.0"],
        "satisfies_loose",
        TAG,
    ),
    known("npm-ranges.tsv", &["next", "2.0.0"], "satisfies", TAG),
    known("npm-ranges.tsv", &["next", "2.0.0"], "satisfies_loose", TAG),
    known(
        "npm-max-satisfying.tsv",
        &["latest", NPM_PUBLISHED],
        "maxSatisfying",
        TAG,
    ),
    known(
        "npm-headroom.tsv",
        &["latest", NPM_HEADROOM_PUBLISHED],
        "maxSatisfying",
        TAG,
    ),
    known(
        "npm-headroom.tsv",
        &["latest", NPM_HEADROOM_PUBLISHED],
        "headroom",
        TAG,
    ),
    // npm: nodejs-semver 7.0.0 caps version numbers at 900_719_925_474_099 (its
    // MAX_SAFE_INTEGER constant lacks a digit; JavaScript's is 9_007_199_254_740_991), so a
    // version with a 16-digit number does not parse. No registry version comes near it.
    known(
        "npm-ranges.tsv",
        &[">=9007199254740991.0.0", "9007199254740991.0.0"],
        "satisfies",
        "nodejs-semver's MAX_SAFE_INTEGER is 10x too small",
    ),
    known(
        "npm-ranges.tsv",
        &[">=9007199254740991.0.0", "9007199254740991.0.0"],
        "satisfies_loose",
        "nodejs-semver's MAX_SAFE_INTEGER is 10x too small",
    ),
    // PyPI: `===` compares the version *as written*; blastradius keeps only the parsed
    // version, whose text is normalised (`1.0c1` reads back as `1.0rc1`). `===` is
    // discouraged by PEP 440 and all but unused.
    known(
        "pep440.tsv",
        &["===1.0rc1", "1.0c1"],
        "contains",
        "=== sees the normalised text",
    ),
    known(
        "pep440.tsv",
        &["===1.0rc1", "1.0c1"],
        "contains_prereleases",
        "=== sees the normalised text",
    ),
    // PyPI: `*` (Poetry lockfiles write `version = "*"`) and parentheses (old metadata writes
    // `requests (>=2.0)`) are accepted on purpose; `packaging`'s SpecifierSet rejects both.
    known(
        "pep440.tsv",
        &["*", "1.0"],
        "contains",
        "`*` is accepted as the empty set",
    ),
    known(
        "pep440.tsv",
        &["*", "1.0"],
        "contains_prereleases",
        "`*` is accepted as the empty set",
    ),
    known(
        "pep440.tsv",
        &["(>=2.0)", "2.1"],
        "contains",
        "parenthesised specifiers are accepted",
    ),
    known(
        "pep440.tsv",
        &["(>=2.0)", "2.1"],
        "contains_prereleases",
        "parenthesised specifiers are accepted",
    ),
];

/// A table's data rows (comment lines start with `#`), after checking its header.
fn table(text: &'static str, header: &[&str]) -> Vec<Vec<&'static str>> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let first: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    assert_eq!(first, header, "table header");
    lines
        .map(|l| {
            let row: Vec<&str> = l.split('\t').collect();
            assert_eq!(row.len(), header.len(), "row {l:?}");
            row
        })
        .collect()
}

/// Compares our answers with the recorded ones and keeps [`KNOWN_DIFFERENCES`] honest.
struct Checker {
    table: &'static str,
    failures: Vec<String>,
    known_seen: HashSet<usize>,
    rows: usize,
}

impl Checker {
    fn new(table: &'static str) -> Checker {
        Checker {
            table,
            failures: Vec::new(),
            known_seen: HashSet::new(),
            rows: 0,
        }
    }

    fn check(&mut self, row: &[&str], column: &str, recorded: &str, ours: &str) {
        self.rows += 1;
        let known = KNOWN_DIFFERENCES
            .iter()
            .position(|k| k.table == self.table && k.row == row && k.column == column);
        match known {
            Some(i) => {
                self.known_seen.insert(i);
                if recorded == ours {
                    self.failures.push(format!(
                        "{row:?} {column}: listed in KNOWN_DIFFERENCES ({}) but now agrees ({ours})",
                        KNOWN_DIFFERENCES[i].why
                    ));
                }
            }
            None if recorded != ours => self.failures.push(format!(
                "{row:?} {column}: the ecosystem says {recorded:?}, blastradius says {ours:?}"
            )),
            None => {}
        }
    }

    fn finish(self, min_rows: usize) {
        let mut failures = self.failures;
        for (i, k) in KNOWN_DIFFERENCES.iter().enumerate() {
            if k.table == self.table && !self.known_seen.contains(&i) {
                failures.push(format!(
                    "KNOWN_DIFFERENCES lists {:?} {} but {} has no such row",
                    k.row, k.column, self.table
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{}: {} disagreement(s):\n{}",
            self.table,
            failures.len(),
            failures.join("\n")
        );
        assert!(
            self.rows >= min_rows,
            "{}: only {} checks",
            self.table,
            self.rows
        );
    }
}

fn b(x: bool) -> &'static str {
    if x {
        "true"
    } else {
        "false"
    }
}

/// `matches` (or `matches_any_prerelease`) as a table cell: `error` when the requirement does
/// not parse, `unparsable` when the version does not.
fn answer(eco: Ecosystem, req: &str, version: &str, any_prerelease: bool) -> String {
    let Ok(r) = Requirement::parse(eco, req) else {
        return "error".into();
    };
    let Some(v) = Version::parse(eco, version) else {
        return "unparsable".into();
    };
    let m = if any_prerelease {
        r.matches_any_prerelease(&v)
    } else {
        r.matches(&v)
    };
    b(m).into()
}

/// The highest published version `req` matches, as written in the list; the first of equal
/// versions wins, as in npm's `maxSatisfying`. Empty when none (or the requirement does not
/// parse).
fn max_matching<'a>(eco: Ecosystem, req: &str, published: &[&'a str]) -> &'a str {
    let Ok(r) = Requirement::parse(eco, req) else {
        return "";
    };
    let mut best: Option<(Version, &str)> = None;
    for text in published {
        let Some(v) = Version::parse(eco, text) else {
            continue;
        };
        if r.matches(&v) && best.as_ref().is_none_or(|(b, _)| v > *b) {
            best = Some((v, text));
        }
    }
    best.map_or("", |(_, t)| t)
}

fn list(cell: &str) -> Vec<&str> {
    if cell.is_empty() {
        Vec::new()
    } else {
        cell.split(',').collect()
    }
}

/// `has_headroom` as a table cell; `invalid` when the requirement does not parse.
fn headroom(eco: Ecosystem, req: &str, published: &[&str]) -> String {
    let Ok(r) = Requirement::parse(eco, req) else {
        return "invalid".into();
    };
    let mut vs: Vec<Version> = published
        .iter()
        .filter_map(|v| Version::parse(eco, v))
        .collect();
    vs.sort();
    vs.reverse();
    b(r.has_headroom(&vs)).into()
}

/// `matches` against both of npm's readings: the strict default (`satisfies`) and the loose
/// one npm install uses (`satisfies_loose`); rows where only the strict one differs are in
/// [`KNOWN_DIFFERENCES`] as [`LOOSE`].
#[test]
fn npm_ranges_agree_with_npm_semver() {
    const T: &str = "npm-ranges.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/npm-ranges.tsv"),
        &["range", "version", "satisfies", "satisfies_loose"],
    ) {
        let ours = match answer(Ecosystem::Npm, row[0], row[1], false).as_str() {
            // npm's `satisfies` is false for a range or version it cannot parse.
            "error" | "unparsable" => "false".to_owned(),
            a => a.to_owned(),
        };
        c.check(&row[..2], "satisfies", row[2], &ours);
        c.check(&row[..2], "satisfies_loose", row[3], &ours);
    }
    c.finish(300);
}

#[test]
fn npm_max_satisfying_agrees_with_npm_semver() {
    const T: &str = "npm-max-satisfying.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/npm-max-satisfying.tsv"),
        &["range", "published", "maxSatisfying"],
    ) {
        let ours = max_matching(Ecosystem::Npm, row[0], &list(row[1]));
        c.check(&row[..2], "maxSatisfying", row[2], ours);
    }
    c.finish(30);
}

#[test]
fn npm_headroom_agrees_with_npm_semver() {
    const T: &str = "npm-headroom.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/npm-headroom.tsv"),
        &["range", "published", "maxSatisfying", "headroom"],
    ) {
        let published = list(row[1]);
        c.check(
            &row[..2],
            "maxSatisfying",
            row[2],
            max_matching(Ecosystem::Npm, row[0], &published),
        );
        c.check(
            &row[..2],
            "headroom",
            row[3],
            &headroom(Ecosystem::Npm, row[0], &published),
        );
    }
    c.finish(60);
}

/// `contains` is the installer's "no pre-releases unless asked" rule and `contains_prereleases`
/// plain membership. Where no final version satisfies (`>=2.0` against `2.1b1`), `contains` is
/// false and so is `matches`; the resolver's second pass uses `matches_any_prerelease`, which
/// must agree with `contains_prereleases`.
#[test]
fn pep440_specifiers_agree_with_packaging() {
    const T: &str = "pep440.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/pep440.tsv"),
        &["specifiers", "version", "contains", "contains_prereleases"],
    ) {
        let ours = answer(Ecosystem::Pypi, row[0], row[1], false);
        c.check(&row[..2], "contains", row[2], &ours);
        let ours = answer(Ecosystem::Pypi, row[0], row[1], true);
        c.check(&row[..2], "contains_prereleases", row[3], &ours);
    }
    c.finish(300);
}

#[test]
fn pep440_order_agrees_with_packaging() {
    const T: &str = "pep440-order.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/pep440-order.tsv"),
        &["a", "b", "cmp"],
    ) {
        let ours = match (
            Version::parse(Ecosystem::Pypi, row[0]),
            Version::parse(Ecosystem::Pypi, row[1]),
        ) {
            (Some(a), Some(b)) => (a.cmp(&b) as i8).to_string(),
            _ => "unparsable".to_owned(),
        };
        c.check(&row[..2], "cmp", row[2], &ours);
    }
    c.finish(150);
}

#[test]
fn pep440_headroom_agrees_with_packaging() {
    const T: &str = "pep440-headroom.tsv";
    let mut c = Checker::new(T);
    for row in table(
        include_str!("fixtures/versioning/pep440-headroom.tsv"),
        &["specifiers", "published", "max", "headroom"],
    ) {
        let published = list(row[1]);
        c.check(
            &row[..2],
            "max",
            row[2],
            max_matching(Ecosystem::Pypi, row[0], &published),
        );
        c.check(
            &row[..2],
            "headroom",
            row[3],
            &headroom(Ecosystem::Pypi, row[0], &published),
        );
    }
    c.finish(60);
}
