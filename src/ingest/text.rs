//! The checks every text input gets before a parser sees it: encoding (UTF-8, with an
//! optional byte-order mark; never UTF-16 or NUL bytes), emptiness and git merge-conflict
//! markers. Each failure names the file and, where there is one, the line, column and byte.

use std::path::Path;

use crate::error::{Error, Result};

/// Decodes `bytes` as UTF-8 and drops a leading byte-order mark (npm strips it too).
///
/// # Errors
/// UTF-16 (with or without a byte-order mark), invalid UTF-8 (with its line, column and byte
/// offset) and NUL bytes, none of which any text format we read may contain.
pub fn decode<'a>(shown: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    if looks_utf16(bytes) {
        return Err(Error::Utf16 {
            path: shown.to_path_buf(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let (line, col) = line_col(bytes, at);
        Error::parse_at(
            shown,
            line,
            Some(col),
            format!(
                "expected UTF-8 text, found the byte 0x{:02X} at byte offset {at}, which is not \
                 valid UTF-8",
                bytes[at]
            ),
        )
    })?;
    if let Some(at) = text.find('\0') {
        let (line, col) = line_col(bytes, at);
        return Err(Error::parse_at(
            shown,
            line,
            Some(col),
            format!("expected text, found a NUL byte at byte offset {at}"),
        ));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// A UTF-16 byte-order mark, or ASCII text with every other byte zero.
fn looks_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return true;
    }
    let head = &bytes[..bytes.len().min(64) & !1];
    head.len() >= 4
        && (head.chunks(2).all(|c| c[0] != 0 && c[1] == 0)
            || head.chunks(2).all(|c| c[0] == 0 && c[1] != 0))
}

/// Line and column (1-based, the column counted in bytes) of byte `at`.
fn line_col(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

/// Nothing but blank lines and `#` comments: what an empty lockfile of any text format holds.
pub fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(bytes: &[u8]) -> String {
        decode(Path::new("x.lock"), bytes).unwrap_err().to_string()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(Path::new("x"), b"a = 1\n").unwrap(), "a = 1\n");
        assert_eq!(
            decode(Path::new("x"), "\u{feff}a\r\n".as_bytes()).unwrap(),
            "a\r\n"
        );
    }

    #[test]
    fn located_encoding_errors() {
        assert_eq!(
            err(b"ab\ncd\xffe"),
            "x.lock:2:3: expected UTF-8 text, found the byte 0xFF at byte offset 5, which is \
             not valid UTF-8"
        );
        assert_eq!(
            err(b"ab\n\0"),
            "x.lock:2:1: expected text, found a NUL byte at byte offset 3"
        );
        for utf16 in [
            &b"\xff\xfea\0"[..],
            b"\xfe\xff\0a",
            b"v\0e\0r\0s\0",
            b"\0v\0e\0r",
        ] {
            assert!(err(utf16).contains("is UTF-16"), "{utf16:?}");
        }
    }

    #[test]
    fn blank() {
        assert!(is_blank(""));
        assert!(is_blank(" \n\t\n# only a comment\n  # another\n"));
        assert!(!is_blank("# c\nname = 1\n"));
    }
}
