//! Helpers shared by the CLI tests: the binary, interpreters, and temp trees.
#![allow(dead_code)]

use std::path::Path;

/// The `pycache` binary with a predictable environment: no colour, no backtraces, and no
/// `PYTHONPYCACHEPREFIX` leaking in from the developer's shell.
pub fn pycache() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("pycache").unwrap();
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("NO_COLOR", "1");
    cmd
}

#[path = "../common/interpreters.rs"]
mod interpreters;
/// Real interpreters for live tests: pyenv, 3.14/3.15 where `.ci/run` or
/// `get-new-pythons.sh` put them, PyPy; a missing one fails under CI.
#[allow(unused_imports)]
pub use interpreters::{CPYTHONS, PYPY, absent, all, find, in_ci, path_var, python};

/// Prints a skip reason in the test output.
pub fn skip(test: &str, why: &str) {
    eprintln!("skipped {test}: {why}");
}

/// Writes a file, creating parent directories.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// Every file below `root`, relative and sorted (for before/after comparisons).
pub fn list_tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
                out.push(format!("{rel}/"));
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// The marshalled module code object CPython 3.13 writes for `x = 1` (a real body: scans
/// check every cache's body as `marshal.loads` would).
pub const BODY_313: &[u8] = &[
    0xe3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xf3, 0x08, 0x00, 0x00, 0x00, 0x95, 0x00, 0x53, 0x00, 0x72, 0x00,
    0x67, 0x01, 0x29, 0x02, 0xe9, 0x01, 0x00, 0x00, 0x00, 0x4e, 0x29, 0x01, 0xda, 0x01, 0x78, 0xa9,
    0x00, 0xf3, 0x00, 0x00, 0x00, 0x00, 0xda, 0x04, 0x6d, 0x2e, 0x70, 0x79, 0xda, 0x08, 0x3c, 0x6d,
    0x6f, 0x64, 0x75, 0x6c, 0x65, 0x3e, 0x72, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x73,
    0x0a, 0x00, 0x00, 0x00, 0xf0, 0x03, 0x01, 0x01, 0x01, 0xd8, 0x04, 0x05, 0x81, 0x01, 0x72, 0x05,
    0x00, 0x00, 0x00,
];
/// The caches of a `scan --json` snapshot as objects, one per row, keyed by the column
/// names, with `path` and `source` made absolute and a derived (null) `module` filled in,
/// as docs/json.md says a reader should.
pub fn snapshot_caches(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    use serde_json::{Map, Value};
    let mut bases: Vec<String> = doc["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    if let Some(p) = doc["prefix"].as_str() {
        bases.push(p.to_string());
    }
    let dirs: Vec<(String, Option<String>)> = doc["dirs"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let rel = d[1].as_str().unwrap();
            let path = match d[0].as_u64() {
                None => rel.to_string(),
                Some(b) if rel.is_empty() => bases[b as usize].clone(),
                Some(b) => format!("{}/{rel}", bases[b as usize]),
            };
            (path, d[2].as_str().map(str::to_string))
        })
        .collect();
    let columns: Vec<&str> = doc["caches"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    doc["caches"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut c: Map<String, Value> = columns
                .iter()
                .zip(row.as_array().unwrap())
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let name = c["name"].as_str().unwrap().to_string();
            let dir = &dirs[c["dir"].as_u64().unwrap() as usize];
            c.insert("path".into(), format!("{}/{name}", dir.0).into());
            if let Some(sd) = c["source_dir"].as_u64() {
                let sdir = &dirs[sd as usize];
                let sname = c["source"].as_str().map_or_else(
                    || format!("{}.py", name.split('.').next().unwrap()),
                    str::to_string,
                );
                if c["module"].is_null() {
                    let stem = sname.split('.').next().unwrap();
                    let package = sdir.1.clone().unwrap();
                    let module = match (stem, package.is_empty()) {
                        ("__init__", _) => package,
                        (_, true) => stem.to_string(),
                        _ => format!("{package}.{stem}"),
                    };
                    c.insert("module".into(), module.into());
                }
                c.insert("source".into(), format!("{}/{sname}", sdir.0).into());
            }
            Value::Object(c)
        })
        .collect()
}
