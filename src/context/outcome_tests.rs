//! The same tree (the demo: real caches of CPython 3.12 and 3.13, a prefix mirror) under
//! several contexts, with the expected next start of every imported module.

use super::outcome::{AccessCheck, CacheRole, Costs, EveryStart, NextStart, Unused, next_start};
use super::python::Python;
use super::runtime::{ContextOptions, RuntimeContext, resolve};
use super::tests::demo;
use super::{StartModule, scan_options, start_of};
use crate::doctor::access::{Access, BlockKind, Blocker};
use std::path::Path;

use NextStart::{CompilesEveryStart as Every, CompilesWritesCache as Writes, LoadsCache as Loads};

/// Writable everywhere, or nowhere (a user who cannot write the tree).
struct Writable(bool);

impl AccessCheck for Writable {
    fn dir(&self, dir: &Path) -> Access {
        let blockers = if self.0 {
            Vec::new()
        } else {
            vec![Blocker {
                kind: BlockKind::Permission,
                path: dir.to_path_buf(),
                why: "owned by root:root, mode 755".into(),
            }]
        };
        Access {
            dir: dir.to_path_buf(),
            exists: true,
            writable: self.0,
            blockers,
        }
    }
    fn replace(&self, _: &Path) -> Option<Blocker> {
        None
    }
    fn read(&self, _: &Path) -> Option<Blocker> {
        None
    }
}

fn context(version: &str, prefix: Option<&Path>, env: &[(&str, &str)]) -> RuntimeContext {
    let mut ctx = resolve(&ContextOptions {
        user: Some("nobody".into()),
        prefix: prefix.map(Path::to_path_buf),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ContextOptions::default()
    })
    .unwrap();
    let name = format!("/usr/bin/python{version}");
    ctx.interpreter = Some(Python::from_name(Path::new(&name), "test").unwrap());
    ctx
}

const MODULES: [&str; 7] = [
    "app",
    "config",
    "models",
    "utils",
    "analytics_queue",
    "microweb",
    "microweb.routing",
];

/// Each module's next start under `ctx`, in [`MODULES`] order.
fn outcomes(
    ctx: &RuntimeContext,
    access: &dyn AccessCheck,
) -> (Vec<NextStart>, super::ServiceView) {
    let (_d, info) = demo();
    let model = crate::scan::scan(&scan_options(ctx, vec![info.root.clone()], true)).unwrap();
    let mut ctx = ctx.clone();
    ctx.entry = Some(info.root.join("run.py"));
    let start: Vec<StartModule> = start_of(&info.root, &ctx, &model).modules;
    let names: Vec<&str> = start.iter().map(|m| m.module.as_str()).collect();
    assert_eq!(names.len(), MODULES.len(), "{names:?}");
    let view = next_start(&model, &start, &ctx, access, &Costs::new()).unwrap();
    let got = MODULES
        .iter()
        .map(|n| view.module(n).unwrap_or_else(|| panic!("no {n}")).next)
        .collect();
    (got, view)
}

/// The demo with its prefix (the prefix needs the demo's own path, so the tree is
/// written first and the context made for it).
fn with_demo_prefix(
    version: &str,
    env: &[(&str, &str)],
    access: &dyn AccessCheck,
) -> (Vec<NextStart>, super::ServiceView) {
    let (_d, info) = demo();
    let ctx = context(version, Some(&info.prefix), env);
    let model = crate::scan::scan(&scan_options(&ctx, vec![info.root.clone()], true)).unwrap();
    let mut ctx = ctx;
    ctx.entry = Some(info.root.join("run.py"));
    let start = start_of(&info.root, &ctx, &model).modules;
    let view = next_start(&model, &start, &ctx, access, &Costs::new()).unwrap();
    let got = MODULES
        .iter()
        .map(|n| view.module(n).unwrap().next)
        .collect();
    (got, view)
}

#[test]
fn cpython_312_without_prefix_loads_its_caches_and_recompiles_the_stale_ones() {
    let (got, view) = outcomes(&context("3.12", None, &[]), &Writable(true));
    // app config models utils analytics_queue microweb routing
    assert_eq!(got, [Loads, Writes, Writes, Loads, Loads, Loads, Loads]);
    let config = view.module("config").unwrap();
    assert!(config.why.contains("is ignored"), "{}", config.why);
}

#[test]
fn cpython_313_without_prefix_compiles_app_and_utils_and_the_stale_config() {
    let (got, view) = outcomes(&context("3.13", None, &[]), &Writable(true));
    assert_eq!(got, [Writes, Writes, Loads, Writes, Loads, Loads, Loads]);
    let app = view.module("app").unwrap();
    assert!(
        app.why.starts_with("no cpython-313 cache at"),
        "{}",
        app.why
    );
    // Its 3.12 cache is there, unused by this service.
    assert_eq!(app.unused.len(), 1);
    assert_eq!(
        view.role_of(&app.unused[0]),
        Some(CacheRole::Unused(Unused::OtherTag("cpython-312".into())))
    );
}

#[test]
fn cpython_313_with_the_prefix_reads_only_the_prefix() {
    let (got, view) = with_demo_prefix("3.13", &[], &Writable(true));
    assert_eq!(got, [Loads, Loads, Loads, Writes, Loads, Loads, Loads]);
    // The fresh 3.13 caches in __pycache__ are never read while the prefix is set.
    assert!(view.counts.unused_caches["pycache-while-prefix"] >= 5);
}

#[test]
fn cpython_312_with_the_prefix_finds_nothing_it_can_use() {
    let (got, _) = with_demo_prefix("3.12", &[], &Writable(true));
    assert_eq!(got, [Writes; 7]);
}

#[test]
fn optimize_level_one_reads_opt_1_caches_which_the_tree_lacks() {
    let (got, view) = with_demo_prefix("3.13", &[("PYTHONOPTIMIZE", "1")], &Writable(true));
    assert_eq!(got, [Writes; 7]);
    let app = view.module("app").unwrap();
    assert!(
        app.cache
            .to_string_lossy()
            .ends_with("app.cpython-313.opt-1.pyc")
    );
    assert!(view.counts.unused_caches.contains_key("other-opt-level"));
}

#[test]
fn a_user_who_cannot_write_compiles_at_every_start() {
    let (got, view) = outcomes(&context("3.13", None, &[]), &Writable(false));
    assert_eq!(got, [Every, Every, Loads, Every, Loads, Loads, Loads]);
    let utils = view.module("utils").unwrap();
    assert!(matches!(
        utils.every_start,
        Some(EveryStart::CannotWrite { prefix: false, .. })
    ));
    assert!(utils.why.contains("nobody cannot write"), "{}", utils.why);
    assert_eq!(
        view.counts.every_start_at_start, 2,
        "app and config; utils is lazy"
    );
}

#[test]
fn bytecode_writing_off_compiles_at_every_start_even_where_it_could_write() {
    let (got, view) =
        with_demo_prefix("3.13", &[("PYTHONDONTWRITEBYTECODE", "1")], &Writable(true));
    assert_eq!(got, [Loads, Loads, Loads, Every, Loads, Loads, Loads]);
    let utils = view.module("utils").unwrap();
    assert!(matches!(
        &utils.every_start,
        Some(EveryStart::BytecodeOff { from }) if from.contains("PYTHONDONTWRITEBYTECODE=1")
    ));
}

#[test]
fn measured_costs_add_up_per_start_and_on_first_use() {
    let (_d, info) = demo();
    let mut ctx = context("3.13", None, &[]);
    ctx.entry = Some(info.root.join("run.py"));
    let model = crate::scan::scan(&scan_options(&ctx, vec![info.root.clone()], true)).unwrap();
    let start = start_of(&info.root, &ctx, &model).modules;
    let costs: Costs = [
        (info.root.join("app.py"), 2.0),
        (info.root.join("config.py"), 0.5),
        (info.root.join("utils.py"), 1.0),
        (info.root.join("models.py"), 9.0), // loads its cache: costs nothing
    ]
    .into_iter()
    .collect();
    let view = next_start(&model, &start, &ctx, &Writable(false), &costs).unwrap();
    assert_eq!(view.every_start_ms, Some(2.5));
    assert_eq!(view.first_use_ms, Some(1.0));
    assert_eq!(view.once_ms, None);
}
