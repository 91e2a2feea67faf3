//! `recompile` reports the truth: a leftover `NAME.TAG.pyc.<digits>` is never written
//! into (12.4), and a source edited while it compiles gets no cache of the old code (11.4).

use crate::as_root::{run, slow_source, system_python, wait_for_driver};
use crate::support::{pycache, skip, snapshot_caches, write};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

/// 12.4: an interrupted write's leftover `NAME.TAG.pyc.<digits>` is never written into:
/// the new cache lands at `NAME.TAG.pyc`, and the report is true.
#[test]
fn a_leftover_temporary_cache_is_not_written_into() {
    let Some(py) = system_python() else {
        return skip("a_leftover_temporary_cache", "no /usr/bin/python3");
    };
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    let tag_out = Command::new(&py)
        .args(["-c", "import sys; print(sys.implementation.cache_tag)"])
        .output()
        .unwrap();
    let tag = String::from_utf8_lossy(&tag_out.stdout).trim().to_string();
    let leftover = app.join(format!("__pycache__/m.{tag}.pyc.140234"));
    write(&leftover, b"half a cache");
    let ino = std::fs::metadata(&leftover).unwrap().ino();
    let out = run(
        &t.path().join("xdg"),
        &[&"recompile", &"--yes", &"--python", &py, &app],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("compiled 1 file"), "{stdout}");
    assert_eq!(std::fs::read(&leftover).unwrap(), b"half a cache");
    assert_eq!(std::fs::metadata(&leftover).unwrap().ino(), ino);
    let cache = app.join(format!("__pycache__/m.{tag}.pyc"));
    let scan = pycache()
        .args(["scan", "--json"])
        .arg(&app)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let written = snapshot_caches(&doc)
        .into_iter()
        .find(|c| c["path"] == cache.display().to_string())
        .unwrap_or_else(|| panic!("no cache at {}: {doc:#}", cache.display()));
    assert_eq!(written["status"], "fresh", "{doc:#}");
}

/// 11.4: a source edited while it compiles never gets a cache of the old code: the cache
/// written (after a retry) matches the source as it is now.
#[test]
fn a_source_edited_mid_compile_gets_no_cache_of_the_old_code() {
    let Some(py) = system_python() else {
        return skip("a_source_edited_mid_compile", "no /usr/bin/python3");
    };
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    let marker = t.path().join("OLD");
    let src = app.join("victim.py");
    write(&src, slow_source(&marker));
    let edit = std::thread::spawn({
        let src = src.clone();
        move || {
            assert!(
                wait_for_driver(Duration::from_secs(60)),
                "no driver started"
            );
            std::thread::sleep(Duration::from_millis(300));
            std::fs::write(&src, "print('genuine')\n").unwrap();
        }
    });
    let out = run(
        &t.path().join("xdg"),
        &[&"recompile", &"--yes", &"--python", &py, &app],
    );
    edit.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The cache, if any, is of the new code: importing it prints "genuine", runs nothing
    // of the old code, and Python uses it as it is (no rewrite).
    let cache_dir = app.join("__pycache__");
    let before: Vec<_> = std::fs::read_dir(&cache_dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let run = Command::new(&py)
        .args([
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import victim",
        ])
        .arg(&app)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "genuine",
        "{stdout}"
    );
    assert!(
        !marker.exists(),
        "a cache of the old code was used: {stdout}"
    );
    assert!(
        stdout.contains("compiled 1 file") || stdout.contains("changed while"),
        "{stdout}"
    );
    if stdout.contains("compiled 1 file") {
        assert_eq!(before.len(), 1, "{before:?}");
        let scan = pycache()
            .args(["scan", "--json"])
            .arg(&app)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
        assert_eq!(snapshot_caches(&doc)[0]["status"], "fresh", "{doc:#}");
    }
}
