//! The runtime context of a service, and what its next start does with every cache.
//!
//! One type, [`RuntimeContext`], says who runs the code and how: the interpreter
//! ([`Python`]: path, version, cache tag, implementation), `-O`/`-OO` or `PYTHONOPTIMIZE`,
//! the pycache prefix, `--check-hash-based-pycs`, whether bytecode is written (`-B`,
//! `PYTHONDONTWRITEBYTECODE`), the user and groups, the sandbox, and in `derived` where
//! each fact came from. It is built ([`runtime::resolve`]) from a systemd unit, a running
//! process or flags ([`ContextOptions`]); [`settle`] fixes the project directory and the
//! entry, and [`choose_interpreter`] the interpreter, once the tree is scanned with
//! [`scan_options`] (the tags found there decide a guess).
//!
//! [`outcome::next_start`] then turns the scan model, the modules a start imports
//! ([`reach::start_of`]) and the context into the service's view: per module *loads the
//! cache* / *compiles and writes it* / *compiles at every start* (and why) / *import
//! error*, and per cache whether this service reads it. [`service`] runs the whole chain
//! for the CLI; [`demo_context`] builds the demo's context from its unit file.

pub mod interpreter;
pub mod judge;
pub mod outcome;
pub mod python;
pub mod reach;
pub mod runtime;
pub mod service;
pub mod settings;
pub mod switch;
pub mod unused;

pub use outcome::{AccessCheck, ModuleOutcome, NextStart, ServiceView, SystemAccess, next_start};
pub use python::{Python, PythonSpec};
pub use reach::{Start, StartModule, When, start_of};
pub use runtime::{ContextOptions, Derived, RuntimeContext, resolve};
pub use service::{Service, demo_context, service};

use crate::doctor::DoctorError;
use crate::scan::{ScanModel, ScanOptions};
use std::path::{Path, PathBuf};

/// The scan the context's verdicts need: the roots, the prefix in effect (`with_prefix`
/// false: the interpreter has none, before 3.8), and its `--check-hash-based-pycs`. The
/// prefix is the context's, never the invoker's `PYTHONPYCACHEPREFIX`.
pub fn scan_options(ctx: &RuntimeContext, roots: Vec<PathBuf>, with_prefix: bool) -> ScanOptions {
    let mut opts = ScanOptions::new(roots);
    opts.prefix = ctx.prefix.clone().filter(|p| with_prefix && p.is_dir());
    opts.hash_check = ctx.hash_check;
    opts
}

/// The cache keys (`cpython-313`) of the tree's caches, newest version first.
pub fn tags_in(model: &ScanModel) -> Vec<String> {
    let mut tags: Vec<(Option<crate::pyc::PyVersion>, String)> = model
        .summary
        .by_tag()
        .into_iter()
        .map(|(tag, _)| {
            let v = crate::actions::interpreters::version_of_key(&tag);
            (v, tag)
        })
        .collect();
    tags.sort_by(|a, b| b.cmp(a));
    tags.into_iter().map(|(_, t)| t).collect()
}

/// The same context with another interpreter (the explorer's context switch): `py`
/// replaces the interpreter and its `python` row in `derived`.
pub fn with_interpreter(ctx: &RuntimeContext, py: Python) -> RuntimeContext {
    let mut out = ctx.clone();
    out.derived.retain(|d| d.what != "python");
    out.derived.push(Derived {
        what: "python".into(),
        value: format!(
            "{} ({} {}, {})",
            crate::text::display_path(&py.path),
            py.implementation,
            py.version,
            py.key()
        ),
        from: py.from.clone(),
    });
    out.interpreter = Some(py);
    out
}

/// One interpreter per CPython tag that has caches in the tree (newest first), for a
/// context switch: described from the tag (its final magic number; nothing is run).
pub fn interpreters_of_tree(model: &ScanModel) -> Vec<Python> {
    tags_in(model)
        .iter()
        .filter(|t| t.starts_with("cpython-"))
        .filter_map(|t| {
            let v = crate::actions::interpreters::version_of_key(t)?;
            let name = PathBuf::from(format!("python{v}"));
            Python::from_name(&name, &format!("the tree's {t} caches"))
        })
        .collect()
}

/// The project directory (the given path, else the unit's or process's working
/// directory, the entry's directory, or the current directory), made canonical, and the
/// entry resolved against it.
pub fn settle(ctx: &mut RuntimeContext, path: Option<&Path>) -> Result<PathBuf, DoctorError> {
    let root = crate::doctor::project_root(path, ctx)?;
    ctx.entry = crate::doctor::resolve_entry(ctx.entry.take(), &root)?;
    if let (Some(e), Some(row)) = (
        &ctx.entry,
        ctx.derived.iter_mut().find(|d| d.what == "entry"),
    ) {
        row.value = e.display().to_string();
    }
    Ok(root)
}

/// Chooses the interpreter ([`interpreter::choose_python`]) with the tags of the scanned
/// tree, stores it in `ctx.interpreter` with a `python` row in `derived`, and returns it.
/// `run`: an interpreter may be run to ask it (never one another user could change).
pub fn choose_interpreter(
    ctx: &mut RuntimeContext,
    root: &Path,
    model: &ScanModel,
    run: bool,
) -> Result<Python, DoctorError> {
    let mut notes = Vec::new();
    let py = interpreter::choose_python(ctx, root, run, &tags_in(model), &mut notes)?;
    ctx.notes.extend(notes);
    *ctx = with_interpreter(ctx, py.clone());
    Ok(py)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod outcome_tests;
