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
