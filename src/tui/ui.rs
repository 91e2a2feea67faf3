//! The screen: where each pane goes at a given size, and drawing them all. Side by side
//! from 100 columns, stacked below; dialogs and help float over the panes.

use super::app::{App, Pane};
use super::panes;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders};

/// Width from which the tree and the details sit side by side.
pub const WIDE: u16 = 100;

/// The rectangles of the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The module tree.
    pub tree: Rect,
    /// The details pane.
    pub details: Rect,
    /// The actions pane.
    pub actions: Rect,
    /// The status line.
    pub status: Rect,
}

/// Splits the screen.
pub fn layout(area: Rect) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    if area.width >= WIDE {
        // The tree is what people browse: it keeps at least 60 % of the width.
        let [tree, right] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                .areas(main);
        let actions_h = (right.height / 3).clamp(5, 12);
        let [details, actions] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(actions_h)]).areas(right);
        Areas {
            tree,
            details,
            actions,
            status,
        }
    } else {
        // Stacked, the tree gets most of the rows (12 of 23 at 80x24); the details show
        // what fits and scroll (Tab, then j/k) for the rest.
        let actions_h = if main.height >= 20 { 4 } else { 3 };
        let rest = main.height.saturating_sub(actions_h);
        let tree_h = (rest * 3).div_ceil(5);
        let [tree, details, actions] = Layout::vertical([
            Constraint::Length(tree_h),
            Constraint::Min(0),
            Constraint::Length(actions_h),
        ])
        .areas(main);
        Areas {
            tree,
            details,
            actions,
            status,
        }
    }
}

/// A pane's frame: heavier border and a marker when focused, so focus shows without colour.
pub fn pane_block<'a>(app: &App, pane: Pane, title: impl Into<Line<'a>>) -> Block<'a> {
    // Typing a filter keeps the tree's focus; a dialog or the help takes it.
    let focused = app.focus == pane && app.dialog().is_none() && app.help_scroll().is_none();
    let theme = app.opts.theme;
    let mut title: Line = title.into();
    title.spans.insert(0, theme.focus_mark(focused).into());
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border(focused))
        .border_style(theme.frame(focused))
        .title(title.style(theme.frame(focused)))
}

/// Draws everything.
pub fn draw(app: &App, frame: &mut Frame) {
    let full = frame.area();
    let areas = layout(full);
    let buf = frame.buffer_mut();
    panes::tree::render(app, areas.tree, buf);
    panes::details::render(app, areas.details, buf);
    panes::actions::render(app, areas.actions, buf);
    panes::status::render(app, areas.status, buf);
    if let Some(dialog) = app.dialog() {
        panes::confirm::render(app, dialog, full, buf);
    }
    if let Some(scroll) = app.help_scroll() {
        panes::help::render(app, scroll, full, buf);
    }
}

/// A rectangle of `w` x `h` centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_sit_side_by_side_from_100_columns() {
        let wide = layout(Rect::new(0, 0, 120, 40));
        assert_eq!(wide.tree.y, wide.details.y);
        assert!(wide.details.x > wide.tree.x);
        let narrow = layout(Rect::new(0, 0, 80, 24));
        assert!(narrow.details.y > narrow.tree.y);
        assert!(narrow.actions.y > narrow.details.y);
        assert_eq!(narrow.status.y, 23);
        assert!(narrow.tree.height >= 12 && narrow.details.height >= 6);
        assert!(narrow.tree.height > narrow.details.height);
        assert!(wide.tree.width * 10 >= 120 * 6);
    }
}
