//! The status line: scan progress or totals on the left (for a snapshot, which roots it
//! describes), the filter being typed or a message, else key hints from the key table, on
//! the right.

use crate::tui::app::App;
use crate::tui::keymap;
use crate::tui::work::Dialog;
use pycache::pyc::Status;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Draws the line.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = app.opts.theme;
    let p = &app.model.progress;
    let s = &app.model.summary;
    let mut left = if let Some((view, placed, total)) = app.regrouping() {
        // The old view answers keys meanwhile; this says why the view has not changed yet.
        let frames = t.spinner();
        format!(
            "{} regrouping {}: {placed} of {total} modules",
            frames[app.tick % frames.len()],
            view.label()
        )
    } else if p.finished {
        let mut text = pycache::actions::plan::count(s.total().count, "cache");
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
    if let Some(m) = &app.message
        && app.filter_edit().is_none()
        && left.width() + m.width() + 3 > usize::from(area.width)
    {
        // The message answers the key just pressed; the totals are in the tree too.
        left = pycache::actions::plan::count(s.total().count, "cache");
        if left.width() + m.width() + 3 > usize::from(area.width) {
            left.clear();
        }
    }
    let right: Vec<Span> = if let Some(f) = app.filter_edit() {
        vec![
            Span::styled("filter: /", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(f.to_string()),
            Span::styled("_", Style::default().add_modifier(Modifier::SLOW_BLINK)),
            Span::raw("  Enter keeps, Esc clears"),
        ]
    } else if let Some(m) = &app.message {
        vec![Span::styled(
            m.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        )]
    } else {
        // Whole hints only: a key without its word (or half a word) tells nothing.
        let mut room = usize::from(area.width).saturating_sub(left.width() + 3);
        let mut spans = Vec::new();
        for (key, hint) in hints(app) {
            let text = format!(" {hint}  ");
            let w = key.width() + text.trim_end().width();
            if w > room {
                break;
            }
            room = room.saturating_sub(w + 2);
            spans.push(Span::styled(
                key,
                Style::default().add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(text));
        }
        spans
    };
    let mut spans = Vec::new();
    if !left.is_empty() {
        spans.push(Span::styled(
            format!(" {left} "),
            Style::default().add_modifier(Modifier::REVERSED),
        ));
    }
    spans.push(Span::raw(" "));
    spans.extend(right);
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// The keys that work now. A report or a choice is a dialog too, but `y confirm  n cancel`
/// would be wrong there: their hints are the ones in the dialog's own footer.
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    match app.dialog() {
        Some(Dialog::Report { .. }) => vec![("Enter".into(), "close"), ("j/k".into(), "scroll")],
        Some(Dialog::Choose { .. }) => vec![
            ("Enter".into(), "choose"),
            ("Esc".into(), "cancel"),
            ("j/k".into(), "move"),
        ],
        _ => keymap::hints(&app.contexts(), app.opts.read_only),
    }
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

#[cfg(test)]
mod tests {
    use super::render;
    use crate::tui::app::{App, Options};
    use crate::tui::fixture;
    use crate::tui::keymap::Action;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    fn line(app: &App, width: u16) -> String {
        let area = Rect::new(0, 0, width, 1);
        let mut buf = Buffer::empty(area);
        render(app, area, &mut buf);
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn hints_are_whole_and_a_message_wins_over_the_totals() {
        let opts = Options {
            read_only: true,
            ..Options::default()
        };
        let mut a = App::new(fixture::model(), opts);
        let text = line(&a, 80);
        assert!(text.starts_with(" 9 caches, 2 stale"), "{text}");
        // Every hint shown is whole: the line ends in spaces, not in half a word.
        assert!(text.ends_with("  "), "{text:?}");
        a.handle(Action::Clean);
        let text = line(&a, 80);
        let msg = a.message.clone().unwrap_or_default();
        assert!(text.contains(&msg), "the whole message: {text:?}");
        assert!(text.starts_with(" 9 caches "), "{text:?}");
        let text = line(&a, 50);
        assert!(text.contains(&msg[..40]), "{text:?}");
    }
}

#[cfg(test)]
mod hint_tests {
    use super::hints as status_hints;
    use crate::tui::app::App;
    use crate::tui::fixture::{app, keys};
    use crate::tui::work::Dialog;

    #[test]
    fn the_status_hints_of_a_report_or_a_choice_are_their_own_keys() {
        let mut a = app();
        let hints = |a: &App| -> Vec<String> {
            status_hints(a)
                .into_iter()
                .map(|(k, h)| format!("{k} {h}"))
                .collect()
        };
        assert!(hints(&a).contains(&"? help".to_string()));
        a.set_dialog(Some(Dialog::Report {
            title: "report".into(),
            lines: vec!["removed 1 file".into()],
            scroll: 0,
        }));
        assert_eq!(hints(&a), ["Enter close", "j/k scroll"]);
        keys(&mut a, "y");
        assert!(
            a.dialog().is_none(),
            "y closes a report too, but Enter is the one shown"
        );
        keys(&mut a, "c");
        assert!(
            hints(&a).contains(&"y confirm".to_string()),
            "a plan: {:?}",
            hints(&a)
        );
    }
}
