//! `pycache imports [PATH]`: which project modules the entry points import, which they
//! never import, and which imported modules have no fresh cache.
//!
//! `--json` prints one object: `root`, `python`, `python_from`, `entries[]` (`label`,
//! `kind`, `module`, `path`, `detected`, `problem`), `notes`, `search_path`, `venv`,
//! `modules[]` (`module`, `path`, `is_package`, `reachability`: `entry`, `imported`,
//! `lazy`, `type-checking-only`, `not-imported`; `chain`, `health` with its `status`,
//! `newer_syntax`, `imports[]` with `line`, `module`, `resolved`, `path`, `via`, where
//! the statement sits, and `at_start`: why an import in a function or a `lazy import` runs
//! at start all the same, e.g. `wsgi.py line 4 calls create_app()`), `unresolved[]`, `external` (name to `stdlib`, `third-party`,
//! `missing`), `skipped`, `walk_errors`, then `cache_tag`, `pycache_prefix`,
//! `caches_checked`, and `findings[]` (`kind`: `missing-import`, `cannot-compile`,
//! `no-fresh-cache`, `unused-cache`, `unread-file`; `path`, `line`, `message`).

mod render;

use crate::cli::path_arg::PathArg;
use color_eyre::eyre::{Result, eyre};
use pycache::imports::findings::{Finding, cache_findings, source_findings};
use pycache::imports::graph::ImportGraph;
use pycache::imports::parse::Health;
use pycache::imports::{Options, Scope, analyze, lazy};
use serde::Serialize;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  Which modules does the service import, and which lack a cache?
    pycache imports /srv/app
  A Django project run with the virtualenv's Python 3.12:
    pycache imports /srv/site --entry manage.py --venv /srv/site/.venv
  A service that sets PYTHONPYCACHEPREFIX (only caches under it count):
    pycache imports /opt/app --pycache-prefix /opt/app/instance/tmp

JSON (--json): root, python, python_from, entries, notes, search_path, venv, modules (module, path, reachability, chain, health, imports), unresolved, external, skipped, walk_errors, cache_tag, pycache_prefix, caches_checked, findings (kind, path, line, message).

Exit status: 0 no findings; 1 findings (a missing import, a module that does not compile, an imported module without a fresh cache, caches nothing imports, a pyproject.toml or .pth that was not read); 2 usage or I/O error, or part of the tree (a directory, a source) could not be read: one line on stderr says what was skipped.";

const WHAT: &str = "What the service runs";
const CACHES: &str = "Caches";

/// Arguments of `imports`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The project directory (default: the current one). A .py file means its directory,
    /// with that file as the entry point.
    #[arg(value_parser = PathArg)]
    pub path: Option<PathBuf>,
    /// An entry point: a script (`python FILE`) or a module name (`python -m NAME`).
    /// Repeatable. Without it: run.py, wsgi.py, asgi.py, manage.py, app.py, __main__.py
    /// and [project.scripts] are detected.
    #[arg(long = "entry", value_name = "FILE|MODULE", help_heading = WHAT)]
    pub entries: Vec<String>,
    /// An extra import root, like PYTHONPATH. Repeatable.
    #[arg(value_parser = PathArg, long = "path", value_name = "DIR", help_heading = WHAT)]
    pub paths: Vec<PathBuf>,
    /// The virtualenv whose site-packages holds third-party modules (default: .venv,
    /// venv or env beside the project, if it has a pyvenv.cfg).
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = WHAT)]
    pub venv: Option<PathBuf>,
    /// Target Python: a version like 3.12, or an interpreter's path (asked its version)
    /// (default: the virtualenv's, else 3.15).
    #[arg(long, value_name = "PATH|VERSION", value_parser = crate::cli::context_args::parse_python, help_heading = WHAT)]
    pub python: Option<pycache::context::PythonSpec>,
    /// PEP 810 mode of the interpreter, as `-X lazy_imports=MODE` (3.15+): normal (only
    /// `lazy import` and `__lazy_modules__` defer) or all (default: $PYTHON_LAZY_IMPORTS).
    #[arg(long, value_name = "MODE", value_parser = ["normal", "all"], help_heading = WHAT)]
    pub lazy_imports: Option<String>,
    /// The PYTHONPYCACHEPREFIX the service runs with (default: $PYTHONPYCACHEPREFIX):
    /// then only caches under it count, as for Python.
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = CACHES)]
    pub pycache_prefix: Option<PathBuf>,
    /// Parse every .py under PATH, including virtualenvs and hidden directories, and skip
    /// the cache scan (for whole libraries and the benchmark).
    #[arg(long, help_heading = CACHES)]
    pub all_files: bool,
    /// Print JSON instead of text (fields: see below).
    #[arg(long)]
    pub json: bool,
}

/// `--lazy-imports`, else `PYTHON_LAZY_IMPORTS` as the interpreter reads it.
fn lazy_mode(flag: Option<&str>) -> Result<lazy::Mode> {
    let x: Vec<String> = flag
        .map(|m| format!("lazy_imports={m}"))
        .into_iter()
        .collect();
    let x: Vec<&str> = x.iter().map(String::as_str).collect();
    let env = std::env::var("PYTHON_LAZY_IMPORTS").ok();
    lazy::Mode::of_process(&x, env.as_deref(), false)
        .map_err(|e| eyre!("{e}; unset it or pass --lazy-imports normal|all"))
}

/// The `--json` document: the graph plus its findings.
#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    kind: &'static str,
    #[serde(flatten)]
    graph: &'a ImportGraph,
    cache_tag: String,
    pycache_prefix: Option<String>,
    caches_checked: bool,
    findings: &'a [Finding],
}

/// A FIFO or a device given as PATH is neither a project nor a script: one line that says
/// so (before: a FIFO gave an empty report and exit 0).
fn refuse_special(path: &std::path::Path) -> Result<()> {
    let Some(kind) = pycache::fsread::special_kind(path) else {
        return Ok(());
    };
    Err(eyre!(
        "PATH {}: {kind}, not a project directory or a Python file; pass the directory that holds the code",
        pycache::text::display_path(path)
    ))
}

/// The parts of the tree the analysis did not read, as `path: why`: directories first,
/// then sources that exist but were not read. A dangling link is no hidden part: there is
/// nothing to read, and Python finds no module there either.
fn unread_parts(graph: &ImportGraph) -> Vec<String> {
    let dirs = graph.walk_errors.iter().map(|(p, why)| (p, why.clone()));
    let sources = graph.modules.iter().filter_map(|m| match &m.health {
        Health::Unreadable { message } if !dangling(&m.file) => Some((&m.file, message.clone())),
        _ => None,
    });
    dirs.chain(sources)
        .map(|(p, why)| format!("{}: {why}", pycache::text::display_path(p)))
        .collect()
}

/// A name whose target does not exist (a link to nowhere).
fn dangling(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// Runs `imports`.
pub fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        root: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
        entries: args.entries.clone(),
        paths: args.paths.clone(),
        venv: args.venv.clone(),
        python: args
            .python
            .as_ref()
            .map(pycache::context::python::version_of)
            .transpose()
            .map_err(|e| eyre!(e))?,
        scope: if args.all_files {
            Scope::AllFiles
        } else {
            Scope::Project
        },
        lazy_imports: lazy_mode(args.lazy_imports.as_deref())?,
    };
    refuse_special(&opts.root)?;
    let graph = analyze(&opts).map_err(|e| eyre!("{e}"))?;
    let mut findings = source_findings(&graph);
    let caches_checked = !args.all_files;
    let mut prefix = None;
    if caches_checked {
        let scan_opts = pycache::scan::ScanOptions::new(vec![graph.root.clone()])
            .with_prefix(args.pycache_prefix.clone());
        prefix = scan_opts.prefix.clone();
        let scan = pycache::scan::scan(&scan_opts).map_err(|why| super::scan::crashed(&why))?;
        findings.extend(cache_findings(&graph, &scan));
    }
    let text = if args.json {
        let report = Report {
            schema: pycache::scan::SCHEMA,
            kind: "imports",
            graph: &graph,
            cache_tag: pycache::imports::findings::cache_tag(&graph),
            pycache_prefix: prefix.map(|p| pycache::text::path_text(&p)),
            caches_checked,
            findings: &findings,
        };
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        let shown = render::Shown {
            findings: &findings,
            caches_checked,
            prefix: prefix.as_deref(),
        };
        // Module and file names come from the disk: no control character reaches the
        // terminal (the renderer escapes names; this catches any a message carries).
        pycache::text::terminal_safe_lines(&render::render(&graph, &shown, super::wrap::width()))
            .into_owned()
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    // Directories the import walk could not read and sources that were not read (a FIFO,
    // a device, permission denied): the graph is incomplete, so not 0 (before: an unread
    // source was only listed under "parse problems", and the exit was 0).
    let unread = unread_parts(&graph);
    if let Some(first) = unread.first() {
        super::scan::say_incomplete("the import graph", ("part", "parts"), unread.len(), first);
        return Ok(ExitCode::from(2));
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
