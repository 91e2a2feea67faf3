//! Findings: what is wrong with the service's caches, what it costs, and the fix, ranked
//! by cost (per-start costs first, then one-time costs, then the rest).

use super::context::RuntimeContext;
use super::cost::ModuleCost;
use super::fixes::{self, Fix};
use super::startup;
use super::targets::{Outcome, Python, Target};
use crate::scan::ScanModel;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Kinds of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// An imported module does not compile: importing it fails, and no cache can exist.
    CannotCompile,
    /// An imported module's cache is corrupt behind a valid header: importing it fails.
    CorruptCache,
    /// The user cannot create or write a cache directory (or replace a cache).
    CannotWrite,
    /// The user cannot read an existing fresh cache.
    CannotRead,
    /// `-B` / `PYTHONDONTWRITEBYTECODE`: caches are never written.
    DontWriteBytecode,
    /// Caches missing or stale now; the next start writes them.
    WritesAtNextStart,
    /// Caches are fresh but could not be rewritten after a code change.
    CannotRewrite,
    /// A cache directory others can write: a code-injection risk.
    Insecure,
    /// A prefix is in effect: caches in `__pycache__` are never read.
    PrefixIgnoresPycache,
    /// Caches of interpreters the service does not run.
    OtherInterpreter,
    /// Caches whose source is gone.
    Orphans,
    /// A `PYTHONPYCACHEPREFIX` tree inside the project that the service does not use.
    UnusedPrefixTree,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The kind.
    pub kind: FindingKind,
    /// One line: what, where, how much.
    pub title: String,
    /// Milliseconds paid at every start (None: no per-start cost, or not measured).
    pub per_start_ms: Option<f64>,
    /// Milliseconds paid once, at the next start.
    pub once_ms: Option<f64>,
    /// True when the finding costs time at each start (measured or not).
    pub every_start: bool,
    /// Modules concerned, with their measured penalty.
    pub modules: Vec<ModulePenalty>,
    /// Supporting facts.
    pub details: Vec<String>,
    /// Fixes, any one of which resolves it.
    pub fixes: Vec<Fix>,
}

/// An imported module Python cannot compile (a syntax error, a binary or undecodable file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// Dotted name.
    pub module: String,
    /// Its source.
    pub source: PathBuf,
    /// Why it does not compile, with the line when known.
    pub why: String,
}

/// A module of a finding and what compiling it costs at each start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModulePenalty {
    /// Dotted name (with "(lazy: on first use)" for function-level imports).
    pub module: String,
    /// Compile minus load, ms (None: not measured).
    pub penalty_ms: Option<f64>,
}

/// Everything findings are built from.
pub struct Facts<'a> {
    /// The runtime context.
    pub ctx: &'a RuntimeContext,
    /// The interpreter.
    pub py: &'a Python,
    /// The project root.
    pub root: &'a Path,
    /// The imported modules' caches.
    pub targets: &'a [Target],
    /// Measured costs by source.
    pub costs: &'a HashMap<PathBuf, ModuleCost>,
    /// The scan of the tree (and the prefix tree).
    pub model: &'a ScanModel,
    /// Imported modules that do not compile.
    pub broken: &'a [Broken],
    /// True when the modules are those the entry imports (not every module of the tree).
    pub followed: bool,
}

impl Facts<'_> {
    /// `3 imported modules`, or `3 modules` when no entry point was followed.
    pub fn count(&self, n: usize) -> String {
        let noun = if self.followed {
            "imported module"
        } else {
            "module"
        };
        let s = if n == 1 { "" } else { "s" };
        format!("{n} {noun}{s}")
    }

    fn penalty(&self, t: &Target) -> Option<f64> {
        self.costs.get(&t.source).and_then(ModuleCost::penalty_ms)
    }

    /// A finding about these modules, its title completed with what they cost.
    pub(super) fn finding(
        &self,
        kind: FindingKind,
        title: String,
        group: &[&Target],
        every_start: bool,
    ) -> Finding {
        let mut modules: Vec<ModulePenalty> = group
            .iter()
            .map(|t| ModulePenalty {
                module: label(t),
                penalty_ms: self.penalty(t),
            })
            .collect();
        modules.sort_by(|a, b| {
            let ms = |m: &ModulePenalty| m.penalty_ms.unwrap_or(-1.0);
            ms(b).total_cmp(&ms(a)).then(a.module.cmp(&b.module))
        });
        let values: Vec<f64> = modules.iter().filter_map(|m| m.penalty_ms).collect();
        let measured = (!values.is_empty()).then(|| values.iter().sum::<f64>());
        let cost = |when: &str| {
            measured.map_or_else(
                || " (cost not measured)".to_string(),
                |ms| format!(", about {} {when}", ms_text(ms)),
            )
        };
        let verb = if group.len() == 1 {
            "compiles"
        } else {
            "compile"
        };
        let what = format!("{} {verb}", self.count(group.len()));
        let title = if every_start {
            format!("{title}: {what} on every start{}", cost("per start"))
        } else {
            format!("{title}: {what} once at the next start{}", cost("once"))
        };
        Finding {
            kind,
            title,
            per_start_ms: measured.filter(|_| every_start),
            once_ms: measured.filter(|_| !every_start),
            every_start,
            modules,
            details: Vec::new(),
            fixes: Vec::new(),
        }
    }
}

pub(super) fn label(t: &Target) -> String {
    if t.lazy {
        format!("{} (lazy: on first use)", t.module)
    } else {
        t.module.clone()
    }
}

/// `12.3 ms`.
pub fn ms_text(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Builds and ranks the findings: modules that do not compile first (the service fails
/// there), then per-start costs by milliseconds, then one-time costs, then the rest.
pub fn build(f: &Facts<'_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = startup::broken(f).into_iter().collect();
    out.extend(startup::corrupt(f));
    let every: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::CompilesEveryStart)
        .collect();
    match &f.ctx.dont_write {
        Some(why) if !every.is_empty() => {
            let mut fd = f.finding(
                FindingKind::DontWriteBytecode,
                format!("bytecode writing is off ({why})"),
                &every,
                true,
            );
            fd.fixes = fixes::dont_write(f, why);
            out.push(fd);
        }
        Some(_) => {}
        None => {
            out.extend(startup::cannot_write(f, &every));
            out.extend(startup::cannot_read(f, &every));
        }
    }
    out.extend(startup::writes_once(f));
    out.extend(startup::latent(f));
    // Sources, caches, cache and project directories; the code's owner counts as another
    // writer when the service runs as someone else.
    out.extend(super::security::writable_by_others(f));
    out.extend(super::tree::from_scan(f));
    out.sort_by(|a, b| {
        let rank = |x: &Finding| {
            (
                !matches!(
                    x.kind,
                    FindingKind::CannotCompile | FindingKind::CorruptCache
                ),
                !x.every_start,
                x.once_ms.is_none(),
            )
        };
        let ms = |v: Option<f64>| v.unwrap_or(0.0);
        rank(a)
            .cmp(&rank(b))
            .then(ms(b.per_start_ms).total_cmp(&ms(a.per_start_ms)))
            .then(ms(b.once_ms).total_cmp(&ms(a.once_ms)))
            .then(a.kind.cmp(&b.kind))
    });
    out
}

/// A finding with no cost and no modules.
pub(super) fn plain(kind: FindingKind, title: String, fixes: Vec<Fix>) -> Finding {
    Finding {
        kind,
        title,
        per_start_ms: None,
        once_ms: None,
        every_start: false,
        modules: Vec::new(),
        details: Vec::new(),
        fixes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::access::{Access, BlockKind, Blocker};
    use crate::doctor::context::{ContextOptions, resolve};
    use crate::doctor::targets::CacheState;
    use crate::pyc::{Location, PyVersion};

    fn target(module: &str, dir: &str, why: &str, outcome: Outcome) -> Target {
        let blockers = match outcome {
            Outcome::CompilesEveryStart => vec![Blocker {
                kind: BlockKind::Permission,
                path: dir.into(),
                why: why.into(),
            }],
            _ => Vec::new(),
        };
        Target {
            module: module.into(),
            source: PathBuf::from(format!("{dir}/{module}.py")),
            lazy: false,
            cache: PathBuf::from(format!("{dir}/__pycache__/{module}.cpython-313.pyc")),
            location: Location::Pycache,
            state: CacheState::Missing,
            access: Access {
                dir: PathBuf::from(format!("{dir}/__pycache__")),
                exists: false,
                writable: blockers.is_empty(),
                blockers,
            },
            unreadable: None,
            outcome,
            ignored: None,
        }
    }

    fn cost(module: &str, dir: &str, compile: f64) -> (PathBuf, ModuleCost) {
        let source = PathBuf::from(format!("{dir}/{module}.py"));
        let c = ModuleCost {
            source: source.clone(),
            compile_ms: Some(compile),
            load_ms: Some(1.0),
            cache_used: None,
            error: None,
        };
        (source, c)
    }

    #[test]
    fn per_start_costs_rank_first_by_milliseconds() {
        let ctx = resolve(&ContextOptions {
            user: Some("nobody".into()),
            ..ContextOptions::default()
        })
        .unwrap();
        let py = Python {
            path: "/usr/bin/python3".into(),
            version: "3.13.0".into(),
            python: PyVersion::new(3, 13),
            implementation: "cpython".into(),
            tag: Some("cpython-313".into()),
            magic: 3571,
            from: "test".into(),
        };
        let targets = vec![
            target(
                "small",
                "/a",
                "owned by root:root, mode 755",
                Outcome::CompilesEveryStart,
            ),
            target(
                "big",
                "/b",
                "owned by root:adm, mode 750",
                Outcome::CompilesEveryStart,
            ),
            target("once", "/c", "", Outcome::WritesAtNextStart),
        ];
        let costs: HashMap<PathBuf, ModuleCost> = [
            cost("small", "/a", 3.0),
            cost("big", "/b", 21.0),
            cost("once", "/c", 50.0),
        ]
        .into();
        let model = ScanModel::default();
        let facts = Facts {
            ctx: &ctx,
            py: &py,
            root: Path::new("/"),
            targets: &targets,
            costs: &costs,
            model: &model,
            broken: &[],
            followed: true,
        };
        let found = build(&facts);
        let kinds: Vec<(FindingKind, Option<f64>, Option<f64>)> = found
            .iter()
            .map(|f| (f.kind, f.per_start_ms, f.once_ms))
            .collect();
        assert_eq!(
            kinds,
            [
                (FindingKind::CannotWrite, Some(20.0), None),
                (FindingKind::CannotWrite, Some(2.0), None),
                (FindingKind::WritesAtNextStart, None, Some(49.0)),
            ]
        );
        assert!(
            found[0]
                .title
                .contains("/b/__pycache__ (/b is owned by root:adm, mode 750)")
        );
        assert!(found[0].every_start && !found[2].every_start);
    }
}
