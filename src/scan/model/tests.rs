use super::*;
use crate::pyc::{Location, Verdict};

fn cache(path: &str, source: &str, status: Status, tag: &str, size: u64) -> CacheRecord {
    CacheRecord {
        path: PathBuf::from(path),
        source: Some(PathBuf::from(source)),
        module: "m".into(),
        tag: Some(tag.into()),
        opt: None,
        location: Location::Pycache,
        header: None,
        magic: None,
        python: None,
        invalidation: None,
        status,
        reason: None,
        verdict: Verdict::new(status, ""),
        kind: Default::default(),
        meta: FileMeta {
            size,
            disk_usage: 4096,
            ..FileMeta::default()
        },
    }
}

fn source(path: &str) -> SourceRecord {
    SourceRecord {
        path: PathBuf::from(path),
        module: "m".into(),
        is_package: false,
        meta: FileMeta::default(),
    }
}

fn batch(sources: Vec<SourceRecord>, caches: Vec<CacheRecord>) -> ScanEvent {
    ScanEvent::Batch(Box::new(ScanBatch {
        sources,
        caches,
        errors: vec![],
        dirs_seen: 1,
        files_seen: 2,
    }))
}

#[test]
fn caches_join_their_module_whatever_the_arrival_order() {
    let mut m = ScanModel::new(vec!["/p".into()], None);
    m.apply(batch(
        vec![],
        vec![cache(
            "/p/__pycache__/m.cpython-313.pyc",
            "/p/m.py",
            Status::Fresh,
            "cpython-313",
            100,
        )],
    ));
    m.apply(batch(vec![source("/p/m.py")], vec![]));
    m.apply(batch(
        vec![],
        vec![cache(
            "/p/__pycache__/m.cpython-312.pyc",
            "/p/m.py",
            Status::Stale,
            "cpython-312",
            50,
        )],
    ));
    assert_eq!(m.modules.len(), 1);
    let module = &m.modules[Path::new("/p/m.py")];
    assert!(module.source_exists());
    assert_eq!(m.caches_of(module).count(), 2);
    assert_eq!(
        m.progress,
        Progress {
            dirs: 3,
            files: 6,
            finished: false
        }
    );
    m.apply(ScanEvent::Finished);
    assert!(m.progress.finished);
}

#[test]
fn one_batch_gives_the_model_of_one_record_at_a_time() {
    let caches = vec![
        cache(
            "/p/__pycache__/b.cpython-313.pyc",
            "/p/b.py",
            Status::Fresh,
            "cpython-313",
            1,
        ),
        cache(
            "/q/__pycache__/x.cpython-313.pyc",
            "/q/x.py",
            Status::Orphaned,
            "cpython-313",
            2,
        ),
        cache(
            "/p/__pycache__/a.cpython-312.pyc",
            "/p/a.py",
            Status::Stale,
            "cpython-312",
            3,
        ),
        cache(
            "/p/__pycache__/b.cpython-312.pyc",
            "/p/b.py",
            Status::Fresh,
            "cpython-312",
            4,
        ),
        cache(
            "/p/__pycache__/a.cpython-313.pyc",
            "/p/a.py",
            Status::Fresh,
            "cpython-313",
            5,
        ),
        cache(
            "/q/__pycache__/x.cpython-312.pyc",
            "/q/x.py",
            Status::Orphaned,
            "cpython-312",
            6,
        ),
    ];
    let sources = vec![source("/p/b.py"), source("/p/a.py")];
    let mut whole = ScanModel::new(vec!["/p".into()], None);
    // A cache of an earlier batch joins the module its source creates later.
    whole.apply(batch(vec![], vec![caches[2].clone()]));
    whole.apply(batch(sources.clone(), caches.clone()));
    let mut single = ScanModel::new(vec!["/p".into()], None);
    single.apply(batch(vec![], vec![caches[2].clone()]));
    for s in sources {
        single.apply(batch(vec![s], vec![]));
    }
    for c in caches {
        single.apply(batch(vec![], vec![c]));
    }
    assert_eq!(whole.modules, single.modules);
    assert_eq!(whole.summary, single.summary);
    assert_eq!(whole.caches, single.caches);
    assert_eq!(whole.modules[Path::new("/p/a.py")].caches, [0, 3, 5]);
    assert_eq!(whole.modules[Path::new("/q/x.py")].caches, [2, 6]);
    assert!(!whole.modules[Path::new("/q/x.py")].source_exists());
    assert_eq!(whole.summary.count(Status::Orphaned), 2);
}

#[test]
fn summary_counts_by_status_and_tag() {
    let mut m = ScanModel::new(vec!["/p".into()], None);
    m.apply(batch(
        vec![],
        vec![
            cache(
                "/p/__pycache__/a.cpython-313.pyc",
                "/p/a.py",
                Status::Fresh,
                "cpython-313",
                10,
            ),
            cache(
                "/p/__pycache__/b.cpython-313.pyc",
                "/p/b.py",
                Status::Orphaned,
                "cpython-313",
                20,
            ),
            cache(
                "/p/__pycache__/b.cpython-312.pyc",
                "/p/b.py",
                Status::Orphaned,
                "cpython-312",
                30,
            ),
        ],
    ));
    assert_eq!(m.summary.count(Status::Orphaned), 2);
    assert_eq!(m.summary.total().bytes, 60);
    let tags = m.summary.by_tag();
    assert_eq!(tags[0].0, "cpython-312");
    assert_eq!(tags[1].1.count, 2);
    assert!(m.has_problems());
}

#[test]
fn removed_caches_leave_the_model_and_orphan_modules_vanish() {
    let mut m = ScanModel::new(vec!["/p".into()], None);
    m.apply(batch(
        vec![source("/p/a.py")],
        vec![
            cache(
                "/p/__pycache__/a.cpython-313.pyc",
                "/p/a.py",
                Status::Fresh,
                "cpython-313",
                10,
            ),
            cache(
                "/p/__pycache__/gone.cpython-313.pyc",
                "/p/gone.py",
                Status::Orphaned,
                "cpython-313",
                20,
            ),
        ],
    ));
    m.apply(ScanEvent::Removed(vec![
        "/p/__pycache__/gone.cpython-313.pyc".into(),
    ]));
    assert_eq!(m.caches.len(), 1);
    assert_eq!(m.modules.len(), 1);
    assert!(!m.has_problems());
    let module = &m.modules[Path::new("/p/a.py")];
    assert_eq!(m.caches_of(module).next().unwrap().status, Status::Fresh);
}
