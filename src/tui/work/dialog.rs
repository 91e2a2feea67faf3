//! Keys in a dialog: confirm, cancel, choose, scroll.

use super::{Dialog, recompile};
use crate::tui::app::{App, Effect};
use crate::tui::keymap::Action;

/// A dialog's answer to a key; None closes it.
pub fn on_dialog_action(app: &mut App, dialog: Dialog, action: Action) -> Option<Dialog> {
    match dialog {
        Dialog::Confirm {
            title,
            lines,
            scroll,
            work,
        } => match action {
            Action::Confirm => {
                app.push(Effect::Run(work));
                Some(Dialog::Running {
                    title,
                    done: 0,
                    total: 0,
                    latest: String::new(),
                })
            }
            Action::Cancel | Action::Quit => {
                app.message = Some("cancelled: nothing was changed".into());
                None
            }
            other => Some(Dialog::Confirm {
                scroll: scrolled(scroll, &other, shown_len(app, &lines, true)),
                title,
                lines,
                work,
            }),
        },
        Dialog::Choose {
            title,
            options,
            sel,
            step,
        } => match action {
            Action::Confirm => Some(recompile::chosen(app, step, sel)),
            Action::Cancel | Action::Quit => {
                app.message = Some("cancelled: nothing was changed".into());
                None
            }
            Action::Up => Some(Dialog::Choose {
                sel: sel.saturating_sub(1),
                title,
                options,
                step,
            }),
            Action::Down => Some(Dialog::Choose {
                sel: (sel + 1).min(options.len().saturating_sub(1)),
                title,
                options,
                step,
            }),
            _ => Some(Dialog::Choose {
                title,
                options,
                sel,
                step,
            }),
        },
        Dialog::Running { .. } => {
            if action == Action::Quit {
                app.quit = true;
            }
            Some(dialog)
        }
        Dialog::Report {
            title,
            lines,
            scroll,
        } => match action {
            Action::Confirm | Action::Cancel | Action::Quit => None,
            other => Some(Dialog::Report {
                scroll: scrolled(scroll, &other, shown_len(app, &lines, false)),
                title,
                lines,
            }),
        },
    }
}

/// How many lines a dialog shows for these (reports and notes wrap to the dialog).
fn shown_len(app: &App, lines: &[String], plan: bool) -> usize {
    crate::tui::panes::confirm::shown_lines(lines, usize::from(app.dialog_width), plan).len()
}

fn scrolled(scroll: u16, action: &Action, len: usize) -> u16 {
    let max = len.saturating_sub(1).min(u16::MAX as usize) as u16;
    match action {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => (scroll + 1).min(max),
        Action::PageUp => scroll.saturating_sub(10),
        Action::PageDown => scroll.saturating_add(10).min(max),
        _ => scroll,
    }
}

impl App {
    /// True while a plan is made off the UI thread (scan output waits: the plan reads the
    /// model as it was).
    pub fn planning(&self) -> bool {
        self.dialog().is_some_and(
            |d| matches!(d, Dialog::Running { title, .. } if title.starts_with("planning: ")),
        )
    }

    /// The plan made off the UI thread is back: its confirm dialog, or why there is none.
    pub fn on_planned(&mut self, result: Result<Dialog, String>) {
        if !self.planning() {
            return;
        }
        match result {
            Ok(d) => self.set_dialog(Some(d)),
            Err(why) => {
                self.set_dialog(None);
                self.message = Some(why);
            }
        }
    }
}
