//! Recompile from the explorer: find the interpreters (off the UI thread), choose one and
//! an invalidation mode, then show the library's recompile plan for confirmation.

use super::{Choice, Dialog, Work};
use crate::tui::app::{App, Effect};
use crate::tui::tree::{NodeKind, Row, View};
use pycache::actions::{self, Interpreters, RecompileOptions, Selection};
use pycache::pyc::{Invalidation, Status};

/// The invalidation modes offered, in the chooser's order (None: keep each cache's own).
const MODES: [(Option<Invalidation>, &str); 4] = [
    (None, "keep each cache's own mode"),
    (Some(Invalidation::Timestamp), "timestamp"),
    (
        Some(Invalidation::CheckedHash),
        "checked-hash (source hash checked on import)",
    ),
    (
        Some(Invalidation::UncheckedHash),
        "unchecked-hash (never checked: deploys only)",
    ),
];

/// Starts a recompile: probe the interpreters once, then ask which to use.
pub fn start(app: &mut App) -> Dialog {
    if app.interpreters.is_some() {
        return choose_interpreter(app);
    }
    app.push(Effect::Run(Work::Probe));
    Dialog::Running {
        title: "finding Python interpreters".into(),
        done: 0,
        total: 0,
        latest: "asking each interpreter which caches it writes".into(),
    }
}

/// The interpreter chooser, once the interpreters are known.
pub fn choose_interpreter(app: &App) -> Dialog {
    let mut options = vec!["the interpreters of the caches already there".to_string()];
    if let Some(found) = &app.interpreters {
        options.extend(found.found.iter().map(|i| {
            format!(
                "{:<12} Python {:<8} {}",
                i.key(),
                i.version,
                i.path.display()
            )
        }));
    }
    Dialog::Choose {
        title: format!("recompile {}: which interpreter?", app.scope.label),
        options,
        sel: 0,
        step: Choice::Interpreter,
    }
}

/// The next dialog after a choice was confirmed.
pub fn chosen(app: &mut App, step: Choice, sel: usize) -> Dialog {
    match step {
        Choice::Interpreter => {
            let explicit = sel.checked_sub(1).and_then(|i| {
                app.interpreters
                    .as_ref()
                    .and_then(|f| f.found.get(i))
                    .map(|i| i.key())
            });
            Dialog::Choose {
                title: format!("recompile {}: which invalidation mode?", app.scope.label),
                options: MODES.iter().map(|(_, label)| label.to_string()).collect(),
                sel: 0,
                step: Choice::Mode { explicit },
            }
        }
        Choice::Mode { explicit } => {
            let (sel_caches, existing_only) = selection(app);
            let opts = RecompileOptions {
                mode: MODES.get(sel).and_then(|m| m.0),
                explicit_keys: explicit.into_iter().collect(),
                chown: nix::unistd::geteuid().is_root(),
                missing: !existing_only,
                ..RecompileOptions::default()
            };
            let sel = sel_caches;
            let empty = Interpreters::default();
            let interps = app.interpreters.as_ref().unwrap_or(&empty);
            let plan = actions::plan_recompile(&app.model, &sel, &opts, interps);
            if plan.is_empty() {
                let mut lines = vec![format!("nothing to recompile in {}", app.scope.label)];
                lines.extend(plan.notes.iter().map(|n| format!("note: {n}")));
                return Dialog::Report {
                    title: "recompile".into(),
                    lines,
                    scroll: 0,
                };
            }
            Dialog::Confirm {
                title: format!("recompile {}", app.scope.label),
                lines: plan.render_lines(),
                scroll: 0,
                work: Work::Execute(Box::new(plan)),
            }
        }
    }
}

/// What a recompile of the scope selects: a directory by path, a verdict or tag group by
/// that criterion over the whole tree, anything else by its modules' source paths. The
/// flag is true when only existing caches are meant (a verdict group: replace those).
fn selection(app: &App) -> (Selection, bool) {
    let mut sel = Selection::default();
    if app.marks.is_empty()
        && let Some(Row::Node(n)) = app.selected()
    {
        let node = &app.tree.nodes[n];
        match (&node.kind, app.tree.view) {
            (NodeKind::Dir, View::Directory) => {
                sel.under = app.model.roots.iter().map(|r| r.join(&node.key)).collect();
                return (sel, false);
            }
            (NodeKind::Group { .. }, View::Verdict) => {
                if let Some(s) = Status::parse(&node.name) {
                    sel.statuses = vec![s];
                    return (sel, true);
                }
            }
            (NodeKind::Group { .. }, View::Tag) if node.name.contains('-') => {
                sel.tags = vec![node.name.clone()];
                return (sel, false);
            }
            _ => {}
        }
    }
    sel.under = app.scope_sources();
    (sel, false)
}
