//! The status line: scan progress or totals on the left (for a snapshot, which roots it
//! describes), the filter being typed or a message, else key hints from the key table, on
//! the right.

use crate::tui::app::App;
use crate::tui::keymap;
use pycache::pyc::Status;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// Draws the line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.opts.theme;
    let p = &app.model.progress;
    let s = &app.model.summary;
    let mut left = if p.finished {
        let mut text = format!("{} caches", s.total().count);
        for st in [
            Status::Stale,
            Status::Orphaned,
            Status::Invalid,
            Status::Shadowed,
        ] {
            let n = s.count(st);
            if n > 0 {
                text.push_str(&format!(", {n} {st}"));
            }
        }
        text
    } else {
        let frames = t.spinner();
        format!(
            "{} scanning: {} dirs, {} files, {} caches",
            frames[app.tick % frames.len()],
            p.dirs,
            p.files,
            s.total().count
        )
    };
    if !app.model.errors.is_empty() {
        let n = app.model.errors.len() as u64;
        left.push_str(&format!(", {}", pycache::actions::plan::count(n, "error")));
    }
    if app.snapshot.is_some() {
        // A message needs the room more than the totals, which the tree shows too.
        left = if app.message.is_some() {
            format!("snapshot of {}", scanned(app))
        } else {
            format!("snapshot of {}: {left}", scanned(app))
        };
    }
    let right: Vec<Span> = if let Some(f) = &app.filter_edit {
        vec![
            Span::styled("filter: /", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(f.clone()),
            Span::styled("_", Style::default().add_modifier(Modifier::SLOW_BLINK)),
            Span::raw("  Enter keeps, Esc clears"),
        ]
    } else if let Some(m) = &app.message {
        vec![Span::styled(
            m.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        )]
    } else {
        let mut spans = Vec::new();
        for (key, hint) in keymap::hints(&app.contexts(), app.opts.read_only) {
            spans.push(Span::styled(
                key,
                Style::default().add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(format!(" {hint}  ")));
        }
        spans
    };
    let mut spans = vec![Span::styled(
        format!(" {left} "),
        Style::default().add_modifier(Modifier::REVERSED),
    )];
    spans.push(Span::raw(" "));
    spans.extend(right);
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// The roots (and prefix tree) the model describes.
fn scanned(app: &App) -> String {
    let mut roots: Vec<String> = app
        .model
        .roots
        .iter()
        .map(|r| pycache::scan::display_path(r))
        .collect();
    if let Some(p) = &app.model.prefix {
        roots.push(format!("prefix {}", pycache::scan::display_path(p)));
    }
    roots.join(" + ")
}
