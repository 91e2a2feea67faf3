//! The actions pane: what can be done to the marks (or else the selection), each line with
//! the totals it would touch. Enter shows the plan; nothing runs from here directly.

use crate::tui::app::{ActionItem, App, Pane};
use crate::tui::theme;
use crate::tui::ui::pane_block;
use pycache::actions::plan::count;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let items = app.items();
    let focused = app.focus == Pane::Actions;
    // Unfocused, the list shows from its top (the cleans come first); focused, it follows
    // the cursor.
    let h = usize::from(area.height.saturating_sub(2));
    let offset = if focused {
        (app.action_sel + 1).saturating_sub(h)
    } else {
        0
    };
    let mut title = format!("Actions on {}", app.scope.label);
    if app.opts.read_only {
        title.push_str(" (read-only)");
    }
    if h > 0 && items.len() > h {
        // Otherwise nothing says that more actions are out of sight.
        let last = (offset + h).min(items.len());
        title.push_str(&format!(" ({}-{last} of {})", offset + 1, items.len()));
    }
    let block = pane_block(app, Pane::Actions, title);
    let inner = block.inner(area);
    block.render(area, buf);
    let h = inner.height as usize;
    if h == 0 {
        return;
    }
    if items.is_empty() && app.snapshot.is_some() {
        let note = Line::from(Span::styled(
            " a saved scan: clean, recompile, rescan and the doctor run where it was made",
            app.opts.theme.dim(),
        ));
        let lines = super::wrap::wrap_all(vec![note], usize::from(inner.width));
        for (y, line) in (inner.y..inner.y + inner.height).zip(lines) {
            buf.set_line(inner.x, y, &line, inner.width);
        }
        return;
    }
    for (i, item) in items.iter().enumerate().skip(offset).take(h) {
        let y = inner.y + (i - offset) as u16;
        let line = clip(item_line(app, item), usize::from(inner.width));
        buf.set_line(inner.x, y, &line, inner.width);
        if i == app.action_sel && focused {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                app.opts.theme.selected(true),
            );
        }
    }
}

/// The line cut to `width` columns with `…` when it is longer.
fn clip(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width || width == 0 {
        return line;
    }
    let mut left = width - 1;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = span.width();
        if w <= left {
            left -= w;
            spans.push(span);
            continue;
        }
        let mut text = String::new();
        for ch in span.content.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
            if cw > left {
                break;
            }
            left -= cw;
            text.push(ch);
        }
        text.push('…');
        spans.push(Span::styled(text, span.style));
        break;
    }
    Line::from(spans)
}

/// Label and totals of one action.
pub fn item_line(app: &App, item: &ActionItem) -> Line<'static> {
    let t = app.opts.theme;
    let agg = &app.scope.agg;
    let totals =
        |n: u32, bytes: u64| format!("{}  {}", count(u64::from(n), "file"), theme::size(bytes));
    let (label, detail, style) = match item {
        ActionItem::CleanProblems => {
            let bytes: u64 = pycache::pyc::Status::ALL
                .iter()
                .filter(|s| s.is_problem())
                .map(|s| agg.of_status(*s).1)
                .sum();
            (
                "clean problems".to_string(),
                totals(agg.problems(), bytes),
                Style::default(),
            )
        }
        ActionItem::CleanStatus(s) => {
            let (n, b) = agg.of_status(*s);
            (format!("clean {}", s.as_str()), totals(n, b), t.status(*s))
        }
        ActionItem::CleanTag(tag) => {
            let (n, b) = agg
                .clean_tags
                .iter()
                .find(|x| &x.0 == tag)
                .map_or((0, 0), |x| (x.1, x.2));
            (format!("clean tag {tag}"), totals(n, b), Style::default())
        }
        ActionItem::CleanAll => {
            let (n, b) = agg.of_status(pycache::pyc::Status::Sourceless);
            let kept = if n > 0 { " (sourceless kept)" } else { "" };
            (
                "clean all caches".to_string(),
                format!("{}{kept}", totals(agg.caches - n, agg.bytes - b)),
                Style::default(),
            )
        }
        ActionItem::Recompile => (
            "recompile…".to_string(),
            format!(
                "{}; choose interpreter and mode",
                count(u64::from(agg.modules), "module")
            ),
            Style::default(),
        ),
        ActionItem::Rescan => (
            "rescan".to_string(),
            "walk the tree again".to_string(),
            Style::default(),
        ),
        ActionItem::Imports => (
            "analyze imports".to_string(),
            "which modules do the entry points import?".to_string(),
            Style::default(),
        ),
        ActionItem::Doctor => (
            "doctor".to_string(),
            "can the service user write caches? what does it cost?".to_string(),
            Style::default(),
        ),
    };
    Line::from(vec![
        Span::styled(format!(" {label:<22}"), style),
        Span::styled(detail, t.dim()),
    ])
}
