//! The key table itself: every binding, its context and its help text.

use super::{Action, Binding, Ctx, b, code, ctrl, h, k};
use crossterm::event::KeyCode;

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
