//! The doctor: why a service has no usable caches, what that costs per start, and the fix.
//!
//! [`diagnose`] derives the runtime context ([`context`]: flags, a systemd [`unit`] and
//! its drop-ins via [`service`], or a running [`process`]), picks the interpreter, finds
//! the modules the entry really imports (`crate::imports`), plans where each cache is read
//! and written ([`targets`]), decides whether the service's user can write there
//! ([`access`], [`acl`], [`identity`]), measures compile-versus-load with the interpreter
//! itself ([`cost`]), and turns it all into ranked [`findings`] (plus the [`tree`]'s
//! hygiene) with [`fixes`]. Unit values follow systemd's [`syntax`]; command lines are
//! read by [`command`].

pub mod access;
pub mod acl;
pub mod command;
pub mod context;
pub mod cost;
pub mod findings;
pub mod fixes;
pub mod identity;
pub mod process;
pub mod service;
pub mod syntax;
pub mod targets;
pub mod tree;
pub mod unit;

use crate::actions::interpreters::{self, Interpreters, Origin};
use crate::imports::{self, Reachability};
use crate::scan::{ScanModel, ScanOptions};
use context::{ContextOptions, RuntimeContext};
use cost::{ImportTime, ModuleCost};
use findings::{Facts, Finding};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use targets::{Outcome, Python, Target};

/// A problem that stops the doctor (bad flags, unreadable unit, no interpreter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorError(String);

impl DoctorError {
    /// An error with this one-line message.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl std::fmt::Display for DoctorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DoctorError {}

/// What to diagnose and how.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// The project directory (default: the working directory of the unit or process, the
    /// entry's directory, or the current directory).
    pub path: Option<PathBuf>,
    /// Who runs it and how.
    pub context: ContextOptions,
    /// Measure compile and load times (off: `--no-measure`).
    pub measure: bool,
    /// Also run `python -X importtime` on the entry (executes the application's imports).
    pub measure_import: bool,
    /// Repetitions per measurement (the median is kept).
    pub repeat: usize,
}

/// The diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The project directory.
    pub root: PathBuf,
    /// Who runs the code and how.
    pub context: RuntimeContext,
    /// The interpreter whose caches count.
    pub python: Python,
    /// How the imported modules were chosen.
    pub imports_from: String,
    /// The entry script, compiled at every start and never cached (with its compile ms).
    pub entry_script: Option<(PathBuf, Option<f64>)>,
    /// Each imported module's cache.
    pub targets: Vec<Target>,
    /// Measured compile/load times by source.
    pub costs: Vec<ModuleCost>,
    /// `-X importtime` warm versus cold, when asked for.
    pub import_time: Option<ImportTime>,
    /// Ranked findings.
    pub findings: Vec<Finding>,
    /// Remarks.
    pub notes: Vec<String>,
    /// Repetitions per measurement.
    pub repeat: usize,
}

impl Report {
    /// True when a finding costs time at every start (exit status 1).
    pub fn costs_every_start(&self) -> bool {
        self.findings.iter().any(|f| f.every_start)
    }

    /// The total measured per-start penalty, ms.
    pub fn per_start_ms(&self) -> f64 {
        self.findings.iter().filter_map(|f| f.per_start_ms).sum()
    }
}

/// Runs the whole diagnosis.
pub fn diagnose(opts: &DoctorOptions) -> Result<Report, DoctorError> {
    let mut ctx = context::resolve(&opts.context)?;
    let root = project_root(opts, &ctx)?;
    ctx.entry = resolve_entry(ctx.entry.take(), &root)?;
    if let (Some(e), Some(row)) = (
        &ctx.entry,
        ctx.derived.iter_mut().find(|d| d.what == "entry"),
    ) {
        row.value = e.display().to_string();
    }
    let python = choose_python(&ctx, &root)?;
    let mut notes = std::mem::take(&mut ctx.notes);
    if let Some(p) = &ctx.prefix
        && !python.supports_prefix()
    {
        notes.push(format!(
            "Python {} ignores the cache prefix {} (added in 3.8)",
            python.version,
            p.display()
        ));
    }
    let model = scan_tree(&root, &ctx, &python);
    let (modules, imports_from, entry_script) =
        imported_modules(&root, &ctx, &python, &model, &mut notes);
    let targets = targets::plan(&modules, &python, &ctx);
    let mut costs = Vec::new();
    if opts.measure {
        let mut todo: Vec<(PathBuf, Option<PathBuf>)> = targets
            .iter()
            .filter(|t| t.outcome != Outcome::Loads)
            .map(|t| (t.source.clone(), t.ignored.clone()))
            .collect();
        todo.extend(entry_script.iter().map(|e| (e.clone(), None)));
        if !todo.is_empty() {
            match cost::measure(&python.path, &todo, ctx.optimize, opts.repeat) {
                Ok(c) => costs = c,
                Err(e) => notes.push(e.to_string()),
            }
        }
        for c in costs.iter().filter(|c| c.error.is_some()) {
            notes.push(format!(
                "{}: not measured: {}",
                c.source.display(),
                c.error.clone().unwrap_or_default()
            ));
        }
    }
    let entry = ctx.entry.clone().or_else(|| entry_script.clone());
    let import_time = match (&entry, opts.measure_import) {
        (Some(entry), true) => {
            let cwd = ctx.working_dir.clone().unwrap_or_else(|| root.clone());
            let names: Vec<String> = modules.iter().map(|m| m.0.clone()).collect();
            match cost::measure_import(&python.path, entry, &ctx.env, &cwd, opts.repeat, &names) {
                Ok(t) => Some(t),
                Err(e) => {
                    notes.push(format!("--measure-import: {e}"));
                    None
                }
            }
        }
        (None, true) => {
            notes.push("--measure-import needs an entry script: pass --entry FILE".into());
            None
        }
        _ => None,
    };
    let by_source: HashMap<PathBuf, ModuleCost> = costs
        .iter()
        .map(|c| (c.source.clone(), c.clone()))
        .collect();
    let facts = Facts {
        ctx: &ctx,
        py: &python,
        root: &root,
        targets: &targets,
        costs: &by_source,
        model: &model,
    };
    let findings = findings::build(&facts);
    let entry_script = entry_script.map(|e| {
        let ms = by_source.get(&e).and_then(|c| c.compile_ms);
        (e, ms)
    });
    Ok(Report {
        root,
        context: ctx,
        python,
        imports_from,
        entry_script,
        targets,
        costs,
        import_time,
        findings,
        notes,
        repeat: opts.repeat,
    })
}

fn project_root(opts: &DoctorOptions, ctx: &RuntimeContext) -> Result<PathBuf, DoctorError> {
    let given = opts
        .path
        .clone()
        .or_else(|| ctx.working_dir.clone())
        .or_else(|| {
            ctx.entry
                .as_ref()
                .and_then(|e| e.parent().map(Path::to_path_buf))
        })
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let root = given.canonicalize().map_err(|e| {
        DoctorError::new(format!(
            "cannot open the project directory {}: {e}",
            given.display()
        ))
    })?;
    if !root.is_dir() {
        return Err(DoctorError::new(format!(
            "{} is not a directory; pass the project directory",
            root.display()
        )));
    }
    Ok(root)
}

/// A relative entry is looked up in the current directory, then in the project.
fn resolve_entry(entry: Option<PathBuf>, root: &Path) -> Result<Option<PathBuf>, DoctorError> {
    let Some(e) = entry else { return Ok(None) };
    if e.is_absolute() {
        return Ok(Some(e));
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    [cwd.join(&e), root.join(&e)]
        .into_iter()
        .find(|p| p.is_file())
        .map(Some)
        .ok_or_else(|| {
            DoctorError::new(format!(
                "--entry {}: no such file in the current directory or in {}",
                e.display(),
                root.display()
            ))
        })
}

/// `--python`, the unit's or process's interpreter, a virtualenv in the project, or the
/// newest interpreter found (discovery and probing are `actions::interpreters`').
fn choose_python(ctx: &RuntimeContext, root: &Path) -> Result<Python, DoctorError> {
    let (found, from) = if let Some(p) = &ctx.python {
        let from = ctx
            .derived
            .iter()
            .rev()
            .find(|d| d.what == "python")
            .map_or("--python".into(), |d| d.from.clone());
        let i = interpreters::probe(p, Origin::Flag).map_err(|e| {
            DoctorError::new(format!(
                "cannot use {} as the interpreter ({e}); pass --python with the interpreter the service runs",
                p.display()
            ))
        })?;
        (i, from)
    } else {
        let venv = imports::venv::detect(root);
        let venvs: Vec<PathBuf> = venv.into_iter().collect();
        let mut all = Interpreters::discover(&[], &venvs);
        all.probe_all();
        let pick = all.found.iter().find(|i| i.origin == Origin::Venv).cloned();
        let from = if pick.is_some() {
            "the project's virtualenv"
        } else {
            "the newest interpreter found (pass --python or --unit to choose)"
        };
        let i = pick.or_else(|| all.newest().cloned()).ok_or_else(|| {
            DoctorError::new(
                "no Python interpreter found; pass --python PATH (the service's interpreter)",
            )
        })?;
        (i, from.to_string())
    };
    Ok(Python {
        path: found.path,
        version: found.version,
        python: found.python,
        tag: found.tag,
        magic: found.magic,
        from,
    })
}

type Imported = (Vec<(String, PathBuf, bool)>, String, Option<PathBuf>);

/// The modules the entry imports (import graph), or every module with a source when no
/// entry point can be followed.
fn imported_modules(
    root: &Path,
    ctx: &RuntimeContext,
    py: &Python,
    model: &ScanModel,
    notes: &mut Vec<String>,
) -> Imported {
    let opts = imports::Options {
        root: root.to_path_buf(),
        entries: ctx.entry.iter().map(|e| e.display().to_string()).collect(),
        paths: Vec::new(),
        venv: None,
        python: Some(py.python),
        scope: imports::Scope::Project,
    };
    let graph = match imports::analyze(&opts) {
        Ok(g) => g,
        Err(e) => {
            let all: Vec<(String, PathBuf, bool)> = model
                .modules
                .values()
                .filter(|m| m.source_exists())
                .map(|m| (m.name.clone(), m.source.clone(), false))
                .collect();
            let how = format!(
                "every module with a source ({}): the import analysis failed ({e})",
                all.len()
            );
            return (all, how, None);
        }
    };
    notes.extend(graph.notes.iter().cloned());
    let followed = graph.entries.iter().any(|e| e.target.is_some());
    if !followed {
        let all: Vec<(String, PathBuf, bool)> = graph
            .modules
            .iter()
            .filter(|m| m.health.runs())
            .map(|m| (m.name.clone(), m.file.clone(), false))
            .collect();
        let how = format!(
            "every module with a source ({}): no entry point to follow; pass --entry FILE",
            all.len()
        );
        return (all, how, None);
    }
    let entry_script = graph
        .modules
        .iter()
        .find(|m| m.reachability == Reachability::Entry)
        .map(|m| m.file.clone());
    let picked: Vec<(String, PathBuf, bool)> = graph
        .modules
        .iter()
        .filter(|m| matches!(m.reachability, Reachability::Imported | Reachability::Lazy))
        .map(|m| {
            (
                m.name.clone(),
                m.file.clone(),
                m.reachability == Reachability::Lazy,
            )
        })
        .collect();
    let labels: Vec<&str> = graph.entries.iter().map(|e| e.label.as_str()).collect();
    let how = format!(
        "{} imported from {} (import graph of the sources)",
        picked.len(),
        labels.join(", ")
    );
    (picked, how, entry_script)
}

fn scan_tree(root: &Path, ctx: &RuntimeContext, py: &Python) -> ScanModel {
    let mut opts = ScanOptions::new(vec![root.to_path_buf()]);
    opts.prefix = ctx
        .prefix
        .clone()
        .filter(|p| py.supports_prefix() && p.is_dir());
    crate::scan::scan(&opts)
}
