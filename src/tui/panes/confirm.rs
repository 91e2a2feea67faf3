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
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Draws the dialog.
pub fn render(app: &App, dialog: &Dialog, area: Rect, buf: &mut Buffer) {
    let t = app.opts.theme;
    let width = area.width.saturating_sub(4).min(110);
    let text_width = usize::from(text_width(area.width));
    let (title, lines, scroll, footer) = match dialog {
        Dialog::Confirm {
            title,
            lines,
            scroll,
            ..
        } => (
            title.clone(),
            shown_lines(lines, text_width, true),
            *scroll,
            " y/Enter: run it   n/Esc: cancel   j/k: scroll ",
        ),
        Dialog::Choose {
            title,
            options,
            sel,
            ..
        } => {
            let mut lines = vec![Line::from("choose with j/k, then Enter")];
            for (i, o) in options.iter().enumerate() {
                let mark = if i == *sel { "> " } else { "  " };
                let line = Line::from(format!("{mark}{o}"));
                lines.push(if i == *sel {
                    line.style(t.selected(true))
                } else {
                    line
                });
            }
            // Keep the highlighted answer in view (the hint line comes first).
            let visible = area.height.saturating_sub(6) as usize;
            let scroll = (sel + 2).saturating_sub(visible).min(u16::MAX as usize) as u16;
            (
                title.clone(),
                lines,
                scroll,
                " Enter: choose   Esc: cancel ",
            )
        }
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
            if *total == 0 {
                // Work without steps (probing interpreters, the doctor): a spinner.
                let frames = t.spinner();
                let line = format!("{} {latest}", frames[app.tick % frames.len()]);
                return draw(
                    app,
                    area,
                    buf,
                    title,
                    vec![Line::from(line)],
                    0,
                    " running… ",
                );
            }
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
            shown_lines(lines, text_width, false),
            *scroll,
            " Enter/Esc: close   j/k: scroll ",
        ),
    };
    draw(app, area, buf, &title, lines, scroll, footer);
}

/// Columns of text inside a dialog on a terminal `width` columns wide.
pub fn text_width(width: u16) -> u16 {
    width.saturating_sub(4).min(110).saturating_sub(2)
}

/// The lines of a plan (`plan`) or a report as the dialog shows them, `width` columns
/// wide: a plan's steps one a line (see [`fit_step`]), every other line (a headline, a
/// note, a report's prose) wrapped, so no sentence ends at the border. Wrapping here rather than
/// in the paragraph keeps the dialog's height and scroll limit counted in shown lines.
pub fn shown_lines(lines: &[String], width: usize, plan: bool) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        if plan && l.starts_with("  ") && l.contains('/') {
            out.push(Line::from(fit_step(l, width)));
        } else if l.starts_with(FIX) {
            // A command is never wrapped (a shell would not take it back in pieces); one
            // wider than the dialog is cut, and printed whole when the explorer ends.
            out.push(Line::from(cut_end(l, width)));
        } else {
            out.extend(super::wrap::wrap_all(vec![Line::from(l.clone())], width));
        }
    }
    out
}

/// How a report's fix lines start (the doctor's commands).
pub const FIX: &str = "  fix: ";

/// The line cut to `width` columns, `…` marking the cut.
fn cut_end(line: &str, width: usize) -> String {
    if line.width() <= width || width == 0 {
        return line.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in line.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(ch);
    }
    out.push('…');
    out
}

/// A plan step cut to `width` columns by eliding the middle of its path: its start (the
/// root, the package) and its end (the file name) both stay, so two steps never look
/// alike for want of either. Other lines are left whole.
fn fit_step(line: &str, width: usize) -> String {
    if line.width() <= width || !line.starts_with("  ") {
        return line.to_string();
    }
    let Some(at) = line.find('/') else {
        return line.to_string();
    };
    let (head, path) = line.split_at(at);
    let room = width.saturating_sub(head.width() + 1);
    if room < 12 {
        return line.to_string();
    }
    // The file name stays whole (it tells the steps apart); what is left of the room
    // goes to the start of the path, the middle is elided.
    let name = path.rsplit('/').next().unwrap_or(path);
    let keep_end = name.width() + 1;
    if keep_end + 4 > room {
        return format!("{head}…{}", take_end(path, room));
    }
    let mut left = String::new();
    let mut used = 0;
    for ch in path.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + keep_end > room {
            break;
        }
        used += w;
        left.push(ch);
    }
    format!("{head}{left}…/{name}")
}

/// The last `room` columns of `text`.
fn take_end(text: &str, room: usize) -> String {
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for ch in text.chars().rev() {
        let w = ch.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        tail.push(ch);
    }
    tail.into_iter().rev().collect()
}

fn draw(
    app: &App,
    area: Rect,
    buf: &mut Buffer,
    title: &str,
    mut lines: Vec<Line<'static>>,
    scroll: u16,
    footer: &'static str,
) {
    let t = app.opts.theme;
    let width = area.width.saturating_sub(4).min(110);
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
    // The lines come wrapped (see `shown_lines`): the paragraph does not wrap them again.
    // A scroll made at another width stops at the last line shown at this one.
    let scroll = scroll.min(lines.len().saturating_sub(1).min(usize::from(u16::MAX)) as u16);
    Paragraph::new(lines)
        .block(block)
        .scroll((scroll, 0))
        .render(rect, buf);
}

#[cfg(test)]
mod tests {
    use super::{fit_step, shown_lines};
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn a_long_step_keeps_its_file_name_and_other_lines_stay_whole() {
        let step = "  remove     orphaned   cpython-313      694 B  /tmp/rv-demo/__pycache__/migrate_drop_password_plain.cpython-313.pyc";
        let fitted = fit_step(step, 74);
        assert_eq!(fitted.width(), 74, "{fitted}");
        // Too narrow for the whole name: its end stays.
        assert!(fitted.starts_with("  remove     orphaned   cpython-313      694 B  …"));
        assert!(fitted.ends_with("_plain.cpython-313.pyc"), "{fitted}");
        // Wide enough: the middle goes, the root stays in front and the name whole.
        let fitted = fit_step(step, 100);
        assert_eq!(fitted.width(), 100, "{fitted}");
        assert!(
            fitted.starts_with("  remove     orphaned   cpython-313      694 B  /tmp/rv"),
            "{fitted}"
        );
        assert!(
            fitted.ends_with("…/migrate_drop_password_plain.cpython-313.pyc"),
            "{fitted}"
        );
        assert_eq!(fit_step(step, 200), step);
        let headline = "plan: remove 5 cache files (3.1 KiB) and 0 empty __pycache__ directories";
        assert_eq!(fit_step(headline, 20), headline);
    }

    #[test]
    fn a_fix_command_is_one_line_never_wrapped() {
        let fix = "  fix: sudo install -d -o lernmanager -g lernmanager -m 0755 /srv/lernmanager/instance/tmp";
        let lines = shown_lines(
            &[
                fix.to_string(),
                "a sentence that wraps at the dialog's edge like prose does".into(),
            ],
            40,
            false,
        );
        assert_eq!(lines[0].width(), 40, "{:?}", lines[0]);
        assert!(lines[0].to_string().starts_with("  fix: sudo install -d"));
        assert!(lines.len() > 2, "prose still wraps");
    }
}
