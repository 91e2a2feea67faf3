//! Verdicts in context: what the service's next start does with each module it imports,
//! and which caches of the tree it never reads. A pure function of the scan model, the
//! start's modules, the context and an access check; it reads no file itself, so the
//! explorer can call it on every context switch.
//!
//! ```text
//! let view = next_start(&model, &start.modules, &ctx, &SystemAccess::of(&ctx), &costs)?;
//! for m in &view.modules { m.next, m.why, m.blockers, m.compile_ms }   // per module
//! view.role_of(cache_path)                                           // per cache
//! ```
//!
//! The model must come from a scan with [`super::scan_options`] (the context's prefix and
//! hash-check mode: the verdicts of hash-based caches depend on it). The rules are
//! CPython's (`SourceFileLoader.get_code`, shared/docs/pyc-format.md §3-§4):
//! - the cache read is `cache_from_source(source)` for the interpreter's tag and `-O`
//!   level, under the prefix when one is in effect (3.8+), else in `__pycache__`;
//! - a cache whose magic, flags and source stat (or hash, when checked) match is loaded;
//!   a header that does not match is ignored and the source compiled; a matching header
//!   over a corrupt body fails the import (Python does not recompile it);
//! - after compiling, the import writes the cache unless `sys.dont_write_bytecode`; a
//!   write that fails (the user cannot create the directory or the file) is silent, so the
//!   next start compiles again.

use super::judge::judge_module;
use super::reach::{StartModule, When};
use super::runtime::RuntimeContext;
use super::unused::role_of;
pub use super::unused::{CacheRole, Unused};
use crate::doctor::access::{self, Access, Blocker};
use crate::doctor::identity::Identity;
use crate::pyc::Location;
use crate::scan::ScanModel;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Whether the context's user can write and read caches. [`SystemAccess`] asks the file
/// system (modes, ACLs, mounts, sandbox) for the context's user; tests and previews may
/// bring their own.
pub trait AccessCheck {
    /// Can the user create `dir` (if missing) and write a cache file in it?
    fn dir(&self, dir: &Path) -> Access;
    /// Can the user replace the existing cache `file` (a sticky directory may forbid it)?
    fn replace(&self, file: &Path) -> Option<Blocker>;
    /// Can the user read the existing cache `file`?
    fn read(&self, file: &Path) -> Option<Blocker>;
}

/// The kernel's answer for a user and a sandbox (`doctor::access`).
#[derive(Debug, Clone)]
pub struct SystemAccess<'a> {
    /// The user.
    pub identity: &'a Identity,
    /// The unit's mount rules.
    pub sandbox: &'a crate::doctor::access::Sandbox,
}

impl<'a> SystemAccess<'a> {
    /// For the context's user and sandbox.
    pub fn of(ctx: &'a RuntimeContext) -> Self {
        Self {
            identity: &ctx.identity,
            sandbox: &ctx.sandbox,
        }
    }
}

impl AccessCheck for SystemAccess<'_> {
    fn dir(&self, dir: &Path) -> Access {
        access::check_dir(self.identity, dir, self.sandbox)
    }
    fn replace(&self, file: &Path) -> Option<Blocker> {
        access::check_replace(self.identity, file)
    }
    fn read(&self, file: &Path) -> Option<Blocker> {
        access::check_read(self.identity, file, self.sandbox)
    }
}

/// What the next start does for one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextStart {
    /// The import fails: a corrupt cache behind a valid header, or a source that does not
    /// compile.
    ImportError,
    /// Compiles at every start: the cache cannot be written (or read).
    CompilesEveryStart,
    /// Compiles once and writes the cache; later starts load it.
    CompilesWritesCache,
    /// Loads the cache.
    LoadsCache,
}

impl NextStart {
    /// Every outcome, worst first.
    pub const ALL: [NextStart; 4] = [
        NextStart::ImportError,
        NextStart::CompilesEveryStart,
        NextStart::CompilesWritesCache,
        NextStart::LoadsCache,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            NextStart::ImportError => "import-error",
            NextStart::CompilesEveryStart => "compiles-every-start",
            NextStart::CompilesWritesCache => "compiles-writes-cache",
            NextStart::LoadsCache => "loads-cache",
        }
    }

    /// A few words for a terminal.
    pub fn words(self) -> &'static str {
        match self {
            NextStart::ImportError => "import error",
            NextStart::CompilesEveryStart => "compiles at every start",
            NextStart::CompilesWritesCache => "compiles, writes the cache",
            NextStart::LoadsCache => "loads the cache",
        }
    }
}

/// What is at the path the interpreter reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "kebab-case")]
pub enum Found {
    /// A cache the interpreter loads.
    Usable,
    /// No file.
    Missing,
    /// The source changed since it was written: ignored, the source is compiled.
    Stale(String),
    /// Not this interpreter's, or undecodable: ignored, the source is compiled.
    Rejected(String),
    /// A valid header over a corrupt body: the import fails.
    Corrupt(String),
    /// The source does not compile: no cache can exist.
    SourceError(String),
}

/// Why the next start compiles a module again at every start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EveryStart {
    /// `-B` or `PYTHONDONTWRITEBYTECODE`: the import never writes a cache.
    BytecodeOff {
        /// Where the setting came from.
        from: String,
    },
    /// The user cannot create or write the cache directory (or replace the file).
    CannotWrite {
        /// The cache directory.
        dir: PathBuf,
        /// True when it is under the pycache prefix.
        prefix: bool,
    },
    /// The user cannot read the cache that is there, nor write a new one.
    CannotRead {
        /// The cache.
        file: PathBuf,
    },
}

/// One imported module under the context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleOutcome {
    /// Dotted name.
    pub module: String,
    /// Its source.
    #[serde(serialize_with = "crate::scan::record::ser_path")]
    pub source: PathBuf,
    /// At start or on first use.
    pub when: When,
    /// The cache the interpreter reads and writes.
    #[serde(serialize_with = "crate::scan::record::ser_path")]
    pub cache: PathBuf,
    /// `pycache`, `prefix` or `legacy`.
    pub location: Location,
    /// What is there now.
    pub found: Found,
    /// What the next start does.
    pub next: NextStart,
    /// Why it compiles at every start, when it does.
    pub every_start: Option<EveryStart>,
    /// One line: what happens and why.
    pub why: String,
    /// What keeps the user from writing (or reading) the cache.
    pub blockers: Vec<Blocker>,
    /// What compiling it takes, ms, when measured (doctor's `cost::measure`).
    pub compile_ms: Option<f64>,
    /// Caches of this module in the tree that this service does not read.
    #[serde(serialize_with = "ser_paths")]
    pub unused: Vec<PathBuf>,
}

/// How many modules have each outcome, and how many caches are unused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Modules by next-start outcome (`loads-cache`...: every outcome present, 0 too).
    pub modules: BTreeMap<&'static str, usize>,
    /// Of those compiling at every start, how many at start (not on first use).
    pub every_start_at_start: usize,
    /// Unused caches by reason.
    pub unused_caches: BTreeMap<&'static str, usize>,
}

/// The service's view of the tree: [`next_start`]'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceView {
    /// Every imported module, worst outcome first, then by name.
    pub modules: Vec<ModuleOutcome>,
    /// The role of every cache of the model that this service does not read as an
    /// imported module's cache, by path (JSON: see [`ServiceView::caches_json`]).
    #[serde(skip)]
    pub unused: BTreeMap<PathBuf, CacheRole>,
    /// Counts.
    pub counts: Counts,
    /// Measured compile time lost at every start by modules imported at start, ms (None:
    /// nothing measured).
    pub every_start_ms: Option<f64>,
    /// The same for modules imported on first use (lost once per process).
    pub first_use_ms: Option<f64>,
    /// Compile time of the next start only (caches it then writes), ms.
    pub once_ms: Option<f64>,
    /// Remarks (a prefix the scan did not include...).
    pub notes: Vec<String>,
}

impl ServiceView {
    /// The outcome of a module by dotted name.
    pub fn module(&self, name: &str) -> Option<&ModuleOutcome> {
        self.modules.iter().find(|m| m.module == name)
    }

    /// What this service does with the cache at `path`: read by an imported module's
    /// import, or why not (None: not a cache of the model).
    pub fn role_of(&self, path: &Path) -> Option<CacheRole> {
        if self.modules.iter().any(|m| m.cache == path) {
            return Some(CacheRole::Read);
        }
        self.unused.get(path).cloned()
    }

    /// Every cache of the model that no imported module's import reads, with its role:
    /// `[{"path", "role", "unused": {"why", "value"}}]`, by path.
    pub fn caches_json(&self) -> serde_json::Value {
        self.unused
            .iter()
            .map(|(path, role)| {
                let mut v = serde_json::json!(role);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("path".into(), crate::text::path_text(path).into());
                }
                v
            })
            .collect()
    }

    /// Modules without a usable cache for this service (every outcome but loads-cache).
    pub fn problems(&self) -> impl Iterator<Item = &ModuleOutcome> {
        self.modules
            .iter()
            .filter(|m| m.next != NextStart::LoadsCache)
    }
}

fn ser_paths<S: serde::Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| crate::text::path_text(p)))
}

/// Measured compile times by source, ms (from `doctor::cost::measure`).
pub type Costs = HashMap<PathBuf, f64>;

/// The compile time a module's outcome counts: measured, and only for a module that
/// compiles (one that loads its cache pays no compile).
pub(super) fn compile_cost(next: NextStart, source: &Path, costs: &Costs) -> Option<f64> {
    (next != NextStart::LoadsCache)
        .then(|| costs.get(source).copied())
        .flatten()
}

/// The compile times the doctor measured (`Report::costs`), as [`next_start`] takes them.
pub fn costs_of(measured: &[crate::doctor::cost::ModuleCost]) -> Costs {
    measured
        .iter()
        .filter_map(|c| Some((c.source.clone(), c.compile_ms?)))
        .collect()
}

/// What the next start of the service in `ctx` does with every module of `start`, and
/// the role of every cache of `model`. Errors when `ctx` has no interpreter yet
/// ([`super::choose_interpreter`]).
pub fn next_start(
    model: &ScanModel,
    start: &[StartModule],
    ctx: &RuntimeContext,
    access: &dyn AccessCheck,
    costs: &Costs,
) -> Result<ServiceView, String> {
    let py = ctx.interpreter.as_ref().ok_or_else(|| {
        "no interpreter chosen for the context; pass --python or --unit".to_string()
    })?;
    let prefix = ctx.prefix.as_deref().filter(|_| py.supports_prefix());
    let mut notes = Vec::new();
    if let Some(p) = prefix
        && p.is_dir()
        && model.prefix.as_deref() != Some(p)
    {
        notes.push(format!(
            "the scan did not include the prefix {}: its caches count as missing",
            crate::text::display_path(p)
        ));
    }
    let mut dirs: HashMap<PathBuf, Access> = HashMap::new();
    let mut modules: Vec<ModuleOutcome> = start
        .iter()
        .map(|m| judge_module(model, m, ctx, py, prefix, access, &mut dirs, costs))
        .collect();
    modules.sort_by(|a, b| (a.next, &a.module).cmp(&(b.next, &b.module)));
    let read: HashSet<&Path> = modules.iter().map(|m| m.cache.as_path()).collect();
    let imported: HashSet<&Path> = start.iter().map(|m| m.source.as_path()).collect();
    let mut unused = BTreeMap::new();
    let mut by_source: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    for module in model.modules.values() {
        for rec in model.caches_of(module) {
            if read.contains(rec.path.as_path()) {
                continue;
            }
            let role = role_of(rec, py, ctx.optimize, prefix, &imported);
            if let (CacheRole::Unused(_), Some(src)) = (&role, &rec.source) {
                by_source
                    .entry(src.clone())
                    .or_default()
                    .push(rec.path.clone());
            }
            unused.insert(rec.path.clone(), role);
        }
    }
    for m in &mut modules {
        if let Some(paths) = by_source.remove(&m.source) {
            m.unused = paths;
        }
    }
    let counts = count(&modules, &unused);
    let mut view = ServiceView {
        every_start_ms: None,
        first_use_ms: None,
        once_ms: None,
        modules,
        unused,
        counts,
        notes,
    };
    view.total_costs();
    Ok(view)
}

impl ServiceView {
    /// Takes measured compile times (the explorer measures after judging): each module's
    /// `compile_ms` (as [`next_start`] sets it: for modules that compile) and the totals.
    pub fn apply_costs(&mut self, costs: &Costs) {
        for m in &mut self.modules {
            m.compile_ms = compile_cost(m.next, &m.source, costs);
        }
        self.total_costs();
    }

    /// The totals from the modules' `compile_ms` (None where nothing was measured).
    fn total_costs(&mut self) {
        let sum = |keep: &dyn Fn(&ModuleOutcome) -> bool| {
            let picked: Vec<f64> = self
                .modules
                .iter()
                .filter(|m| keep(m))
                .filter_map(|m| m.compile_ms)
                .collect();
            (!picked.is_empty()).then(|| picked.iter().sum())
        };
        let every = |m: &ModuleOutcome| m.next == NextStart::CompilesEveryStart;
        let every_start_ms = sum(&|m| every(m) && m.when == When::AtStart);
        let first_use_ms = sum(&|m| every(m) && m.when == When::OnFirstUse);
        let once_ms = sum(&|m| m.next == NextStart::CompilesWritesCache);
        self.every_start_ms = every_start_ms;
        self.first_use_ms = first_use_ms;
        self.once_ms = once_ms;
    }
}

fn count(modules: &[ModuleOutcome], unused: &BTreeMap<PathBuf, CacheRole>) -> Counts {
    let mut c = Counts::default();
    for n in NextStart::ALL {
        c.modules.insert(n.as_str(), 0);
    }
    for m in modules {
        *c.modules.entry(m.next.as_str()).or_default() += 1;
        if m.next == NextStart::CompilesEveryStart && m.when == When::AtStart {
            c.every_start_at_start += 1;
        }
    }
    for role in unused.values() {
        if let CacheRole::Unused(u) = role {
            *c.unused_caches.entry(u.as_str()).or_default() += 1;
        }
    }
    c
}
