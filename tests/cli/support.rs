//! Helpers shared by the CLI tests: the binary, interpreters, and temp trees.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `pycache` binary with a predictable environment: no colour, no backtraces, and no
/// `PYTHONPYCACHEPREFIX` leaking in from the developer's shell.
pub fn pycache() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("pycache").unwrap();
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("NO_COLOR", "1");
    cmd
}

/// The pyenv interpreter whose version starts with `version` (e.g. "3.13"), if installed.
/// Tests that need it print why they skip when it is absent.
pub fn python(version: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name == version || name.starts_with(&format!("{version}."))
        })
        .map(|e| e.path().join("bin/python"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

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
