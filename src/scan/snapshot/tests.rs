use super::*;
use crate::pyc::{Invalidation, Location, PyVersion, Status, Verdict};
use crate::scan::record::{CacheRecord, FileMeta, SourceRecord};
use std::io::Write;

fn model() -> ScanModel {
    let mut m = ScanModel::new(vec!["/p".into()], Some("/pfx".into()));
    let meta = FileMeta {
        size: 120,
        disk_usage: 4096,
        mtime: 1_700_000_000,
        uid: 0,
        gid: 0,
        mode: 0o100644,
        dev: 1,
        ino: 2,
    };
    let cache = |path: &str, source: Option<&str>, status| CacheRecord {
        path: path.into(),
        source: source.map(PathBuf::from),
        module: "a".into(),
        tag: Some("cpython-313".into()),
        opt: None,
        location: Location::Pycache,
        header: Some(
            crate::pyc::header::parse(&[
                0xf3, 0x0d, 0x0d, 0x0a, 3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 0xff,
            ])
            .unwrap(),
        ),
        magic: Some(3571),
        python: Some(PyVersion::new(3, 13)),
        invalidation: Some(Invalidation::CheckedHash),
        status,
        reason: Some("source hash differs".into()),
        verdict: Verdict::new(status, "source hash differs"),
        kind: Default::default(),
        meta,
    };
    m.apply(ScanEvent::Batch(Box::new(ScanBatch {
        sources: vec![SourceRecord {
            path: "/p/a.py".into(),
            module: "a".into(),
            is_package: false,
            meta,
        }],
        caches: vec![
            cache(
                "/p/__pycache__/a.cpython-313.pyc",
                Some("/p/a.py"),
                Status::Stale,
            ),
            // A prefix cache whose source lies outside every root: an absolute directory.
            cache(
                "/pfx/elsewhere/b.cpython-313.pyc",
                Some("/elsewhere/b.py"),
                Status::Orphaned,
            ),
            cache("/p/__pycache__/junk.pyc", None, Status::Invalid),
        ],
        errors: vec![ScanError {
            path: "/p/locked".into(),
            kind: ScanErrorKind::Unreadable,
            message: "permission denied".into(),
        }],
        dirs_seen: 3,
        files_seen: 4,
    })));
    m.apply(ScanEvent::Finished);
    m
}

#[test]
fn a_model_survives_a_round_trip_through_json() {
    let m = model();
    let back = load(&m.to_json_string()).unwrap();
    assert_eq!(back.caches.len(), 3);
    let a = back
        .cache(Path::new("/p/__pycache__/a.cpython-313.pyc"))
        .unwrap();
    let orig = m.cache(&a.path).unwrap();
    assert_eq!(a.python, Some(PyVersion::new(3, 13)));
    assert_eq!(a.invalidation, Some(Invalidation::CheckedHash));
    assert_eq!(a.meta, orig.meta);
    assert_eq!(a.header, orig.header);
    assert_eq!(a.source, orig.source);
    let b = back
        .cache(Path::new("/pfx/elsewhere/b.cpython-313.pyc"))
        .unwrap();
    assert_eq!(b.source.as_deref(), Some(Path::new("/elsewhere/b.py")));
    let junk = back.cache(Path::new("/p/__pycache__/junk.pyc")).unwrap();
    assert_eq!(junk.source, None);
    assert_eq!(back.summary, m.summary);
    assert_eq!(back.progress, m.progress);
    assert_eq!(back.errors, m.errors);
    assert!(back.modules[&PathBuf::from("/p/a.py")].source_exists());
    assert_eq!(back.prefix, Some(PathBuf::from("/pfx")));
}

#[test]
fn snapshots_are_compact_relative_and_in_a_stable_order() {
    let m = model();
    let text = m.to_json_string();
    assert!(!text.contains('\n') || text.trim_end().lines().count() == 1);
    // Paths relative to their root: the root is stated once.
    assert_eq!(text.matches("\"/p\"").count(), 1, "{text}");
    let mut shuffled = m.clone();
    shuffled.caches.reverse();
    let rebuilt = load(&shuffled.to_json_string()).unwrap();
    let strip_time = |s: String| s.split_once("\"roots\"").map(|(_, r)| r.to_string());
    assert_eq!(
        strip_time(rebuilt.to_json_string()),
        strip_time(m.to_json_string())
    );
}

#[test]
fn gzip_and_zstd_snapshots_read_like_plain_ones() {
    let m = model();
    let text = m.to_json_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let plain = load(&text).unwrap();
    for bytes in [gz, zst] {
        let back = load_reader(bytes.as_slice()).unwrap();
        assert_eq!(back.caches, plain.caches);
        assert_eq!(back.modules, plain.modules);
    }
}

#[test]
fn garbage_and_other_schemas_are_one_line_errors() {
    let e = load("{").unwrap_err();
    assert!(e.starts_with("not a pycache scan snapshot"), "{e}");
    let e = load(r#"{"schema": 99, "roots": []}"#).unwrap_err();
    assert!(e.starts_with("snapshot schema 99"), "{e}");
    // The advice ends the line (serde's position used to follow it).
    assert!(e.ends_with("with this version"), "{e}");
    let e = load(r#"{"schema": 1, "kind": "scan"}"#).unwrap_err();
    assert!(e.ends_with("with this version"), "{e}");
    // Other documents of pycache's say what they are (the service's view, with sorted
    // keys and its caches first, was called a schema-1 snapshot).
    let e = load(
        r#"{"caches": [{"path": "/p/a.pyc", "role": "unused"}], "kind": "service", "schema": 2}"#,
    )
    .unwrap_err();
    assert!(
        e.starts_with("not a snapshot: this is the service's view"),
        "{e}"
    );
    let e = load(r#"{"schema": 2, "kind": "summary", "dirs": 3}"#).unwrap_err();
    assert!(
        e.starts_with("not a snapshot: this is a 'pycache scan --summary --json' line"),
        "{e}"
    );
    let e = load(r#"{"schema": 2, "kind": "cache", "path": "/p/a.pyc"}"#).unwrap_err();
    assert!(e.contains("--jsonl"), "{e}");
    // Schema 1 documents (sorted keys, caches as objects) name their schema too.
    let e = load(r#"{"caches": [{"path": "/p/a.pyc"}], "schema": 1}"#).unwrap_err();
    assert!(e.starts_with("snapshot schema 1 is not"), "{e}");
    let e = load(r#"{"schema": 2, "caches": {"rows": [[0]]}}"#).unwrap_err();
    assert!(e.contains("out of order"), "{e}");
    let text = model().to_json_string().replace("\"ino\"]", "\"inode\"]");
    let e = load(&text).unwrap_err();
    assert!(e.contains("columns"), "{e}");
    assert!(!e.contains('\n'));
}
