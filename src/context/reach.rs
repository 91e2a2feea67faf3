//! The modules a start imports: the import graph of the sources (`crate::imports`, with
//! the service's `-X lazy_imports` / `PYTHON_LAZY_IMPORTS`), from the context's entry, as
//! the doctor chooses them (`doctor::modules`), in the shape [`super::outcome`] takes.

use super::runtime::RuntimeContext;
use crate::scan::ScanModel;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// When a start imports the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// While the service starts (module-level imports, and calls made at start).
    AtStart,
    /// Lazily, on first use (an import inside a function, or a `lazy import`): once per
    /// process, after the start.
    OnFirstUse,
}

/// One module a start imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartModule {
    /// Dotted name.
    pub module: String,
    /// Its source.
    pub source: PathBuf,
    /// At start or on first use.
    pub when: When,
    /// Why its source does not compile, when it does not (no cache can exist for it).
    pub broken: Option<String>,
}

/// The modules of a start, and how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Start {
    /// Every module, in the graph's order.
    pub modules: Vec<StartModule>,
    /// How they were chosen (`7 imported from run.py (import graph of the sources)`).
    pub how: String,
    /// The entry script (runs as `__main__`: compiled at every start, never cached).
    pub entry_script: Option<PathBuf>,
    /// True when an entry point was followed (else: every module with a source).
    pub followed: bool,
    /// Remarks of the import analysis.
    pub notes: Vec<String>,
}

/// The modules the context's entry imports (or, with no entry to follow, every module
/// with a source). Needs `ctx.interpreter` (its version decides the syntax); without it
/// the newest version's syntax is assumed.
pub fn start_of(root: &Path, ctx: &RuntimeContext, model: &ScanModel) -> Start {
    let py = ctx.interpreter.clone().unwrap_or_else(|| super::Python {
        path: PathBuf::new(),
        version: String::new(),
        python: crate::pyc::magic::known_versions()
            .into_iter()
            .max()
            .unwrap_or(crate::pyc::PyVersion::new(3, 15)),
        implementation: "cpython".into(),
        tag: None,
        magic: 0,
        from: String::new(),
    });
    let mut notes = Vec::new();
    let found = crate::doctor::modules::imported_modules(root, ctx, &py, model, &mut notes);
    let mut modules: Vec<StartModule> = found
        .modules
        .into_iter()
        .map(|(module, source, lazy)| StartModule {
            module,
            source,
            when: if lazy {
                When::OnFirstUse
            } else {
                When::AtStart
            },
            broken: None,
        })
        .collect();
    modules.extend(found.broken.into_iter().map(|b| StartModule {
        module: b.module,
        source: b.source,
        when: When::AtStart,
        broken: Some(b.why),
    }));
    Start {
        modules,
        how: found.how,
        entry_script: found.entry_script,
        followed: found.followed,
        notes,
    }
}
