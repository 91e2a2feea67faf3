//! Reading a saved `scan --json` document back into a model, for offline review
//! (`pycache --from snapshot.json`), like ncdu's `-o`/`-f`.
//!
//! A snapshot has no decoded headers (they are re-read lazily only when the file is
//! there) and its model is read-only by contract: the explorer disables every action.

use super::model::{SCHEMA, ScanBatch, ScanEvent, ScanModel};
use super::record::{CacheRecord, FileMeta, Recorded, ScanError, ScanErrorKind, SourceRecord};
use crate::pyc::{Invalidation, Location, PyVersion, Status, Verdict};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Doc {
    schema: u32,
    roots: Vec<PathBuf>,
    prefix: Option<PathBuf>,
    caches: Vec<CacheJson>,
    modules: Vec<ModuleJson>,
    #[serde(default)]
    errors: Vec<ErrorJson>,
    summary: SummaryJson,
}

#[derive(Deserialize)]
struct CacheJson {
    path: PathBuf,
    source: Option<PathBuf>,
    module: String,
    tag: Option<String>,
    opt: Option<String>,
    location: Location,
    magic: Option<u16>,
    python: Option<String>,
    invalidation: Option<Invalidation>,
    status: Status,
    reason: Option<String>,
    #[serde(default)]
    recorded: Option<Recorded>,
    #[serde(flatten)]
    meta: FileMeta,
}

#[derive(Deserialize)]
struct ModuleJson {
    module: String,
    source: PathBuf,
    is_package: bool,
    source_meta: Option<FileMeta>,
}

#[derive(Deserialize)]
struct ErrorJson {
    path: PathBuf,
    kind: ScanErrorKind,
    message: String,
}

#[derive(Deserialize)]
struct SummaryJson {
    dirs: u64,
    files: u64,
}

fn parse_version(s: &str) -> Option<PyVersion> {
    let (a, b) = s.split_once('.')?;
    Some(PyVersion::new(a.parse().ok()?, b.parse().ok()?))
}

/// Parses a `scan --json` document. The error says what is wrong in one line.
pub fn load(json: &str) -> Result<ScanModel, String> {
    let doc: Doc = serde_json::from_str(json).map_err(|e| {
        format!("not a pycache scan snapshot ({e}); make one with 'pycache scan --json > FILE'")
    })?;
    if doc.schema != SCHEMA {
        return Err(format!(
            "snapshot schema {} is not the schema {SCHEMA} this pycache reads; re-run 'pycache scan --json' with this version",
            doc.schema
        ));
    }
    let mut model = ScanModel::new(doc.roots, doc.prefix);
    let sources = doc
        .modules
        .into_iter()
        .filter_map(|m| {
            Some(SourceRecord {
                meta: m.source_meta?,
                path: m.source,
                module: m.module,
                is_package: m.is_package,
            })
        })
        .collect();
    let caches = doc
        .caches
        .into_iter()
        .map(|c| {
            let mut verdict = Verdict::new(c.status, c.reason.clone().unwrap_or_default());
            verdict.reason = c.reason.clone();
            CacheRecord {
                path: c.path,
                source: c.source,
                module: c.module,
                tag: c.tag,
                opt: c.opt,
                location: c.location,
                header: match (&c.recorded, c.magic, c.invalidation) {
                    (Some(r), Some(m), Some(inv)) => Some(r.to_header(m, inv)),
                    _ => None,
                },
                magic: c.magic,
                python: c.python.as_deref().and_then(parse_version),
                invalidation: c.invalidation,
                status: c.status,
                reason: c.reason,
                verdict,
                kind: Default::default(),
                meta: c.meta,
            }
        })
        .collect();
    let errors = doc
        .errors
        .into_iter()
        .map(|e| ScanError {
            path: e.path,
            kind: e.kind,
            message: e.message,
        })
        .collect();
    model.apply(ScanEvent::Batch(Box::new(ScanBatch {
        sources,
        caches,
        errors,
        dirs_seen: doc.summary.dirs,
        files_seen: doc.summary.files,
    })));
    model.apply(ScanEvent::Finished);
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_survives_a_round_trip_through_json() {
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
        m.apply(ScanEvent::Batch(Box::new(ScanBatch {
            sources: vec![SourceRecord {
                path: "/p/a.py".into(),
                module: "a".into(),
                is_package: false,
                meta,
            }],
            caches: vec![CacheRecord {
                path: "/p/__pycache__/a.cpython-313.pyc".into(),
                source: Some("/p/a.py".into()),
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
                status: Status::Stale,
                reason: Some("source hash differs".into()),
                verdict: Verdict::new(Status::Stale, "source hash differs"),
                kind: Default::default(),
                meta,
            }],
            errors: vec![],
            dirs_seen: 3,
            files_seen: 4,
        })));
        m.apply(ScanEvent::Finished);
        let back = load(&m.to_json().to_string()).unwrap();
        assert_eq!(back.caches.len(), 1);
        assert_eq!(back.caches[0].python, Some(PyVersion::new(3, 13)));
        assert_eq!(back.caches[0].invalidation, Some(Invalidation::CheckedHash));
        assert_eq!(back.caches[0].meta, meta);
        assert_eq!(back.caches[0].header, m.caches[0].header);
        assert_eq!(back.summary, m.summary);
        assert_eq!(back.progress, m.progress);
        assert!(back.modules[&PathBuf::from("/p/a.py")].source_exists());
        assert_eq!(back.prefix, Some(PathBuf::from("/pfx")));
    }

    #[test]
    fn garbage_and_other_schemas_are_one_line_errors() {
        let e = load("{").unwrap_err();
        assert!(e.starts_with("not a pycache scan snapshot"));
        let e = load(r#"{"schema": 99, "roots": [], "prefix": null, "caches": [], "modules": [], "summary": {"dirs": 0, "files": 0}}"#).unwrap_err();
        assert!(e.contains("schema 99"));
    }
}
