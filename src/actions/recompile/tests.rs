//! Unit tests of the recompile planner (models built by hand; no interpreter runs).
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
        kind: Default::default(),
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
        described: false,
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
fn a_pyw_beside_its_py_is_not_compiled_over_the_py_cache() {
    let m = model(
        None,
        &["/p/idle.py", "/p/idle.pyw"],
        vec![pyc(
            "/p/__pycache__/idle.cpython-313.pyc",
            "/p/idle.py",
            "cpython-313",
            Status::Fresh,
            Timestamp,
        )],
    );
    let interps = Interpreters::from_found(vec![python("cpython-313", 13)]);
    assert!(
        plan_recompile(
            &m,
            &Selection::default(),
            &RecompileOptions::default(),
            &interps
        )
        .is_empty()
    );
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
