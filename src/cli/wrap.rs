//! Reports for a narrow terminal: prose is wrapped at the width with a hanging indent;
//! commands are never wrapped, so that they paste as they are.

use std::io::IsTerminal;
use unicode_width::UnicodeWidthStr;

/// The narrowest width wrapped to: below it, a hanging indent leaves too little room.
const MIN_WIDTH: usize = 40;

/// The width to wrap at: the terminal's when stdout is one, else `$COLUMNS`, else 80.
pub fn width() -> usize {
    let from_terminal = std::io::stdout()
        .is_terminal()
        .then(|| crossterm::terminal::size().ok())
        .flatten()
        .map(|(cols, _)| usize::from(cols));
    let from_env = || {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
    };
    from_terminal.or_else(from_env).unwrap_or(80).max(MIN_WIDTH)
}

/// Appends `text`, wrapped at spaces to `width` columns: the first line starts with
/// `first`, the following ones with `rest`. A word longer than a line (a path) is kept
/// whole on a line of its own.
pub fn prose(out: &mut String, first: &str, rest: &str, text: &str, width: usize) {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    tokens(out, first, rest, &words, width);
}

/// Like [`prose`], for unbreakable tokens (`app 0.26 ms,`) joined by single spaces.
pub fn tokens(out: &mut String, first: &str, rest: &str, words: &[&str], width: usize) {
    let mut line = first.to_string();
    let mut empty = true;
    for word in words {
        let room = width.saturating_sub(line.width());
        if !empty && word.width() + 1 > room {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_with_a_hanging_indent_and_keeps_long_words() {
        let mut out = String::new();
        prose(
            &mut out,
            " 1. ",
            "    ",
            "nobody cannot create /very/long/path/that/does/not/fit/in/the/line/at/all/__pycache__ now",
            30,
        );
        assert_eq!(
            out,
            " 1. nobody cannot create\n    /very/long/path/that/does/not/fit/in/the/line/at/all/__pycache__\n    now\n"
        );
        let mut out = String::new();
        tokens(&mut out, "a: ", "   ", &["x 1 ms,", "y 2 ms"], 12);
        assert_eq!(out, "a: x 1 ms,\n   y 2 ms\n");
    }
}
