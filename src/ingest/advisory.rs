//! The bad-version lists responders actually get: plain lists (`NAME@VERSION` a line,
//! optional `ecosystem:` prefix, `#` comments) and OSV records such as the `MAL-` advisories
//! of the OpenSSF malicious-packages feed (`affected[].package`, `affected[].versions`).

use std::path::Path;

use serde::Deserialize;

use super::Ecosystem;
use crate::error::{Error, Result};

/// One bad version as named by the responder; the ecosystem is inferred later when absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadSpec {
    /// Ecosystem, when written (`npm:debug@4.4.2`) or given by an OSV record.
    pub ecosystem: Option<Ecosystem>,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// Parses `NAME@VERSION` or `ECOSYSTEM:NAME@VERSION`. Scoped npm names (`@scope/x@1.0.0`)
/// split at the last `@`.
pub fn parse_spec(s: &str) -> Option<BadSpec> {
    let s = s.trim();
    let (ecosystem, rest) = match s.split_once(':') {
        Some((e, rest)) if Ecosystem::parse(e).is_some() => (Ecosystem::parse(e), rest),
        _ => (None, s),
    };
    let at = rest.rfind('@').filter(|&i| i > 0)?;
    let (name, version) = (&rest[..at], &rest[at + 1..]);
    if name.is_empty() || version.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some(BadSpec {
        ecosystem,
        name: name.to_owned(),
        version: version.to_owned(),
    })
}

/// Subset of an OSV record.
#[derive(Deserialize)]
struct Osv {
    #[serde(default)]
    affected: Vec<OsvAffected>,
}

#[derive(Deserialize)]
struct OsvAffected {
    package: OsvPackage,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

/// Reads a bad-version list or an OSV record (or a JSON array of them). Errors name the file
/// and the line (lists) or what was expected (JSON).
pub fn parse_file(shown: &Path, text: &str) -> Result<Vec<BadSpec>> {
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // The whole text, leading blank lines included, so serde's lines are the file's.
        return parse_osv(shown, text, trimmed.starts_with('['));
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let spec = parse_spec(line).ok_or_else(|| {
            Error::parse_at(
                shown,
                i + 1,
                None,
                format!(
                    "expected NAME@VERSION (optionally ECOSYSTEM:NAME@VERSION), found {line:?}"
                ),
            )
        })?;
        out.push(spec);
    }
    if out.is_empty() {
        return Err(Error::parse_in(
            shown,
            "no bad versions in the list (expected NAME@VERSION lines)",
        ));
    }
    Ok(out)
}

fn parse_osv(shown: &Path, text: &str, array: bool) -> Result<Vec<BadSpec>> {
    let records: Vec<Osv> = if array {
        serde_json::from_str(text)
    } else {
        serde_json::from_str::<Osv>(text).map(|r| vec![r])
    }
    .map_err(|e| {
        // serde_json says column 0 when the error is at a line's end (before its newline).
        let column = (e.column() > 0).then(|| e.column());
        let msg = e.to_string();
        let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
        Error::parse_at(
            shown,
            e.line(),
            column,
            format!("expected an OSV record: {msg}"),
        )
    })?;
    let mut out = Vec::new();
    for (ri, r) in records.iter().enumerate() {
        for (ai, a) in r.affected.iter().enumerate() {
            let eco = Ecosystem::parse(&a.package.ecosystem).ok_or_else(|| {
                Error::parse_in(
                    shown,
                    format!(
                        "[{ri}].affected[{ai}].package.ecosystem: expected crates.io, npm or PyPI, found {:?}",
                        a.package.ecosystem
                    ),
                )
            })?;
            for v in &a.versions {
                out.push(BadSpec {
                    ecosystem: Some(eco),
                    name: a.package.name.clone(),
                    version: v.clone(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::parse_in(
            shown,
            "affected[].versions: the OSV record lists no versions (ranges alone are not a list of bad versions)",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_spec("npm:@ctrl/tinycolor@4.1.1").unwrap();
        assert_eq!(
            (s.ecosystem, s.name.as_str(), s.version.as_str()),
            (Some(Ecosystem::Npm), "@ctrl/tinycolor", "4.1.1")
        );
        let s = parse_spec("acme-core@0.2.3").unwrap();
        assert_eq!((s.ecosystem, s.name.as_str()), (None, "acme-core"));
        assert_eq!(
            parse_spec("crates.io:serde@1.0.0").unwrap().ecosystem,
            Some(Ecosystem::CratesIo)
        );
        assert!(parse_spec("serde").is_none());
        assert!(parse_spec("@1.0").is_none());
    }

    #[test]
    fn list_with_comments_and_a_bad_line() {
        let v = parse_file(
            Path::new("l"),
            "# incident\nacme-core@0.2.3  # the bad one\n\nnpm:debug@4.4.2\n",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        let e = parse_file(Path::new("l"), "acme-core@0.2.3\nnot a version\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("l:2:"), "{e}");
    }

    #[test]
    fn osv_record() {
        let text = r#"{"id":"MAL-1","affected":[{"package":{"ecosystem":"npm","name":"debug"},"versions":["4.4.2"]}]}"#;
        let v = parse_file(Path::new("a.json"), text).unwrap();
        assert_eq!(
            v,
            [BadSpec {
                ecosystem: Some(Ecosystem::Npm),
                name: "debug".into(),
                version: "4.4.2".into()
            }]
        );
    }
}
