//! Actions that change the disk, as plans first: clean (remove or quarantine caches) and
//! recompile (with the real interpreters).
//!
//! The flow, shared by the CLI and the TUI:
//! 1. build a [`Selection`] (flags, or the TUI's marks);
//! 2. build a [`Plan`] from the scan model alone: [`plan_clean`] or [`plan_recompile`]
//!    (after [`Interpreters::discover`] and a probe, see [`needed_keys`]);
//! 3. show [`Plan::render_lines`], confirm;
//! 4. [`execute`] it, with a progress callback (step i of n), to get a [`Report`].
//!
//! - [`plan`]: plans and steps; [`report`]: outcomes and reports.
//! - [`selection`]: selection criteria.
//! - [`clean`]: the clean planner; [`remove`]: safe removal through directory handles;
//!   [`quarantine`]: move aside and restore.
//! - [`interpreters`]: finding and probing Python interpreters.
//! - [`recompile`]: the recompile planner (targets from [`targets`]); [`compile`]: running
//!   the compile driver; [`failures`]: compile errors remembered between runs.

pub mod child;
pub mod clean;
pub mod compile;
pub mod failures;
pub mod interpreters;
pub mod paths;
pub mod plan;
pub mod quarantine;
pub mod recompile;
pub mod remove;
pub mod report;
pub mod selection;
pub mod targets;
pub mod trust;
pub mod write;

pub use clean::plan_clean;
pub use failures::KnownFailures;
pub use interpreters::{Interpreter, Interpreters, Origin};
pub use plan::{
    ActionKind, Compile, CompileReason, Identity, Plan, PlanTotals, RemoveDir, RemoveFile, Step,
};
pub use quarantine::{Quarantine, restore};
pub use recompile::{Needed, Prepared, RecompileOptions, needed_keys, plan_recompile};
pub use report::{Outcome, ProgressUpdate, Report, ReportSummary, StepOutcome};
pub use selection::{CLEAN_DEFAULT, Selection, parse_age};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How to execute a plan.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Parallel compile workers (default: the number of cores).
    pub jobs: usize,
    /// Set to true to stop: the remaining steps are reported as skipped.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            jobs: std::thread::available_parallelism().map_or(2, usize::from),
            cancel: None,
        }
    }
}

/// Executes every step of a plan, never stopping at the first error, and reports each
/// outcome to `progress` as it finishes (call it from a worker thread in the TUI and send
/// the updates over a channel).
pub fn execute(
    plan: &Plan,
    opts: &ExecOptions,
    progress: &mut dyn FnMut(&ProgressUpdate),
) -> Report {
    let total = plan.steps.len();
    let mut outcomes: Vec<StepOutcome> = Vec::with_capacity(total);
    let cancel = opts.cancel.as_deref();
    let mut emit = |o: StepOutcome| {
        outcomes.push(o);
        if let Some(latest) = outcomes.last() {
            progress(&ProgressUpdate {
                done: outcomes.len(),
                total,
                latest,
            });
        }
    };
    let mut compiles = Vec::new();
    let mut handles = remove::Handles::default();
    let mut quarantine = None;
    let mut quarantine_error = None;
    if let Some(dir) = &plan.quarantine {
        match Quarantine::open(dir, &plan.roots) {
            Ok(q) => quarantine = Some(q),
            Err(e) => quarantine_error = Some(e),
        }
    }
    for (index, step) in plan.steps.iter().enumerate() {
        let cancelled = cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        let outcome = match step {
            Step::Compile(_) => {
                compiles.push(index);
                continue;
            }
            _ if cancelled => Outcome::Skipped("cancelled".into()),
            Step::RemoveFile(_) if quarantine_error.is_some() => {
                Outcome::Failed(quarantine_error.clone().unwrap_or_default())
            }
            Step::RemoveFile(f) => {
                if let Some(q) = quarantine.as_mut() {
                    q.plan_ahead(&plan.steps[index..]);
                }
                remove::remove_file(&mut handles, f, quarantine.as_mut())
            }
            Step::RemoveDir(d) => remove::remove_dir(&mut handles, d),
        };
        emit(StepOutcome::new(index, step.path(), outcome));
    }
    drop(quarantine);
    if !compiles.is_empty() {
        compile::run(plan, &compiles, opts.jobs, cancel, &mut emit);
    }
    let cancelled = cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    Report::new(plan, outcomes, cancelled)
}
