//! Findings: what is wrong with the service's caches, what it costs, and the fix, ranked
//! by cost (per-start costs first, then one-time costs, then the rest).

use super::access::{BlockKind, Blocker};
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
    pub modules: Vec<(String, Option<f64>)>,
    /// Supporting facts.
    pub details: Vec<String>,
    /// Fixes, any one of which resolves it.
    pub fixes: Vec<String>,
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
        let mut modules: Vec<(String, Option<f64>)> =
            group.iter().map(|t| (label(t), self.penalty(t))).collect();
        modules.sort_by(|a, b| {
            b.1.unwrap_or(-1.0)
                .total_cmp(&a.1.unwrap_or(-1.0))
                .then(a.0.cmp(&b.0))
        });
        let values: Vec<f64> = modules.iter().filter_map(|m| m.1).collect();
        let measured = (!values.is_empty()).then(|| values.iter().sum::<f64>());
        let ms_text = measured.map_or_else(
            || "cost not measured".to_string(),
            |ms| format!("about {}", ms_text(ms)),
        );
        let n = group.len();
        let what = if n == 1 {
            "imported module".to_string()
        } else {
            format!("{n} imported modules")
        };
        let title = if every_start {
            format!("{title}: {what} compile on every start, {ms_text} per start")
        } else {
            format!("{title}: {what} compile once at the next start, {ms_text} once")
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
    } else {
        format!("{ms:.1} ms")
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
        // One finding per blocking path: the directory (or setting) that says no.
        let mut groups: BTreeMap<(PathBuf, String), Vec<&Target>> = BTreeMap::new();
        for t in every.iter().filter(|t| t.unreadable.is_none()) {
            let key = t
                .access
                .blockers
                .first()
                .map_or_else(Default::default, |b| {
                    (b.path.clone(), format!("{:?}", b.kind))
                });
            groups.entry(key).or_default().push(t);
        }
        for group in groups.values() {
            let first = group[0];
            let Some(b) = first.access.blockers.first() else {
                continue;
            };
            let title = cannot_write_title(user, first, b);
            let mut fd = f.finding(FindingKind::CannotWrite, title, group, true);
            fd.details = first
                .access
                .blockers
                .iter()
                .map(|b| format!("{}: {}", b.path.display(), b.why))
                .collect();
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

fn cannot_write_title(user: &str, t: &Target, b: &Blocker) -> String {
    let dir = t.cache.parent().unwrap_or(Path::new("/"));
    let verb = if t.access.exists { "write" } else { "create" };
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
        modules: stuck.iter().map(|t| (label(t), None)).collect(),
        details: Vec::new(),
        fixes: vec![format!(
            "precompile after every deploy: {}",
            fixes::precompile(f)
        )],
    })
}
