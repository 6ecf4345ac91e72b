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
#[derive(Deserialize, Debug, PartialEq)]
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
#[derive(Deserialize, Debug, PartialEq)]
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
    // The layout crates.io writes is read by a scanner; anything else it is not sure of
    // (an escape, a duplicate key, a type it does not expect) goes to serde_json, which
    // decides and words the error.
    let fast = fast::line(line);
    let raw: IndexLine = match fast {
        Some(raw) => raw,
        None => serde_json::from_str(line).map_err(|e| {
            Error::parse_at(
                path,
                line_no,
                Some(e.column()),
                format!("invalid crates.io index line: {}", serde_message(&e)),
            )
        })?,
    };
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

/// A scanner for index lines: the wire struct from a line of plain JSON, borrowing every
/// text, about three times faster than serde_json's derived reader on crates.io's index.
///
/// It accepts a subset of what serde_json accepts and yields the same value there: `None`
/// whenever it is not sure (any backslash or control character in a string, a duplicate or
/// missing field, a type other than the expected one, nesting deeper than 64, anything
/// after the object), and the caller then asks serde_json. The property test
/// `fast_scanner_agrees_with_serde` checks this on every index line the tests hold and on
/// generated variations.
mod fast {
    use std::borrow::Cow;

    use super::{IndexDep, IndexLine};

    struct Cur<'a> {
        s: &'a str,
        i: usize,
    }

    impl<'a> Cur<'a> {
        fn bytes(&self) -> &'a [u8] {
            self.s.as_bytes()
        }

        fn ws(&mut self) {
            let b = self.bytes();
            while self.i < b.len() && matches!(b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            }
        }

        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.bytes().get(self.i).copied()
        }

        fn eat(&mut self, c: u8) -> Option<()> {
            (self.peek()? == c).then(|| self.i += 1)
        }

        fn word(&mut self, w: &[u8]) -> bool {
            self.ws();
            let hit = self.bytes()[self.i..].starts_with(w);
            if hit {
                self.i += w.len();
            }
            hit
        }

        fn string(&mut self) -> Option<&'a str> {
            self.eat(b'"')?;
            let b = self.bytes();
            let start = self.i;
            loop {
                match *b.get(self.i)? {
                    b'"' => break,
                    b'\\' | 0..=0x1f => return None,
                    _ => self.i += 1,
                }
            }
            let out = &self.s[start..self.i];
            self.i += 1;
            Some(out)
        }

        fn opt_string(&mut self) -> Option<Option<Cow<'a, str>>> {
            if self.word(b"null") {
                return Some(None);
            }
            self.string().map(|t| Some(Cow::Borrowed(t)))
        }

        fn bool(&mut self) -> Option<bool> {
            if self.word(b"true") {
                Some(true)
            } else if self.word(b"false") {
                Some(false)
            } else {
                None
            }
        }

        /// A non-negative integer that fits `u64`, written as JSON writes one.
        fn u64(&mut self) -> Option<u64> {
            self.ws();
            let b = self.bytes();
            let start = self.i;
            while self.i < b.len() && b[self.i].is_ascii_digit() {
                self.i += 1;
            }
            let digits = &self.s[start..self.i];
            if digits.is_empty()
                || (digits.len() > 1 && digits.starts_with('0'))
                || matches!(b.get(self.i), Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            digits.parse().ok()
        }

        /// A JSON number, checked against the grammar and skipped.
        fn number(&mut self) -> Option<()> {
            self.ws();
            let b = self.bytes();
            let digits = |i: &mut usize| {
                let from = *i;
                while *i < b.len() && b[*i].is_ascii_digit() {
                    *i += 1;
                }
                *i > from
            };
            let mut i = self.i;
            if b.get(i) == Some(&b'-') {
                i += 1;
            }
            match b.get(i) {
                Some(b'0') => i += 1,
                Some(b'1'..=b'9') => {
                    digits(&mut i);
                }
                _ => return None,
            }
            if b.get(i) == Some(&b'.') {
                i += 1;
                if !digits(&mut i) {
                    return None;
                }
            }
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                if !digits(&mut i) {
                    return None;
                }
            }
            self.i = i;
            Some(())
        }

        /// Skips any JSON value (a field the wire struct ignores).
        fn skip(&mut self, depth: u32) -> Option<()> {
            if depth > 64 {
                return None;
            }
            match self.peek()? {
                b'"' => self.string().map(drop),
                b't' | b'f' => self.bool().map(drop),
                b'n' => self.word(b"null").then_some(()),
                b'[' => self.seq(b'[', b']', |c| c.skip(depth + 1)),
                b'{' => self.seq(b'{', b'}', |c| {
                    c.string()?;
                    c.eat(b':')?;
                    c.skip(depth + 1)
                }),
                _ => self.number(),
            }
        }

        /// `open item, item, … close` (possibly empty), calling `item` for each.
        fn seq(
            &mut self,
            open: u8,
            close: u8,
            mut item: impl FnMut(&mut Self) -> Option<()>,
        ) -> Option<()> {
            self.eat(open)?;
            if self.peek()? == close {
                self.i += 1;
                return Some(());
            }
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.i += 1,
                    c if c == close => {
                        self.i += 1;
                        return Some(());
                    }
                    _ => return None,
                }
            }
        }

        /// `{ key: value, … }`, calling `field` for each key; `None` ends the scan.
        fn object(
            &mut self,
            mut field: impl FnMut(&mut Self, &'a str) -> Option<()>,
        ) -> Option<()> {
            self.seq(b'{', b'}', |c| {
                let key = c.string()?;
                c.eat(b':')?;
                field(c, key)
            })
        }
    }

    /// Sets a field once: a second occurrence is serde's "duplicate field" error.
    fn once<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(value?);
        Some(())
    }

    fn dep<'a>(c: &mut Cur<'a>) -> Option<IndexDep<'a>> {
        let (mut name, mut req, mut optional) = (None, None, None);
        let (mut target, mut kind, mut package) = (None, None, None);
        c.object(|c, key| match key {
            "name" => once(&mut name, c.string()),
            "req" => once(&mut req, c.string()),
            "optional" => once(&mut optional, c.bool()),
            "target" => once(&mut target, c.opt_string()),
            "kind" => once(&mut kind, c.opt_string()),
            "package" => once(&mut package, c.opt_string()),
            _ => c.skip(2),
        })?;
        Some(IndexDep {
            name: Cow::Borrowed(name?),
            req: Cow::Borrowed(req?),
            optional: optional.unwrap_or(false),
            target: target.flatten(),
            kind: kind.flatten(),
            package: package.flatten(),
        })
    }

    fn deps<'a>(c: &mut Cur<'a>) -> Option<Vec<IndexDep<'a>>> {
        let mut out = Vec::new();
        c.seq(b'[', b']', |c| {
            out.push(dep(c)?);
            Some(())
        })?;
        Some(out)
    }

    /// The wire struct of one index line, or `None` for "ask serde_json".
    pub(super) fn line(line: &str) -> Option<IndexLine<'_>> {
        let mut c = Cur { s: line, i: 0 };
        let (mut name, mut vers, mut dep_list) = (None, None, None);
        let (mut yanked, mut pubtime, mut v) = (None, None, None);
        c.object(|c, key| match key {
            "name" => once(&mut name, c.string()),
            "vers" => once(&mut vers, c.string()),
            "deps" => once(&mut dep_list, deps(c)),
            "yanked" => once(&mut yanked, c.bool()),
            "pubtime" => once(&mut pubtime, c.opt_string()),
            "v" => once(
                &mut v,
                if c.word(b"null") {
                    Some(None)
                } else {
                    c.u64().map(Some)
                },
            ),
            _ => c.skip(1),
        })?;
        c.ws();
        if c.i != line.len() {
            return None;
        }
        Some(IndexLine {
            name: Cow::Borrowed(name?),
            vers: Cow::Borrowed(vers?),
            deps: dep_list.unwrap_or_default(),
            yanked: yanked.unwrap_or(false),
            pubtime: pubtime.flatten(),
            v: v.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every index line the tests hold, plus lines that use what the index format allows
    /// and crates.io rarely writes (renames, targets, `v`, nulls, escapes, spacing).
    fn sample_lines() -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures"
        ))];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(text) = std::fs::read_to_string(&p) {
                    if looks_like_index(&text) {
                        out.extend(text.lines().map(str::to_owned));
                    }
                }
            }
        }
        out.extend(
            [
                r#"{"name":"a","vers":"1.0.0","deps":[{"name":"core2","package":"acme-core","req":"^1","features":["x"],"optional":true,"default_features":true,"target":"cfg(windows)","kind":"build"}],"cksum":"00","features":{"f":["a/b"]},"yanked":true,"pubtime":"2025-01-02T03:04:05Z","v":2,"features2":{"g":["dep:x"]},"rust_version":"1.70","links":null}"#,
                r#" { "name" : "b" , "vers" : "0.1.0" , "deps" : [ ] , "v" : null , "n" : -1.5e+3 } "#,
                r#"{"name":"c","vers":"1.0.0","deps":[{"name":"d","req":"*","kind":null,"target":null,"package":null}]}"#,
                r#"{"name":"e\u0078","vers":"1.0.0"}"#,
                r#"{"name":"f","vers":"1.0.0","name":"g"}"#,
                r#"{"name":"h","vers":"1.0.0","yanked":null}"#,
                r#"{"name":"i","vers":"1.0.0","v":3}"#,
                r#"{"name":"j","vers":"1.0.0","v":2.0}"#,
                r#"{"name":"k","vers":"1.0.0"} x"#,
                r#"{"name":"l","vers":"1.0.0","deps":null}"#,
                r#"{"name":"m","vers":"1.0.0","x":[1,[2,{"y":true}],"z",01]}"#,
                r#"{"vers":"1.0.0"}"#,
            ]
            .map(str::to_owned),
        );
        out
    }

    #[test]
    fn fast_scanner_agrees_with_serde() {
        let lines = sample_lines();
        assert!(lines.len() > 40, "{} lines", lines.len());
        let mut fast_hits = 0;
        let mut check = |line: &str| {
            let slow = serde_json::from_str::<IndexLine>(line).ok();
            if let Some(fast) = fast::line(line) {
                fast_hits += 1;
                assert_eq!(Some(&fast), slow.as_ref(), "{line}");
            }
        };
        for l in &lines {
            check(l);
        }
        // Seeded mutations: each byte deleted, duplicated or replaced by a JSON-significant
        // one, at positions spread over the line.
        let alphabet = b" \t\\\"{}[],:0-.eE1tnfu\x01";
        let mut rng = fastrand::Rng::with_seed(7);
        for l in &lines {
            for _ in 0..200 {
                let mut b = l.as_bytes().to_vec();
                let at = rng.usize(0..=b.len());
                match rng.u8(0..3) {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 => b.insert(at, alphabet[rng.usize(0..alphabet.len())]),
                    _ if at < b.len() => b[at] = alphabet[rng.usize(0..alphabet.len())],
                    _ => {}
                }
                if let Ok(text) = String::from_utf8(b) {
                    check(&text);
                }
            }
        }
        assert!(
            fast_hits > lines.len(),
            "the scanner took {fast_hits} lines"
        );
    }

    #[test]
    fn fast_scanner_leaves_the_unusual_to_serde() {
        for line in [
            r#"{"name":"e\u0078","vers":"1.0.0"}"#,
            r#"{"name":"f","vers":"1.0.0","name":"g"}"#,
            r#"{"name":"h","vers":"1.0.0","yanked":null}"#,
            r#"{"name":"j","vers":"1.0.0","v":2.0}"#,
            r#"{"name":"k","vers":"1.0.0"} x"#,
            r#"{"vers":"1.0.0"}"#,
        ] {
            assert!(fast::line(line).is_none(), "{line}");
        }
        let ok = fast::line(r#"{"name":"b","vers":"0.1.0","v":2,"x":{"y":[1,-2.5e3]}}"#).unwrap();
        assert_eq!((ok.name.as_ref(), ok.v), ("b", Some(2)));
    }

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
