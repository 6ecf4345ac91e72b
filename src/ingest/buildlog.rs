//! The build log: one CSV row per build (`build,lockfile,started_at,mode,mirror`), the record
//! that lets `incident` say which builds pulled a bad version. Lockfile paths are relative to
//! the log's own file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The header a build log starts with (also how it is recognised).
pub const HEADER: [&str; 5] = ["build", "lockfile", "started_at", "mode", "mirror"];

/// One build.
#[derive(Debug, Clone)]
pub struct BuildFact {
    /// Build id.
    pub id: String,
    /// Display id of its lockfile (the log's directory joined with the relative path).
    pub lockfile_id: String,
    /// The lockfile on disk (canonical).
    pub lockfile_file: PathBuf,
    /// When it started.
    pub started_at: jiff::Timestamp,
    /// `fresh` (resolves the manifest) or `locked` (installs the lockfile).
    pub fresh: bool,
    /// The mirror it fetched through, by inventory id.
    pub mirror: Option<String>,
    /// `file:line` of its row, for errors found later (an unknown mirror).
    pub location: String,
}

/// True when the first line is the build-log header.
pub fn looks_like_build_log(text: &str) -> bool {
    text.lines().next().is_some_and(|l| {
        let cols: Vec<&str> = l.split(',').map(str::trim).collect();
        cols == HEADER
    })
}

/// Parses a build log. `shown` is its display path, `canonical` its file on disk.
pub fn parse(shown: &Path, canonical: &Path, text: &str) -> Result<Vec<BuildFact>> {
    let dir = canonical.parent().unwrap_or(Path::new("."));
    let display_dir = shown.parent().unwrap_or(Path::new(""));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    // Rows are indexed by column below: a file with another header (fewer columns) is refused
    // here rather than read past its end (found by fuzzing, tests/fixtures/regress/r7-*).
    let header_ok = reader
        .headers()
        .is_ok_and(|h| h.iter().eq(HEADER.iter().copied()));
    if !header_ok {
        return Err(Error::parse_at(
            shown,
            1,
            None,
            format!("expected the build log header {}", HEADER.join(",")),
        ));
    }
    let mut out: Vec<BuildFact> = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("expected {expected_len} columns (build,lockfile,started_at,mode,mirror), found {len}")
                }
                _ => e.to_string(),
            };
            Error::parse_at(shown, line, None, format!("invalid build log row: {what}"))
        })?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let at = |msg: String| Error::parse_at(shown, line, None, msg);
        let id = row[0].to_owned();
        if id.is_empty() {
            return Err(at(
                "expected a build id in column \"build\", found nothing".into()
            ));
        }
        if out.iter().any(|b| b.id == id) {
            return Err(at(format!("duplicate build id {id:?}")));
        }
        let rel = &row[1];
        let on_disk = dir.join(rel);
        let lockfile_file = on_disk.canonicalize().map_err(|e| {
            at(format!(
                "build {id:?}: expected a lockfile at {rel:?} (relative to the build log), cannot read {}: {e}",
                on_disk.display()
            ))
        })?;
        let started_at = parse_time(&row[2]).ok_or_else(|| {
            at(format!(
                "build {id:?}: expected an RFC 3339 time in \"started_at\" (e.g. 2026-03-10T14:30:00Z), found {:?}",
                &row[2]
            ))
        })?;
        let fresh = match &row[3] {
            "fresh" => true,
            "locked" => false,
            other => {
                return Err(at(format!(
                    "build {id:?}: expected mode \"locked\" or \"fresh\", found {other:?}"
                )))
            }
        };
        let mirror = (!row[4].is_empty()).then(|| row[4].to_owned());
        out.push(BuildFact {
            id,
            lockfile_id: super::detect::display_join(display_dir, rel),
            lockfile_file,
            started_at,
            fresh,
            mirror,
            location: format!("{}:{line}", shown.display()),
        });
    }
    if out.is_empty() {
        return Err(Error::parse_in(
            shown,
            "a build log with a header but no builds",
        ));
    }
    Ok(out)
}

/// RFC 3339 with an offset, or a civil date-time without one, taken as UTC.
pub fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_and_without_zones() {
        let z: jiff::Timestamp = "2026-03-10T14:05:00Z".parse().unwrap();
        assert_eq!(parse_time("2026-03-10T14:05:00Z"), Some(z));
        assert_eq!(parse_time("2026-03-10T10:05:00-04:00"), Some(z));
        assert_eq!(parse_time("2026-03-10T14:05:00"), Some(z));
        assert_eq!(parse_time("2026-03-10T14:05"), Some(z));
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn header_recognised() {
        assert!(looks_like_build_log(
            "build,lockfile,started_at,mode,mirror\n"
        ));
        assert!(looks_like_build_log(
            "build, lockfile, started_at, mode, mirror\r\nx"
        ));
        assert!(!looks_like_build_log("build,lockfile\n"));
    }
}
