//! Actions that change files: the plan shown for confirmation, the run on a worker thread
//! with its progress, and the report at the end. Nothing runs without a confirmed plan.

mod dialog;
pub(super) mod doctor;

pub use dialog::on_dialog_action;
mod recompile;
#[cfg(test)]
mod tests;

use super::app::{ActionItem, App, Effect};
use super::tree::{NodeKind, Row, View};
use pycache::actions::{self, Plan, Selection};
use pycache::pyc::Status;
use pycache::scan::ScanModel;
use std::collections::HashSet;
use std::path::PathBuf;

/// True when the library can plan and run cleans.
pub const CAN_CLEAN: bool = true;
/// True when the library can plan and run recompiles.
pub const CAN_RECOMPILE: bool = true;
/// True when the library has a doctor.
pub const CAN_DOCTOR: bool = true;

/// A confirmed piece of work for the worker thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Execute this plan (the same object `clean --dry-run` prints).
    Execute(Box<Plan>),
    /// Find and probe the Python interpreters (for recompile).
    Probe,
    /// Diagnose the service's caches (writability, cost).
    Doctor {
        /// The scanned root.
        root: PathBuf,
        /// The scanned prefix tree.
        prefix: Option<PathBuf>,
    },
}

/// What a chooser dialog asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Which interpreter to recompile with.
    Interpreter,
    /// Which invalidation mode to write, with the interpreter key chosen before.
    Mode {
        /// The interpreter's key, or None for the tags already in the tree.
        explicit: Option<String>,
    },
}

/// What the worker thread reports.
#[derive(Debug, Clone)]
pub enum WorkEvent {
    /// The interpreters were found and probed.
    Interpreters(Box<actions::Interpreters>),
    /// `done` of `total` steps finished; `latest` describes the last one.
    Progress {
        /// Steps finished.
        done: usize,
        /// Steps in the plan.
        total: usize,
        /// The last step, in words.
        latest: String,
    },
    /// The run ended.
    Done {
        /// The report's title.
        title: String,
        /// The report's lines (summary first).
        lines: Vec<String>,
        /// Cache files that are gone now.
        removed: Vec<PathBuf>,
        /// True when the tree must be scanned again (files were written).
        rescan: bool,
    },
}

/// A dialog over the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// A plan waiting for yes or no.
    Confirm {
        /// What would happen, in words.
        title: String,
        /// The plan's lines (headline, steps, notes).
        lines: Vec<String>,
        /// Scroll of the lines.
        scroll: u16,
        /// What runs on yes.
        work: Work,
    },
    /// A choice among options (recompile's interpreter and mode).
    Choose {
        /// The question.
        title: String,
        /// The answers.
        options: Vec<String>,
        /// The highlighted answer.
        sel: usize,
        /// What is being chosen.
        step: Choice,
    },
    /// A run in progress.
    Running {
        /// What runs.
        title: String,
        /// Steps finished.
        done: usize,
        /// Steps in total.
        total: usize,
        /// The last step, in words.
        latest: String,
    },
    /// The report of a finished run, or any other text to read.
    Report {
        /// Heading.
        title: String,
        /// Lines.
        lines: Vec<String>,
        /// Scroll of the lines.
        scroll: u16,
    },
}

impl Dialog {
    /// True while work runs (keys other than quit are ignored).
    pub fn is_running(&self) -> bool {
        matches!(self, Dialog::Running { .. })
    }
}

/// Builds the plan of an action item for the scope, as a confirm dialog.
pub fn plan(app: &mut App, item: &ActionItem) -> Result<Dialog, String> {
    let what = match item {
        ActionItem::CleanProblems => "clean problem caches".to_string(),
        ActionItem::CleanStatus(s) => format!("clean {s} caches"),
        ActionItem::CleanTag(t) => format!("clean {t} caches"),
        ActionItem::CleanAll => "clean all caches".to_string(),
        ActionItem::Recompile => {
            // Say so before asking two questions whose answers could not matter.
            if app.scope_sources().is_empty() {
                return Err(format!(
                    "nothing to recompile in {}: no source file there",
                    app.scope.label
                ));
            }
            return Ok(recompile::start(app));
        }
        ActionItem::Doctor => {
            let root = app.model.roots.first().cloned().unwrap_or_default();
            let prefix = app.model.prefix.clone();
            app.push(Effect::Run(Work::Doctor { root, prefix }));
            return Ok(Dialog::Running {
                title: "doctor".into(),
                done: 0,
                total: 0,
                latest: "checking writability and measuring compile cost".into(),
            });
        }
        ActionItem::Rescan | ActionItem::Imports => return Err("this action needs no plan".into()),
    };
    let req = prepare_clean(app, item, what)?;
    if app.model.caches.len() <= app.plan_at_once {
        return finish_clean(&app.model, &req);
    }
    // A pass over a million caches: off the UI thread, over the model as it is now (scan
    // output waits until the plan is back, so the plan and the tree agree).
    let title = format!("planning: {} in {}", req.what, req.label);
    let latest = format!(
        "checking {} caches against the selection",
        app.model.caches.len()
    );
    app.push(Effect::Plan(Box::new(PlanJob {
        model: std::sync::Arc::clone(&app.model),
        req,
    })));
    Ok(Dialog::Running {
        title,
        done: 0,
        total: 0,
        latest,
    })
}

/// Up to this many caches a clean is planned on the UI thread (a few ms).
pub const PLAN_AT_ONCE: usize = 50_000;

/// A clean planned off the UI thread: the model as it was, and the request.
#[derive(Debug, Clone)]
pub struct PlanJob {
    /// The model, shared (scan output waits while it is).
    pub model: std::sync::Arc<ScanModel>,
    /// What to plan.
    pub req: CleanRequest,
}

impl PartialEq for PlanJob {
    // The same model by identity: comparing a million records would be the cost avoided.
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.model, &other.model) && self.req == other.req
    }
}

/// A clean to plan: what the selection is, and what the title names.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanRequest {
    /// `clean stale caches`.
    what: String,
    /// The scope's label, `pkg/`.
    label: String,
    /// The scope's caches this item applies to (the plan never leaves them).
    scoped: HashSet<PathBuf>,
    /// The library's selection.
    sel: Selection,
}

/// The selection of a clean item over the scope (cheap: the scope's own caches); the
/// plan itself is [`finish_clean`].
pub fn prepare_clean(app: &App, item: &ActionItem, what: String) -> Result<CleanRequest, String> {
    // What the title names: the scope's caches this item applies to. Nothing there is
    // nothing to do (an empty list of paths would select the whole project).
    let scoped: HashSet<PathBuf> = app.scope_caches(|c| keeps(item, c)).into_iter().collect();
    if scoped.is_empty() {
        return Err(format!(
            "nothing to {what} in {}: no cache there that this action removes",
            app.scope.label
        ));
    }
    let sel = clean_selection(app, item, &scoped);
    Ok(CleanRequest {
        what,
        label: app.scope.label.clone(),
        scoped,
        sel,
    })
}

/// The plan of a clean, as its confirm dialog: a pass over every cache of the model, so
/// on a large tree it runs off the UI thread (`Effect::Plan`).
pub fn finish_clean(model: &ScanModel, req: &CleanRequest) -> Result<Dialog, String> {
    let CleanRequest {
        what,
        label,
        scoped,
        sel,
    } = req;
    let plan = actions::plan_clean(model, sel, None);
    // The plan never removes a file outside the scope its title names.
    if let Some(outside) = plan.steps.iter().find_map(|s| match s {
        actions::Step::RemoveFile(f) if !scoped.contains(&f.path) => Some(&f.path),
        _ => None,
    }) {
        return Err(format!(
            "refusing to {what} in {label}: the plan would also remove {}, which is outside it (a bug; please report it)",
            pycache::scan::display_path(outside)
        ));
    }
    if plan.is_empty() {
        // The planner's notes say why (kept sourceless files, names it refuses to touch).
        let why = plan
            .notes
            .first()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        return Err(format!("nothing to {what} in {label}{why}"));
    }
    Ok(Dialog::Confirm {
        title: format!("{what} in {label}"),
        lines: plan.render_lines(),
        scroll: 0,
        work: Work::Execute(Box::new(plan)),
    })
}

/// True when a clean item removes this cache (sourceless caches never, from the explorer).
fn keeps(item: &ActionItem, c: &pycache::scan::CacheRecord) -> bool {
    c.status != Status::Sourceless
        && match item {
            ActionItem::CleanProblems => actions::CLEAN_DEFAULT.contains(&c.status),
            ActionItem::CleanStatus(s) => c.status == *s,
            ActionItem::CleanTag(t) => c.tag.as_deref().unwrap_or("-") == t,
            _ => true,
        }
}

/// The library's selection for a clean item over the scope: a directory of the directory
/// view is selected by path prefix (also its mirror in the prefix tree: a list of every
/// path would make the planner quadratic on a large tree); anything else by the exact
/// cache paths in the scope, `scoped` (never empty: the caller says "nothing to clean").
fn clean_selection(app: &App, item: &ActionItem, scoped: &HashSet<PathBuf>) -> Selection {
    let mut sel = Selection::default();
    match item {
        ActionItem::CleanProblems => sel.statuses = actions::CLEAN_DEFAULT.to_vec(),
        ActionItem::CleanStatus(s) => sel.statuses = vec![*s],
        ActionItem::CleanTag(t) if t != "-" => {
            sel.tags = vec![t.clone()];
            sel.all = true;
        }
        _ => sel.all = true,
    }
    match selected_directory(app, item) {
        Some(rel) => {
            for root in &app.model.roots {
                let abs = root.join(&rel);
                if let Some(prefix) = &app.model.prefix {
                    let mirror = abs.strip_prefix("/").unwrap_or(&abs);
                    sel.under.push(prefix.join(mirror));
                }
                sel.under.push(abs);
            }
        }
        _ => {
            sel.paths = scoped.iter().cloned().collect();
        }
    }
    sel
}

/// The directory (relative to the roots) a clean item selects by path prefix, or None
/// when it names the scope's cache paths one by one. Only a directory selection leaves a
/// live prefix mirror alone: a named cache is removed even there.
pub fn selected_directory(app: &App, item: &ActionItem) -> Option<String> {
    if matches!(item, ActionItem::CleanTag(t) if t == "-") {
        return None;
    }
    match app.selected() {
        Some(Row::Node(n)) if app.marks.is_empty() && app.tree.view == View::Directory => {
            let node = &app.tree.nodes[n];
            (node.kind == NodeKind::Dir).then(|| node.key.clone())
        }
        _ => None,
    }
}

impl App {
    /// Applies what the worker reports.
    pub fn on_work(&mut self, ev: WorkEvent) {
        match ev {
            WorkEvent::Interpreters(found) => {
                self.interpreters = Some(*found);
                let chooser = recompile::choose_interpreter(self);
                self.set_dialog(Some(chooser));
            }
            WorkEvent::Progress {
                done,
                total,
                latest,
            } => {
                if let Some(Dialog::Running {
                    done: d,
                    total: t,
                    latest: l,
                    ..
                }) = self.dialog_mut()
                {
                    *d = done;
                    *t = total;
                    *l = latest;
                }
            }
            WorkEvent::Done {
                title,
                lines,
                removed,
                rescan,
            } => {
                if !removed.is_empty() {
                    self.on_scan(pycache::scan::ScanEvent::Removed(removed));
                }
                if rescan {
                    self.reset();
                    self.push(Effect::Rescan);
                }
                let fixes: Vec<String> = lines
                    .iter()
                    .filter_map(|l| l.strip_prefix(crate::tui::panes::confirm::FIX))
                    .map(str::to_string)
                    .collect();
                let mut lines = lines;
                if !fixes.is_empty() {
                    lines.push(String::new());
                    lines.push("the fix commands are printed whole when you quit (q)".into());
                    self.keep_for_exit(fixes);
                }
                self.set_dialog(Some(Dialog::Report {
                    title,
                    lines,
                    scroll: 0,
                }));
            }
        }
    }
}
