//! Names as text: the exact form for JSON and stored data, the escaped form for terminals.
//!
//! A file name may hold any byte but `/` and NUL, so a name printed raw can move the
//! cursor, clear the screen (`\e[2J`), retitle the window (`\e]0;x\a`), ring the bell or
//! start a fake line of a plan that an admin is about to confirm. Every name, message and
//! error line written to a terminal or a text stream goes through [`terminal_safe`] (or
//! [`display_path`], which is `terminal_safe` of [`path_text`]).
//!
//! Why backslash escapes and not shell quoting (GNU ls `--quoting-style=shell-escape`):
//! the output is prose (`removed X`, `error: cannot read X: ...; do Y`), not commands to
//! paste, and names with spaces are common in user trees: quoting would change every such
//! line, and `$'...'` reads worse than the `\xNN` notation pycache already uses for bytes
//! that are not UTF-8. So one notation covers both: `\n`, `\r`, `\t`, `\xNN` for the other
//! ASCII controls and DEL, `\u{NNNN}` for C1 controls and the Unicode characters that
//! reorder or break lines (bidi overrides and isolates, line and paragraph separators).
//! A backslash itself is left alone, which keeps the escaping idempotent (escaping
//! escaped text changes nothing, so a message built from escaped names can be escaped
//! again at the sink): a name that literally holds `\x1b` looks like one holding ESC on a
//! terminal, and `--json` (exact) tells them apart.

use std::borrow::Cow;
use std::path::Path;

/// A path as exact text, for JSON and stored data: UTF-8 as it is (serde escapes control
/// characters in JSON), bytes that are not UTF-8 as `\xNN`, never dropped.
pub fn path_text(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out
        }
    }
}

/// A path as terminal-safe text: [`path_text`] with control characters escaped.
pub fn display_path(path: &Path) -> String {
    let text = path_text(path);
    match terminal_safe(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// True for the characters that must not reach a terminal raw.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // Line and paragraph separators, bidi embeddings/overrides, isolates, marks.
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `text` with every control character escaped (see the module doc); borrowed when
/// there is none, which is nearly always.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Multi-line text (a rendered report) with every line made terminal-safe: the line
/// breaks the renderer wrote stay, any other control character is escaped.
pub fn terminal_safe_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(terminal_safe).collect();
    Cow::Owned(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn non_utf8_names_are_escaped_not_dropped() {
        let p = Path::new(OsStr::from_bytes(b"/srv/caf\xe9/m.py"));
        assert_eq!(path_text(p), "/srv/caf\\xe9/m.py");
        assert_eq!(display_path(p), "/srv/caf\\xe9/m.py");
        assert_eq!(display_path(Path::new("/srv/naïve.py")), "/srv/naïve.py");
    }

    #[test]
    fn control_characters_never_come_out_raw() {
        let hostile = "a\u{1b}[2Jb\u{1b}]0;x\u{7}c\nd\re\tf\u{7f}g\u{9b}h\u{202e}i";
        let safe = terminal_safe(hostile);
        assert_eq!(
            safe,
            "a\\x1b[2Jb\\x1b]0;x\\x07c\\nd\\re\\tf\\x7fg\\u{9b}h\\u{202e}i"
        );
        assert!(!safe.chars().any(needs_escape));
        // Idempotent: a message built from escaped names can be escaped again.
        assert_eq!(terminal_safe(&safe), safe);
        assert!(matches!(terminal_safe("plain/ü.py"), Cow::Borrowed(_)));
        let p = Path::new(OsStr::from_bytes(b"/t/\x1b]0;x\x07\xff.py"));
        assert_eq!(path_text(p), "/t/\u{1b}]0;x\u{7}\\xff.py");
        assert_eq!(display_path(p), "/t/\\x1b]0;x\\x07\\xff.py");
    }

    #[test]
    fn reports_keep_their_lines_and_lose_the_rest() {
        assert_eq!(terminal_safe_lines("a\nb\u{1b}c\n"), "a\nb\\x1bc\n");
        assert!(matches!(terminal_safe_lines("a\nb\n"), Cow::Borrowed(_)));
    }
}
