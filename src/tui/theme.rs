//! Colours and line-drawing symbols: colour only when allowed (NO_COLOR, `--color`),
//! ASCII when asked (`--ascii`). Meaning never rests on colour alone: every verdict is also
//! a word, and the focused pane has a heavier border and a marker in its title.

use pycache::pyc::Status;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Theme {
    /// Use colours.
    pub color: bool,
    /// Use ASCII instead of Unicode line drawing.
    pub ascii: bool,
}

/// A border drawn with `=` and `#`, so focus shows on ASCII terminals.
const ASCII_FOCUSED: border::Set = border::Set {
    top_left: "#",
    top_right: "#",
    bottom_left: "#",
    bottom_right: "#",
    vertical_left: "#",
    vertical_right: "#",
    horizontal_top: "=",
    horizontal_bottom: "=",
};

/// A plain ASCII border.
const ASCII_PLAIN: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Theme {
    /// The border of a pane.
    pub fn border(self, focused: bool) -> border::Set<'static> {
        match (self.ascii, focused) {
            (true, true) => ASCII_FOCUSED,
            (true, false) => ASCII_PLAIN,
            (false, true) => border::THICK,
            (false, false) => border::PLAIN,
        }
    }

    /// Style of a pane's border and title.
    pub fn frame(self, focused: bool) -> Style {
        let s = Style::default();
        match (focused, self.color) {
            (true, true) => s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => s.add_modifier(Modifier::BOLD),
            (false, _) => s,
        }
    }

    /// The title marker of the focused pane.
    pub fn focus_mark(self, focused: bool) -> &'static str {
        match (focused, self.ascii) {
            (true, true) => "> ",
            (true, false) => "▶ ",
            (false, _) => "",
        }
    }

    /// Style of a verdict word.
    pub fn status(self, s: Status) -> Style {
        if !self.color {
            return if s.is_problem() {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
        }
        let c = match s {
            Status::Fresh => Color::Green,
            Status::Stale => Color::Yellow,
            Status::Orphaned => Color::Red,
            Status::Invalid | Status::Unreadable => Color::LightRed,
            Status::Shadowed => Color::Magenta,
            Status::Sourceless => Color::Cyan,
        };
        Style::default().fg(c)
    }

    /// Style of interpreter tags in charts.
    pub fn tag(self) -> Style {
        if self.color {
            Style::default().fg(Color::Blue)
        } else {
            Style::default()
        }
    }

    /// Style of secondary text (sizes, counts): the default colour, dimmed. A fixed dark
    /// grey is invisible on some themes (dark backgrounds, solarized).
    pub fn dim(self) -> Style {
        if self.color {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default()
        }
    }

    /// Style of headings inside a pane.
    pub fn heading(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// Style of the selected row: reverse video works without colour.
    pub fn selected(self, focused: bool) -> Style {
        match (focused, self.color) {
            // A background keeps the verdict colours readable on the selected row.
            (true, true) => Style::default()
                .bg(Color::Indexed(238))
                .add_modifier(Modifier::BOLD),
            (true, false) => Style::default().add_modifier(Modifier::REVERSED),
            (false, _) => Style::default().add_modifier(Modifier::UNDERLINED),
        }
    }

    /// Tree markers: (open, closed, leaf).
    pub fn tree_marks(self) -> (&'static str, &'static str, &'static str) {
        if self.ascii {
            ("- ", "+ ", "  ")
        } else {
            ("▾ ", "▸ ", "  ")
        }
    }

    /// The mark shown on marked rows.
    pub fn mark(self) -> &'static str {
        if self.ascii { "*" } else { "●" }
    }

    /// Filled and empty cells of a progress bar.
    pub fn bar(self) -> (&'static str, &'static str) {
        if self.ascii {
            ("#", "-")
        } else {
            ("█", "░")
        }
    }

    /// The spinner frames shown while scanning.
    pub fn spinner(self) -> &'static [&'static str] {
        if self.ascii {
            &["|", "/", "-", "\\"]
        } else {
            &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        }
    }
}

/// The short verdict word used in tree rows (`ok` for fresh).
pub fn short(s: Status) -> &'static str {
    match s {
        Status::Fresh => "ok",
        Status::Stale => "stale",
        Status::Orphaned => "orphan",
        Status::Sourceless => "sourceless",
        Status::Shadowed => "shadowed",
        Status::Invalid => "invalid",
        Status::Unreadable => "unreadable",
    }
}

/// The interpreter tag as tree rows show it: `313` for `cpython-313`.
pub fn short_tag(tag: Option<&str>) -> &str {
    match tag {
        Some(t) => t.strip_prefix("cpython-").unwrap_or(t),
        None => "legacy",
    }
}

/// Bytes as `du -h` would: `812B`, `4.0K`, `12M`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 {
        format!("{v:.1}{}", UNITS[u])
    } else {
        format!("{v:.0}{}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_du() {
        assert_eq!(size(812), "812B");
        assert_eq!(size(4096), "4.0K");
        assert_eq!(size(12 * 1024 * 1024), "12M");
    }

    #[test]
    fn tags_are_shortened_only_for_cpython() {
        assert_eq!(short_tag(Some("cpython-313")), "313");
        assert_eq!(short_tag(Some("pypy39")), "pypy39");
        assert_eq!(short_tag(None), "legacy");
    }
}
