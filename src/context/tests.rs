//! The service's view of the demo under its unit.

use super::outcome::{CacheRole, Costs, EveryStart, Unused};
use super::*;

pub(super) fn demo() -> (tempfile::TempDir, crate::demo::DemoInfo) {
    let dir = tempfile::tempdir().unwrap();
    let info = crate::demo::write(&dir.path().join("lernmanager")).unwrap();
    (dir, info)
}

#[test]
fn the_demo_context_comes_from_its_unit_without_a_lernmanager_user() {
    let (_d, info) = demo();
    let ctx = demo_context(&info).unwrap();
    let py = ctx.interpreter.clone().unwrap();
    assert_eq!(py.tag.as_deref(), Some("cpython-313"));
    assert_eq!(ctx.prefix.as_deref(), Some(info.prefix.as_path()));
    let user = ctx.derived.iter().find(|d| d.what == "user").unwrap();
    assert!(user.from.starts_with("User= at "), "{user:?}");
    if nix::unistd::User::from_name("lernmanager")
        .ok()
        .flatten()
        .is_none()
    {
        assert!(user.value.contains("not on this machine"), "{user:?}");
        assert_eq!(ctx.identity.uid, None);
    }
    for what in [
        "unit",
        "working directory",
        "pycache prefix",
        "python",
        "entry",
    ] {
        assert!(ctx.derived.iter().any(|d| d.what == what), "no {what}");
    }

    let model = crate::scan::scan(&scan_options(&ctx, vec![info.root.clone()], true)).unwrap();
    let start = start_of(&info.root, &ctx, &model);
    let view = next_start(
        &model,
        &start.modules,
        &ctx,
        &SystemAccess::of(&ctx),
        &Costs::new(),
    )
    .unwrap();
    let utils = view.module("utils").unwrap();
    assert_eq!(utils.when, When::OnFirstUse);
    if !ctx.identity.is_root() {
        assert_eq!(utils.next, NextStart::CompilesEveryStart, "{utils:?}");
        assert!(matches!(
            utils.every_start,
            Some(EveryStart::CannotWrite { prefix: true, .. })
        ));
        assert!(utils.why.contains("cannot write the prefix directory"));
    }
    for name in ["app", "config", "models", "analytics_queue", "microweb"] {
        let m = view.module(name).unwrap();
        assert_eq!(m.next, NextStart::LoadsCache, "{m:?}");
        assert!(m.cache.starts_with(&info.prefix));
    }
    let app_pycache = info.root.join("__pycache__/app.cpython-312.pyc");
    assert_eq!(
        view.role_of(&app_pycache),
        Some(CacheRole::Unused(Unused::OtherTag("cpython-312".into())))
    );
    let config_313 = info.root.join("__pycache__/config.cpython-313.pyc");
    assert_eq!(
        view.role_of(&config_313),
        Some(CacheRole::Unused(Unused::PycacheWhilePrefix))
    );
    assert_eq!(view.counts.modules["loads-cache"], 6);
}

#[test]
fn the_trees_tags_offer_a_context_switch() {
    let (_d, info) = demo();
    let ctx = demo_context(&info).unwrap();
    let model = crate::scan::scan(&scan_options(&ctx, vec![info.root.clone()], true)).unwrap();
    let found = interpreters_of_tree(&model);
    let tags: Vec<&str> = found.iter().filter_map(|p| p.tag.as_deref()).collect();
    assert_eq!(tags, ["cpython-313", "cpython-312"]);
    let other = with_interpreter(&ctx, found[1].clone());
    assert_eq!(
        other.title(&info.root),
        "cpython-312 as lernmanager, prefix instance/tmp"
    );
    let start = start_of(&info.root, &other, &model);
    let view = next_start(
        &model,
        &start.modules,
        &other,
        &SystemAccess::of(&other),
        &Costs::new(),
    )
    .unwrap();
    // No cpython-312 cache in the prefix: every module compiles, none can be written.
    assert!(
        view.modules
            .iter()
            .all(|m| m.next == NextStart::CompilesEveryStart),
        "{:?}",
        view.modules
    );
    assert_eq!(
        other.derived.iter().filter(|d| d.what == "python").count(),
        1
    );
}
