//! Keys to actions: one table drives key handling, the help screen and the status-bar
//! hints, so what the help says is what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the explorer.
    Quit,
    /// Stop the process (Ctrl-Z); the shell's `fg` resumes it.
    Suspend,
    /// Show or hide the key help.
    Help,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Move up one line.
    Up,
    /// Move down one line.
    Down,
    /// Move up one page.
    PageUp,
    /// Move down one page.
    PageDown,
    /// Go to the first line.
    Top,
    /// Go to the last line.
    Bottom,
    /// Open the selected node (or go to its first child).
    Expand,
    /// Close the selected node (or go to its parent).
    Collapse,
    /// Toggle a node, or choose the selected action.
    Enter,
    /// Mark or unmark the selection.
    Mark,
    /// Clear every mark.
    ClearMarks,
    /// Start typing a name filter.
    Filter,
    /// Select the next module with a problem.
    NextProblem,
    /// Switch between the service's view and each cache on its own.
    SwitchContext,
    /// Cycle the grouping: directory, verdict, tag.
    CycleView,
    /// Cycle the order: name, size, age.
    CycleSort,
    /// Reverse the order.
    ReverseSort,
    /// Show the whole project's totals in the details pane, or the selection's again.
    Totals,
    /// Plan a clean of the problem caches in the selection or the marks.
    Clean,
    /// Plan a recompile of the selection or the marks.
    Recompile,
    /// Scan again.
    Rescan,
    /// Run the doctor on the scanned tree.
    Doctor,
    /// Accept the dialog.
    Confirm,
    /// Dismiss the dialog or stop typing.
    Cancel,
    /// A character typed into the filter.
    Type(char),
    /// Delete the last character of the filter.
    Backspace,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// Any pane, no dialog open.
    Global,
    /// The module tree has focus.
    Tree,
    /// The details pane has focus.
    Details,
    /// The actions pane has focus.
    Actions,
    /// Typing a filter.
    Filter,
    /// A plan is shown for confirmation, or a choice is asked.
    Dialog,
    /// An action is running.
    Running,
    /// The help screen.
    Help,
}

impl Ctx {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Global => "Everywhere",
            Ctx::Tree => "Module tree",
            Ctx::Details => "Details",
            Ctx::Actions => "Actions",
            Ctx::Filter => "Filter",
            Ctx::Dialog => "Dialogs",
            Ctx::Running => "While an action runs",
            Ctx::Help => "Help",
        }
    }
}

/// One key chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Modifiers that must be held (Shift is ignored for characters).
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}
const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

/// A row of the key table.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The chords.
    pub keys: &'static [Key],
    /// Where it applies.
    pub ctx: Ctx,
    /// What it does.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
    /// Short status-bar hint, for the keys worth advertising.
    pub hint: Option<&'static str>,
}

const fn b(keys: &'static [Key], ctx: Ctx, action: Action, help: &'static str) -> Binding {
    Binding {
        keys,
        ctx,
        action,
        help,
        hint: None,
    }
}
const fn h(
    keys: &'static [Key],
    ctx: Ctx,
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        keys,
        ctx,
        action,
        help,
        hint: Some(hint),
    }
}

mod table;
pub use table::BINDINGS;

impl Key {
    /// True when the event is this chord.
    fn matches(&self, ev: &KeyEvent) -> bool {
        let mods = if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            ev.modifiers - KeyModifiers::SHIFT
        } else {
            ev.modifiers
        };
        self.code == ev.code && self.mods == mods
    }

    /// How the help screen writes the chord.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

/// The action of a key in the first of `ctxs` that binds it.
pub fn action_for(ev: &KeyEvent, ctxs: &[Ctx]) -> Option<Action> {
    for ctx in ctxs {
        if let Some(bd) = BINDINGS
            .iter()
            .find(|bd| bd.ctx == *ctx && bd.keys.iter().any(|key| key.matches(ev)))
        {
            return Some(bd.action.clone());
        }
        if *ctx == Ctx::Filter
            && let KeyCode::Char(c) = ev.code
            && !ev.modifiers.contains(KeyModifiers::CONTROL)
        {
            return Some(Action::Type(c));
        }
    }
    None
}

/// The help screen's lines: (context heading, [(keys, text)]).
pub fn help_rows() -> Vec<(Ctx, Vec<(String, &'static str)>)> {
    let mut out: Vec<(Ctx, Vec<(String, &'static str)>)> = Vec::new();
    for bd in BINDINGS {
        let keys: Vec<String> = bd.keys.iter().map(Key::label).collect();
        let row = (keys.join(" "), bd.help);
        match out.iter_mut().find(|(c, _)| *c == bd.ctx) {
            Some((_, rows)) => rows.push(row),
            None => out.push((bd.ctx, vec![row])),
        }
    }
    out
}

/// Status-bar hints for these contexts: `key label` pairs. `read_only` leaves out the
/// keys of actions that change files, which a read-only session refuses.
pub fn hints(ctxs: &[Ctx], read_only: bool) -> Vec<(String, &'static str)> {
    // Help and quit first: a narrow status line cuts from the right.
    let first = |bd: &&Binding| matches!(bd.action, Action::Help | Action::Quit);
    let ordered = BINDINGS
        .iter()
        .filter(first)
        .chain(BINDINGS.iter().filter(|b| !first(b)));
    ordered
        .filter(|bd| ctxs.contains(&bd.ctx))
        .filter(|bd| !(read_only && matches!(bd.action, Action::Clean | Action::Recompile)))
        .filter_map(|bd| Some((bd.keys.first()?.label(), bd.hint?)))
        .collect()
}

#[cfg(test)]
mod tests;
