//! One imported module under a context: the cache its import reads (as
//! `cache_from_source` names it), what is there according to the scan, and what the next
//! start does with it (see [`super::outcome`] for the rules).

use super::outcome::{AccessCheck, Costs, EveryStart, Found, ModuleOutcome, NextStart};
use super::python::Python;
use super::reach::StartModule;
use super::runtime::RuntimeContext;
use crate::doctor::access::Access;
use crate::doctor::targets::cache_path;
use crate::pyc::{Location, Outcome, Status};
use crate::scan::{CacheRecord, ScanModel};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[allow(clippy::too_many_arguments)]
pub(super) fn judge_module(
    model: &ScanModel,
    m: &StartModule,
    ctx: &RuntimeContext,
    py: &Python,
    prefix: Option<&Path>,
    access: &dyn AccessCheck,
    dirs: &mut HashMap<PathBuf, Access>,
    costs: &Costs,
) -> ModuleOutcome {
    let (cache, location) = cache_path(&m.source, py, ctx.optimize, prefix);
    let shown = crate::text::display_path(&cache).to_string();
    let found = match &m.broken {
        Some(why) => Found::SourceError(why.clone()),
        None => found_at(model.cache(&cache), py),
    };
    let mut blockers = Vec::new();
    let unreadable = match found {
        Found::Usable => access.read(&cache),
        _ => None,
    };
    let (next, every_start, why) = match (&found, unreadable) {
        (Found::SourceError(why), _) => (
            NextStart::ImportError,
            None,
            format!("its source does not compile ({why}): the import fails"),
        ),
        (Found::Corrupt(why), _) => (
            NextStart::ImportError,
            None,
            format!("{shown}: {why}; remove or recompile it"),
        ),
        (Found::Usable, None) => (NextStart::LoadsCache, None, format!("loads {shown}")),
        (_, unreadable) => {
            let what = match (&found, &unreadable) {
                (_, Some(b)) => format!("{} cannot read {shown} ({})", ctx.identity.name, b.why),
                (Found::Missing, _) => format!("no {} cache at {shown}", py.key()),
                (Found::Stale(r) | Found::Rejected(r), _) => format!("{shown} is ignored: {r}"),
                _ => shown.clone(),
            };
            let dir = cache.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut acc = dirs
                .entry(dir.clone())
                .or_insert_with(|| access.dir(&dir))
                .clone();
            if acc.writable
                && let Some(b) = access.replace(&cache)
            {
                acc.writable = false;
                acc.blockers.push(b);
            }
            if let Some(from) = &ctx.dont_write {
                (
                    NextStart::CompilesEveryStart,
                    Some(EveryStart::BytecodeOff { from: from.clone() }),
                    format!("{what}; bytecode writing is off ({from}): compiles at every start"),
                )
            } else if !acc.writable {
                let blocker = acc
                    .blockers
                    .first()
                    .map(|b| match b.path == dir {
                        true => format!(" ({})", b.why),
                        false => format!(": {} ({})", crate::text::display_path(&b.path), b.why),
                    })
                    .unwrap_or_default();
                let where_ = if location == Location::Prefix {
                    "the prefix directory "
                } else {
                    ""
                };
                blockers = acc.blockers.clone();
                let every = match &unreadable {
                    Some(_) => EveryStart::CannotRead {
                        file: cache.clone(),
                    },
                    None => EveryStart::CannotWrite {
                        dir: dir.clone(),
                        prefix: location == Location::Prefix,
                    },
                };
                blockers.extend(unreadable.clone());
                (
                    NextStart::CompilesEveryStart,
                    Some(every),
                    format!(
                        "{what}; {} cannot write {where_}{}{blocker}: compiles at every start",
                        ctx.identity.name,
                        crate::text::display_path(&dir)
                    ),
                )
            } else {
                (
                    NextStart::CompilesWritesCache,
                    None,
                    format!("{what}: compiles and writes it; later starts load it"),
                )
            }
        }
    };
    let compile_ms = super::outcome::compile_cost(next, &m.source, costs);
    ModuleOutcome {
        module: m.module.clone(),
        source: m.source.clone(),
        when: m.when,
        cache,
        location,
        found,
        next,
        every_start,
        why,
        blockers,
        compile_ms,
        unused: Vec::new(),
    }
}

/// What the interpreter finds in the scanned cache at the path it reads.
fn found_at(rec: Option<&CacheRecord>, py: &Python) -> Found {
    let Some(rec) = rec else {
        return Found::Missing;
    };
    let reason = || rec.reason.clone().unwrap_or_default();
    if let Some(magic) = rec.magic
        && magic != py.magic
    {
        return Found::Rejected(format!(
            "written with magic {magic}; {} {} reads magic {}",
            crate::text::display_path(&py.path),
            py.version,
            py.magic
        ));
    }
    match rec.verdict.outcome {
        Outcome::Used => Found::Usable,
        Outcome::ImportError => Found::Corrupt(reason()),
        Outcome::Recompiled if rec.status == Status::Stale => Found::Stale(reason()),
        Outcome::Recompiled => Found::Rejected(reason()),
        // A cache the import system does not open is as good as none.
        Outcome::NeverConsulted => Found::Missing,
    }
}
