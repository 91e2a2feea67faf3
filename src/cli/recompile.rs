//! `pycache recompile [PATH]`: scan, find the interpreters the plan needs, show the plan,
//! confirm, compile with the real interpreters, report per file.
//!
//! Interpreters are only started when the plan has something to compile for them, so a
//! no-op run costs about a scan. Exit: 0 done, 1 when a file failed to compile, 2 usage or
//! I/O error.

use super::clean::{Flow, SelectArgs, absolute, run_plan, scan};
use crate::cli::path_arg::PathArg;
use color_eyre::eyre::{Result, bail};
use pycache::actions::interpreters::venvs_under;
use pycache::actions::{Interpreters, KnownFailures, Needed, Prepared, RecompileOptions};
use pycache::pyc::Invalidation;
use pycache::scan::ScanModel;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `recompile`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  What would be compiled, and with which interpreter? (changes nothing)
    pycache recompile /srv/app --dry-run
  Precompile at deploy time with the service's interpreter, so no start compiles:
    pycache recompile /srv/app --python /srv/app/.venv/bin/python --yes
  Switch the 3.13 caches to checked-hash (mtimes stop mattering, e.g. after an rsync deploy):
    pycache recompile /srv/app --tag cpython-313 --invalidation-mode checked-hash --yes

Interpreters are started only when the plan has something for them to compile. Run as root,
new files get the owner of their directory, so the service can still rewrite them.

Interpreters are run only when nobody but root and you can change them (file and every
directory above); a dry run runs none from the tree (a virtualenv's version comes from its
pyvenv.cfg). Caches are written by directory handle, never through a symlink.

Exit status: 0 done, nothing to do, or declined; 1 a file failed to compile or a planned
cache was not written (no interpreter for its tag, a symlink in the way; the report names
it); 2 usage or I/O error.")]
pub struct Args {
    /// Directory to scan and recompile (default: the current directory).
    #[arg(value_parser = PathArg)]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Compile with this interpreter: a path, or a version like 3.13 (the installed one)
    /// (repeatable); its tag is then compiled for every selected module. Default: the
    /// interpreters whose tags already have caches in the tree.
    #[arg(long = "python", value_name = "PATH|VERSION", value_parser = crate::cli::context_args::parse_python)]
    pub pythons: Vec<pycache::context::PythonSpec>,
    /// Write this invalidation mode instead of keeping each cache's own.
    #[arg(long, value_enum, value_name = "MODE")]
    pub invalidation_mode: Option<ModeArg>,
    /// Only these optimisation levels, comma-separated (default: each cache's own; 0 for new).
    #[arg(long = "opt", value_name = "LEVELS", value_delimiter = ',', value_parser = clap::value_parser!(u8).range(0..=2))]
    pub opt: Vec<u8>,
    /// Replace existing caches only; do not create missing ones.
    #[arg(long)]
    pub existing_only: bool,
    /// When run as root, keep root as the owner of new files (default: the owner of the
    /// directory they are created in, so the service can still write its caches).
    #[arg(long)]
    pub keep_root_owner: bool,
    /// Compile again the sources that failed before and have not changed since (by default
    /// their errors are reported from memory, without starting Python).
    #[arg(long)]
    pub retry_failed: bool,
    /// Parallel compile workers (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// A PYTHONPYCACHEPREFIX tree: scanned too, and new caches are written there.
    #[arg(value_parser = PathArg, long, value_name = "DIR")]
    pub pycache_prefix: Option<PathBuf>,
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

/// `--invalidation-mode` values (as compileall spells them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Source mtime and size recorded.
    Timestamp,
    /// Source hash recorded and checked on import.
    CheckedHash,
    /// Source hash recorded, not checked by default.
    UncheckedHash,
}

impl From<ModeArg> for Invalidation {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Timestamp => Invalidation::Timestamp,
            ModeArg::CheckedHash => Invalidation::CheckedHash,
            ModeArg::UncheckedHash => Invalidation::UncheckedHash,
        }
    }
}

/// Runs `recompile`.
pub fn run(args: Args) -> Result<ExitCode> {
    let pythons: Vec<PathBuf> = args
        .pythons
        .iter()
        .map(|spec| match spec {
            pycache::context::PythonSpec::Path(p) => Ok(absolute(p)),
            pycache::context::PythonSpec::Version(v) => pycache::context::python::installed(*v),
        })
        .collect::<std::result::Result<_, String>>()
        .map_err(|e| color_eyre::eyre::eyre!(e))?;
    let model = scan(args.path.clone(), args.pycache_prefix.clone())?;
    let sel = args.select.selection();
    let mut opts = RecompileOptions {
        mode: args.invalidation_mode.map(Invalidation::from),
        opt_levels: (!args.opt.is_empty()).then(|| args.opt.clone()),
        missing: !args.existing_only,
        explicit_keys: Vec::new(),
        chown: nix::unistd::geteuid().is_root() && !args.keep_root_owner,
    };
    let mut stored = KnownFailures::load_default();
    if let Some(why) = stored.take_refusal() {
        eprintln!("warning: cannot remember compile errors for the next run: {why}");
    }
    let ignored = KnownFailures::default();
    let mut interps = Interpreters::default();
    // A dry run executes nothing from the tree: its virtualenvs' interpreters are
    // described from their pyvenv.cfg (see `Interpreters::planning_only`).
    let discover = |explicit: &[PathBuf], venvs: &[PathBuf]| {
        let found = Interpreters::discover(explicit, venvs);
        if args.dry_run {
            found.planning_only(&model.roots)
        } else {
            found
        }
    };
    if !pythons.is_empty() {
        interps = discover(&pythons, &[]);
        interps.probe_all();
        if let Some(problem) = interps.problems.first() {
            // A refusal already says what to do ("...; pass --python with ..."); a failed
            // probe only says what went wrong.
            let advice = if problem.contains("; ") {
                ""
            } else {
                "; pass --python with the path of an interpreter, or a version like 3.13"
            };
            bail!("--python: {problem}{advice}");
        }
        opts.explicit_keys = interps.found.iter().map(|i| i.key()).collect();
    }
    let failures = if args.retry_failed { &ignored } else { &stored };
    let prepared = Prepared::new(&model, &sel, &opts, failures);
    if pythons.is_empty() {
        // Interpreters start only when the plan has work for them.
        match prepared.needed() {
            Needed::Keys(keys) if keys.is_empty() => {}
            Needed::Keys(keys) => {
                interps = discover(&[], &venvs(&model));
                interps.probe_for(&keys);
            }
            Needed::Newest => {
                interps = discover(&[], &venvs(&model));
                interps.probe_all();
            }
        }
    }
    let plan = prepared.plan(&interps);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let flow = Flow {
        dry_run: args.dry_run,
        yes: args.yes,
        json: args.json,
        verb: "compile",
        jobs,
    };
    let mut not_written = 0u64;
    let code = run_plan(&plan, &flow, &mut |report| {
        stored.learn(&plan, report);
        if let Err(e) = stored.save() {
            eprintln!("warning: cannot remember compile errors for the next run: {e}");
        }
        not_written = report.summary.skipped;
    })?;
    if let Some(code) = super::clean::incomplete(&model, "the recompile plan") {
        return Ok(code);
    }
    if not_written > 0 && code == ExitCode::SUCCESS {
        // Exit 0 means the work was done: a cache that was not written is not done.
        let why = if plan.totals.unavailable > 0 {
            format!(
                "{} had no interpreter for their tag",
                plan.totals.unavailable
            )
        } else {
            "see the reasons above".to_string()
        };
        eprintln!(
            "error: {not_written} planned cache file{} not written ({why}); name an interpreter with --python PATH, or narrow the selection",
            if not_written == 1 { " was" } else { "s were" }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(code)
}

/// Virtualenvs of the project: the roots themselves, `.venv`/`venv` in them, and any
/// directory that holds a `lib/pythonX.Y/site-packages` with scanned sources.
fn venvs(model: &ScanModel) -> Vec<PathBuf> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for r in &model.roots {
        dirs.insert(r.clone());
        dirs.insert(r.join(".venv"));
        dirs.insert(r.join("venv"));
    }
    const MARK: &[u8] = b"/site-packages/";
    for source in model.modules.keys() {
        let b = source.as_os_str().as_bytes();
        if let Some(i) = b.windows(MARK.len()).position(|w| w == MARK) {
            // .../venv/lib/pythonX.Y/site-packages/...: three levels up is the venv.
            let site = Path::new(OsStr::from_bytes(&b[..i + MARK.len() - 1]));
            if let Some(venv) = site.parent().and_then(Path::parent).and_then(Path::parent) {
                dirs.insert(venv.to_path_buf());
            }
        }
    }
    venvs_under(dirs)
}
