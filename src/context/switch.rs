//! The explorer's context switch and cost bars: the same service under each other
//! interpreter whose caches are in the tree, and the doctor's measurement of what each
//! imported module costs a start under a context.
//!
//! ```text
//! let others = alternatives(&svc, &model, &SystemAccess::of(&svc.context));  // per tag
//! let costs = measure_start(&ctx, &view, 1)?;   // runs a trusted interpreter, off the UI
//! view.apply_costs(&costs_of(&costs));          // compile_ms and the per-start totals
//! ```

use super::outcome::{AccessCheck, Costs, Found, ServiceView, next_start};
use super::runtime::RuntimeContext;
use super::service::Service;
use super::{interpreters_of_tree, with_interpreter};
use crate::doctor::cost::{self, ModuleCost};
use crate::scan::ScanModel;
use std::path::PathBuf;

/// The service under another interpreter found in the tree.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The service's context with that interpreter (described from its tag).
    pub context: RuntimeContext,
    /// What the next start under it does.
    pub view: ServiceView,
}

/// The service's view under each other CPython tag with caches in the tree (newest
/// first; the service's own tag is left out). Runs nothing: each interpreter is described
/// from its tag ([`interpreters_of_tree`]); the user, prefix and flags stay the service's.
pub fn alternatives(
    svc: &Service,
    model: &ScanModel,
    access: &dyn AccessCheck,
) -> Vec<Alternative> {
    let own = svc.context.interpreter.as_ref().map(super::Python::key);
    interpreters_of_tree(model)
        .into_iter()
        .filter(|py| Some(py.key()) != own)
        .filter_map(|py| {
            let context = with_interpreter(&svc.context, py);
            let view =
                next_start(model, &svc.start.modules, &context, access, &Costs::new()).ok()?;
            Some(Alternative { context, view })
        })
        .collect()
}

/// The interpreter that measures a context: its own path when that is a file, else (an
/// interpreter described from a tag or a unit written for another machine) the newest
/// installed one of the same version. Err says why none can be run.
pub fn measuring_python(ctx: &RuntimeContext) -> Result<PathBuf, String> {
    let py = ctx
        .interpreter
        .as_ref()
        .ok_or_else(|| "no interpreter chosen".to_string())?;
    if py.path.is_absolute() && py.path.is_file() {
        return Ok(py.path.clone());
    }
    super::python::installed(py.python)
        .map_err(|_| format!("no Python {} is installed here to measure with", py.python))
}

/// Measures compile and load time of every module the view imports (the doctor's driver:
/// it compiles the sources and loads caches, it imports nothing of the project), with the
/// context's interpreter when pycache trusts it (nobody else can change it) and its `-O`
/// level. Returns the interpreter that measured and the costs; Err: one line saying why
/// nothing was measured.
pub fn measure_start(
    ctx: &RuntimeContext,
    view: &ServiceView,
    repeat: usize,
) -> Result<Measured, String> {
    let python = measuring_python(ctx)?;
    if view.modules.is_empty() {
        return Ok(Measured {
            python,
            costs: Vec::new(),
        });
    }
    let todo: Vec<(PathBuf, Option<PathBuf>)> = view
        .modules
        .iter()
        .map(|m| {
            let cache = (m.found == Found::Usable).then(|| m.cache.clone());
            (m.source.clone(), cache)
        })
        .collect();
    let costs = cost::measure(&python, &todo, ctx.optimize, repeat)
        .map_err(|e| cli_free(&e.to_string()))?;
    Ok(Measured { python, costs })
}

/// A context's measurement: by which interpreter, and each module's times.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The interpreter that ran the driver (the context's, or one of its version).
    pub python: PathBuf,
    /// Compile and load times per module.
    pub costs: Vec<ModuleCost>,
}

/// The driver's error without its advice for the command line (`--no-measure`).
fn cli_free(e: &str) -> String {
    e.split("; pass --python").next().unwrap_or(e).to_string()
}

/// What one module costs each start from now on, ms: compiling when it compiles at every
/// start, else loading its cache (after the next start writes it). None: not measured, or
/// its import fails.
pub fn per_start_ms(next: super::NextStart, cost: &ModuleCost) -> Option<f64> {
    use super::NextStart as N;
    match next {
        N::CompilesEveryStart => cost.compile_ms,
        N::LoadsCache | N::CompilesWritesCache => cost.load_ms,
        N::ImportError => None,
    }
}

/// Measurements by source, for lookups.
pub fn by_source(costs: Vec<ModuleCost>) -> std::collections::HashMap<PathBuf, ModuleCost> {
    costs.into_iter().map(|c| (c.source.clone(), c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::outcome::SystemAccess;
    use crate::context::{NextStart, service};

    fn demo() -> (tempfile::TempDir, Service, ScanModel) {
        let dir = tempfile::tempdir().unwrap();
        let info = crate::demo::write(&dir.path().join("demo")).unwrap();
        let opts = crate::context::service::demo_options(&info);
        let (svc, model) = service(Some(&info.root), &opts, false, &mut |o| {
            crate::scan::scan(&o)
        })
        .unwrap();
        (dir, svc, model)
    }

    #[test]
    fn the_demo_under_its_other_tag_keeps_the_user_and_prefix_and_judges_again() {
        let (_dir, svc, model) = demo();
        let others = alternatives(&svc, &model, &SystemAccess::of(&svc.context));
        let keys: Vec<String> = others
            .iter()
            .filter_map(|a| {
                a.context
                    .interpreter
                    .as_ref()
                    .map(crate::context::Python::key)
            })
            .collect();
        assert_eq!(
            keys,
            ["cpython-312"],
            "the service's own cpython-313 is left out"
        );
        let other = &others[0];
        assert_eq!(
            other.context.title(&svc.root),
            "cpython-312 as lernmanager, prefix instance/tmp"
        );
        let py = other.context.interpreter.as_ref().unwrap();
        assert_eq!(py.from, "the tree's cpython-312 caches");
        assert_eq!(
            svc.view.module("app").map(|m| m.next),
            Some(NextStart::LoadsCache)
        );
        assert_eq!(
            other.view.module("app").map(|m| m.next),
            Some(NextStart::CompilesEveryStart),
            "the prefix holds no 3.12 cache of app"
        );
    }

    #[test]
    fn costs_applied_later_give_the_same_view_as_costs_given_to_next_start() {
        let (_dir, svc, model) = demo();
        let costs: Costs = svc
            .view
            .modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.source.clone(), 1.0 + i as f64))
            .collect();
        let access = SystemAccess::of(&svc.context);
        let direct = next_start(&model, &svc.start.modules, &svc.context, &access, &costs).unwrap();
        let mut later = svc.view.clone();
        assert_eq!(later.first_use_ms, None, "nothing measured yet");
        later.apply_costs(&costs);
        assert_eq!(later, direct);
        assert!(
            later.first_use_ms.is_some_and(|ms| ms > 0.0),
            "utils, on first use"
        );
    }

    #[test]
    fn an_interpreter_anyone_can_change_is_not_run_to_measure() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, svc, _model) = demo();
        let open = tempfile::tempdir().unwrap();
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let fake = open.path().join("python3.13");
        std::fs::copy("/bin/sh", &fake).unwrap();
        let mut ctx = svc.context.clone();
        if let Some(py) = ctx.interpreter.as_mut() {
            py.path = fake.clone();
        }
        assert_eq!(measuring_python(&ctx).as_deref(), Ok(fake.as_path()));
        let why = measure_start(&ctx, &svc.view, 1).unwrap_err();
        assert!(
            why.starts_with("refusing to run") && why.contains("anyone can write to it"),
            "{why}"
        );
        assert!(
            !why.contains("--python"),
            "no command-line advice in the explorer: {why}"
        );
    }
}
