//! Secret values: recognising them in inputs, and keeping them out of every output.
//!
//! A responder's inputs are often copied from CI configuration, where a live token may sit in
//! an inventory `id`, a lockfile's `resolved` URL (`https://user:TOKEN@registry/…`) or a
//! requirements file's `--index-url`. blastradius never needs a secret value, so:
//!
//! - [`findings`] reports each token-shaped value of an input as a warning with its
//!   `<path>:<line>`, its kind and a redacted form (`cio…(35 chars)`), so it can be revoked;
//! - [`redact`] rewrites text so that no secret value survives: token-shaped values become
//!   their redacted form, a URL's password becomes `****`, an `Authorization:` value becomes
//!   `[REDACTED]`. Inputs that may hold secrets are redacted as they are read, and every
//!   output (stdout, `--output`, stderr, error messages) is redacted again on its way out;
//! - [`Secret`] holds a secret value that the program must use (a registry password): it has
//!   no `Display` and no `Serialize`, and its `Debug` prints `[REDACTED]`.
//!
//! The token shapes are the documented prefixes of each registry (crates.io `cio`, npm
//! `npm_`, PyPI macaroons `pypi-AgEIcHlwaS5vcmc`, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`
//! and `github_pat_`) followed by at least the documented number of characters.

use std::borrow::Cow;
use std::fmt;

/// A secret value the program holds (a registry password).
///
/// It cannot be printed or serialized by accident: there is no `Display`, `Debug` prints
/// `[REDACTED]`, and there is no `Serialize`:
///
/// ```compile_fail,E0277
/// fn needs_serialize<T: serde::Serialize>(_: &T) {}
/// needs_serialize(&blastradius::ingest::secrets::Secret::new("x"));
/// ```
///
/// ```compile_fail,E0277
/// let s = blastradius::ingest::secrets::Secret::new("x");
/// println!("{}", s);
/// ```
///
/// ```
/// let s = blastradius::ingest::secrets::Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "[REDACTED]");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The value itself, for the one place that must send it (an HTTP header). Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A form safe to show: its kind's prefix, when it has one, and its length.
    pub fn redacted(&self) -> String {
        let prefix = kind_of(&self.0).map_or("", TokenKind::prefix);
        format!("{prefix}…({} chars)", self.0.chars().count())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// What a secret-looking value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// `cio` + 32 alphanumerics.
    CratesIo,
    /// `npm_` + 36 alphanumerics.
    Npm,
    /// `pypi-AgEIcHlwaS5vcmc` + 50 or more base64url characters.
    Pypi,
    /// `ghp_` (or `gho_`, `ghu_`, `ghs_`, `ghr_`) + 36 alphanumerics.
    GitHub,
    /// `github_pat_` + 82 word characters.
    GitHubFineGrained,
    /// The password of a `scheme://user:password@host` URL.
    UrlPassword,
    /// The value of an HTTP `Authorization:` header.
    Authorization,
}

impl TokenKind {
    /// How a finding describes it.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::CratesIo => "looks like a crates.io API token",
            TokenKind::Npm => "looks like an npm access token",
            TokenKind::Pypi => "looks like a PyPI API token",
            TokenKind::GitHub => "looks like a GitHub token",
            TokenKind::GitHubFineGrained => {
                "looks like a GitHub fine-grained personal access token"
            }
            TokenKind::UrlPassword => "a URL carries a password",
            TokenKind::Authorization => "an Authorization header value",
        }
    }

    /// The fixed prefix kept in the redacted form (it says what kind of token it was).
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::CratesIo => "cio",
            TokenKind::Npm => "npm_",
            TokenKind::Pypi => "pypi-",
            TokenKind::GitHub => "gh",
            TokenKind::GitHubFineGrained => "github_pat_",
            TokenKind::UrlPassword | TokenKind::Authorization => "",
        }
    }
}

/// One secret-looking span of a text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hit {
    start: usize,
    end: usize,
    kind: TokenKind,
}

const PYPI_PREFIX: &[u8] = b"pypi-AgEIcHlwaS5vcmc";

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_word(b: u8) -> bool {
    WORD[b as usize]
}

/// [`is_word`] as a table: the scan's inner loop runs over every byte of every lockfile, and a
/// table load is one branch where the range checks were four.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The end of the run of `class` bytes starting at `from`.
fn run(bytes: &[u8], from: usize, class: fn(u8) -> bool) -> usize {
    from + bytes[from..].iter().take_while(|&&b| class(b)).count()
}

/// A token starting at `i` (already known to sit on a word boundary): its end and kind.
fn token_at(bytes: &[u8], i: usize) -> Option<(usize, TokenKind)> {
    let rest = &bytes[i..];
    let shaped = |prefix: &[u8], class: fn(u8) -> bool, min: usize, kind: TokenKind| {
        if rest.starts_with(prefix) {
            let end = run(bytes, i + prefix.len(), class);
            (end - i - prefix.len() >= min).then_some((end, kind))
        } else {
            None
        }
    };
    match rest.first()? {
        b'c' => shaped(b"cio", is_alnum, 32, TokenKind::CratesIo),
        b'n' => shaped(b"npm_", is_alnum, 36, TokenKind::Npm),
        b'p' => shaped(PYPI_PREFIX, is_b64url, 50, TokenKind::Pypi),
        b'g' => shaped(b"github_pat_", is_word, 82, TokenKind::GitHubFineGrained).or_else(|| {
            ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
                .iter()
                .find_map(|p| shaped(p.as_bytes(), is_alnum, 36, TokenKind::GitHub))
        }),
        _ => None,
    }
}

/// `scheme://user:password@host`: the password's span, for the `:` of `://` at `i`.
fn url_password_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if !bytes[i..].starts_with(b"://") {
        return None;
    }
    let start = i + 3;
    // The authority ends at the path, query or fragment, or where the URL itself ends in the
    // surrounding text (quotes, whitespace, brackets).
    let end = start
        + bytes[start..]
            .iter()
            .take_while(|&&b| {
                !matches!(
                    b,
                    b'/' | b'?'
                        | b'#'
                        | b'"'
                        | b'\''
                        | b'`'
                        | b'<'
                        | b'>'
                        | b'\\'
                        | b'{'
                        | b'}'
                        | b'|'
                        | b','
                        | b';'
                        | b')'
                ) && !b.is_ascii_whitespace()
                    && !b.is_ascii_control()
            })
            .count();
    // The last `@` ends the userinfo (a raw `@` in a password is taken as WHATWG takes it).
    let at = start + bytes[start..end].iter().rposition(|&b| b == b'@')?;
    let colon = start + bytes[start..at].iter().position(|&b| b == b':')?;
    (colon + 1 < at).then_some((colon + 1, at))
}

/// `Authorization:` (any case) at `i`: the value's span, to the end of the line or string.
fn authorization_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    const KEY: &[u8] = b"authorization";
    let rest = &bytes[i..];
    if rest.len() < KEY.len() || !rest[..KEY.len()].eq_ignore_ascii_case(KEY) {
        return None;
    }
    let mut j = i + KEY.len();
    // `Authorization: …`, `"authorization": "…"`, `authorization=…`.
    while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b'\t') {
        j += 1;
    }
    if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
        return None;
    }
    j += 1;
    while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b'\t') {
        j += 1;
    }
    let end = j + bytes[j..]
        .iter()
        .take_while(|&&b| !matches!(b, b'"' | b'\'' | b'\n' | b'\r' | b',' | b'}' | b'<' | b'\\'))
        .count();
    (end > j).then_some((j, end))
}

/// Every secret-looking span of `text`, in order, not overlapping.
///
/// Every lockfile and inventory goes through here, so the scan skips whole words: a token
/// or an `authorization` key starts only at a word boundary, and a URL password only at a
/// `:`, which is no word character, so nothing can start inside a word.
fn hits(text: &str) -> Vec<Hit> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_word(b) {
            if i == 0 || !is_word(bytes[i - 1]) {
                let found = match b {
                    b'c' | b'n' | b'p' | b'g' => token_at(bytes, i).map(|(end, kind)| Hit {
                        start: i,
                        end,
                        kind,
                    }),
                    b'a' | b'A' => authorization_at(bytes, i).map(|(start, end)| Hit {
                        start,
                        end,
                        kind: TokenKind::Authorization,
                    }),
                    _ => None,
                };
                if let Some(h) = found {
                    out.push(h);
                    i = h.end.max(i + 1);
                    continue;
                }
            }
            i += 1;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            continue;
        }
        if b == b':' {
            if let Some((start, end)) = url_password_at(bytes, i) {
                let h = Hit {
                    start,
                    end,
                    kind: TokenKind::UrlPassword,
                };
                out.push(h);
                i = h.end.max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The text that replaces a hit.
fn replacement(text: &str, h: &Hit) -> String {
    match h.kind {
        TokenKind::UrlPassword => "****".to_owned(),
        TokenKind::Authorization => "[REDACTED]".to_owned(),
        kind => format!("{}…({} chars)", kind.prefix(), text[h.start..h.end].len()),
    }
}

fn kind_of(value: &str) -> Option<TokenKind> {
    hits(value)
        .first()
        .filter(|h| h.start == 0 && h.end == value.len())
        .map(|h| h.kind)
}

/// Whether `text` holds anything [`redact`] would change.
pub fn contains_secret(text: &str) -> bool {
    !hits(text).is_empty()
}

/// `text` with every secret-looking value replaced: tokens by their prefix and length
/// (`cio…(35 chars)`), URL passwords by `****`, `Authorization:` values by `[REDACTED]`.
///
/// Line breaks are kept, so line numbers in the result are those of the original. The
/// replacements contain no quote, backslash or bracket, so JSON, TOML and YAML stay valid.
///
/// ```
/// use blastradius::ingest::secrets::redact;
/// let token = format!("{}{}", "npm_", "x".repeat(36));
/// assert_eq!(redact(&format!("id = \"{token}\"")), "id = \"npm_…(40 chars)\"");
/// assert_eq!(
///     redact("--index-url https://__token__:s3cr3t@pypi.example/simple"),
///     "--index-url https://__token__:****@pypi.example/simple"
/// );
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let found = hits(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for h in &found {
        out.push_str(&text[last..h.start]);
        out.push_str(&replacement(text, h));
        last = h.end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// One secret-looking value found in an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `<path>:<line>`.
    pub location: String,
    /// What it looks like.
    pub kind: TokenKind,
    /// The redacted form shown in place of the value.
    pub redacted: String,
    /// Further lines of the same file holding the same redacted form (a private registry's
    /// credentials repeat in every `resolved` URL of a lockfile).
    pub more: usize,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}{}): it is redacted from all output; if it is real, revoke it",
            self.location,
            self.kind.describe(),
            self.redacted,
            match self.more {
                0 => String::new(),
                n => format!(", and on {n} more lines"),
            }
        )
    }
}

/// The secret-looking values of one input file, located by line (`display` names the file).
pub fn findings(display: &str, text: &str) -> Vec<Finding> {
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut counted = 0;
    let mut out: Vec<Finding> = Vec::new();
    let mut seen: std::collections::HashMap<(TokenKind, String), usize> = Default::default();
    for h in hits(text) {
        line += bytes[counted..h.start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = h.start;
        let redacted = match h.kind {
            TokenKind::UrlPassword => {
                // The URL around the password, redacted: `https://user:****@host`.
                let from = text[..h.start].rfind("://").map_or(h.start, |s| {
                    text[..s]
                        .rfind(|c: char| !c.is_ascii_alphanumeric() && !"+-.".contains(c))
                        .map_or(0, |p| p + 1)
                });
                let host_end = text[h.end..]
                    .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
                    .map_or(text.len(), |e| h.end + e);
                redact(&text[from..host_end]).into_owned()
            }
            _ => replacement(text, &h),
        };
        match seen.entry((h.kind, redacted)) {
            std::collections::hash_map::Entry::Occupied(e) => out[*e.get()].more += 1,
            std::collections::hash_map::Entry::Vacant(e) => {
                out.push(Finding {
                    location: format!("{display}:{line}"),
                    kind: h.kind,
                    redacted: e.key().1.clone(),
                    more: 0,
                });
                e.insert(out.len() - 1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-at-a-time scan `hits` replaced, kept as its reference.
    fn hits_reference(text: &str) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let boundary = i == 0 || !is_word(bytes[i - 1]);
            let found = match b {
                b'c' | b'n' | b'p' | b'g' if boundary => {
                    token_at(bytes, i).map(|(end, kind)| Hit {
                        start: i,
                        end,
                        kind,
                    })
                }
                b':' => url_password_at(bytes, i).map(|(start, end)| Hit {
                    start,
                    end,
                    kind: TokenKind::UrlPassword,
                }),
                b'a' | b'A' if boundary => authorization_at(bytes, i).map(|(start, end)| Hit {
                    start,
                    end,
                    kind: TokenKind::Authorization,
                }),
                _ => None,
            };
            match found {
                Some(h) => {
                    out.push(h);
                    i = h.end.max(i + 1);
                }
                None => i += 1,
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Word skipping finds exactly what the byte-at-a-time scan found.
        #[test]
        fn word_skipping_scan_matches_the_reference(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::string::string_regex("[a-zA-Z0-9_:/@. \n\"=-]{0,12}").unwrap(),
                proptest::prelude::Just("cio".to_owned()),
                proptest::prelude::Just("npm_".to_owned()),
                proptest::prelude::Just("pypi-".to_owned()),
                proptest::prelude::Just("ghp_".to_owned()),
                proptest::prelude::Just("Authorization: ".to_owned()),
                proptest::prelude::Just("AUTHORIZATION=".to_owned()),
                proptest::prelude::Just("authorization\": \"".to_owned()),
                proptest::prelude::Just("github_pat_".to_owned()),
                proptest::prelude::Just("pypi-AgEIcHlwaS5vcmc".to_owned()),
                proptest::prelude::Just("GHO_".to_owned()),
                proptest::prelude::Just("https://u:".to_owned()),
                proptest::string::string_regex("[A-Za-z0-9]{30,40}").unwrap(),
            ], 0..12)
        ) {
            let text = parts.concat();
            let spans = |h: Vec<Hit>| h.iter().map(|h| (h.start, h.end, h.kind)).collect::<Vec<_>>();
            proptest::prop_assert_eq!(spans(hits(&text)), spans(hits_reference(&text)));
        }
    }

    #[test]
    fn the_word_table_is_the_word_class() {
        for b in 0..=255u8 {
            assert_eq!(
                is_word(b),
                b.is_ascii_alphanumeric() || b == b'_',
                "byte {b:#04x}"
            );
        }
    }

    fn tok(prefix: &str, n: usize) -> String {
        format!(
            "{prefix}{}",
            "A1b2".repeat(n).chars().take(n).collect::<String>()
        )
    }

    #[test]
    fn five_token_kinds() {
        let cases = [
            (tok("cio", 32), TokenKind::CratesIo, "cio…(35 chars)"),
            (tok("npm_", 36), TokenKind::Npm, "npm_…(40 chars)"),
            (
                tok("pypi-AgEIcHlwaS5vcmc", 60),
                TokenKind::Pypi,
                "pypi-…(80 chars)",
            ),
            (tok("ghp_", 36), TokenKind::GitHub, "gh…(40 chars)"),
            (
                tok("github_pat_", 82),
                TokenKind::GitHubFineGrained,
                "github_pat_…(93 chars)",
            ),
        ];
        for (t, kind, shown) in cases {
            let text = format!("[[credential]]\nid = \"{t}\"\n");
            let f = findings("inv.toml", &text);
            assert_eq!(f.len(), 1, "{shown}");
            assert_eq!(f[0].kind, kind);
            assert_eq!(f[0].location, "inv.toml:2");
            assert_eq!(f[0].redacted, shown);
            let r = redact(&text);
            assert!(!r.contains(&t));
            assert_eq!(r, format!("[[credential]]\nid = \"{shown}\"\n"));
            assert_eq!(Secret::new(t).redacted(), shown);
        }
    }

    #[test]
    fn short_or_embedded_values_are_not_tokens() {
        for s in [
            tok("cio", 31),
            format!("x{}", tok("cio", 32)),
            tok("npm_", 35),
            "cioccolata".into(),
            "https://registry.npmjs.org/-/x.tgz".into(),
            "git+ssh://git@github.com/u/r.git".into(),
            "http://127.0.0.1:8080/x".into(),
            "crates.io:serde@1.0.0".into(),
        ] {
            assert_eq!(redact(&s), s);
        }
    }

    #[test]
    fn url_passwords() {
        let cases = [
            (
                "resolved \"https://user:CANARY@host/x.tgz\"",
                "resolved \"https://user:****@host/x.tgz\"",
            ),
            ("https://u:p@ss@host/x", "https://u:****@host/x"),
            ("git+https://u:pw@h", "git+https://u:****@h"),
            (
                "{tarball: https://u:pw@h/x.tgz}",
                "{tarball: https://u:****@h/x.tgz}",
            ),
            ("https://u:@h/", "https://u:@h/"),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text), want);
        }
        let f = findings(
            "req.txt",
            "six\n-i https://__token__:CANARY@pypi.example/simple\n",
        );
        assert_eq!(f[0].location, "req.txt:2");
        assert_eq!(f[0].redacted, "https://__token__:****@pypi.example");
    }

    #[test]
    fn authorization_values() {
        assert_eq!(
            redact("Authorization: Bearer abc.def\nok"),
            "Authorization: [REDACTED]\nok"
        );
        assert_eq!(
            redact(r#"{"authorization": "Basic dTpw"}"#),
            r#"{"authorization": "[REDACTED]"}"#
        );
        assert_eq!(redact("no authorization here"), "no authorization here");
        // Redacting an escaped message again changes nothing.
        let once = redact("authorization: Basic dTpw\\u{d}\\u{a}next").into_owned();
        assert_eq!(once, "authorization: [REDACTED]\\u{d}\\u{a}next");
        assert_eq!(redact(&once), once);
    }

    #[test]
    fn redaction_is_idempotent_and_keeps_lines() {
        let text = format!("a\n{}\nhttps://u:p@h\n", tok("npm_", 40));
        let once = redact(&text).into_owned();
        assert_eq!(redact(&once), once);
        assert_eq!(once.lines().count(), text.lines().count());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new(tok("cio", 32));
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([REDACTED])");
    }
}
