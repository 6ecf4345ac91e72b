//! Registry strings are hostile input: a package or user name may carry terminal escapes,
//! bidi overrides or DOT syntax. Everything shown to people goes through here.

use std::borrow::Cow;

/// Whether a character must not reach a terminal raw: controls, and the bidi overrides and
/// isolates that make text display in an order other than its bytes.
///
/// Also the invisible ones that make two different names look the same (zero-width space,
/// joiners, word joiner, byte-order mark) and the Unicode line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2060}'
                | '\u{FEFF}'
                | '\u{061C}'
        )
}

/// Makes a string safe for a terminal: unsafe characters become `\u{…}` escapes and a
/// backslash is doubled, so an escape can never be confused with a name that spells one.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message for stderr: secret values redacted (see [`crate::ingest::secrets`]), then made
/// safe for a terminal with [`terminal`].
pub fn message(s: &str) -> String {
    terminal(&crate::ingest::secrets::redact(s)).into_owned()
}

/// Makes a whole rendered text (a table, a message of several lines) safe for a terminal:
/// line breaks and tabs stay, and so do the colour sequences the table writer itself emits
/// (`ESC [ digits ; … m`, SGR only); every other unsafe character becomes a `\u{…}` escape.
///
/// Fields are escaped with [`terminal`] as the text is built; this is the last guard before
/// the bytes leave, so that a field someone forgot cannot clear a screen, set the clipboard
/// (OSC 52) or plant a hyperlink (OSC 8).
pub fn terminal_text(s: &str) -> Cow<'_, str> {
    if !may_need(s, b"\n\t") || !s.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}' {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if is_unsafe(c) && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// A fast byte scan: whether `s` may hold an unsafe character other than those in `keep`
/// (every unsafe character is an ASCII control, DEL, or not ASCII at all).
fn may_need(s: &str, keep: &[u8]) -> bool {
    s.bytes()
        .any(|b| b >= 0x7f || (b < 0x20 && !keep.contains(&b)))
}

/// The length of an SGR sequence (`ESC [ 1 ; 31 m`) at the start of `s`.
fn sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let n = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(n) == Some(&b'm')).then_some(2 + n + 1)
}

/// Makes serialized JSON safe for a terminal without changing its value: serde_json escapes
/// C0 controls, but writes DEL, C1 controls and bidi characters raw; inside a JSON string
/// (the only place a non-ASCII character can be) each becomes a `\uXXXX` escape.
pub fn json(s: &str) -> Cow<'_, str> {
    if !may_need(s, b"\n") || !s.chars().any(|c| is_unsafe(c) && c != '\n') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) && c != '\n' {
            // Every unsafe character lies in the Basic Multilingual Plane: one escape.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes a string for a double-quoted DOT string (dot-writer escapes nothing): backslash,
/// quote and line breaks are escaped, other unsafe characters become `\u{…}` text.
pub fn dot(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\\\r"),
            c if is_unsafe(c) => out.push_str(&format!("\\\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(terminal("serde"), "serde");
        assert_eq!(terminal("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
        // A name that spells an escape stays distinguishable from a real one.
        assert_eq!(terminal("a\\u{1b}"), "a\\\\u{1b}");
    }

    #[test]
    fn terminal_text_keeps_lines_and_colours_only() {
        let t = "\u{1b}[1;31mred\u{1b}[0m\tx\n\u{1b}[2J\u{1b}]52;c;aGk=\u{7}\u{9b}6n";
        assert_eq!(
            terminal_text(t),
            "\u{1b}[1;31mred\u{1b}[0m\tx\n\\u{1b}[2J\\u{1b}]52;c;aGk=\\u{7}\\u{9b}6n"
        );
        assert_eq!(terminal_text("plain\n"), "plain\n");
    }

    #[test]
    fn json_stays_valid_and_equal() {
        let v = serde_json::json!({"name": "a\u{9b}b\u{202e}c\u{7f}\u{200b}"});
        let text = serde_json::to_string_pretty(&v).unwrap();
        let safe = json(&text);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), v);
    }

    /// The set everything shown to people escapes, member by member: the fuzz target's oracle
    /// takes it from `is_unsafe`, so this is where a member dropped by mistake is caught.
    #[test]
    fn unsafe_set_is_pinned() {
        for c in [
            '\0', '\u{1b}', '\u{7f}', '\u{9b}', '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}',
            '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}', '\u{202a}', '\u{202e}', '\u{2060}',
            '\u{2066}', '\u{2069}', '\u{feff}',
        ] {
            assert!(is_unsafe(c), "{:x}", c as u32);
        }
        for c in [
            'a',
            'é',
            ' ',
            '-',
            '\u{2027}',
            '\u{202f}',
            '\u{2061}',
            '\u{1f600}',
        ] {
            assert!(!is_unsafe(c), "{:x}", c as u32);
        }
        let count = ('\0'..='\u{10ffff}').filter(|&c| is_unsafe(c)).count();
        // 65 C0/C1 controls and DEL, 5 + 4 bidi, 5 zero-width/marks, 2 separators, 3 more.
        assert_eq!(count, 65 + 9 + 5 + 2 + 3);
    }

    #[test]
    fn dot_escapes() {
        assert_eq!(dot(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(dot("a\nb"), "a\\nb");
        assert!(!dot("a\u{7}b").contains('\u{7}'));
    }
}
