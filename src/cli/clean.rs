//! `pycache clean [PATH]`: scan, show the plan, confirm, remove (or quarantine), report.
//!
//! Also holds what `clean` and `recompile` share: the selection flags, the confirmation
//! rule (ask on a terminal unless --yes; refuse without one) and progress on stderr.
//! Exit: 0 done (or nothing to do, or declined), 1 when a step failed or a signal stopped the
//! run, 2 usage or I/O error.

use super::scan::{print_quietly, scan_with_progress};
use crate::cli::path_arg::PathArg;
use color_eyre::eyre::{Result, bail, eyre};
use pycache::actions::{
    self, ExecOptions, Plan, ProgressUpdate, Report, Selection, parse_age, plan_clean,
};
use pycache::pyc::{Location, Status};
use pycache::scan::{ScanModel, ScanOptions, display_path};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Arguments of `clean`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  Remove the caches of the old interpreter (the service runs 3.13 now):
    pycache clean /srv/app --tag cpython-311 --all
  See what would be removed, change nothing:
    pycache clean /srv/app --dry-run
  Move the problem caches aside instead of deleting them, then undo:
    pycache clean /srv/app --quarantine /var/tmp/pyc-q
    pycache clean --restore /var/tmp/pyc-q
  A project whose PYTHONPYCACHEPREFIX tree lies inside it:
    pycache clean /srv/app --pycache-prefix /srv/app/instance/tmp --yes

The plan is shown first; on a terminal pycache asks before changing anything, elsewhere it
needs --yes. Sourceless caches are kept unless named with --include-sourceless.
A quarantine directory is pycache's own: a new one is created with mode 700; an existing
one must belong to you and be writable by nobody else. SIGTERM or Ctrl-C finishes the
current file and stops; --restore puts back every file the manifest accounts for.

Exit status: 0 done, nothing to do, or declined; 1 a step failed (the report names it and
why), a file could not be restored, or a signal stopped the run; 2 usage or I/O error.")]
pub struct Args {
    /// Directory to scan and clean (default: the current directory).
    #[arg(value_parser = PathArg)]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Also remove this sourceless cache (importable code, maybe the only copy); repeatable.
    #[arg(value_parser = PathArg, long, value_name = "PATH")]
    pub include_sourceless: Vec<PathBuf>,
    /// A PYTHONPYCACHEPREFIX tree to scan and clean too (default: $PYTHONPYCACHEPREFIX).
    #[arg(value_parser = PathArg, long, value_name = "DIR")]
    pub pycache_prefix: Option<PathBuf>,
    /// Move the files into DIR with a manifest instead of deleting them.
    #[arg(value_parser = PathArg, long, value_name = "DIR")]
    pub quarantine: Option<PathBuf>,
    /// Put the files quarantined in DIR back where they were, then exit.
    #[arg(value_parser = PathArg, long, value_name = "DIR", conflicts_with_all = ["dry_run", "quarantine", "path"])]
    pub restore: Option<PathBuf>,
    /// Show the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the plan and the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Selection flags shared by `clean` and `recompile`.
#[derive(Debug, Clone, clap::Args)]
pub struct SelectArgs {
    /// Verdicts to select, comma-separated: fresh, stale, orphaned, shadowed, invalid,
    /// unreadable (default: clean takes orphaned,stale,shadowed,invalid; recompile takes
    /// stale,invalid,unreadable and creates missing caches).
    #[arg(long = "status", alias = "verdict", value_name = "LIST", value_delimiter = ',', value_parser = parse_status)]
    pub statuses: Vec<Status>,
    /// Only these interpreter tags (cpython-313, pypy39); comma-separated or repeated.
    /// Recompile compiles every selected module for these tags.
    #[arg(long = "tag", value_name = "TAG", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Only these locations: pycache, prefix, legacy.
    #[arg(long = "location", value_name = "LIST", value_delimiter = ',', value_parser = parse_location)]
    pub locations: Vec<Location>,
    /// Only caches under this path; repeatable.
    #[arg(value_parser = PathArg, long, value_name = "PATH")]
    pub under: Vec<PathBuf>,
    /// Only caches whose own file is older than AGE (30d, 12h, 2w; based on its mtime).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Option<i64>,
    /// Every verdict: clean still needs sourceless caches named one by one; recompile
    /// rewrites fresh caches too.
    #[arg(long)]
    pub all: bool,
}

impl SelectArgs {
    /// The library selection, with paths made absolute and the age turned into a cutoff.
    pub fn selection(&self) -> Selection {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Selection {
            statuses: self.statuses.clone(),
            all: self.all,
            tags: self.tags.clone(),
            locations: self.locations.clone(),
            under: self.under.iter().map(|p| absolute(p)).collect(),
            mtime_before: self.older_than.map(|age| now.saturating_sub(age)),
            ..Selection::default()
        }
    }
}

fn parse_status(s: &str) -> Result<Status, String> {
    Status::parse(s).ok_or_else(|| {
        format!("unknown verdict '{s}'; use fresh, stale, orphaned, shadowed, sourceless, invalid or unreadable")
    })
}

fn parse_location(s: &str) -> Result<Location, String> {
    [Location::Pycache, Location::Prefix, Location::Legacy]
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| format!("unknown location '{s}'; use pycache, prefix or legacy"))
}

/// A path made absolute against the current directory (no symlink resolution, as the scan).
pub fn absolute(p: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    pycache::paths::normalize_in(&cwd, p)
}

/// Runs `clean`.
pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(dir) = &args.restore {
        let report = actions::restore(dir).map_err(|e| eyre!(e))?;
        return finish(None, &report, args.json);
    }
    if let Some(q) = &args.quarantine {
        actions::Quarantine::check(&absolute(q)).map_err(|e| eyre!(e))?;
    }
    let model = scan(args.path.clone(), args.pycache_prefix.clone())?;
    let mut sel = args.select.selection();
    sel.include_sourceless = args
        .include_sourceless
        .iter()
        .map(|p| absolute(p))
        .collect();
    let plan = plan_clean(&model, &sel, args.quarantine.as_deref().map(absolute));
    let verb = if plan.quarantine.is_some() {
        "quarantine"
    } else {
        "delete"
    };
    let code = run_plan(
        &plan,
        &Flow {
            dry_run: args.dry_run,
            yes: args.yes,
            json: args.json,
            verb,
            jobs: 1,
        },
        &mut |_| {},
    )?;
    Ok(incomplete(&model, "the clean plan").unwrap_or(code))
}

/// Exit 2 with a line on stderr when the scan behind a plan skipped part of the tree: the
/// plan could not cover what was not read.
pub fn incomplete(model: &ScanModel, what: &str) -> Option<ExitCode> {
    super::scan::warn_skipped(model, what).then(|| ExitCode::from(2))
}

/// Scans one root (plus the prefix tree) with the same checks as `pycache scan`.
pub fn scan(path: Option<PathBuf>, prefix: Option<PathBuf>) -> Result<ScanModel> {
    if let Some(p) = &prefix {
        let root = path
            .as_deref()
            .map_or_else(|| std::env::current_dir().unwrap_or_default(), absolute);
        pycache::actions::paths::check_prefix(&absolute(p), &[root])
            .map_err(|e| color_eyre::eyre::eyre!(e))?;
    }
    let args = super::scan::Args {
        paths: path.into_iter().collect(),
        from: Vec::new(),
        pycache_prefix: prefix,
        exclude: Vec::new(),
        follow_symlinks: false,
        one_file_system: false,
        json: false,
        pretty: false,
        summary: false,
        jsonl: false,
        check: false,
        metrics: None,
        header_only: false,
        check_hash_based_pycs: Default::default(),
        context: Default::default(),
    };
    let opts: ScanOptions = super::scan::options(&args)?;
    scan_with_progress(opts)
}

/// How to run a plan from the CLI.
pub struct Flow {
    /// Only show the plan.
    pub dry_run: bool,
    /// Skip the confirmation.
    pub yes: bool,
    /// JSON output.
    pub json: bool,
    /// What the plan does, for messages ("delete", "quarantine", "compile").
    pub verb: &'static str,
    /// Parallel workers.
    pub jobs: usize,
}

/// Shows the plan, confirms, executes with progress, and reports: the shared tail of
/// `clean` and `recompile`.
pub fn run_plan(plan: &Plan, flow: &Flow, learn: &mut dyn FnMut(&Report)) -> Result<ExitCode> {
    if !flow.json {
        print_quietly(&lines(&plan.render_lines()))?;
    }
    if plan.is_empty() || flow.dry_run {
        if flow.json {
            print_json(plan, None, flow.dry_run)?;
        } else if plan.is_empty() {
            print_quietly(&format!("nothing to {}\n", flow.verb))?;
        } else {
            print_quietly(&format!(
                "dry run: nothing was {}ed\n",
                flow.verb.trim_end_matches('e')
            ))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !flow.yes {
        let terminal = io::stdin().is_terminal() && io::stderr().is_terminal();
        if !terminal {
            bail!(
                "refusing to {} without confirmation: there is no terminal to ask on; rerun with --yes to proceed, or --dry-run to only show the plan",
                flow.verb
            );
        }
        if !confirm(&format!(
            "{}? [y/N] ",
            pycache::text::terminal_safe(plan.headline().trim_start_matches("plan: "))
        ))? {
            print_quietly("cancelled: nothing was changed\n")?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = execute_with_progress(plan, flow.jobs);
    learn(&report);
    finish(Some(plan), &report, flow.json)
}

fn confirm(question: &str) -> Result<bool> {
    eprint!("{question}");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn execute_with_progress(plan: &Plan, jobs: usize) -> Report {
    let draw = io::stderr().is_terminal();
    let mut last = std::time::Instant::now();
    let opts = ExecOptions {
        jobs: jobs.max(1),
        cancel: Some(stop_on_signal()),
    };
    let report = actions::execute(plan, &opts, &mut |p: &ProgressUpdate| {
        if draw && (p.done == p.total || last.elapsed().as_millis() >= 100) {
            last = std::time::Instant::now();
            eprint!(
                "\r\x1b[K{} of {} steps: {}",
                p.done,
                p.total,
                display_path(&p.latest.path)
            );
        }
    });
    if draw {
        eprint!("\r\x1b[K");
    }
    report
}

/// SIGTERM and SIGINT finish the current step and stop the run (a second one ends the
/// process at once): a quarantine then holds whole steps only, all in its journal.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop));
        let _ = signal_hook::flag::register(signal, Arc::clone(&stop));
    }
    stop
}

fn finish(plan: Option<&Plan>, report: &Report, json: bool) -> Result<ExitCode> {
    if json {
        match plan {
            Some(p) => print_json(p, Some(report), false)?,
            None => print_quietly(
                &(serde_json::to_string_pretty(&serde_json::json!({
                    "schema": pycache::scan::SCHEMA,
                    "report": report,
                }))? + "\n"),
            )?,
        }
    } else {
        let mut text = lines(&report.problem_lines());
        text.push_str(&pycache::text::terminal_safe(&report.summary_line()));
        text.push('\n');
        print_quietly(&text)?;
    }
    Ok(if report.has_failures() || report.cancelled {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_json(plan: &Plan, report: Option<&Report>, dry_run: bool) -> Result<()> {
    let doc = serde_json::json!({
        "schema": pycache::scan::SCHEMA,
        "dry_run": dry_run,
        "plan": plan,
        "report": report,
    });
    print_quietly(&(serde_json::to_string_pretty(&doc)? + "\n"))
}

/// One line per item, each terminal-safe: a file name cannot end a plan line early or
/// fake one, nor send escape sequences to the terminal of the admin who confirms.
fn lines(v: &[String]) -> String {
    v.iter()
        .map(|l| format!("{}\n", pycache::text::terminal_safe(l)))
        .collect()
}
