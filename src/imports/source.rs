//! Reading a Python source file into text the way CPython's tokenizer does (PEP 263).
//!
//! A UTF-8 byte-order mark means UTF-8. Otherwise a coding declaration
//! (`# -*- coding: latin-1 -*-`) on line 1, or on line 2 when line 1 is blank or a
//! comment, names the encoding. Without one the file must be UTF-8.

use std::borrow::Cow;
use std::fmt;

/// Why a file could not be turned into text; Python refuses to import it for the same reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes contain NUL: a binary file, not Python source.
    Binary,
    /// Not valid UTF-8, and no coding declaration.
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
    },
    /// The coding declaration names an encoding nobody knows.
    UnknownEncoding {
        /// The declared name.
        name: String,
    },
    /// The bytes are invalid in the declared encoding.
    Invalid {
        /// The declared name.
        name: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Binary => write!(f, "binary file (contains NUL bytes), not Python source"),
            DecodeError::NotUtf8 { line } => write!(
                f,
                "not UTF-8 (line {line}) and declares no encoding; add '# -*- coding: NAME -*-' (PEP 263)"
            ),
            DecodeError::UnknownEncoding { name } => {
                write!(f, "declares unknown encoding '{name}'")
            }
            DecodeError::Invalid { name } => {
                write!(f, "bytes are invalid in the declared encoding '{name}'")
            }
        }
    }
}

/// Decodes source bytes to text, following PEP 263.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    if bytes.contains(&0) {
        return Err(DecodeError::Binary);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return utf8(rest);
    }
    match coding_declaration(bytes) {
        None => utf8(bytes),
        Some(name) => decode_as(bytes, &name),
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(DecodeError::NotUtf8 { line })
        }
    }
}

fn decode_as<'a>(bytes: &'a [u8], name: &str) -> Result<Cow<'a, str>, DecodeError> {
    let normal = name.to_ascii_lowercase().replace('_', "-");
    // CPython's own normalisation: these spellings are UTF-8 or Latin-1.
    if normal == "utf-8" || normal == "utf8" || normal.starts_with("utf-8-") {
        return match utf8(bytes) {
            Ok(text) => Ok(text),
            Err(_) => Err(DecodeError::Invalid {
                name: name.to_owned(),
            }),
        };
    }
    if matches!(
        normal.as_str(),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "cp819"
    ) || normal.starts_with("latin-1-")
        || normal.starts_with("iso-8859-1-")
    {
        // True Latin-1: every byte is the code point of the same value. (WHATWG's
        // "latin1" label is windows-1252, which differs in 0x80..0x9f.)
        return Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()));
    }
    let encoding = encoding_rs::Encoding::for_label(normal.as_bytes()).ok_or_else(|| {
        DecodeError::UnknownEncoding {
            name: name.to_owned(),
        }
    })?;
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(DecodeError::Invalid {
            name: name.to_owned(),
        });
    }
    Ok(Cow::Owned(text.into_owned()))
}

/// The encoding named by a PEP 263 declaration on line 1, or on line 2 when line 1 is
/// blank or only a comment (CPython's tokenizer rule).
fn coding_declaration(bytes: &[u8]) -> Option<String> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(name) = cookie(first) {
        return Some(name);
    }
    let first_visible = first
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\x0c' | b'\r'));
    if matches!(first_visible, None | Some(b'#')) {
        return lines.next().and_then(cookie);
    }
    None
}

/// Matches `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on one line.
fn cookie(line: &[u8]) -> Option<String> {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))?;
    if line[start] != b'#' {
        return None;
    }
    let comment = &line[start..];
    let mut from = 0;
    while let Some(pos) = find(&comment[from..], b"coding") {
        let after = from + pos + b"coding".len();
        if matches!(comment.get(after), Some(b':' | b'=')) {
            let value: Vec<u8> = comment[after + 1..]
                .iter()
                .copied()
                .skip_while(|b| matches!(b, b' ' | b'\t'))
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .collect();
            if !value.is_empty() {
                return Some(String::from_utf8_lossy(&value).into_owned());
            }
        }
        from = after;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(b"import os\n").unwrap(), "import os\n");
        assert_eq!(decode(b"\xef\xbb\xbfimport os\n").unwrap(), "import os\n");
    }

    #[test]
    fn latin1_declaration_is_true_latin1() {
        let src = b"# -*- coding: latin-1 -*-\ns = '\x80\xe9'\nimport os\n";
        let text = decode(src).unwrap();
        assert!(text.contains("'\u{80}\u{e9}'"));
    }

    #[test]
    fn declaration_on_second_line_only_after_comment_or_blank() {
        let ok = b"#!/usr/bin/env python\n# vim: set fileencoding=koi8-r :\nx = '\xc1'\n";
        assert_eq!(
            decode(ok).unwrap(),
            "#!/usr/bin/env python\n# vim: set fileencoding=koi8-r :\nx = '\u{430}'\n"
        );
        let ignored = b"import os\n# coding: latin-1\nx = '\xe9'\n";
        assert_eq!(decode(ignored), Err(DecodeError::NotUtf8 { line: 3 }));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        assert_eq!(decode(b"\x7fELF\x02\x01\x00\x00"), Err(DecodeError::Binary));
        assert_eq!(
            decode(b"# coding: klingon\n"),
            Err(DecodeError::UnknownEncoding {
                name: "klingon".into()
            })
        );
        assert_eq!(
            decode(b"# coding: utf-8\n\xff\n"),
            Err(DecodeError::Invalid {
                name: "utf-8".into()
            })
        );
        assert!(
            decode(b"x = '\xe9'\n")
                .unwrap_err()
                .to_string()
                .contains("PEP 263")
        );
    }
}
