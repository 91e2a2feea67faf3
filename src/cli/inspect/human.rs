//! The text form of a report: one labelled line per fact, then the code tree.
//!
//! Strings that come from the file (names, docstrings, co_filename) are escaped, so a
//! crafted `.pyc` cannot send control sequences to the terminal.

use super::report::Report;
use pycache::pyc::{NestedCode, Status};
use std::fmt::Write;

/// Appends the text form of `r` to `out`.
pub fn render(r: &Report, out: &mut String) {
    let _ = writeln!(out, "{}", clean(&r.path));
    line(out, "bytecode", bytecode(r));
    if let Some(size) = r.header_size {
        let flags = match r.flags {
            Some(f) => format!(", flags {f}"),
            None => String::new(),
        };
        let mode = r.invalidation.unwrap_or("?");
        line(out, "header", Some(format!("{size} bytes{flags}: {mode}")));
    }
    line(out, "recorded", recorded(r));
    let source = r.source.as_ref().map(|s| {
        let state = if r.actual.is_some() { "" } else { " (missing)" };
        format!("{}{state}", clean(s))
    });
    line(out, "source", source);
    line(
        out,
        "actual",
        r.actual.as_ref().map(|a| {
            let mut s = format!("mtime {}, size {}", when(a.mtime), a.size);
            if let Some(h) = &a.hash {
                let _ = write!(s, ", hash {h}");
            }
            s
        }),
    );
    let verdict = match &r.reason {
        Some(reason) => format!("{}: {}", r.status, clean(reason)),
        None if r.status == Status::Fresh => "fresh: Python uses this bytecode".to_string(),
        None => r.status.to_string(),
    };
    line(out, "verdict", Some(verdict));
    line(out, "file", file(r));
    if let Some(code) = &r.code {
        let mut s = format!(
            "{} from {}, first line {}, {} code object{}",
            clean(&code.co_name),
            clean(&code.co_filename),
            code.co_firstlineno,
            code.code_objects,
            if code.code_objects == 1 { "" } else { "s" }
        );
        if code.trailing_bytes > 0 {
            let _ = write!(s, ", {} unexpected trailing bytes", code.trailing_bytes);
        }
        line(out, "code", Some(s));
        line(out, "docstring", code.docstring.as_deref().map(docstring));
        if !code.children.is_empty() {
            out.push_str("  defines\n");
            tree(out, &code.children, 2);
        }
    } else if r.error.is_none() && r.header_size.is_some() {
        line(
            out,
            "code",
            Some("not decoded (Python before 2.3 stores 16-bit fields)".into()),
        );
    }
}

fn line(out: &mut String, label: &str, value: Option<String>) {
    if let Some(v) = value {
        let _ = writeln!(out, "  {label:<10} {v}");
    }
}

fn bytecode(r: &Report) -> Option<String> {
    let magic = r.magic?;
    let mut s = format!(
        "{} (magic {magic})",
        r.describe.as_deref().unwrap_or("unknown")
    );
    if let Some(tag) = &r.tag {
        let _ = write!(s, ", tag {}", clean(tag));
    }
    if let Some(opt) = &r.opt {
        let _ = write!(s, ", opt-{}", clean(opt));
    }
    Some(s)
}

fn recorded(r: &Report) -> Option<String> {
    if let Some(hash) = &r.source_hash {
        let checked = match r.invalidation {
            Some("checked-hash") => "checked on import",
            _ => "not checked by default",
        };
        return Some(format!("source hash {hash} ({checked})"));
    }
    let mtime = r.source_mtime?;
    let mut s = format!("source mtime {}", when(i64::from(mtime)));
    if let Some(size) = r.source_size {
        let _ = write!(s, ", size {size}");
    }
    Some(s)
}

fn file(r: &Report) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(loc) = r.location {
        parts.push(format!("{} location", loc.as_str()));
    }
    if let Some(m) = &r.module {
        parts.push(format!("module {}", clean(m)));
    }
    if let Some(size) = r.size {
        parts.push(format!("{size} bytes"));
    }
    if let Some(owner) = &r.owner {
        parts.push(format!("owner {}", clean(owner)));
    }
    if let Some(mode) = r.mode {
        parts.push(format!("mode {:04o}", mode & 0o7777));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn tree(out: &mut String, items: &[NestedCode], indent: usize) {
    for item in items {
        let _ = writeln!(
            out,
            "{:indent$}  {} {}  (line {})",
            "",
            item.kind.keyword(),
            clean(&item.qualname),
            item.co_firstlineno,
        );
        tree(out, &item.children, indent + 2);
    }
}

/// The first line of a docstring, shortened, with a count of the lines left out.
fn docstring(doc: &str) -> String {
    let mut lines = doc.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let rest = lines.count();
    let mut s: String = first.chars().take(72).collect();
    if first.chars().count() > 72 {
        s.push('…');
    }
    let mut s = clean(&s);
    if rest > 0 {
        let _ = write!(
            s,
            " (+{rest} more line{})",
            if rest == 1 { "" } else { "s" }
        );
    }
    s
}

/// Escapes control characters (`\n`, `\x1b`...) so file contents cannot drive the terminal.
fn clean(s: &str) -> String {
    pycache::text::terminal_safe(s).into_owned()
}

/// `1700000000 (2023-11-14 22:13:20 UTC)`.
fn when(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{secs} ({y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC)",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(when(1_700_000_000), "1700000000 (2023-11-14 22:13:20 UTC)");
        assert_eq!(when(0), "0 (1970-01-01 00:00:00 UTC)");
        assert_eq!(when(4_294_967_295), "4294967295 (2106-02-07 06:28:15 UTC)");
        assert_eq!(when(-1), "-1 (1969-12-31 23:59:59 UTC)");
        assert_eq!(when(951_782_400), "951782400 (2000-02-29 00:00:00 UTC)");
    }

    #[test]
    fn file_text_cannot_reach_the_terminal_raw() {
        assert_eq!(clean("a\u{1b}[2Jb\n"), "a\\x1b[2Jb\\n");
        assert_eq!(
            docstring("\n  Title line.\n\n  More.\n"),
            "Title line. (+1 more line)"
        );
        let long = "x".repeat(100);
        assert_eq!(docstring(&long).chars().count(), 73);
    }
}
