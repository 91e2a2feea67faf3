//! The doctor: why a service has no usable caches, what that costs per start, and the fix.
//!
//! [`diagnose`] derives the runtime context ([`context`]: flags, a systemd [`unit`] and
//! its drop-ins via [`service`], or a running [`process`]), picks the [`interpreter`], finds
//! the [`modules`] the entry really imports (`crate::imports`), plans where each cache is read
//! and written ([`targets`]), decides whether the service's user can write there
//! ([`access`], [`acl`], [`identity`]), measures compile-versus-load with the interpreter
//! itself ([`cost`]), and turns it all into ranked [`findings`] (what each start does in
//! [`startup`], the [`tree`]'s hygiene) with [`fixes`] to paste. Unit values follow systemd's [`syntax`]; command lines are
//! read by [`command`].

pub mod access;
pub mod acl;
pub mod command;
/// The runtime context now lives in [`crate::context`]; this path keeps working.
pub use crate::context::runtime as context;
pub mod cost;
pub mod findings;
pub mod fixes;
pub mod identity;
pub mod image;
pub use crate::context::interpreter;
pub mod modules;
pub mod process;
pub mod security;
pub mod service;
pub mod startup;
pub mod syntax;
pub mod targets;
pub mod tree;
pub mod unit;

use crate::scan::ScanModel;
use context::{ContextOptions, RuntimeContext};
use cost::{ImportTime, ModuleCost};
use findings::{Broken, Facts, Finding, FindingKind};
use modules::Imported;
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

/// The entry script: it runs as `__main__`, so Python compiles it at every start and never
/// caches it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryScript {
    /// The script.
    pub path: PathBuf,
    /// What compiling it takes, ms (None: not measured).
    pub compile_ms: Option<f64>,
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
    /// True when the modules are those the entry imports (not every module of the tree).
    pub followed: bool,
    /// The entry script, when there is one.
    pub entry_script: Option<EntryScript>,
    /// Each imported module's cache.
    pub targets: Vec<Target>,
    /// Imported modules that do not compile (no cache can exist for them).
    pub broken: Vec<Broken>,
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
    /// Parts of the tree the scan could not read, one line each (`path: why`): the
    /// diagnosis may miss caches there, so it is not a success.
    pub skipped: Vec<String>,
}

impl Report {
    /// True when a finding costs time at every start.
    pub fn costs_every_start(&self) -> bool {
        self.findings.iter().any(|f| f.every_start)
    }

    /// True when something needs fixing now (exit status 1): a per-start cost, an
    /// imported module that does not compile, or files others can write (code injection).
    pub fn needs_action(&self) -> bool {
        self.costs_every_start()
            || self.findings.iter().any(|f| {
                matches!(
                    f.kind,
                    FindingKind::CannotCompile | FindingKind::CorruptCache | FindingKind::Insecure
                )
            })
    }

    /// The total measured per-start penalty, ms.
    pub fn per_start_ms(&self) -> f64 {
        self.findings.iter().filter_map(|f| f.per_start_ms).sum()
    }
}

/// Runs the whole diagnosis.
pub fn diagnose(opts: &DoctorOptions) -> Result<Report, DoctorError> {
    let mut ctx = context::resolve(&opts.context)?;
    let root = crate::context::settle(&mut ctx, opts.path.as_deref())?;
    let mut notes = std::mem::take(&mut ctx.notes);
    let run = opts.measure || opts.measure_import;
    let mut model = scan_tree(&root, &ctx, true)?;
    let tags = crate::context::tags_in(&model);
    let python = interpreter::choose_python(&ctx, &root, run, &tags, &mut notes)?;
    if let Some(p) = &ctx.prefix
        && !python.supports_prefix()
    {
        notes.push(format!(
            "Python {} ignores the cache prefix {} (added in 3.8)",
            python.version,
            p.display()
        ));
        model = scan_tree(&root, &ctx, false)?;
    }
    ctx.interpreter = Some(python.clone());
    let skipped: Vec<String> = model
        .errors
        .iter()
        .filter(|e| e.kind != crate::scan::ScanErrorKind::SymlinkLoop)
        .map(|e| format!("{}: {}", crate::text::display_path(&e.path), e.message))
        .collect();
    let imported = modules::imported_modules(&root, &ctx, &python, &model, &mut notes);
    let targets = targets::plan(&imported.modules, &python, &ctx);
    let costs = if opts.measure {
        measure_costs(
            &python,
            &targets,
            imported.entry_script.as_ref(),
            &ctx,
            opts,
            &mut notes,
        )
    } else {
        Vec::new()
    };
    let import_time = opts
        .measure_import
        .then(|| measure_import_time(&ctx, &root, &python, &imported, opts, &mut notes))
        .flatten();
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
        broken: &imported.broken,
        followed: imported.followed,
    };
    let findings = findings::build(&facts);
    let entry_script = imported.entry_script.map(|path| EntryScript {
        compile_ms: by_source.get(&path).and_then(|c| c.compile_ms),
        path,
    });
    Ok(Report {
        root,
        context: ctx,
        python,
        imports_from: imported.how,
        followed: imported.followed,
        entry_script,
        targets,
        broken: imported.broken,
        costs,
        import_time,
        findings,
        notes,
        repeat: opts.repeat,
        skipped,
    })
}

/// Compile and load times of every module that does not load a cache now, and of the
/// entry script (compiled at every start whatever happens).
fn measure_costs(
    python: &Python,
    targets: &[Target],
    entry_script: Option<&PathBuf>,
    ctx: &RuntimeContext,
    opts: &DoctorOptions,
    notes: &mut Vec<String>,
) -> Vec<ModuleCost> {
    let mut todo: Vec<(PathBuf, Option<PathBuf>)> = targets
        .iter()
        .filter(|t| t.outcome != Outcome::Loads)
        .map(|t| (t.source.clone(), t.ignored.clone()))
        .collect();
    todo.extend(entry_script.map(|e| (e.clone(), None)));
    if todo.is_empty() {
        return Vec::new();
    }
    let costs = match cost::measure(&python.path, &todo, ctx.optimize, opts.repeat) {
        Ok(c) => c,
        Err(e) => {
            notes.push(e.to_string());
            return Vec::new();
        }
    };
    for c in &costs {
        if let Some(err) = &c.error {
            notes.push(format!("{}: not measured: {err}", c.source.display()));
        }
    }
    costs
}

fn measure_import_time(
    ctx: &RuntimeContext,
    root: &Path,
    python: &Python,
    imported: &Imported,
    opts: &DoctorOptions,
    notes: &mut Vec<String>,
) -> Option<ImportTime> {
    let Some(entry) = ctx.entry.as_ref().or(imported.entry_script.as_ref()) else {
        notes.push("--measure-import needs an entry script: pass --entry FILE".into());
        return None;
    };
    let cwd = ctx
        .working_dir
        .clone()
        .unwrap_or_else(|| root.to_path_buf());
    let names: Vec<String> = imported.modules.iter().map(|m| m.0.clone()).collect();
    let how = cost::ImportRun {
        env: &ctx.env,
        cwd: &cwd,
        run_as: import_user(ctx, root),
    };
    cost::measure_import(&python.path, entry, &how, opts.repeat, &names)
        .map_err(|e| notes.push(format!("--measure-import: {e}")))
        .ok()
}

/// Whom root runs the application's imports as: the service user when it is known
/// (`--user`, the unit's `User=`, the process), else the project directory's owner; None
/// when pycache is not root or that user is root.
fn import_user(ctx: &RuntimeContext, root: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let told = ctx
        .derived
        .iter()
        .any(|d| d.what == "user" && !d.from.starts_with("the current user"));
    let (uid, gid) = match (told, ctx.identity.uid, ctx.identity.gid) {
        (true, Some(uid), Some(gid)) => (uid, gid),
        _ => {
            let meta = std::fs::metadata(root).ok()?;
            let gid = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(meta.uid()))
                .ok()
                .flatten()
                .map_or(meta.gid(), |u| u.gid.as_raw());
            (meta.uid(), gid)
        }
    };
    (uid != 0).then_some((uid, gid))
}

/// The project directory: the given path, else the working directory of the unit or
/// process, the entry's directory, or the current directory; canonical.
pub(crate) fn project_root(
    path: Option<&Path>,
    ctx: &RuntimeContext,
) -> Result<PathBuf, DoctorError> {
    let given = path
        .map(Path::to_path_buf)
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
            "cannot open the project directory {}: {}; pass the directory that holds the service's code",
            given.display(),
            crate::imports::io_reason(&e)
        ))
    })?;
    if !root.is_dir() {
        return Err(DoctorError::new(format!(
            "{} is a file, not a directory; pass the project directory (and the script with --entry)",
            root.display()
        )));
    }
    Ok(root)
}

/// A relative entry is looked up in the current directory, then in the project.
pub(crate) fn resolve_entry(
    entry: Option<PathBuf>,
    root: &Path,
) -> Result<Option<PathBuf>, DoctorError> {
    let Some(e) = entry else { return Ok(None) };
    let cwd = std::env::current_dir().unwrap_or_default();
    let candidates = if e.is_absolute() {
        vec![e.clone()]
    } else {
        vec![cwd.join(&e), root.join(&e)]
    };
    // A FIFO or a device named as the entry is refused here, by what it is: reading it
    // would hang or never end, and "no such file" would be wrong.
    for p in &candidates {
        if let Some(kind) = crate::fsread::special_kind(p) {
            return Err(DoctorError::new(format!(
                "--entry {}: {kind}, not a Python script; pass the script the service runs",
                crate::text::display_path(p)
            )));
        }
    }
    if e.is_absolute() {
        return Ok(Some(e));
    }
    candidates
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

fn scan_tree(root: &Path, ctx: &RuntimeContext, prefix: bool) -> Result<ScanModel, DoctorError> {
    let opts = crate::context::scan_options(ctx, vec![root.to_path_buf()], prefix);
    crate::scan::scan(&opts).map_err(|why| {
        DoctorError::new(format!(
            "the scanner crashed ({why}; its report is above): nothing was diagnosed; please report this bug"
        ))
    })
}
