//! The explorer's state and its transitions: `App::handle(Action)` for what the user asks,
//! `App::on_scan(ScanEvent)` for what the scanner finds. No I/O and no terminal here:
//! whatever needs the outside world is queued as an [`Effect`] for the event loop.

mod mode;
mod nav;
mod scope;
mod service;
mod update;
mod view;

pub use service::{Measure, MeasureJob, ServiceState};

pub use mode::Mode;
pub use scope::{ActionItem, Scope};

use super::keymap::Action;
use super::theme::Theme;
use super::tree::{Row, Tree, View};
use super::work::{Dialog, Work};
use pycache::scan::ScanModel;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// Up to this many sources, the import analysis starts by itself when a scan ends.
pub const AUTO_IMPORTS_LIMIT: usize = 20_000;

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The module tree.
    #[default]
    Tree,
    /// The details of the selection.
    Details,
    /// The actions on the selection or the marks.
    Actions,
}

/// Settings fixed for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Colours and line drawing.
    pub theme: Theme,
    /// Hide every action that changes files.
    pub read_only: bool,
}

/// What the event loop must do for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Stop the process until the shell resumes it.
    Suspend,
    /// Start a new scan (the model was reset).
    Rescan,
    /// Decode a cache's code object off the UI thread.
    LoadCode(PathBuf),
    /// Look up the user name of a uid.
    LookupOwner(u32),
    /// Run a confirmed piece of work on a worker thread.
    Run(Work),
    /// Work out which modules the project imports (after a scan).
    AnalyzeImports,
    /// Check whether this user can write the `__pycache__` of a directory.
    CheckAccess(PathBuf),
    /// Judge the service's next start (after a scan, in a service's view).
    /// The number is the judgement's round: the other tags' views carry it back.
    JudgeService(u64),
    /// Measure a context's compile and load times off the UI thread.
    Measure(Box<service::MeasureJob>),
    /// Plan a clean of a large tree off the UI thread.
    Plan(Box<crate::tui::work::PlanJob>),
}

/// How the import analysis reaches a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// `imported`, `lazy`, `entry script`, `type-checking only`, `not imported`.
    pub label: &'static str,
    /// True when the module's code runs (imported, lazily or as the entry).
    pub runs: bool,
    /// The shortest chain from an entry point.
    pub chain: Vec<String>,
}

/// What the details pane knows about a cache's code object, loaded on selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeView {
    /// `co_filename` recorded at compile time.
    pub filename: String,
    /// Top-level functions.
    pub functions: Vec<String>,
    /// Top-level classes.
    pub classes: Vec<String>,
}

/// The explorer.
#[derive(Debug)]
pub struct App {
    /// The inventory; changed only through [`App::on_scan`].
    /// Shared (read-only) with a plan being made off the UI thread; the scan output that
    /// would change it waits meanwhile ([`App::planning`]).
    pub model: Arc<ScanModel>,
    /// The tree of the current view.
    pub tree: Tree,
    /// Session settings.
    pub opts: Options,
    /// Focused pane.
    pub focus: Pane,
    /// Selected row of the tree.
    pub sel: usize,
    sel_key: Option<String>,
    /// First visible row of the tree.
    pub offset: usize,
    /// Rows the tree pane shows (from the last layout).
    pub tree_height: usize,
    /// Marked row keys (of the current view).
    pub marks: HashSet<String>,
    /// Scroll of the details pane.
    pub details_scroll: u16,
    /// True while the details pane shows the whole project instead of the selection.
    pub project_details: bool,
    /// Selected line of the actions pane.
    pub action_sel: usize,
    /// What has the keyboard.
    mode: Mode,
    /// A one-line note for the status bar.
    pub message: Option<String>,
    /// Animation counter, advanced by ticks while something runs.
    pub tick: usize,
    /// True once the user asked to leave.
    pub quit: bool,
    /// Decoded code objects by cache path.
    pub code: HashMap<PathBuf, Result<CodeView, String>>,
    /// User names by uid (None: no such user).
    pub owners: HashMap<u32, Option<String>>,
    /// Import reachability by module key, once the analysis is done.
    pub reach: HashMap<PathBuf, Reach>,
    /// Whether this user can write each directory's `__pycache__` (one line each).
    pub access: HashMap<PathBuf, String>,
    /// Interpreters found for recompiling (probed once, on the first recompile).
    pub interpreters: Option<pycache::actions::Interpreters>,
    /// The current scope's totals, refreshed when the selection, marks or model change.
    pub scope: Scope,
    /// The snapshot file the model was loaded from (`--from`), shown as given. A snapshot
    /// describes another machine (or another time): nothing is read from this disk and
    /// nothing is changed, so every effect but suspending is dropped.
    pub snapshot: Option<String>,
    /// Inner width of the details pane (from the last layout), which it wraps to.
    pub details_width: u16,
    /// Columns of text inside a dialog (from the last layout): reports wrap to it.
    pub dialog_width: u16,
    effects: Vec<Effect>,
    expanded: HashMap<View, HashSet<String>>,
    /// A regrouping (`v`) of a large tree, filled a slice per frame.
    regroup: Option<view::Regroup>,
    /// Up to this many modules `v` regroups at once ([`view::REGROUP_AT_ONCE`]).
    regroup_at_once: usize,
    /// The service's view, when the explorer was opened in one.
    service: Option<ServiceState>,
    /// Commands to print when the explorer ends (the doctor's fixes), whole.
    exit_lines: Vec<String>,
    /// Counts changes of the model (scan output, a rescan), for what is cached per model.
    model_version: u64,
    /// Above this many caches a clean is planned off the UI thread
    /// ([`crate::tui::work::PLAN_AT_ONCE`]).
    pub(crate) plan_at_once: usize,
}

impl App {
    /// An explorer over a (possibly still empty) model.
    pub fn new(model: ScanModel, opts: Options) -> Self {
        let tree = Tree::build(View::Directory, &model, HashSet::new());
        let mut app = App {
            model: Arc::new(model),
            tree,
            opts,
            focus: Pane::Tree,
            sel: 0,
            sel_key: None,
            offset: 0,
            tree_height: 10,
            marks: HashSet::new(),
            details_scroll: 0,
            project_details: false,
            action_sel: 0,
            mode: Mode::Browse,
            message: None,
            tick: 0,
            quit: false,
            code: HashMap::new(),
            owners: HashMap::new(),
            reach: HashMap::new(),
            access: HashMap::new(),
            interpreters: None,
            scope: Scope::default(),
            snapshot: None,
            details_width: 78,
            dialog_width: crate::tui::panes::confirm::text_width(80),
            effects: Vec::new(),
            expanded: HashMap::new(),
            regroup: None,
            regroup_at_once: view::REGROUP_AT_ONCE,
            service: None,
            exit_lines: Vec::new(),
            model_version: 0,
            plan_at_once: crate::tui::work::PLAN_AT_ONCE,
        };
        app.sync();
        app
    }

    /// Keeps commands to print, unbroken, once the screen is gone (the latest run's).
    pub(crate) fn keep_for_exit(&mut self, lines: Vec<String>) {
        self.exit_lines = lines;
    }

    /// What to print when the explorer ends.
    pub fn exit_lines(&self) -> &[String] {
        &self.exit_lines
    }

    /// The effects queued since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// An explorer over a saved scan (`--from FILE`): read-only, with no effect that would
    /// read or change this machine (no rescan, code, owners, access, imports or doctor).
    pub fn from_snapshot(model: ScanModel, opts: Options, file: String) -> Self {
        let opts = Options {
            read_only: true,
            ..opts
        };
        let mut app = App::new(model, opts);
        app.snapshot = Some(file);
        app.refresh_scope();
        app
    }

    pub(crate) fn push(&mut self, e: Effect) {
        if self.snapshot.is_some() && e != Effect::Suspend {
            return;
        }
        if !self.effects.contains(&e) {
            self.effects.push(e);
        }
    }

    /// Records the terminal size; the tree's page height follows the layout.
    pub fn resize(&mut self, width: u16, height: u16) {
        let areas = super::ui::layout(ratatui::layout::Rect::new(0, 0, width, height));
        self.tree_height = areas.tree.height.saturating_sub(2).max(1) as usize;
        self.details_width = areas.details.width.saturating_sub(2).max(1);
        self.dialog_width = crate::tui::panes::confirm::text_width(width);
        self.keep_visible();
    }

    /// Advances animations (only while a scan or an action runs).
    pub fn on_tick(&mut self) -> bool {
        let busy = !self.model.progress.finished
            || self.regroup.is_some()
            || self.dialog().is_some_and(Dialog::is_running);
        if busy {
            self.tick = self.tick.wrapping_add(1);
        } else {
            // Idle: sort a big group now rather than on its first open. The rows do not
            // change (open nodes are sorted already), so nothing needs drawing.
            self.tree.tidy_idle();
        }
        busy
    }

    /// The selected row, if any.
    pub fn selected(&self) -> Option<Row> {
        self.tree.rows.get(self.sel).copied()
    }

    /// Handles one user action.
    pub fn handle(&mut self, action: Action) {
        if !matches!(action, Action::Type(_) | Action::Backspace) {
            self.message = None;
        }
        match &mut self.mode {
            Mode::Help(scroll) => {
                match action {
                    Action::Up => *scroll = scroll.saturating_sub(1),
                    Action::Down => *scroll = scroll.saturating_add(1),
                    Action::Cancel | Action::Help | Action::Quit => self.mode = Mode::Browse,
                    _ => {}
                }
                return;
            }
            Mode::Dialog(_) => {
                self.handle_dialog(action);
                return;
            }
            Mode::Filter(_) => {
                self.handle_filter(action);
                return;
            }
            Mode::Browse => {}
        }
        match action {
            Action::Quit => self.quit = true,
            // Esc backs out of a filter; it never quits, which would throw the scan away on
            // a key pressed to close something.
            Action::Cancel => {
                if self.tree.filter.is_some() {
                    self.apply_filter("");
                } else {
                    self.message = Some("Esc does not quit: press q to quit".into());
                }
            }
            Action::Suspend => self.push(Effect::Suspend),
            Action::Help => self.mode = Mode::Help(0),
            Action::Totals => {
                self.project_details = !self.project_details;
                self.details_scroll = 0;
            }
            Action::FocusNext => self.focus = next_pane(self.focus, 1),
            Action::FocusPrev => self.focus = next_pane(self.focus, 2),
            Action::Filter => {
                self.mode = Mode::Filter(self.tree.filter.clone().unwrap_or_default())
            }
            Action::CycleView => self.set_view(self.next_view()),
            Action::CycleSort => {
                self.tree.set_sort(self.tree.sort.next());
                self.sync();
            }
            Action::ReverseSort => {
                self.tree.set_reverse(!self.tree.reverse);
                self.sync();
            }
            Action::Mark => self.toggle_mark(),
            Action::ClearMarks => {
                self.marks.clear();
                self.refresh_scope();
            }
            Action::NextProblem => self.next_problem(),
            Action::SwitchContext => self.toggle_service(),
            Action::Clean => self.plan_item(ActionItem::CleanProblems),
            Action::Recompile => self.plan_item(ActionItem::Recompile),
            Action::Rescan => self.plan_item(ActionItem::Rescan),
            Action::Doctor => self.plan_item(ActionItem::Doctor),
            other => match self.focus {
                Pane::Tree => self.tree_action(other),
                Pane::Details => self.details_action(other),
                Pane::Actions => self.actions_action(other),
            },
        }
    }

    fn handle_filter(&mut self, action: Action) {
        let Mode::Filter(text) = &mut self.mode else {
            return;
        };
        match action {
            Action::Type(c) => text.push(c),
            Action::Backspace => {
                text.pop();
            }
            Action::Confirm => {
                self.mode = Mode::Browse;
                return;
            }
            Action::Cancel => {
                self.mode = Mode::Browse;
                self.apply_filter("");
                return;
            }
            _ => return,
        }
        let text = text.clone();
        self.apply_filter(&text);
    }

    fn apply_filter(&mut self, text: &str) {
        self.tree.set_filter(text);
        self.sync();
        if self.tree.filter.is_some() && self.tree.rows.is_empty() {
            self.message = Some(format!("no module name contains '{text}'"));
        }
    }
}

fn next_pane(p: Pane, steps: usize) -> Pane {
    let order = [Pane::Tree, Pane::Details, Pane::Actions];
    let i = order.iter().position(|x| *x == p).unwrap_or(0);
    order[(i + steps) % 3]
}

#[cfg(test)]
mod journeys;
#[cfg(test)]
mod service_journeys;
#[cfg(test)]
mod tests;
