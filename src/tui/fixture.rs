//! A small, fixed scan model for tests and snapshots: paths under `/srv/app`, fixed
//! mtimes and owners, so every render is the same on every machine.

use pycache::pyc::{Location, PyVersion, Status, Verdict, header};
use pycache::scan::{
    CacheRecord, FileMeta, ScanBatch, ScanError, ScanErrorKind, ScanEvent, ScanModel, SourceRecord,
};
use std::path::PathBuf;

/// The fixture's root.
pub const ROOT: &str = "/srv/app";
/// 2024-05-01 10:00:00 UTC.
pub const T0: i64 = 1_714_557_600;

fn meta(size: u64, mtime: i64) -> FileMeta {
    FileMeta {
        size,
        disk_usage: 4096,
        mtime,
        uid: 0,
        gid: 0,
        mode: 0o100644,
        dev: 1,
        ino: size,
    }
}

/// Sizes of the fixture's sources (the caches of fresh ones record them).
fn source_size(rel: &str) -> u64 {
    match rel {
        "app.py" => 1203,
        "config.py" => 310,
        "utils.py" => 880,
        "broken.py" => 12,
        "pkg/views.py" => 2048,
        _ => 0,
    }
}

/// A source record (mtime one minute after `T0`).
pub fn source(rel: &str) -> SourceRecord {
    let size = source_size(rel);
    let module = rel.trim_end_matches(".py").replace('/', ".");
    let is_package = rel.ends_with("__init__.py");
    SourceRecord {
        path: PathBuf::from(ROOT).join(rel),
        module: module.trim_end_matches(".__init__").to_string(),
        is_package,
        meta: meta(size, T0 + 60),
    }
}

/// A cache record with a real decoded header (CPython 3.13 or 3.12, timestamp mode).
pub fn cache(
    rel: &str,
    src: &str,
    tag: Option<&str>,
    status: Status,
    reason: Option<&str>,
    size: u64,
) -> CacheRecord {
    let magic: u16 = match tag {
        Some("cpython-312") => 3531,
        Some(_) => 3571,
        None => 62211,
    };
    let mut bytes = magic.to_le_bytes().to_vec();
    bytes.extend([0x0d, 0x0a]);
    if magic != 62211 {
        bytes.extend(0u32.to_le_bytes());
    }
    // Fresh caches record their source's mtime and size; the others an older mtime.
    let recorded = if status == Status::Fresh { T0 + 60 } else { T0 };
    bytes.extend((recorded as u32).to_le_bytes());
    if magic != 62211 {
        bytes.extend((source_size(src) as u32).to_le_bytes());
    }
    let parsed = header::parse(&bytes).ok();
    let location = if tag.is_none() {
        Location::Legacy
    } else {
        Location::Pycache
    };
    CacheRecord {
        path: PathBuf::from(ROOT).join(rel),
        source: Some(PathBuf::from(ROOT).join(src)),
        module: src.trim_end_matches(".py").replace('/', "."),
        tag: tag.map(str::to_string),
        opt: None,
        location,
        magic: Some(magic),
        python: parsed
            .as_ref()
            .and_then(|h| h.magic.python)
            .or(Some(PyVersion::new(2, 7))),
        invalidation: parsed.as_ref().map(|h| h.invalidation),
        header: if status == Status::Invalid {
            None
        } else {
            parsed
        },
        status,
        reason: reason.map(str::to_string),
        verdict: match reason {
            Some(r) => Verdict::new(status, r),
            None => Verdict::new(status, ""),
        },
        kind: Default::default(),
        meta: meta(size, T0),
    }
}

/// The fixture's findings, in one batch.
pub fn batch() -> ScanBatch {
    let stale = Some("source mtime differs from the recorded one: recompiled on import");
    let gone = Some("source is gone: Python never imports it");
    ScanBatch {
        sources: vec![
            source("app.py"),
            source("config.py"),
            source("utils.py"),
            source("broken.py"),
            source("pkg/__init__.py"),
            source("pkg/views.py"),
        ],
        caches: vec![
            cache(
                "__pycache__/app.cpython-313.pyc",
                "app.py",
                Some("cpython-313"),
                Status::Fresh,
                None,
                1900,
            ),
            cache(
                "__pycache__/app.cpython-312.pyc",
                "app.py",
                Some("cpython-312"),
                Status::Stale,
                stale,
                1850,
            ),
            cache(
                "__pycache__/config.cpython-313.pyc",
                "config.py",
                Some("cpython-313"),
                Status::Fresh,
                None,
                512,
            ),
            cache(
                "__pycache__/old_api.cpython-313.pyc",
                "old_api.py",
                Some("cpython-313"),
                Status::Orphaned,
                gone,
                4200,
            ),
            cache(
                "__pycache__/migrate.cpython-312.pyc",
                "migrate.py",
                Some("cpython-312"),
                Status::Orphaned,
                gone,
                3100,
            ),
            cache(
                "__pycache__/broken.cpython-313.pyc",
                "broken.py",
                Some("cpython-313"),
                Status::Invalid,
                Some("truncated header: 6 bytes, a 3.13 header needs 16"),
                6,
            ),
            cache(
                "pkg/__pycache__/__init__.cpython-313.pyc",
                "pkg/__init__.py",
                Some("cpython-313"),
                Status::Fresh,
                None,
                130,
            ),
            cache(
                "pkg/__pycache__/views.cpython-313.pyc",
                "pkg/views.py",
                Some("cpython-313"),
                Status::Stale,
                stale,
                2600,
            ),
            cache(
                "pkg/legacy.pyc",
                "pkg/legacy.py",
                None,
                Status::Sourceless,
                Some("no source beside it: importable by CPython 2.7 without the .py"),
                700,
            ),
        ],
        errors: vec![ScanError {
            path: PathBuf::from(ROOT).join("private"),
            kind: ScanErrorKind::Unreadable,
            message: "permission denied (run as the directory's owner or root to see inside)"
                .into(),
        }],
        dirs_seen: 4,
        files_seen: 15,
    }
}

/// An empty model for the fixture's root.
pub fn empty() -> ScanModel {
    ScanModel::new(vec![PathBuf::from(ROOT)], None)
}

/// The fixture, fully scanned.
pub fn model() -> ScanModel {
    let mut m = empty();
    m.apply(ScanEvent::Batch(Box::new(batch())));
    m.apply(ScanEvent::Finished);
    m
}

/// The explorer on the fixture, sized 80x24.
pub fn app() -> crate::tui::app::App {
    let mut a = crate::tui::app::App::new(model(), crate::tui::app::Options::default());
    a.resize(80, 24);
    a
}

/// The key event of a character (`\n` Enter, `\x1b` Esc, `\t` Tab).
pub fn key_event(c: char) -> crossterm::event::KeyEvent {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let code = match c {
        '\n' => KeyCode::Enter,
        '\x1b' => KeyCode::Esc,
        '\t' => KeyCode::Tab,
        c => KeyCode::Char(c),
    };
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Feeds keys through the real key table, as the event loop does (`\n` Enter, `\x1b`
/// Esc, `\t` Tab).
pub fn keys(app: &mut crate::tui::app::App, keys: &str) {
    for c in keys.chars() {
        let ev = key_event(c);
        if let Some(a) = crate::tui::keymap::action_for(&ev, &app.contexts()) {
            app.handle(a);
        }
    }
}

/// The demo written to a temporary directory and judged in lernmanager.service's context
/// (nothing of it is run): the directory (kept alive), the demo's root, the service and
/// its scan model.
pub fn demo_service() -> (
    tempfile::TempDir,
    PathBuf,
    pycache::context::Service,
    ScanModel,
) {
    let dir = tempfile::tempdir().unwrap();
    let info = pycache::demo::write(&dir.path().join("demo")).unwrap();
    let opts = pycache::context::service::demo_options(&info);
    let (svc, model) = pycache::context::service(Some(&info.root), &opts, true, &mut |o| {
        pycache::scan::scan(&o)
    })
    .unwrap();
    (dir, info.root, svc, model)
}
