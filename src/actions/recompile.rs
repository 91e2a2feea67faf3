//! The recompile plan: which modules to compile, with which interpreter, mode and opt level.
//!
//! Pure: built from the scan model, a selection, options and the interpreters found. It
//! keeps each cache's invalidation mode and opt level unless told otherwise, rewrites a
//! cache whose mode changes, writes into the prefix tree when one is configured, and leaves
//! fresh caches alone, so a no-op run costs about a scan.
//!
//! Which interpreters: the tags named (`--tag`, `--python`) for every selected module; else
//! the tags already in the tree, each for the modules of directories that already hold
//! caches of that tag (or whose nearest parent does); else the newest interpreter found.

use super::failures::KnownFailures;
use super::interpreters::Interpreters;
use super::plan::{ActionKind, Compile, Plan, Step, count};
use super::selection::Selection;
use super::targets::{Scope, Target, chosen, targets};
use crate::pyc::{Invalidation, Status};
use crate::scan::ScanModel;
use crate::scan::record::display_path;
use std::collections::BTreeSet;

pub use super::paths::target_path;

/// Verdicts recompile replaces by default.
pub const RECOMPILE_DEFAULT: [Status; 3] = [Status::Stale, Status::Invalid, Status::Unreadable];

/// How to recompile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecompileOptions {
    /// Write this mode instead of keeping each cache's own.
    pub mode: Option<Invalidation>,
    /// Only these opt levels (else each cache's own; 0 for new caches).
    pub opt_levels: Option<Vec<u8>>,
    /// Create caches that are missing (not only replace existing ones).
    pub missing: bool,
    /// Interpreter keys named by `--python` (their tags), added to `Selection::tags`.
    pub explicit_keys: Vec<String>,
    /// Running as root: new files and directories get the owner of the directory they are
    /// created in (a root-owned `__pycache__` locks the service out); rewritten files keep theirs.
    pub chown: bool,
}

impl Default for RecompileOptions {
    fn default() -> Self {
        Self {
            mode: None,
            opt_levels: None,
            missing: true,
            explicit_keys: Vec::new(),
            chown: false,
        }
    }
}

/// What the interpreters must be probed for before planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    /// These keys (possibly none: nothing to do).
    Keys(BTreeSet<String>),
    /// The tree has no caches and no tag was named: the newest interpreter decides.
    Newest,
}

/// The half of a recompile plan that needs no interpreter: computed once, it tells which
/// interpreters to probe ([`Prepared::needed`]), then becomes the plan ([`Prepared::plan`]).
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    model: &'a ScanModel,
    sel: &'a Selection,
    opts: &'a RecompileOptions,
    failures: &'a KnownFailures,
    chosen: Option<Chosen>,
}

#[derive(Debug, Clone)]
struct Chosen {
    keys: BTreeSet<String>,
    scope: Scope,
    targets: Vec<Target>,
    fresh: u64,
}

impl<'a> Prepared<'a> {
    /// Computes the targets (unless the newest interpreter must decide the tag).
    pub fn new(
        model: &'a ScanModel,
        sel: &'a Selection,
        opts: &'a RecompileOptions,
        failures: &'a KnownFailures,
    ) -> Self {
        let chosen = chosen(model, sel, opts, None).map(|(keys, scope)| {
            let (targets, fresh) = targets(model, sel, opts, &keys, scope);
            Chosen {
                keys,
                scope,
                targets,
                fresh,
            }
        });
        Self {
            model,
            sel,
            opts,
            failures,
            chosen,
        }
    }

    /// The keys whose interpreters the plan needs (remembered failures need none).
    pub fn needed(&self) -> Needed {
        match &self.chosen {
            None => Needed::Newest,
            Some(c) => Needed::Keys(
                c.targets
                    .iter()
                    .filter(|t| {
                        self.failures
                            .lookup(&t.key, &t.source, &t.source_meta)
                            .is_none()
                    })
                    .map(|t| t.key.clone())
                    .collect(),
            ),
        }
    }

    /// The plan, with the interpreters found.
    pub fn plan(self, interps: &Interpreters) -> Plan {
        let (model, sel, opts) = (self.model, self.sel, self.opts);
        let mut plan = Plan::new(ActionKind::Recompile, super::clean::removal_roots(model));
        let chosen = self.chosen.or_else(|| {
            chosen(model, sel, opts, Some(interps)).map(|(keys, scope)| {
                let (targets, fresh) = targets(model, sel, opts, &keys, scope);
                Chosen {
                    keys,
                    scope,
                    targets,
                    fresh,
                }
            })
        });
        let Some(Chosen {
            keys,
            scope,
            targets,
            fresh,
        }) = chosen
        else {
            plan.notes.push(
                "no caches in the tree and no interpreter found: name one with --python PATH"
                    .into(),
            );
            return plan;
        };
        let lines: Vec<String> = keys
            .iter()
            .map(|key| match interps.for_key(key) {
                Some(i) => format!("{key} -> {} (Python {})", display_path(&i.path), i.version),
                None => format!("{key} -> none found"),
            })
            .collect();
        plan.notes
            .push(format!("interpreters: {}", lines.join("; ")));
        if !interps.problems.is_empty() {
            // Refused (not trusted), timed out, or not a Python: say which and why.
            plan.notes
                .push(format!("not used: {}", interps.problems.join("; ")));
        }
        if interps.found.iter().any(|i| i.described) {
            plan.notes.push("planning only: the tree's interpreters were not run; their versions come from their pyvenv.cfg".into());
        }
        plan.notes.push(match scope {
            Scope::Whole => "every selected module gets a cache for each named tag".into(),
            Scope::PerDirectory => "tags chosen from the caches already in the tree; a module gets caches for the tags its directory (or nearest parent) already has (name others with --tag or --python)".into(),
        });
        let clamped = opts.mode.is_some_and(|m| m != Invalidation::Timestamp)
            && targets.iter().any(|t| t.mode == Invalidation::Timestamp);
        let mut known = 0u64;
        for t in targets {
            let known_failure = self
                .failures
                .lookup(&t.key, &t.source, &t.source_meta)
                .cloned();
            known += u64::from(known_failure.is_some());
            let interp = interps.for_key(&t.key);
            plan.steps.push(Step::Compile(Compile {
                source: t.source,
                source_size: t.source_meta.size,
                source_mtime: t.source_meta.mtime,
                cache: t.cache,
                module: t.module,
                unavailable: interp.is_none().then(|| {
                    format!(
                        "no interpreter writes {} caches; found: {}",
                        t.key,
                        interps.describe()
                    )
                }),
                interpreter: interp.map(|i| i.path.clone()),
                tag: t.key,
                opt: t.opt,
                mode: t.mode,
                reason: t.reason,
                known_failure,
                chown: opts.chown,
            }));
        }
        if clamped {
            plan.notes.push("Python before 3.7 has no invalidation modes: those caches are written as timestamp".into());
        }
        if fresh > 0 {
            plan.notes.push(format!(
                "{} already fresh: left alone",
                count(fresh, "cache")
            ));
        }
        if known > 0 {
            plan.notes.push(format!(
                "{} failed to compile before and did not change since: reported again without running Python (--retry-failed to try)",
                count(known, "source")
            ));
        }
        if opts.chown {
            plan.notes.push("running as root: new directories and files get the owner of the directory they are created in, rewritten files keep theirs (--keep-root-owner: root owns them)".into());
        }
        plan.recount();
        plan
    }
}

/// The keys the plan would compile for, computed without interpreters.
pub fn needed_keys(model: &ScanModel, sel: &Selection, opts: &RecompileOptions) -> Needed {
    Prepared::new(model, sel, opts, &KnownFailures::default()).needed()
}

/// Plans the recompile (no remembered failures; see [`Prepared`] for those).
pub fn plan_recompile(
    model: &ScanModel,
    sel: &Selection,
    opts: &RecompileOptions,
    interps: &Interpreters,
) -> Plan {
    Prepared::new(model, sel, opts, &KnownFailures::default()).plan(interps)
}

#[cfg(test)]
mod tests;
