//! What has the keyboard ([`Mode`]): the mode alone decides which keys apply and which
//! overlay is drawn.

use super::{App, Pane};
use crate::tui::keymap::Ctx;
use crate::tui::work::Dialog;

/// What has the keyboard: it alone decides which keys apply ([`App::contexts`]) and which
/// overlay is drawn.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Mode {
    /// The panes (the focused one and the global keys).
    #[default]
    Browse,
    /// Typing the name filter; the text typed so far.
    Filter(String),
    /// A dialog over the panes (a plan, a choice, a running action, a report).
    Dialog(Dialog),
    /// The help screen, scrolled this far.
    Help(u16),
}

impl App {
    /// The key contexts in force, most specific first: the mode's alone.
    pub fn contexts(&self) -> Vec<Ctx> {
        match &self.mode {
            Mode::Help(_) => vec![Ctx::Help],
            Mode::Dialog(d) if d.is_running() => vec![Ctx::Running],
            Mode::Dialog(_) => vec![Ctx::Dialog],
            Mode::Filter(_) => vec![Ctx::Filter],
            Mode::Browse => {
                let pane = match self.focus {
                    Pane::Tree => Ctx::Tree,
                    Pane::Details => Ctx::Details,
                    Pane::Actions => Ctx::Actions,
                };
                vec![pane, Ctx::Global]
            }
        }
    }

    /// The dialog shown, if any.
    pub fn dialog(&self) -> Option<&Dialog> {
        match &self.mode {
            Mode::Dialog(d) => Some(d),
            _ => None,
        }
    }

    /// The help screen's scroll, while it is shown.
    pub fn help_scroll(&self) -> Option<u16> {
        match self.mode {
            Mode::Help(s) => Some(s),
            _ => None,
        }
    }

    /// The filter being typed, while typing.
    pub fn filter_edit(&self) -> Option<&str> {
        match &self.mode {
            Mode::Filter(t) => Some(t),
            _ => None,
        }
    }

    /// Shows a dialog (over whatever had the keyboard), or closes it (None).
    pub(crate) fn set_dialog(&mut self, dialog: Option<Dialog>) {
        self.mode = dialog.map_or(Mode::Browse, Mode::Dialog);
    }

    /// The dialog shown, to update in place.
    pub(crate) fn dialog_mut(&mut self) -> Option<&mut Dialog> {
        match &mut self.mode {
            Mode::Dialog(d) => Some(d),
            _ => None,
        }
    }
}
