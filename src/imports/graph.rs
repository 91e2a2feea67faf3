//! The import graph: every project module (keyed by source path) with its resolved imports,
//! and how each is reached from the entry points.

use super::entry::EntryKind;
use super::extract::Context;
use super::parse::Health;
use super::venv::Venv;
use crate::pyc::magic::PyVersion;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// How a module is reached from the entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reachability {
    /// An entry script: runs as `__main__`, and Python never caches it.
    Entry,
    /// Imported at startup (a chain of module-level imports from an entry).
    Imported,
    /// Imported on first use only: through imports inside functions that do not run at
    /// start (or under a condition in one that does), or deferred by PEP 810 (`lazy import`,
    /// `__lazy_modules__`, the `all` mode) and not used at start.
    Lazy,
    /// Reached only through `if TYPE_CHECKING:` imports: never at run time.
    TypeCheckingOnly,
    /// Nothing reachable imports it.
    NotImported,
}

impl Reachability {
    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reachability::Entry => "entry script",
            Reachability::Imported => "imported",
            Reachability::Lazy => "lazy",
            Reachability::TypeCheckingOnly => "type-checking only",
            Reachability::NotImported => "not imported",
        }
    }

    /// Whether the module's code runs (now or when a function is called).
    pub fn runs(self) -> bool {
        matches!(
            self,
            Reachability::Entry | Reachability::Imported | Reachability::Lazy
        )
    }
}

/// What an import resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolved {
    /// A project source file.
    Project,
    /// A namespace package in the project (a directory, no code).
    Namespace,
    /// A compiled extension or sourceless `.pyc` in the project.
    ProjectBinary,
    /// The standard library.
    Stdlib,
    /// Installed in the virtualenv.
    ThirdParty,
    /// Not found anywhere: the import raises `ImportError`.
    Missing,
}

/// One resolved import of a module.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    /// 1-based line of the statement or call.
    pub line: u32,
    /// The absolute dotted module name.
    pub module: String,
    /// What it resolved to.
    pub resolved: Resolved,
    /// The target file, relative to the project root (project modules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `import`, `from`, `import_module` or `__import__`.
    pub via: &'static str,
    /// Where the statement sits.
    #[serde(flatten)]
    pub context: Context,
    /// An `except ImportError` fallback that does not run because its `try` succeeds.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fallback_unused: bool,
    /// Why it is missing, or other detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why an import in a function, or a `lazy import`, runs at start all the same (the call
    /// or the use that runs it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_start: Option<String>,
    /// The names it binds.
    #[serde(skip)]
    pub binds: Vec<Bind>,
    /// Target module index.
    #[serde(skip)]
    pub target: Option<usize>,
    /// Parent packages the import runs first (module indexes).
    #[serde(skip)]
    pub parents: Vec<usize>,
}

/// A name an import binds, and to what (small: a big tree has tens of thousands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// `from module import attr`: the attribute (or submodule).
    pub attr: Option<Box<str>>,
    /// The `as` name, when there is one.
    pub alias: Option<Box<str>>,
    /// `import a.b.c` without `as`: binds `a`, and `a.b.c` is reachable as attributes.
    pub plain: bool,
}

impl Bind {
    /// The local name, for an import whose (absolute) module is `module`.
    pub fn local<'s>(&'s self, module: &'s str) -> &'s str {
        match (&self.alias, &self.attr) {
            (Some(alias), _) => alias,
            (None, Some(attr)) => attr,
            (None, None) => module.split('.').next().unwrap_or_default(),
        }
    }

    /// The module the local name (or its attribute) comes from.
    pub fn module<'s>(&self, module: &'s str) -> &'s str {
        if self.plain {
            module.split('.').next().unwrap_or_default()
        } else {
            module
        }
    }
}

/// One project source file.
#[derive(Debug, Clone, Serialize)]
pub struct Module {
    /// Dotted module name.
    #[serde(rename = "module")]
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Absolute path.
    #[serde(skip)]
    pub file: PathBuf,
    /// A package's `__init__.py`.
    pub is_package: bool,
    /// How it is reached.
    pub reachability: Reachability,
    /// The shortest chain from an entry: the entry's label, then module names.
    pub chain: Vec<String>,
    /// What reached it first (the previous link of `chain`).
    #[serde(skip)]
    pub via: Option<Via>,
    /// Whether Python can compile it.
    pub health: Health,
    /// Syntax newer than the target Python (line, message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newer_syntax: Option<(u32, String)>,
    /// Its imports.
    pub imports: Vec<Import>,
    /// Its functions and calls (what runs at start besides the body).
    #[serde(skip)]
    pub flow: super::flow::Flow,
}

/// An entry point, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct EntryPoint {
    /// How it appears in chains (`run.py`, `-m pkg`, a console script name).
    pub label: String,
    /// How it starts.
    pub kind: EntryKind,
    /// The module name it names (`-m NAME`, console scripts; `-m pkg` for `pkg/__main__.py`).
    pub module: Option<String>,
    /// The module it runs (index), if found in the project.
    #[serde(skip)]
    pub target: Option<usize>,
    /// Parent packages imported before it runs.
    #[serde(skip)]
    pub parents: Vec<usize>,
    /// Its file, relative to the root.
    pub path: Option<String>,
    /// How it was found, when detected.
    pub detected: Option<String>,
    /// Why it could not be followed, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// An import pycache cannot resolve from the source alone.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    /// File, relative to the root.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The call as written.
    pub code: String,
    /// Reachability of the module that makes the call.
    pub reachability: Reachability,
}

/// Paths as text in JSON (lossy for names that are not UTF-8, rather than an error).
pub fn ser_path<S: serde::Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&p.display())
}

fn ser_paths<S: serde::Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| p.display().to_string()))
}

fn ser_path_notes<S, T>(ps: &[(PathBuf, T)], s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: std::fmt::Display,
{
    s.collect_seq(ps.iter().map(|(p, why)| {
        serde_json::json!({ "path": p.display().to_string(), "reason": why.to_string() })
    }))
}

/// Everything `pycache imports` knows about a project.
#[derive(Debug, Clone, Serialize)]
pub struct ImportGraph {
    /// The project root.
    #[serde(serialize_with = "ser_path")]
    pub root: PathBuf,
    /// Target Python version.
    pub python: PyVersion,
    /// Where the version came from.
    pub python_from: String,
    /// The entry points followed.
    pub entries: Vec<EntryPoint>,
    /// Sentences about choices made (entry detection, fallbacks).
    pub notes: Vec<String>,
    /// Search roots, in order.
    #[serde(serialize_with = "ser_paths")]
    pub search_path: Vec<PathBuf>,
    /// The virtualenv consulted, if any.
    pub venv: Option<Venv>,
    /// Every project module, sorted by path.
    pub modules: Vec<Module>,
    /// Dynamic imports.
    pub unresolved: Vec<Unresolved>,
    /// External modules imported by reachable code: name to class.
    pub external: BTreeMap<String, Resolved>,
    /// Directories not walked, with the reason.
    #[serde(serialize_with = "ser_path_notes")]
    pub skipped: Vec<(PathBuf, &'static str)>,
    /// Directories that could not be read.
    #[serde(serialize_with = "ser_path_notes")]
    pub walk_errors: Vec<(PathBuf, String)>,
    /// Files that decide what is imported (`pyproject.toml`, the virtualenv's `.pth`
    /// files) that exist but were not read, with the reason; in JSON as findings.
    #[serde(skip)]
    pub unread_config: Vec<(PathBuf, String)>,
}

impl ImportGraph {
    /// Module index by absolute source path.
    pub fn by_path(&self) -> HashMap<&std::path::Path, usize> {
        self.modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.file.as_path(), i))
            .collect()
    }
}

/// The previous link of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Reached directly by an entry point (index into `entries`).
    Entry(usize),
    /// Imported by another module (index into `modules`).
    Module(usize),
}

pub use super::reach::{Reached, reach, reach_at_start};
