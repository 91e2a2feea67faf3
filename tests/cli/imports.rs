//! `pycache imports`: the seed-like app, bad input, cache findings, usage errors; the
//! ground-truth comparisons with a real interpreter are in `truth`.

mod output;
mod prefix;
mod startup;
mod truth;

use crate::support::{pycache, python, skip, write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn project(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/imports_truth")
        .join(name)
}

fn json(root: &Path, args: &[&str]) -> Value {
    let out = pycache()
        .timeout(std::time::Duration::from_secs(60))
        .arg("imports")
        .arg(root)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Paths of the modules with this reachability (and, for "imported", that Python can compile).
fn with_reach(doc: &Value, reach: &str) -> BTreeSet<String> {
    doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["reachability"] == reach)
        .filter(|m| reach != "imported" || m["health"]["status"] == "ok")
        .map(|m| m["path"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn module<'a>(doc: &'a Value, path: &str) -> &'a Value {
    doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap()
}

#[test]
fn seed_like_app_chains_and_not_imported() {
    let root = project("flaskapp");
    let out = pycache()
        .args(["imports", "--python", "3.13"])
        .arg(&root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for chain in [
        "run.py -> app -> config",
        "run.py -> app -> models",
        "run.py -> app -> utils",
    ] {
        assert!(text.contains(chain), "missing chain {chain} in:\n{text}");
    }
    assert!(text.contains("run.py  (entry script: runs as __main__; Python never caches it)"));
    assert!(text.contains("note: app.py is not an entry point: run.py imports it (run.py -> app)"));
    let doc = json(&root, &["--python", "3.13"]);
    assert_eq!(doc["entries"].as_array().unwrap().len(), 1);
    assert_eq!(doc["entries"][0]["detected"], "run.py in the project root");
    assert_eq!(
        with_reach(&doc, "imported"),
        set(&[
            "app.py",
            "config.py",
            "models.py",
            "server_standin.py",
            "utils.py"
        ])
    );
    assert_eq!(with_reach(&doc, "lazy"), set(&["reports.py"]));
    let not_imported = with_reach(&doc, "not-imported");
    for f in [
        "migrate_add_users.py",
        "migrate_to_sqlcipher.py",
        "tests/test_app.py",
        "analytics_queue.py",
    ] {
        assert!(not_imported.contains(f), "{f} should be not imported");
    }
    assert_eq!(module(&doc, "run.py")["reachability"], "entry");
    assert_eq!(
        module(&doc, "utils.py")["chain"],
        serde_json::json!(["run.py", "app", "utils"])
    );
    let app_imports = &module(&doc, "app.py")["imports"];
    let config = app_imports
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["module"] == "config")
        .unwrap();
    assert_eq!(
        (config["line"].as_u64(), config["path"].as_str()),
        (Some(4), Some("config.py"))
    );
    assert_eq!(doc["external"]["sqlite3"], "stdlib");
    assert_eq!(doc["external"]["flask"], "missing");
}

#[test]
fn bad_input_is_reported_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("main.py"),
        "import a, selfpkg, big, binary, latin, declared, dangling, locked\n",
    );
    write(&root.join("a.py"), "import b\n");
    write(&root.join("b.py"), "import a\n");
    write(
        &root.join("selfpkg/__init__.py"),
        "import selfpkg\nfrom selfpkg import sub\nfrom . import selfpkg\n",
    );
    write(&root.join("selfpkg/sub.py"), "from . import sub\n");
    let mut big: String = (0..50_000).map(|i| format!("v{i} = {i}\n")).collect();
    big.insert_str(big.find("v24999 =").unwrap(), "import json\n");
    write(&root.join("big.py"), big);
    write(&root.join("binary.py"), (0..=255u8).collect::<Vec<u8>>());
    write(&root.join("latin.py"), b"x = '\xe9'\n");
    write(
        &root.join("declared.py"),
        b"# -*- coding: latin-1 -*-\nx = '\xe9'\nimport a\n",
    );
    std::os::unix::fs::symlink(root.join("nowhere.py"), root.join("dangling.py")).unwrap();
    write(&root.join("locked.py"), "import a\n");
    let locked = root.join("locked.py");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let can_read_locked = std::fs::read(&locked).is_ok(); // root reads anyway

    let out = pycache()
        .arg("imports")
        .arg(root)
        .args(["--entry", "main.py", "--json"])
        .output()
        .unwrap();
    // A source that exists but cannot be read is a part of the tree not seen: exit 2. The
    // dangling link is not one (there is nothing to read).
    assert_eq!(
        out.status.code(),
        Some(if can_read_locked { 1 } else { 2 }),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |p: &str| {
        module(&doc, p)["health"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("binary.py"), "not-source");
    assert_eq!(status("latin.py"), "not-source");
    assert!(
        module(&doc, "latin.py")["health"]["message"]
            .as_str()
            .unwrap()
            .contains("PEP 263")
    );
    assert_eq!(status("declared.py"), "ok");
    assert_eq!(module(&doc, "declared.py")["imports"][0]["line"], 3);
    assert_eq!(status("dangling.py"), "unreadable");
    assert_eq!(
        status("locked.py"),
        if can_read_locked { "ok" } else { "unreadable" }
    );
    assert_eq!(module(&doc, "big.py")["imports"][0]["line"], 25_000);
    for p in [
        "a.py",
        "b.py",
        "selfpkg/__init__.py",
        "selfpkg/sub.py",
        "big.py",
    ] {
        assert_eq!(module(&doc, p)["reachability"], "imported", "{p}");
    }
    assert_eq!(
        module(&doc, "b.py")["chain"],
        serde_json::json!(["main.py", "a", "b"])
    );
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().filter(|k| **k == "cannot-compile").count() >= 3);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
}

#[test]
fn cache_findings_from_a_real_interpreter() {
    let Some(py) = python("3.13") else {
        return skip(
            "cache_findings_from_a_real_interpreter",
            "no pyenv 3.13 interpreter",
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for f in [
        "run.py",
        "server_standin.py",
        "app.py",
        "config.py",
        "models.py",
        "utils.py",
        "reports.py",
        "migrate_add_users.py",
    ] {
        std::fs::copy(project("flaskapp").join(f), root.join(f)).unwrap();
    }
    // Import the app (caches app, config, models, utils), compile one migration by hand.
    let status = Command::new(&py)
        .args([
            "-c",
            "import app, py_compile; py_compile.compile('migrate_add_users.py')",
        ])
        .current_dir(root)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .status()
        .unwrap();
    assert!(status.success());
    // config.py changes after its cache was written: the cache is stale.
    write(
        &root.join("config.py"),
        "import os\n\n\nclass Settings:\n    DEBUG = False  # changed\n",
    );

    let doc = json(root, &["--python", "3.13"]);
    let findings: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |kind: &str, path: &str| (kind.to_owned(), path.to_owned());
    assert!(
        findings.contains(&expect("no-fresh-cache", "server_standin.py")),
        "{findings:?}"
    );
    assert!(
        findings.contains(&expect("no-fresh-cache", "config.py")),
        "{findings:?}"
    );
    assert!(
        findings.contains(&expect("unused-cache", "migrate_add_users.py")),
        "{findings:?}"
    );
    for fresh in ["app.py", "models.py", "utils.py", "run.py"] {
        assert!(
            !findings.iter().any(|(_, p)| p == fresh),
            "{fresh}: {findings:?}"
        );
    }
    let text = pycache()
        .arg("imports")
        .arg(root)
        .args(["--python", "3.13"])
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "config is imported (run.py -> app -> config) but its cpython-313 cache is stale"
        ),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = pycache()
        .args(["imports", "/no/such/project"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: cannot open project /no/such/project")
    );
    let out = pycache()
        .arg("imports")
        .arg(project("flaskapp"))
        .args(["--entry", "nope/x.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = pycache()
        .arg("imports")
        .arg(project("flaskapp"))
        .args(["--python", "three"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
