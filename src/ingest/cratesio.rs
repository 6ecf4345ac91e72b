//! crates.io sparse-index files: one JSON object per line, one file per crate (the served
//! layout `se/rd/serde`), or any file of such lines.
//!
//! The wire struct is a subset of cargo's `IndexPackage`; unknown fields are ignored because
//! the index grows fields (`v`, `features2`, `rust_version`) over time.

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;

use super::{DepFact, DepKind, Ecosystem, VersionFact};
use crate::error::{Error, Result};

/// Subset of one sparse-index line.
///
/// Texts borrow from the line where they hold no escape: a crates.io-sized index has ten
/// million dependencies, and each owned `String` was an allocation.
#[derive(Deserialize)]
struct IndexLine<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    vers: Cow<'a, str>,
    #[serde(default, borrow)]
    deps: Vec<IndexDep<'a>>,
    #[serde(default)]
    yanked: bool,
    #[serde(default, borrow)]
    pubtime: Option<Cow<'a, str>>,
    /// The index format version of this line (absent = 1).
    #[serde(default)]
    v: Option<u64>,
}

/// The highest index line format version understood (cargo and tame-index: 2). A line of a
/// later format is skipped and counted in a warning, as cargo does.
pub const INDEX_V_MAX: u64 = 2;

/// Subset of one dependency of an index line.
#[derive(Deserialize)]
struct IndexDep<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    req: Cow<'a, str>,
    #[serde(default)]
    optional: bool,
    #[serde(default, borrow)]
    target: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    package: Option<Cow<'a, str>>,
}

/// True when the first non-empty line of `text` looks like a sparse-index entry.
pub fn looks_like_index(text: &str) -> bool {
    let Some(first) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let first = first.trim_start();
    first.starts_with('{') && first.contains("\"vers\"") && first.contains("\"name\"")
}

/// Parses every line of an index file. A malformed line is an error naming the file and line.
pub fn parse_index(path: &Path, text: &str) -> Result<Vec<VersionFact>> {
    parse_index_with_notes(path, text).map(|(versions, _)| versions)
}

/// [`parse_index`], also returning warnings: lines of a future format (`"v"` above
/// [`INDEX_V_MAX`]), which are skipped, and requirements that are not valid semver (crates.io
/// holds a few historic ones), which are kept as written and counted.
pub fn parse_index_with_notes(path: &Path, text: &str) -> Result<(Vec<VersionFact>, Vec<String>)> {
    use rayon::prelude::*;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    // Lines are independent: parse them in parallel, in chunks large enough to amortise the
    // scheduling; the result keeps file order, and the error reported is the first by line.
    let parsed: Vec<Result<Line>> = lines
        .par_iter()
        .with_min_len(256)
        .map(|&(line_no, line)| parse_line(path, line_no, line))
        .collect();
    let mut versions = Vec::with_capacity(parsed.len());
    let (mut future, mut bad_reqs) = (Vec::new(), Vec::new());
    for p in parsed {
        match p? {
            Line::Version(v, bad) => {
                versions.push(v);
                bad_reqs.extend(bad);
            }
            Line::Future(line_no, v) => future.push(format!("line {line_no} (v {v})")),
        }
    }
    let mut notes = Vec::new();
    let list = |items: &[String]| {
        let mut s = items
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if items.len() > 10 {
            s.push_str(&format!(", and {} more", items.len() - 10));
        }
        s
    };
    if !future.is_empty() {
        notes.push(format!(
            "{}: skipped {} index line(s) of a format newer than v {INDEX_V_MAX}: {}",
            path.display(),
            future.len(),
            list(&future)
        ));
    }
    if !bad_reqs.is_empty() {
        notes.push(format!(
            "{}: {} requirement(s) could not be parsed as semver and are kept as written: {}",
            path.display(),
            bad_reqs.len(),
            list(&bad_reqs)
        ));
    }
    Ok((versions, notes))
}

/// One parsed line: a version (with the requirements that did not parse), or a line of a
/// future index format, skipped.
enum Line {
    Version(VersionFact, Vec<String>),
    Future(usize, u64),
}

fn parse_line(path: &Path, line_no: usize, line: &str) -> Result<Line> {
    // serde would also read a struct from a JSON array (`["serde", "1.0.0"]`).
    if !line.trim_start().starts_with('{') {
        let found: String = line.trim().chars().take(20).collect();
        return Err(Error::parse_at(
            path,
            line_no,
            Some(line.len() - line.trim_start().len() + 1),
            format!("invalid crates.io index line: expected a JSON object, found `{found}`"),
        ));
    }
    let raw: IndexLine = serde_json::from_str(line).map_err(|e| {
        Error::parse_at(
            path,
            line_no,
            Some(e.column()),
            format!("invalid crates.io index line: {}", serde_message(&e)),
        )
    })?;
    match raw.v {
        Some(v) if v > INDEX_V_MAX => Ok(Line::Future(line_no, v)),
        _ => {
            let mut bad = Vec::new();
            convert(path, line_no, raw, &mut bad).map(|v| Line::Version(v, bad))
        }
    }
}

/// serde_json's message without its own " at line L column C" (the line is the file's line,
/// reported in front; serde's is always 1 since each line is parsed alone).
fn serde_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

fn convert(
    path: &Path,
    line_no: usize,
    raw: IndexLine,
    bad_reqs: &mut Vec<String>,
) -> Result<VersionFact> {
    if semver::Version::parse(&raw.vers).is_err() {
        return Err(Error::parse_at(
            path,
            line_no,
            None,
            format!(
                "crate {}: expected a semver version in \"vers\", found {:?}",
                raw.name, raw.vers
            ),
        ));
    }
    let published = match raw.pubtime.as_deref() {
        None => None,
        Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|e| {
            Error::parse_at(
                path,
                line_no,
                None,
                format!(
                    "crate {} {}: expected an RFC 3339 \"pubtime\", found {t:?}: {e}",
                    raw.name, raw.vers
                ),
            )
        })?),
    };
    let mut deps = Vec::with_capacity(raw.deps.len());
    for d in raw.deps {
        let kind = match d.kind.as_deref() {
            None | Some("normal") => DepKind::Normal,
            Some("build") => DepKind::Build,
            Some("dev") => DepKind::Dev,
            Some(other) => {
                return Err(Error::parse_at(
                    path,
                    line_no,
                    None,
                    format!(
                        "crate {} {}: dependency {}: expected kind normal, build or dev, found {other:?}",
                        raw.name, raw.vers, d.name
                    ),
                ))
            }
        };
        if semver::VersionReq::parse(&d.req).is_err() {
            // Registry data, not the user's: historic requirements cargo no longer accepts
            // are kept (the edge exists) and reported, never fatal.
            bad_reqs.push(format!(
                "line {line_no}: {} {} → {} {:?}",
                raw.name, raw.vers, d.name, d.req
            ));
        }
        let (package, rename) = match d.package {
            Some(real) => (real, Some(d.name)),
            None => (d.name, None),
        };
        deps.push(DepFact {
            package: package.as_ref().into(),
            req: d.req.as_ref().into(),
            kind,
            optional: d.optional,
            target: d.target.map(|t| t.as_ref().into()),
            rename: rename.map(|r| r.as_ref().into()),
        });
    }
    Ok(VersionFact {
        ecosystem: Ecosystem::CratesIo,
        name: raw.name.into_owned(),
        version: raw.vers.into_owned(),
        yanked: raw.yanked,
        published,
        deps,
        publisher: None,
        deps_known: true,
        install_script: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_dependency_points_at_real_package() {
        let line = r#"{"name":"a","vers":"1.0.0","deps":[{"name":"core2","package":"acme-core","req":"^1","features":[],"optional":true,"default_features":true,"target":"cfg(windows)","kind":"build"}],"cksum":"00","features":{},"yanked":true,"pubtime":"2025-01-02T03:04:05Z"}"#;
        let v = parse_index(Path::new("x"), line).unwrap();
        assert_eq!(v.len(), 1);
        let d = &v[0].deps[0];
        assert_eq!(d.package, "acme-core");
        assert_eq!(d.rename.as_deref(), Some("core2"));
        assert_eq!(d.kind, DepKind::Build);
        assert!(d.optional);
        assert_eq!(d.target.as_deref(), Some("cfg(windows)"));
        assert!(v[0].yanked);
        assert!(v[0].published.is_some());
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let text = "{\"name\":\"a\",\"vers\":\"1.0.0\",\"deps\":[]}\n{\"name\":\"a\",\"vers\":\n";
        let err = parse_index(Path::new("idx/a"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("idx/a:2:"), "{err}");
    }

    #[test]
    fn bad_version_is_an_error() {
        let text = "{\"name\":\"a\",\"vers\":\"one\",\"deps\":[]}\n";
        let err = parse_index(Path::new("f"), text).unwrap_err().to_string();
        assert!(err.contains("f:1") && err.contains("semver"), "{err}");
    }
}
