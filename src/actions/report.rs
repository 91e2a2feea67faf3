//! Reports: what executing a plan did, step by step.

use super::plan::{ActionKind, Plan, Step, count, human_bytes};
use crate::scan::record::{display_path, ser_opt_path, ser_path};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Not attempted, deliberately (it changed since the scan, it is gone, no interpreter).
    Skipped(String),
    /// Attempted and refused by the system or the interpreter.
    Failed(String),
}

/// The outcome of one step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepOutcome {
    /// Index of the step in `Plan::steps`.
    pub index: usize,
    /// The path the step changes.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// Done, skipped or failed, with the reason.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The source a compile error is in (compile steps).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_path"
    )]
    pub source: Option<PathBuf>,
    /// Line of a syntax error (compile steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Column of a syntax error (compile steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl StepOutcome {
    /// An outcome without a source location.
    pub fn new(index: usize, path: &Path, outcome: Outcome) -> Self {
        Self {
            index,
            path: path.to_path_buf(),
            outcome,
            source: None,
            line: None,
            column: None,
        }
    }
}

/// Progress of an execution: `done` of `total` steps finished, the last one being `latest`.
#[derive(Debug, Clone, Copy)]
pub struct ProgressUpdate<'a> {
    /// Steps finished so far.
    pub done: usize,
    /// Steps in the plan.
    pub total: usize,
    /// The step that just finished.
    pub latest: &'a StepOutcome,
}

/// Totals of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReportSummary {
    /// Steps carried out.
    pub done: u64,
    /// Steps skipped.
    pub skipped: u64,
    /// Steps that failed.
    pub failed: u64,
    /// Cache files removed or quarantined.
    pub files_removed: u64,
    /// `__pycache__` directories removed.
    pub dirs_removed: u64,
    /// Apparent bytes of the files removed.
    pub bytes_freed: u64,
    /// Cache files written.
    pub compiled: u64,
}

/// What executing a plan did, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The action.
    pub action: ActionKind,
    /// One outcome per step, in plan order.
    pub outcomes: Vec<StepOutcome>,
    /// Totals.
    pub summary: ReportSummary,
    /// True when the run was cancelled (remaining steps are skipped).
    pub cancelled: bool,
    /// Files were moved to this quarantine instead of deleted.
    #[serde(serialize_with = "ser_opt_path")]
    pub quarantine: Option<PathBuf>,
}

impl Report {
    /// Builds the report and its totals from the outcomes (sorted into plan order).
    pub fn new(plan: &Plan, mut outcomes: Vec<StepOutcome>, cancelled: bool) -> Self {
        outcomes.sort_by_key(|o| o.index);
        let mut s = ReportSummary::default();
        for o in &outcomes {
            match &o.outcome {
                Outcome::Done => {
                    s.done += 1;
                    match plan.steps.get(o.index) {
                        Some(Step::RemoveFile(f)) => {
                            s.files_removed += 1;
                            s.bytes_freed += f.expect.size;
                        }
                        Some(Step::RemoveDir(_)) => s.dirs_removed += 1,
                        Some(Step::Compile(_)) => s.compiled += 1,
                        None => {}
                    }
                }
                Outcome::Skipped(_) => s.skipped += 1,
                Outcome::Failed(_) => s.failed += 1,
            }
        }
        Self {
            action: plan.action,
            outcomes,
            summary: s,
            cancelled,
            quarantine: plan.quarantine.clone(),
        }
    }

    /// True when any step failed (the CLI exits 1).
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    /// Paths of cache files that are gone now (feed to `ScanEvent::Removed`).
    pub fn removed_paths(&self, plan: &Plan) -> Vec<PathBuf> {
        self.done_steps(plan)
            .filter_map(|s| match s {
                Step::RemoveFile(f) => Some(f.path.clone()),
                _ => None,
            })
            .collect()
    }

    /// Paths of cache files written (to re-scan them).
    pub fn written_paths(&self, plan: &Plan) -> Vec<PathBuf> {
        self.done_steps(plan)
            .filter_map(|s| match s {
                Step::Compile(c) => Some(c.cache.clone()),
                _ => None,
            })
            .collect()
    }

    fn done_steps<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = &'a Step> {
        self.outcomes
            .iter()
            .filter(|o| o.outcome == Outcome::Done)
            .filter_map(|o| plan.steps.get(o.index))
    }

    /// Lines for every step that was not done (skipped or failed, with why). A compile
    /// error names the source with its line and column, like a compiler would.
    pub fn problem_lines(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .filter_map(|o| {
                let (head, why) = match &o.outcome {
                    Outcome::Done => return None,
                    Outcome::Skipped(why) => ("skipped", why),
                    Outcome::Failed(why) => ("failed ", why),
                };
                let at = |n: Option<u32>| n.map(|n| format!(":{n}")).unwrap_or_default();
                let place = match &o.source {
                    Some(source) => {
                        format!("{}{}{}", display_path(source), at(o.line), at(o.column))
                    }
                    None => display_path(&o.path),
                };
                Some(format!("{head} {place}: {why}"))
            })
            .collect()
    }

    /// The closing summary line.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let mut line = match self.action {
            ActionKind::Clean => format!(
                "{} {} and {}{} ({} freed), skipped {}, failed {}",
                if self.quarantine.is_some() {
                    "quarantined"
                } else {
                    "removed"
                },
                count(s.files_removed, "file"),
                if self.quarantine.is_some() {
                    "removed "
                } else {
                    ""
                },
                count(s.dirs_removed, "directory"),
                human_bytes(s.bytes_freed),
                s.skipped,
                s.failed
            ),
            ActionKind::Recompile => format!(
                "compiled {}, skipped {}, failed {}",
                count(s.compiled, "file"),
                s.skipped,
                s.failed
            ),
            ActionKind::Restore => format!(
                "restored {}, skipped {}, failed {}",
                count(s.done, "file"),
                s.skipped,
                s.failed
            ),
        };
        if self.cancelled {
            line.push_str(" (cancelled)");
        }
        line
    }
}
