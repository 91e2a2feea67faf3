//! Dialogs over the panes: a plan waiting for confirmation, the progress of a run, and the
//! report at its end.

use crate::tui::app::App;
use crate::tui::ui::centered;
use crate::tui::work::Dialog;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

/// Draws the dialog.
pub fn render(app: &App, dialog: &Dialog, area: Rect, buf: &mut Buffer) {
    let t = app.opts.theme;
    let width = area.width.saturating_sub(4).min(110);
    let (title, mut lines, scroll, footer) = match dialog {
        Dialog::Confirm {
            title,
            lines,
            scroll,
            ..
        } => (
            title.clone(),
            lines.iter().map(|l| Line::from(l.clone())).collect::<Vec<_>>(),
            *scroll,
            " y/Enter: run it   n/Esc: cancel   j/k: scroll ",
        ),
        Dialog::Running {
            title,
            done,
            total,
            latest,
        } => {
            let (full, empty) = t.bar();
            let bar_w = width.saturating_sub(16) as usize;
            let filled = if *total == 0 { 0 } else { bar_w * done / total };
            let pct = if *total == 0 { 0 } else { 100 * done / total };
            let lines = vec![
                Line::from(format!("{done} of {total} steps")),
                Line::from(vec![
                    Span::raw(full.repeat(filled)),
                    Span::raw(empty.repeat(bar_w - filled)),
                    Span::raw(format!(" {pct:>3}%")),
                ]),
                Line::from(latest.clone()),
            ];
            (title.clone(), lines, 0, " running… ")
        }
        Dialog::Report {
            title,
            lines,
            scroll,
        } => (
            title.clone(),
            lines.iter().map(|l| Line::from(l.clone())).collect(),
            *scroll,
            " Enter/Esc: close   j/k: scroll ",
        ),
    };
    if let Some(first) = lines.first_mut() {
        first.style = Style::default().add_modifier(Modifier::BOLD);
    }
    let height = (lines.len() as u16 + 2).clamp(5, area.height.saturating_sub(2));
    let rect = centered(area, width, height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(t.border(true))
        .border_style(t.frame(true))
        .title(format!(" {title} "))
        .title_bottom(footer);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(block)
        .scroll((scroll, 0))
        .render(rect, buf);
}
