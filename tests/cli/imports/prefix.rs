//! While PYTHONPYCACHEPREFIX is set, Python reads and writes caches only under the prefix:
//! `imports` counts those and no others, checked against what the interpreter does.

use super::json;
use crate::support::{python, skip, write};
use std::path::{Path, PathBuf};
use std::process::Command;

fn interpreter() -> Option<(PathBuf, String)> {
    let py = python("3.13")
        .or_else(|| python("3.12"))
        .or_else(|| Some(PathBuf::from("/usr/bin/python3")).filter(|p| p.exists()))?;
    let out = Command::new(&py)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .ok()?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (version.as_str() >= "3.8").then_some((py, version))
}

fn import_app(py: &Path, root: &Path, prefix: Option<&Path>) -> String {
    let mut cmd = Command::new(py);
    if let Some(p) = prefix {
        cmd.arg("-X").arg(format!("pycache_prefix={}", p.display()));
    }
    let out = cmd
        .args(["-v", "-c", "import app"])
        .current_dir(root)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn no_fresh_cache(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "no-fresh-cache")
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn only_caches_under_the_prefix_count_while_it_is_set() {
    let Some((py, version)) = interpreter() else {
        return skip("imports prefix", "no Python 3.8+ interpreter");
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    write(&root.join("run.py"), "import app\n");
    write(&root.join("app.py"), "import config\n");
    write(&root.join("config.py"), "X = 1\n");
    let pfx = dir.path().join("pfx");
    let with_prefix = [
        "--python",
        &version,
        "--pycache-prefix",
        pfx.to_str().unwrap(),
    ];

    // Caches in __pycache__, written by Python without a prefix: they count without one...
    import_app(&py, &root, None);
    assert!(no_fresh_cache(&json(&root, &["--python", &version])).is_empty());
    // ...and not with one: Python neither reads them nor writes there (it says so with -v).
    let doc = json(&root, &with_prefix);
    assert_eq!(no_fresh_cache(&doc), ["app.py", "config.py"], "{doc:#}");
    assert_eq!(doc["pycache_prefix"], pfx.to_str().unwrap());
    let message = doc["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("under the prefix") && message.contains("in __pycache__ (ignored)"),
        "{message}"
    );
    let trace = import_app(&py, &root, Some(&pfx));
    let pycache = root.join("__pycache__");
    assert!(
        !trace.contains(&format!("code object from '{}", pycache.display())),
        "Python read __pycache__ under a prefix:\n{trace}"
    );
    // Now the prefix holds fresh caches, and they are what counts.
    assert!(no_fresh_cache(&json(&root, &with_prefix)).is_empty());
}
