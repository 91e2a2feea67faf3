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

pub use super::targets::target_path;

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
        let mut plan = Plan::new(ActionKind::Recompile, model.roots.clone());
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
mod tests {
    use super::*;
    use crate::actions::interpreters::{Interpreter, Origin};
    use crate::actions::plan::CompileReason;
    use crate::pyc::{Location, PyVersion, Verdict};
    use crate::scan::{CacheRecord, FileMeta, ScanBatch, ScanEvent, SourceRecord};
    use std::path::{Path, PathBuf};

    fn src(path: &str) -> SourceRecord {
        SourceRecord {
            path: path.into(),
            module: "m".into(),
            is_package: false,
            meta: FileMeta::default(),
        }
    }

    fn pyc(path: &str, source: &str, tag: &str, status: Status, mode: Invalidation) -> CacheRecord {
        let opt = path
            .split(".opt-")
            .nth(1)
            .map(|o| o.trim_end_matches(".pyc").to_string());
        CacheRecord {
            path: path.into(),
            source: Some(source.into()),
            module: "m".into(),
            tag: Some(tag.into()),
            opt,
            location: if path.contains("__pycache__") {
                Location::Pycache
            } else {
                Location::Prefix
            },
            header: None,
            magic: None,
            python: None,
            invalidation: Some(mode),
            status,
            reason: None,
            verdict: Verdict::new(status, ""),
            meta: FileMeta::default(),
        }
    }

    fn model(prefix: Option<&str>, sources: &[&str], caches: Vec<CacheRecord>) -> ScanModel {
        let mut m = ScanModel::new(vec!["/p".into()], prefix.map(PathBuf::from));
        let sources = sources.iter().map(|s| src(s)).collect();
        m.apply(ScanEvent::Batch(Box::new(ScanBatch {
            sources,
            caches,
            ..ScanBatch::default()
        })));
        m
    }

    fn python(tag: &str, minor: u8) -> Interpreter {
        Interpreter {
            path: format!("/usr/bin/python3.{minor}").into(),
            origin: Origin::System,
            version: format!("3.{minor}.0"),
            python: PyVersion::new(3, minor),
            implementation: "cpython".into(),
            tag: Some(tag.into()),
            magic: 0,
            pycache_prefix: None,
        }
    }

    fn compiles(plan: &Plan) -> Vec<(String, Invalidation, CompileReason)> {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Compile(c) => Some((c.cache.display().to_string(), c.mode, c.reason.clone())),
                _ => None,
            })
            .collect()
    }

    use Invalidation::{CheckedHash, Timestamp};

    #[test]
    fn keeps_modes_and_opt_levels_and_fills_gaps_per_directory() {
        let m = model(
            None,
            &["/p/a.py", "/p/b.py", "/p/c.py", "/p/sub/d.py", "/q/e.py"],
            vec![
                pyc(
                    "/p/__pycache__/a.cpython-313.pyc",
                    "/p/a.py",
                    "cpython-313",
                    Status::Stale,
                    CheckedHash,
                ),
                pyc(
                    "/p/__pycache__/a.cpython-313.opt-1.pyc",
                    "/p/a.py",
                    "cpython-313",
                    Status::Fresh,
                    CheckedHash,
                ),
                pyc(
                    "/p/__pycache__/b.cpython-313.pyc",
                    "/p/b.py",
                    "cpython-313",
                    Status::Fresh,
                    CheckedHash,
                ),
                pyc(
                    "/p/__pycache__/b.cpython-313.opt-1.pyc",
                    "/p/b.py",
                    "cpython-313",
                    Status::Fresh,
                    CheckedHash,
                ),
                pyc(
                    "/q/__pycache__/e.cpython-312.pyc",
                    "/q/e.py",
                    "cpython-312",
                    Status::Fresh,
                    Timestamp,
                ),
            ],
        );
        let interps = Interpreters::from_found(vec![python("cpython-313", 13)]);
        let plan = plan_recompile(
            &m,
            &Selection::default(),
            &RecompileOptions::default(),
            &interps,
        );
        let missing = CompileReason::Missing;
        assert_eq!(
            compiles(&plan),
            [
                (
                    "/p/__pycache__/a.cpython-313.pyc".into(),
                    CheckedHash,
                    CompileReason::Replace {
                        status: Status::Stale
                    }
                ),
                (
                    "/p/__pycache__/c.cpython-313.opt-1.pyc".into(),
                    CheckedHash,
                    missing.clone()
                ),
                (
                    "/p/__pycache__/c.cpython-313.pyc".into(),
                    CheckedHash,
                    missing.clone()
                ),
                (
                    "/p/sub/__pycache__/d.cpython-313.opt-1.pyc".into(),
                    CheckedHash,
                    missing.clone()
                ),
                (
                    "/p/sub/__pycache__/d.cpython-313.pyc".into(),
                    CheckedHash,
                    missing
                ),
            ]
        );
        assert_eq!(plan.totals.unavailable, 0);
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains("4 caches already fresh"))
        );
        assert_eq!(
            needed_keys(&m, &Selection::default(), &RecompileOptions::default()),
            Needed::Keys(["cpython-313".to_string()].into())
        );
    }

    #[test]
    fn a_mode_change_forces_a_rewrite_and_old_pythons_stay_timestamp() {
        let m = model(
            None,
            &["/p/a.py"],
            vec![
                pyc(
                    "/p/__pycache__/a.cpython-313.pyc",
                    "/p/a.py",
                    "cpython-313",
                    Status::Fresh,
                    Timestamp,
                ),
                pyc(
                    "/p/__pycache__/a.cpython-36.pyc",
                    "/p/a.py",
                    "cpython-36",
                    Status::Fresh,
                    Timestamp,
                ),
            ],
        );
        let opts = RecompileOptions {
            mode: Some(CheckedHash),
            ..RecompileOptions::default()
        };
        let interps = Interpreters::from_found(vec![python("cpython-313", 13)]);
        let plan = plan_recompile(&m, &Selection::default(), &opts, &interps);
        let c = compiles(&plan);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].2, CompileReason::ModeChange { from: Timestamp });
    }

    #[test]
    fn named_tags_cover_every_module_and_missing_interpreters_are_reported() {
        let m = model(Some("/pfx"), &["/p/a.py", "/p/b.py"], vec![]);
        let sel = Selection {
            tags: vec!["cpython-311".into()],
            ..Selection::default()
        };
        let plan = plan_recompile(
            &m,
            &sel,
            &RecompileOptions::default(),
            &Interpreters::from_found(vec![python("cpython-313", 13)]),
        );
        let c = compiles(&plan);
        assert_eq!(c[0].0, "/pfx/p/a.cpython-311.pyc");
        assert_eq!(c.len(), 2);
        assert_eq!(plan.totals.unavailable, 2);
        match &plan.steps[0] {
            Step::Compile(s) => assert!(
                s.unavailable
                    .as_deref()
                    .unwrap()
                    .contains("found: cpython-313 (/usr/bin/python3.13)")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_tree_uses_the_newest_interpreter() {
        let m = model(None, &["/p/a.py"], vec![]);
        assert_eq!(
            needed_keys(&m, &Selection::default(), &RecompileOptions::default()),
            Needed::Newest
        );
        let interps =
            Interpreters::from_found(vec![python("cpython-312", 12), python("cpython-313", 13)]);
        let plan = plan_recompile(
            &m,
            &Selection::default(),
            &RecompileOptions::default(),
            &interps,
        );
        assert_eq!(compiles(&plan)[0].0, "/p/__pycache__/a.cpython-313.pyc");
        assert_eq!(
            target_path(None, Path::new("/p/a.b.py"), "cpython-313", 2),
            Some("/p/__pycache__/a.b.cpython-313.opt-2.pyc".into())
        );
    }
}
