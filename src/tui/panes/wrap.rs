//! Word wrapping of styled lines for panes that scroll by line: wrapping before drawing
//! (instead of letting the paragraph wrap) keeps "line N of M" and the scroll limit exact.
//!
//! [`escaped`] shows control characters as `pycache::text::terminal_safe` does.
//!
//! A `label     value` line (a first span exactly [`LABEL`] columns wide, ending in a
//! space) continues under its value; any other line continues two columns in. A word
//! wider than the room left (a long path) is split where the line ends.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Width of the label column of `label     value` lines (`verdict    `).
pub const LABEL: usize = 11;

/// Wraps every line to `width` columns.
pub fn wrap_all(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        wrap_line(line, width, &mut out);
    }
    out
}

/// The lines with every control or bidi character shown escaped (`\x1b`), as every other
/// pane shows names (`pycache::text::terminal_safe`): module names, a code object's
/// filename and function names come from the files and may hold anything, and the
/// terminal backend would silently drop a control character, showing a different name.
pub fn escaped(lines: Vec<Line<'static>>) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .map(|mut line| {
            for span in &mut line.spans {
                if let std::borrow::Cow::Owned(safe) = pycache::text::terminal_safe(&span.content) {
                    span.content = safe.into();
                }
            }
            line
        })
        .collect()
}

/// One piece of a line: a run of spaces or of other characters, with its style.
struct Piece {
    text: String,
    style: Style,
    space: bool,
}

fn pieces(line: &Line<'static>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for ch in span.content.chars() {
            let space = ch == ' ';
            match out.last_mut() {
                Some(p) if p.space == space && p.style == style => p.text.push(ch),
                _ => out.push(Piece {
                    text: ch.to_string(),
                    style,
                    space,
                }),
            }
        }
    }
    out
}

/// The indent of continuation lines.
fn hang(line: &Line<'static>, width: usize) -> usize {
    let labelled = line.spans.len() > 1
        && line
            .spans
            .first()
            .is_some_and(|s| s.content.width() == LABEL && s.content.ends_with(' '));
    let hang = if labelled { LABEL } else { 2 };
    // On a very narrow pane a hanging indent would leave no room for text.
    if width >= hang + 8 { hang } else { 0 }
}

fn wrap_line(line: Line<'static>, width: usize, out: &mut Vec<Line<'static>>) {
    if width == 0 || line.width() <= width {
        out.push(line);
        return;
    }
    let indent = hang(&line, width);
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    // True until the first break: the line's own leading spaces are kept only there.
    let mut first = true;
    let mut has_word = false;
    // Spaces between words are held back until a word follows them on the same line.
    let mut pending: Option<Piece> = None;
    let mut new_line = |cur: &mut Vec<Span<'static>>, used: &mut usize| {
        out.push(Line::from(std::mem::take(cur)));
        cur.push(Span::raw(" ".repeat(indent)));
        *used = indent;
    };
    for piece in pieces(&line) {
        if piece.space {
            if has_word {
                pending = Some(piece);
            } else if first {
                used += piece.text.width();
                cur.push(Span::styled(piece.text, piece.style));
            }
            continue;
        }
        let gap = pending.as_ref().map_or(0, |p| p.text.width());
        let w = piece.text.width();
        // A word too wide for any line (a long path) is split where it is instead.
        let fits_a_line = w <= width - indent;
        if used + gap + w > width && has_word && fits_a_line {
            pending = None;
            new_line(&mut cur, &mut used);
            first = false;
        }
        if let Some(p) = pending.take() {
            cur.push(Span::styled(p.text, p.style));
            used += gap;
        }
        // A word wider than the room left is split where the line ends.
        let mut rest = piece.text.as_str();
        loop {
            let room = width.saturating_sub(used).max(1);
            let cut = split_at_width(rest, room);
            let (head, tail) = rest.split_at(cut);
            cur.push(Span::styled(head.to_string(), piece.style));
            used += head.width();
            rest = tail;
            if rest.is_empty() {
                break;
            }
            new_line(&mut cur, &mut used);
            first = false;
        }
        has_word = true;
    }
    out.push(Line::from(cur));
}

/// The byte index up to which `s` fits in `room` columns (at least one character).
fn split_at_width(s: &str, room: usize) -> usize {
    let mut used = 0;
    for (i, ch) in s.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + w > room && i > 0 {
            return i;
        }
        used += w;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn labelled_lines_continue_under_their_value() {
        let line = Line::from(vec![
            Span::raw(format!("{:<10} ", "file")),
            Span::raw("1.9K  2024-05-01 10:00:00 UTC  root  rw-r--r--"),
        ]);
        assert_eq!(
            text(&wrap_all(vec![line], 43)),
            [
                "file       1.9K  2024-05-01 10:00:00 UTC",
                "           root  rw-r--r--"
            ]
        );
    }

    #[test]
    fn short_lines_are_untouched_and_long_words_are_split() {
        let short = Line::from("fits");
        let long = Line::from("see /a/very/long/path/that/cannot/fit");
        // Too wide for any line: split where it stands.
        assert_eq!(
            text(&wrap_all(vec![short, long], 16)),
            ["fits", "see /a/very/long", "  /path/that/can", "  not/fit"]
        );
        // Fits a line of its own: moved there whole.
        let path = Line::from("see /a/long/path");
        assert_eq!(text(&wrap_all(vec![path], 14)), ["see", "  /a/long/path"]);
    }

    #[test]
    fn control_characters_are_escaped_and_styles_kept() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![
            Span::styled("module gone\x1b]0;pwn\x07q", bold),
            Span::raw(" plain"),
        ]);
        let out = escaped(vec![line]);
        assert_eq!(out[0].to_string(), "module gone\\x1b]0;pwn\\x07q plain");
        assert_eq!(out[0].spans[0].style, bold);
        // Already escaped text stays as it is.
        assert_eq!(escaped(out.clone()), out);
    }

    #[test]
    fn styles_survive_wrapping() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![
            Span::raw(format!("{:<10} ", "verdict")),
            Span::styled("stale", bold),
            Span::raw(": source mtime differs from the recorded one"),
        ]);
        let out = wrap_all(vec![line], 30);
        let stale = out[0].spans.iter().find(|s| s.content == "stale").unwrap();
        assert_eq!(stale.style, bold);
        assert!(out.iter().all(|l| l.width() <= 30));
        assert!(out[1].to_string().starts_with("           "));
    }
}
