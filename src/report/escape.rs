//! Registry strings are hostile input: a package or user name may carry terminal escapes,
//! bidi overrides or DOT syntax. Everything shown to people goes through here.

use std::borrow::Cow;

/// Whether a character must not reach a terminal raw: controls, and the bidi overrides and
/// isolates that make text display in an order other than its bytes.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
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
    fn dot_escapes() {
        assert_eq!(dot(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(dot("a\nb"), "a\\nb");
        assert!(!dot("a\u{7}b").contains('\u{7}'));
    }
}
