//! `pycache imports [PATH]`: which project modules the entry points import, which they
//! never import, and which imported modules have no fresh cache.
//!
//! `--json` prints one object: `root`, `python`, `python_from`, `entries[]` (`label`,
//! `kind`, `module`, `path`, `detected`, `problem`), `notes`, `search_path`, `venv`,
//! `modules[]` (`module`, `path`, `is_package`, `reachability`: `entry`, `imported`,
//! `lazy`, `type-checking-only`, `not-imported`; `chain`, `health` with its `status`,
//! `newer_syntax`, `imports[]` with `line`, `module`, `resolved`, `path`, `via` and where
//! the statement sits), `unresolved[]`, `external` (name to `stdlib`, `third-party`,
//! `missing`), `skipped`, `walk_errors`, then `cache_tag`, `pycache_prefix`,
//! `caches_checked`, and `findings[]` (`kind`: `missing-import`, `cannot-compile`,
//! `no-fresh-cache`, `unused-cache`; `path`, `line`, `message`).

mod render;

use color_eyre::eyre::{Result, eyre};
use pycache::imports::findings::{Finding, cache_findings, source_findings};
use pycache::imports::graph::ImportGraph;
use pycache::imports::{Options, Scope, analyze, venv};
use pycache::pyc::PyVersion;
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

Exit status: 0 no findings; 1 findings (a missing import, a module that does not compile, an imported module without a fresh cache, caches nothing imports); 2 usage or I/O error.";

const WHAT: &str = "What the service runs";
const CACHES: &str = "Caches";

/// Arguments of `imports`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The project directory (default: the current one). A .py file means its directory,
    /// with that file as the entry point.
    pub path: Option<PathBuf>,
    /// An entry point: a script (`python FILE`) or a module name (`python -m NAME`).
    /// Repeatable. Without it: run.py, wsgi.py, asgi.py, manage.py, app.py, __main__.py
    /// and [project.scripts] are detected.
    #[arg(long = "entry", value_name = "FILE|MODULE", help_heading = WHAT)]
    pub entries: Vec<String>,
    /// An extra import root, like PYTHONPATH. Repeatable.
    #[arg(long = "path", value_name = "DIR", help_heading = WHAT)]
    pub paths: Vec<PathBuf>,
    /// The virtualenv whose site-packages holds third-party modules (default: .venv,
    /// venv or env beside the project, if it has a pyvenv.cfg).
    #[arg(long, value_name = "DIR", help_heading = WHAT)]
    pub venv: Option<PathBuf>,
    /// Target Python version, e.g. 3.12 (default: the virtualenv's, else 3.13).
    #[arg(long, value_name = "VERSION", value_parser = parse_python, help_heading = WHAT)]
    pub python: Option<PyVersion>,
    /// The PYTHONPYCACHEPREFIX the service runs with (default: $PYTHONPYCACHEPREFIX):
    /// then only caches under it count, as for Python.
    #[arg(long, value_name = "DIR", help_heading = CACHES)]
    pub pycache_prefix: Option<PathBuf>,
    /// Parse every .py under PATH, including virtualenvs and hidden directories, and skip
    /// the cache scan (for whole libraries and the benchmark).
    #[arg(long, help_heading = CACHES)]
    pub all_files: bool,
    /// Print JSON instead of text (fields: see below).
    #[arg(long)]
    pub json: bool,
}

fn parse_python(text: &str) -> std::result::Result<PyVersion, String> {
    venv::parse_version(text).ok_or_else(|| format!("'{text}' is not a version like 3.12"))
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

/// Runs `imports`.
pub fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        root: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
        entries: args.entries.clone(),
        paths: args.paths.clone(),
        venv: args.venv.clone(),
        python: args.python,
        scope: if args.all_files {
            Scope::AllFiles
        } else {
            Scope::Project
        },
    };
    let graph = analyze(&opts).map_err(|e| eyre!("{e}"))?;
    let mut findings = source_findings(&graph);
    let caches_checked = !args.all_files;
    let mut prefix = None;
    if caches_checked {
        let scan_opts = pycache::scan::ScanOptions::new(vec![graph.root.clone()])
            .with_prefix(args.pycache_prefix.clone());
        prefix = scan_opts.prefix.clone();
        let scan = pycache::scan::scan(&scan_opts);
        findings.extend(cache_findings(&graph, &scan));
    }
    let text = if args.json {
        let report = Report {
            schema: pycache::scan::SCHEMA,
            kind: "imports",
            graph: &graph,
            cache_tag: pycache::imports::findings::cache_tag(&graph),
            pycache_prefix: prefix.map(|p| pycache::scan::display_path(&p)),
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
        render::render(&graph, &shown, super::wrap::width())
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
