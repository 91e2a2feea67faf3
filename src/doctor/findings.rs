//! Findings: what is wrong with the service's caches, what it costs, and the fix, ranked
//! by cost (per-start costs first, then one-time costs, then the rest).

use super::access::BlockKind;
use super::context::RuntimeContext;
use super::cost::ModuleCost;
use super::fixes;
use super::targets::{Outcome, Python, Target};
use crate::scan::ScanModel;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Kinds of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
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
    pub fixes: Vec<String>,
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
}

impl Facts<'_> {
    fn penalty(&self, t: &Target) -> Option<f64> {
        self.costs.get(&t.source).and_then(ModuleCost::penalty_ms)
    }

    fn finding(
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
        let n = group.len();
        let what = if n == 1 {
            "1 imported module compiles".to_string()
        } else {
            format!("{n} imported modules compile")
        };
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

/// Builds and ranks the findings.
pub fn build(f: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let user = &f.ctx.identity.name;
    let every: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::CompilesEveryStart)
        .collect();
    if let Some(why) = &f.ctx.dont_write {
        if !every.is_empty() {
            let mut fd = f.finding(
                FindingKind::DontWriteBytecode,
                format!("bytecode writing is off ({why})"),
                &every,
                true,
            );
            fd.fixes = fixes::dont_write(f, why);
            out.push(fd);
        }
    } else {
        // One finding per reason: the same owner and mode on many package directories is
        // one problem; a setting or mount is keyed by its path.
        let mut groups: BTreeMap<(String, String, PathBuf), Vec<&Target>> = BTreeMap::new();
        for t in every.iter().filter(|t| t.unreadable.is_none()) {
            let Some(b) = t.access.blockers.first() else {
                continue;
            };
            let path = match b.kind {
                BlockKind::Permission => PathBuf::new(),
                _ => b.path.clone(),
            };
            groups
                .entry((format!("{:?}", b.kind), b.why.clone(), path))
                .or_default()
                .push(t);
        }
        for group in groups.values() {
            let mut dirs: Vec<&Path> = group.iter().filter_map(|t| t.cache.parent()).collect();
            dirs.sort();
            dirs.dedup();
            let title = cannot_write_title(user, group[0], dirs.len());
            let mut fd = f.finding(FindingKind::CannotWrite, title, group, true);
            for t in group {
                for b in &t.access.blockers {
                    let line = format!("{}: {}", b.path.display(), b.why);
                    if !fd.details.contains(&line) {
                        fd.details.push(line);
                    }
                }
            }
            if fd.details.len() > 6 {
                let more = fd.details.len() - 5;
                fd.details.truncate(5);
                fd.details.push(format!("(and {more} more like these)"));
            }
            fd.fixes = fixes::cannot_write(f, group);
            out.push(fd);
        }
        let unreadable: Vec<&Target> = every
            .iter()
            .copied()
            .filter(|t| t.unreadable.is_some())
            .collect();
        if let Some(b) = unreadable.first().and_then(|t| t.unreadable.as_ref()) {
            let title = format!(
                "{user} cannot read the fresh caches ({}: {})",
                b.path.display(),
                b.why
            );
            let mut fd = f.finding(FindingKind::CannotRead, title, &unreadable, true);
            fd.fixes = vec![format!(
                "make the caches readable: chmod a+r {} (or chown them to {user})",
                b.path.display()
            )];
            out.push(fd);
        }
    }
    let once: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::WritesAtNextStart)
        .collect();
    if !once.is_empty() {
        let mut fd = f.finding(
            FindingKind::WritesAtNextStart,
            "caches missing or stale, and writable".into(),
            &once,
            false,
        );
        fd.details = once
            .iter()
            .take(5)
            .map(|t| format!("{}: {}", t.cache.display(), state_text(t)))
            .collect();
        fd.fixes = vec!["nothing to do: the next start writes them (or precompile at deploy time to avoid the one slow start)".into()];
        out.push(fd);
    }
    out.extend(latent(f));
    out.extend(super::tree::insecure(f));
    out.extend(super::tree::from_scan(f));
    out.sort_by(|a, b| {
        let rank = |x: &Finding| (!x.every_start, x.once_ms.is_none());
        rank(a)
            .cmp(&rank(b))
            .then(
                b.per_start_ms
                    .unwrap_or(0.0)
                    .total_cmp(&a.per_start_ms.unwrap_or(0.0)),
            )
            .then(
                b.once_ms
                    .unwrap_or(0.0)
                    .total_cmp(&a.once_ms.unwrap_or(0.0)),
            )
            .then(a.kind.cmp(&b.kind))
    });
    out
}

fn state_text(t: &Target) -> String {
    match &t.state {
        super::targets::CacheState::Usable => "fresh".into(),
        super::targets::CacheState::Missing => "missing".into(),
        super::targets::CacheState::Stale(r) => format!("stale ({r})"),
        super::targets::CacheState::Invalid(r) => format!("unusable ({r})"),
    }
}

fn cannot_write_title(user: &str, t: &Target, dirs: usize) -> String {
    let Some(b) = t.access.blockers.first() else {
        return format!("{user} cannot write its caches");
    };
    let dir = t.cache.parent().unwrap_or(Path::new("/"));
    let verb = if t.access.exists { "write" } else { "create" };
    if dirs > 1 {
        let because = match b.kind {
            BlockKind::Permission => format!("each {}", b.why),
            _ => format!("{}: {}", b.path.display(), b.why),
        };
        return format!(
            "{user} cannot create or write the caches of {dirs} directories ({because})"
        );
    }
    match b.kind {
        BlockKind::Permission if b.path == dir => {
            format!("{user} cannot write {} ({})", dir.display(), b.why)
        }
        BlockKind::Permission => format!(
            "{user} cannot {verb} {} ({} is {})",
            dir.display(),
            b.path.display(),
            b.why
        ),
        BlockKind::Sticky => format!(
            "{user} cannot replace the caches in {} ({})",
            dir.display(),
            b.why
        ),
        _ => format!(
            "{user} cannot {verb} {} ({}: {})",
            dir.display(),
            b.path.display(),
            b.why
        ),
    }
}

/// Fresh caches the user could not rewrite: fine until the next code change.
fn latent(f: &Facts<'_>) -> Option<Finding> {
    let stuck: Vec<&Target> = f
        .targets
        .iter()
        .filter(|t| {
            t.outcome == Outcome::Loads && (!t.access.writable || f.ctx.dont_write.is_some())
        })
        .collect();
    let first = stuck.first()?;
    let why = match (&f.ctx.dont_write, first.access.blockers.first()) {
        (Some(w), _) => w.clone(),
        (None, Some(b)) => format!("{}: {}", b.path.display(), b.why),
        (None, None) => return None,
    };
    Some(Finding {
        kind: FindingKind::CannotRewrite,
        title: format!(
            "{} imported modules load fresh caches now, but {} could not rewrite them ({why}): after the next code change they compile on every start",
            stuck.len(),
            f.ctx.identity.name
        ),
        per_start_ms: None,
        once_ms: None,
        every_start: false,
        modules: stuck
            .iter()
            .map(|t| ModulePenalty {
                module: label(t),
                penalty_ms: None,
            })
            .collect(),
        details: Vec::new(),
        fixes: vec![format!(
            "precompile after every deploy: {}",
            fixes::precompile(f)
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::access::{Access, Blocker};
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
