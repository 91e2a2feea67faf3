//! Plans: what an action would change, as concrete steps with totals.
//!
//! A [`Plan`] is plain data computed from the scan model alone, so `--dry-run`, the TUI's
//! confirm dialog and the real run all show the same steps. Executing it yields a
//! [`Report`](super::report::Report) with one outcome per step.

use super::failures::KnownFailure;
use crate::pyc::{Invalidation, Status};
use crate::scan::record::{display_path, ser_opt_path, ser_path};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Which action a plan carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Remove (or quarantine) cache files.
    Clean,
    /// Compile modules with real interpreters.
    Recompile,
    /// Move quarantined files back.
    Restore,
}

/// The scan's facts about a file, re-checked just before it is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Device id.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// `int(st_mtime)`.
    pub mtime: i64,
}

/// Remove one cache file, if it is still the file the scan saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoveFile {
    /// The cache file.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// The scanned root it lies under: directories are opened from here down.
    #[serde(serialize_with = "ser_path")]
    pub root: PathBuf,
    /// Its verdict.
    pub status: Status,
    /// Its interpreter tag.
    pub tag: Option<String>,
    /// What the scan saw.
    pub expect: Identity,
    /// Bytes on disk (`st_blocks * 512`).
    pub disk_usage: u64,
}

/// Remove a `__pycache__` directory, only if the removals leave it empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoveDir {
    /// The `__pycache__` directory.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// The scanned root it lies under.
    #[serde(serialize_with = "ser_path")]
    pub root: PathBuf,
}

/// Why a module is compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum CompileReason {
    /// No cache for this interpreter and opt level.
    Missing,
    /// The cache is stale, invalid or unreadable.
    Replace {
        /// The old cache's verdict.
        status: Status,
    },
    /// The invalidation mode changes.
    ModeChange {
        /// The mode of the old cache.
        from: Invalidation,
    },
    /// A fresh cache rewritten on request (`--all` or named explicitly).
    Rewrite,
}

/// Compile one module with one interpreter into one cache file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compile {
    /// The source file.
    #[serde(serialize_with = "ser_path")]
    pub source: PathBuf,
    /// The source's size, as scanned.
    pub source_size: u64,
    /// The source's mtime, as scanned.
    pub source_mtime: i64,
    /// The cache file to write.
    #[serde(serialize_with = "ser_path")]
    pub cache: PathBuf,
    /// Dotted module name.
    pub module: String,
    /// The cache tag (`cpython-313`), or `cpython-27` for Python 2 legacy files.
    pub tag: String,
    /// Optimisation level (0, 1, 2).
    pub opt: u8,
    /// Invalidation mode written.
    pub mode: Invalidation,
    /// Why.
    pub reason: CompileReason,
    /// The interpreter that writes this tag; None when none was found.
    #[serde(serialize_with = "ser_opt_path")]
    pub interpreter: Option<PathBuf>,
    /// Why the step cannot run (no interpreter), shown as the skip reason.
    pub unavailable: Option<String>,
    /// The same source failed to compile before and has not changed: reported, not run.
    pub known_failure: Option<KnownFailure>,
    /// Running as root: new directories and files get the owner of the directory they are
    /// created in, rewritten files keep theirs.
    pub chown: bool,
}

/// One concrete change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Remove (or quarantine) a cache file.
    RemoveFile(RemoveFile),
    /// Remove a `__pycache__` directory left empty.
    RemoveDir(RemoveDir),
    /// Compile a module.
    Compile(Compile),
}

impl Step {
    /// The path the step changes (the cache file or directory).
    pub fn path(&self) -> &Path {
        match self {
            Step::RemoveFile(s) => &s.path,
            Step::RemoveDir(s) => &s.path,
            Step::Compile(s) => &s.cache,
        }
    }

    /// One line for the plan listing.
    pub fn render(&self, quarantine: bool) -> String {
        match self {
            Step::RemoveFile(s) => format!(
                "{:<10} {:<10} {:<12} {:>9}  {}",
                if quarantine { "quarantine" } else { "remove" },
                s.status.as_str(),
                s.tag.as_deref().unwrap_or("-"),
                human_bytes(s.expect.size),
                display_path(&s.path)
            ),
            Step::RemoveDir(s) => format!(
                "{:<10} {:<10} {:<12} {:>9}  {}",
                "rmdir",
                "empty",
                "-",
                "",
                display_path(&s.path)
            ),
            Step::Compile(s) => {
                let why = match &s.reason {
                    CompileReason::Missing => "missing".to_string(),
                    CompileReason::Replace { status } => status.as_str().to_string(),
                    CompileReason::ModeChange { from } => format!("was {}", from.as_str()),
                    CompileReason::Rewrite => "rewrite".to_string(),
                };
                let mode = match s.opt {
                    0 => s.mode.as_str().to_string(),
                    n => format!("{} opt-{n}", s.mode.as_str()),
                };
                let head = match (&s.known_failure, &s.interpreter) {
                    (Some(_), _) => "known-bad",
                    (None, Some(_)) => "compile",
                    (None, None) => "no-python",
                };
                format!(
                    "{head:<10} {why:<13} {:<12} {mode:<20} {}",
                    s.tag,
                    display_path(&s.cache)
                )
            }
        }
    }
}

/// What a plan adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanTotals {
    /// Cache files to remove.
    pub files: u64,
    /// Their apparent bytes.
    pub bytes: u64,
    /// Their bytes on disk.
    pub disk_usage: u64,
    /// `__pycache__` directories to remove when left empty.
    pub dirs: u64,
    /// Modules to compile (one per interpreter and opt level).
    pub compiles: u64,
    /// Compiles that will be skipped for want of an interpreter.
    pub unavailable: u64,
}

/// A list of concrete steps with totals, computed from the scan model alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The action.
    pub action: ActionKind,
    /// The scanned roots (and prefix tree) the plan stays inside.
    pub roots: Vec<PathBuf>,
    /// The steps, in execution order.
    pub steps: Vec<Step>,
    /// Totals.
    pub totals: PlanTotals,
    /// Files are moved here instead of deleted (clean only).
    #[serde(serialize_with = "ser_opt_path")]
    pub quarantine: Option<PathBuf>,
    /// What the plan deliberately leaves out, and choices it made (interpreters, kept files).
    pub notes: Vec<String>,
}

impl Plan {
    /// An empty plan.
    pub fn new(action: ActionKind, roots: Vec<PathBuf>) -> Self {
        Self {
            action,
            roots,
            steps: Vec::new(),
            totals: PlanTotals::default(),
            quarantine: None,
            notes: Vec::new(),
        }
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Recomputes the totals from the steps.
    pub fn recount(&mut self) {
        let mut t = PlanTotals::default();
        for step in &self.steps {
            match step {
                Step::RemoveFile(s) => {
                    t.files += 1;
                    t.bytes += s.expect.size;
                    t.disk_usage += s.disk_usage;
                }
                Step::RemoveDir(_) => t.dirs += 1,
                Step::Compile(s) => {
                    t.compiles += 1;
                    if s.interpreter.is_none() && s.known_failure.is_none() {
                        t.unavailable += 1;
                    }
                }
            }
        }
        self.totals = t;
    }

    /// The one-line headline: what the plan does in total.
    pub fn headline(&self) -> String {
        let t = &self.totals;
        match self.action {
            ActionKind::Clean | ActionKind::Restore => {
                let verb = match (&self.quarantine, self.action) {
                    (_, ActionKind::Restore) => "restore",
                    (Some(_), _) => "quarantine",
                    (None, _) => "remove",
                };
                format!(
                    "plan: {verb} {} ({}) and {} empty __pycache__ {}",
                    count(t.files, "cache file"),
                    human_bytes(t.bytes),
                    t.dirs,
                    if t.dirs == 1 {
                        "directory"
                    } else {
                        "directories"
                    }
                )
            }
            ActionKind::Recompile => {
                let mut line = format!("plan: compile {}", count(t.compiles, "cache file"));
                if t.unavailable > 0 {
                    line.push_str(&format!(
                        " ({} without an interpreter will be skipped)",
                        t.unavailable
                    ));
                }
                line
            }
        }
    }

    /// The lines both the CLI and the TUI confirm dialog print: headline, steps, notes.
    pub fn render_lines(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.steps.len() + self.notes.len() + 2);
        out.push(self.headline());
        if let Some(q) = &self.quarantine {
            out.push(format!(
                "files are moved to {} (restore with: pycache clean --restore {})",
                display_path(q),
                display_path(q)
            ));
        }
        out.extend(
            self.steps
                .iter()
                .map(|s| format!("  {}", s.render(self.quarantine.is_some()))),
        );
        out.extend(self.notes.iter().map(|n| format!("note: {n}")));
        out
    }
}

/// `3 files`, `1 file`, `2 directories`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `12.3 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::report::{Outcome, Report, StepOutcome};

    fn remove(path: &str, size: u64) -> Step {
        Step::RemoveFile(RemoveFile {
            path: path.into(),
            root: "/p".into(),
            status: Status::Stale,
            tag: Some("cpython-313".into()),
            expect: Identity {
                dev: 1,
                ino: 2,
                size,
                mtime: 3,
            },
            disk_usage: 4096,
        })
    }

    #[test]
    fn totals_and_report_add_up() {
        let mut plan = Plan::new(ActionKind::Clean, vec!["/p".into()]);
        plan.steps = vec![
            remove("/p/__pycache__/a.cpython-313.pyc", 1000),
            remove("/p/__pycache__/b.cpython-313.pyc", 24),
            Step::RemoveDir(RemoveDir {
                path: "/p/__pycache__".into(),
                root: "/p".into(),
            }),
        ];
        plan.recount();
        assert_eq!(
            (plan.totals.files, plan.totals.bytes, plan.totals.dirs),
            (2, 1024, 1)
        );
        assert_eq!(plan.render_lines().len(), 4);
        assert!(
            plan.headline()
                .contains("2 cache files (1.0 KiB) and 1 empty")
        );
        let outcomes = vec![
            StepOutcome::new(
                2,
                plan.steps[2].path(),
                Outcome::Skipped("not empty".into()),
            ),
            StepOutcome::new(0, plan.steps[0].path(), Outcome::Done),
            StepOutcome::new(
                1,
                plan.steps[1].path(),
                Outcome::Failed("permission denied".into()),
            ),
        ];
        let report = Report::new(&plan, outcomes, false);
        assert_eq!(report.outcomes[0].index, 0);
        assert_eq!(
            (
                report.summary.done,
                report.summary.skipped,
                report.summary.failed
            ),
            (1, 1, 1)
        );
        assert_eq!(report.summary.bytes_freed, 1000);
        assert!(report.has_failures());
        assert_eq!(
            report.removed_paths(&plan),
            vec![PathBuf::from("/p/__pycache__/a.cpython-313.pyc")]
        );
        assert_eq!(report.problem_lines().len(), 2);
        assert_eq!(
            report.summary_line(),
            "removed 1 file and 0 directories (1000 B freed), skipped 1, failed 1"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["outcomes"][1]["result"], "failed");
        assert_eq!(json["outcomes"][1]["reason"], "permission denied");
    }

    #[test]
    fn sizes_read_like_ls_h() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(count(1, "directory"), "1 directory");
        assert_eq!(count(3, "directory"), "3 directories");
    }

    #[test]
    fn plans_and_reports_cross_threads() {
        fn send<T: Send + Sync>() {}
        send::<Plan>();
        send::<Report>();
    }
}
