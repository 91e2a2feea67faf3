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

use Action as A;
use KeyCode as C;

/// The key table. Earlier rows win when a chord appears twice in one context.
pub static BINDINGS: &[Binding] = &[
    h(
        &[k('?'), code(C::F(1))],
        Ctx::Global,
        A::Help,
        "show this help",
        "help",
    ),
    h(&[k('q'), ctrl('c')], Ctx::Global, A::Quit, "quit", "quit"),
    b(
        &[code(C::Esc)],
        Ctx::Global,
        A::Cancel,
        "clear the filter (it never quits: q does)",
    ),
    b(
        &[ctrl('z')],
        Ctx::Global,
        A::Suspend,
        "suspend; resume with the shell's fg",
    ),
    h(
        &[code(C::Tab)],
        Ctx::Global,
        A::FocusNext,
        "next pane",
        "pane",
    ),
    b(
        &[code(C::BackTab)],
        Ctx::Global,
        A::FocusPrev,
        "previous pane",
    ),
    b(&[code(C::Up), k('k')], Ctx::Global, A::Up, "move up"),
    b(&[code(C::Down), k('j')], Ctx::Global, A::Down, "move down"),
    b(
        &[code(C::PageUp), ctrl('b')],
        Ctx::Global,
        A::PageUp,
        "page up",
    ),
    b(
        &[code(C::PageDown), ctrl('f')],
        Ctx::Global,
        A::PageDown,
        "page down",
    ),
    b(&[code(C::Home), k('g')], Ctx::Global, A::Top, "first line"),
    b(&[code(C::End), k('G')], Ctx::Global, A::Bottom, "last line"),
    h(
        &[k('c')],
        Ctx::Global,
        A::Clean,
        "plan a clean of problem caches (marks, else selection)",
        "clean",
    ),
    b(
        &[k('p')],
        Ctx::Global,
        A::Recompile,
        "plan a recompile of the marks or selection",
    ),
    b(&[k('R')], Ctx::Global, A::Rescan, "scan again"),
    b(
        &[k('t')],
        Ctx::Global,
        A::Totals,
        "details: the whole project's totals (t again: back)",
    ),
    b(
        &[k('D')],
        Ctx::Global,
        A::Doctor,
        "run the doctor (writability, cost)",
    ),
    b(
        &[code(C::Right), k('l')],
        Ctx::Tree,
        A::Expand,
        "open, or go to the first child",
    ),
    b(
        &[code(C::Left), k('h')],
        Ctx::Tree,
        A::Collapse,
        "close, or go to the parent",
    ),
    b(&[code(C::Enter)], Ctx::Tree, A::Enter, "open or close"),
    h(
        &[k(' ')],
        Ctx::Tree,
        A::Mark,
        "mark or unmark (actions apply to the marks)",
        "mark",
    ),
    b(&[k('u')], Ctx::Tree, A::ClearMarks, "clear all marks"),
    h(&[k('/')], Ctx::Tree, A::Filter, "filter by name", "filter"),
    h(
        &[k('n')],
        Ctx::Tree,
        A::NextProblem,
        "next problem (a service view: also uncached imports)",
        "next problem",
    ),
    b(
        &[k('x')],
        Ctx::Tree,
        A::SwitchContext,
        "context: the service's next start, or each cache on its own",
    ),
    h(
        &[k('v')],
        Ctx::Tree,
        A::CycleView,
        "view: by directory, by verdict, by tag",
        "view",
    ),
    b(
        &[k('s')],
        Ctx::Tree,
        A::CycleSort,
        "sort: name, size, age (oldest first)",
    ),
    h(
        &[code(C::Enter)],
        Ctx::Actions,
        A::Enter,
        "choose the action: shows its plan first",
        "choose",
    ),
    b(
        &[code(C::Enter)],
        Ctx::Filter,
        A::Confirm,
        "keep the filter",
    ),
    b(&[code(C::Esc)], Ctx::Filter, A::Cancel, "clear the filter"),
    b(
        &[code(C::Backspace)],
        Ctx::Filter,
        A::Backspace,
        "delete a character",
    ),
    h(
        &[k('y'), code(C::Enter)],
        Ctx::Dialog,
        A::Confirm,
        "confirm",
        "confirm",
    ),
    h(
        &[k('n'), code(C::Esc), k('q')],
        Ctx::Dialog,
        A::Cancel,
        "cancel or close",
        "cancel",
    ),
    b(
        &[code(C::Up), k('k')],
        Ctx::Dialog,
        A::Up,
        "previous choice or scroll up",
    ),
    b(
        &[code(C::Down), k('j')],
        Ctx::Dialog,
        A::Down,
        "next choice or scroll down",
    ),
    b(
        &[ctrl('c')],
        Ctx::Running,
        A::Quit,
        "quit now (steps not yet run stay undone)",
    ),
    b(
        &[k('?'), code(C::Esc), k('q')],
        Ctx::Help,
        A::Cancel,
        "close the help",
    ),
    b(&[code(C::Up), k('k')], Ctx::Help, A::Up, "scroll up"),
    b(&[code(C::Down), k('j')], Ctx::Help, A::Down, "scroll down"),
];

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
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn vim_keys_and_arrows_move_alike() {
        let ctx = [Ctx::Tree, Ctx::Global];
        assert_eq!(
            action_for(&key(KeyCode::Char('j')), &ctx),
            Some(Action::Down)
        );
        assert_eq!(action_for(&key(KeyCode::Down), &ctx), Some(Action::Down));
        assert_eq!(
            action_for(&key(KeyCode::Char('l')), &ctx),
            Some(Action::Expand)
        );
    }

    #[test]
    fn context_order_decides_and_filter_takes_text() {
        let n = key(KeyCode::Char('n'));
        assert_eq!(
            action_for(&n, &[Ctx::Tree, Ctx::Global]),
            Some(Action::NextProblem)
        );
        assert_eq!(action_for(&n, &[Ctx::Dialog]), Some(Action::Cancel));
        assert_eq!(action_for(&n, &[Ctx::Filter]), Some(Action::Type('n')));
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&shift_g, &[Ctx::Global]), Some(Action::Bottom));
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&ctrl_z, &[Ctx::Global]), Some(Action::Suspend));
    }

    #[test]
    fn help_lists_every_binding_once() {
        let rows: usize = help_rows().iter().map(|(_, r)| r.len()).sum();
        assert_eq!(rows, BINDINGS.len());
        assert!(
            hints(&[Ctx::Tree, Ctx::Global], false)
                .iter()
                .any(|(k, _)| k == "/")
        );
        assert!(
            !hints(&[Ctx::Tree, Ctx::Global], true)
                .iter()
                .any(|(_, h)| *h == "clean")
        );
    }
}
