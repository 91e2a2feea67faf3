//! The help screen, generated from the key table: the keys it lists are the keys that work.

use crate::tui::app::App;
use crate::tui::keymap;
use crate::tui::ui::centered;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

/// All help lines.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = app.opts.theme;
    let mut out = Vec::new();
    let sections = keymap::help_rows();
    // As wide as the longest keys, so the longest description fits 80 columns.
    let key_w = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(keys, _)| keys.chars().count()))
        .max()
        .unwrap_or(0);
    for (ctx, rows) in sections {
        if !out.is_empty() {
            out.push(Line::default());
        }
        out.push(Line::from(Span::styled(ctx.title(), t.heading())));
        for (keys, text) in rows {
            out.push(Line::from(format!("  {keys:<key_w$}  {text}")));
        }
    }
    out
}

/// Draws the help over the panes.
pub fn render(app: &App, scroll: u16, area: Rect, buf: &mut Buffer) {
    let lines = lines(app);
    let rect = centered(area, 84, area.height.saturating_sub(2));
    let max = lines
        .len()
        .saturating_sub(rect.height.saturating_sub(2) as usize) as u16;
    let t = app.opts.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(t.border(true))
        .title(" Keys (j/k scroll, Esc closes) ");
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(block)
        .scroll((scroll.min(max), 0))
        .render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::lines;
    use crate::tui::app::{App, Options};
    use crate::tui::fixture;

    #[test]
    fn every_help_line_fits_an_80_column_terminal() {
        let a = App::new(fixture::model(), Options::default());
        for line in lines(&a) {
            // 80 columns less the help's border.
            assert!(line.width() <= 78, "cut at 80 columns: {line}");
        }
    }
}
