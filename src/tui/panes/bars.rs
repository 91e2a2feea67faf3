//! Small horizontal bar charts for the details pane: cache bytes of a directory (or of the
//! whole project) by verdict and by interpreter tag. Each row also carries its count and
//! size in words, so the chart is a picture of numbers that are there without it.

use crate::tui::theme::{self, Theme};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// One bar: its label, count, bytes and the style of label and bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// What it counts (`stale`, `cpython-313`).
    pub label: String,
    /// Cache files.
    pub count: u32,
    /// Their bytes; the bar's length.
    pub bytes: u64,
    /// Style of the label and the bar.
    pub style: Style,
}

/// The widest a bar gets: wider ones read no better.
const MAX_BAR: usize = 30;
/// Below this many columns for the bar, rows show numbers only.
const MIN_BAR: usize = 4;

/// The chart's lines: a heading, then one row per bar, scaled to the largest bar.
pub fn chart(heading: &str, bars: &[Bar], width: usize, t: Theme) -> Vec<Line<'static>> {
    if bars.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Line::from(Span::styled(heading.to_string(), t.heading()))];
    // 11 fits every verdict and `cpython-3NN`, so the two charts line up.
    let label_w = bars
        .iter()
        .map(|b| b.label.len())
        .max()
        .unwrap_or(0)
        .max(11);
    let count_w = bars
        .iter()
        .map(|b| b.count.to_string().len())
        .max()
        .unwrap_or(1)
        .max(3);
    let size_w = 5;
    let fixed = label_w + 1 + count_w + 2 + size_w + 1;
    // One column is left free, so a full bar does not run into the border.
    let bar_w = width.saturating_sub(fixed + 1).min(MAX_BAR);
    let max = bars.iter().map(|b| b.bytes).max().unwrap_or(0);
    for b in bars {
        let mut spans = vec![
            Span::styled(format!("{:<label_w$}", b.label), b.style),
            Span::raw(format!(
                " {:>count_w$}  {:>size_w$} ",
                b.count,
                theme::size(b.bytes)
            )),
        ];
        if bar_w >= MIN_BAR {
            spans.push(Span::styled(bar(b.bytes, max, bar_w, t), b.style));
        }
        out.push(Line::from(spans));
    }
    out
}

/// One bar of a timing chart: a module, what each start pays for it, and how.
#[derive(Debug, Clone)]
pub struct TimeBar {
    /// The module (`app.models`).
    pub label: String,
    /// Milliseconds; the bar's length.
    pub ms: f64,
    /// `compile` or `load`: what the time is spent on.
    pub kind: &'static str,
    /// Style of the label and the bar.
    pub style: Style,
}

/// Module names longer than this are cut (their end stays: it names the module).
const MAX_TIME_LABEL: usize = 24;

/// A timing chart: a heading, then one row per bar in the order given, scaled to the
/// slowest: `name  12.34 ms compile ████`.
pub fn time_chart(heading: &str, bars: &[TimeBar], width: usize, t: Theme) -> Vec<Line<'static>> {
    if bars.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Line::from(Span::styled(heading.to_string(), t.heading()))];
    let label_w = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, MAX_TIME_LABEL);
    let ms_w = bars
        .iter()
        .map(|b| format!("{:.2}", b.ms).len())
        .max()
        .unwrap_or(4);
    let fixed = label_w + 1 + ms_w + 4 + 8;
    let bar_w = width.saturating_sub(fixed + 1).min(MAX_BAR);
    // Microseconds: the bar's scale, so sub-millisecond loads still show.
    let micros = |ms: f64| (ms * 1000.0).round().max(0.0) as u64;
    let max = bars.iter().map(|b| micros(b.ms)).max().unwrap_or(0);
    for b in bars {
        let mut spans = vec![
            Span::styled(
                format!("{:<label_w$}", cut_front(&b.label, label_w)),
                b.style,
            ),
            Span::raw(format!(" {:>ms_w$.2} ms {:<7} ", b.ms, b.kind)),
        ];
        if bar_w >= MIN_BAR {
            spans.push(Span::styled(bar(micros(b.ms), max, bar_w, t), b.style));
        }
        out.push(Line::from(spans));
    }
    out
}

/// `text` in at most `width` characters, its start replaced by `…` when cut.
fn cut_front(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let tail: String = text.chars().skip(n + 1 - width).collect();
    format!("…{tail}")
}

/// A bar of `value / max` of `width` cells, in eighths of a cell with Unicode. Any
/// non-zero value shows at least a sliver, so small verdicts do not vanish.
pub fn bar(value: u64, max: u64, width: usize, t: Theme) -> String {
    if max == 0 || value == 0 || width == 0 {
        return String::new();
    }
    let frac = value as f64 / max as f64;
    if t.ascii {
        let cells = ((frac * width as f64).round() as usize).clamp(1, width);
        return "#".repeat(cells);
    }
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = ((frac * width as f64 * 8.0).round() as usize).clamp(1, width * 8);
    let mut s = "█".repeat(eighths / 8);
    s.push_str(EIGHTHS[eighths % 8]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_never_vanish() {
        let t = Theme::default();
        assert_eq!(bar(100, 100, 4, t), "████");
        assert_eq!(bar(50, 100, 4, t), "██");
        assert_eq!(bar(1, 1000, 4, t), "▏");
        assert_eq!(bar(0, 1000, 4, t), "");
        let ascii = Theme { ascii: true, ..t };
        assert_eq!(bar(1, 1000, 4, ascii), "#");
        assert_eq!(bar(3, 4, 4, ascii), "###");
    }

    #[test]
    fn timing_rows_align_and_long_names_keep_their_end() {
        let row = |label: &str, ms| TimeBar {
            label: label.into(),
            ms,
            kind: "compile",
            style: Style::default(),
        };
        let bars = [
            row("utils", 2.5),
            row("a.very.long.package.name.models", 0.25),
        ];
        let lines = time_chart("cost", &bars, 60, Theme::default());
        assert_eq!(
            lines[1].to_string(),
            format!("{:<24} 2.50 ms compile {}", "utils", "█".repeat(18))
        );
        assert_eq!(
            lines[2].to_string(),
            "…ong.package.name.models 0.25 ms compile █▊"
        );
    }

    #[test]
    fn narrow_panes_keep_the_numbers_and_drop_the_bars() {
        let bars = [Bar {
            label: "stale".into(),
            count: 2,
            bytes: 2048,
            style: Style::default(),
        }];
        let wide = chart("by verdict", &bars, 60, Theme::default());
        assert_eq!(
            wide[1].to_string(),
            format!("stale         2   2.0K {}", "█".repeat(30))
        );
        let narrow = chart("by verdict", &bars, 26, Theme::default());
        assert_eq!(narrow[1].to_string(), "stale         2   2.0K ");
    }
}
