//! `pycache demo`: the bundled project is written, scanned as designed, refused over foreign
//! files, and its verdicts agree with what CPython 3.12 and 3.13 actually do on import.
//! (On a terminal it opens the explorer: see `tui_pty`.)

use crate::support::{pycache, python, skip, snapshot_caches};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn demo_json(dir: &Path) -> serde_json::Value {
    let out = pycache()
        .arg("demo")
        .arg(dir)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// path -> (status, module, tag, location) from `--json`.
fn caches(doc: &serde_json::Value) -> BTreeMap<PathBuf, [String; 4]> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    snapshot_caches(doc)
        .iter()
        .map(|c| {
            let key = PathBuf::from(c["path"].as_str().unwrap());
            (
                key,
                [
                    s(&c["status"]),
                    s(&c["module"]),
                    s(&c["tag"]),
                    s(&c["location"]),
                ],
            )
        })
        .collect()
}

#[test]
fn the_demo_tells_the_story_and_scans_as_designed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lernmanager");
    let out = pycache().arg("demo").arg(&dir).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let root = dir.canonicalize().unwrap();
    assert!(text.starts_with(&format!("wrote the demo project to {}", root.display())));
    for words in [
        "orphaned    migrate_drop_password_plain (cpython-312, cpython-313), \
         migrate_to_sqlcipher (cpython-312, cpython-313, cpython-313 in the prefix)",
        "stale       config (cpython-312, cpython-313), models (cpython-312)",
        "sourceless  ldap_sync (cpython-312 legacy)",
        "invalid     generate_weekly_reports (cpython-313)",
        "cpython-312",
    ] {
        assert!(text.contains(words), "missing {words:?} in\n{text}");
    }
    let doc = demo_json(&dir);
    let got = caches(&doc);
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/expected.tsv"),
    )
    .unwrap();
    let prefix = root.join("instance/tmp");
    let mirror = prefix.join(root.strip_prefix("/").unwrap());
    let mut n = 0;
    for row in expected.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        let path = if f[0] == "prefix" {
            mirror.join(f[1])
        } else {
            root.join(f[1])
        };
        let c = got
            .get(&path)
            .unwrap_or_else(|| panic!("{} missing", path.display()));
        assert_eq!((c[0].as_str(), c[3].as_str()), (f[3], f[2]), "{}", f[1]);
        n += 1;
    }
    assert_eq!(n, got.len());
    // utils is imported by app, yet no 3.13 cache of it exists anywhere (the seed's VPS).
    assert!(
        got.values()
            .any(|c| c[1] == "utils" && c[2] == "cpython-312")
    );
    assert!(
        !got.values()
            .any(|c| c[1] == "utils" && c[2] == "cpython-313")
    );
}

#[test]
fn without_a_terminal_or_with_print_the_demo_prints_how_to_explore_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    // Not a terminal (captured output): the summary, as with --print.
    let piped = pycache().arg("demo").arg(&dir).output().unwrap();
    let printed = pycache()
        .arg("demo")
        .arg(&dir)
        .arg("--print")
        .output()
        .unwrap();
    assert!(piped.status.success() && printed.status.success());
    assert_eq!(piped.stdout, printed.stdout);
    let text = String::from_utf8(printed.stdout).unwrap();
    let root = dir.canonicalize().unwrap();
    let explore = format!(
        "explore it with: pycache {} --pycache-prefix {}",
        root.display(),
        root.join("instance/tmp").display()
    );
    assert!(text.contains(&explore), "{text}");
    let both = pycache()
        .arg("demo")
        .arg(&dir)
        .args(["--print", "--json"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_foreign_directory_is_refused_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    crate::support::write(&tmp.path().join("notes.txt"), "mine");
    let out = pycache().arg("demo").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("is not empty and was not made by 'pycache demo'"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn without_a_directory_the_demo_goes_to_a_new_temporary_one() {
    let out = pycache().arg("demo").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    let dir = first
        .strip_prefix("wrote the demo project to ")
        .and_then(|rest| rest.rsplit_once(" ("))
        .map(|(dir, _)| PathBuf::from(dir))
        .unwrap();
    assert!(dir.join("run.py").is_file() && dir.join(".pycache-demo").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Imports every demo module with `-B -v` and reads which file CPython loaded it from.
fn loaded_from(py: &Path, dir: &Path, modules: &[String], prefix: Option<&Path>) -> String {
    let mut cmd = Command::new(py);
    cmd.current_dir(dir)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .args(["-B", "-v", "-c"])
        .arg(
            modules
                .iter()
                .map(|m| format!("import {m}\n"))
                .collect::<String>(),
        );
    if let Some(p) = prefix {
        cmd.env("PYTHONPYCACHEPREFIX", p);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn demo_verdicts_agree_with_cpython_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = demo_json(&tmp.path().join("demo"));
    let root = tmp.path().join("demo").canonicalize().unwrap();
    let got = caches(&doc);
    let mut checked = 0;
    for (version, tag) in [("3.12", "cpython-312"), ("3.13", "cpython-313")] {
        let Some(py) = python(version) else {
            skip("demo vs CPython", &format!("python{version} not installed"));
            continue;
        };
        for location in ["pycache", "prefix"] {
            let ours: Vec<(&PathBuf, &[String; 4])> = got
                .iter()
                .filter(|(_, c)| c[2] == tag && c[3] == location)
                .filter(|(_, c)| c[0] == "fresh" || c[0] == "stale")
                .collect();
            if ours.is_empty() {
                continue;
            }
            let modules: Vec<String> = ours.iter().map(|(_, c)| c[1].clone()).collect();
            let prefix = (location == "prefix").then(|| root.join("instance/tmp"));
            let log = loaded_from(&py, &root, &modules, prefix.as_deref());
            for (path, c) in ours {
                let used = log.contains(&format!("code object from '{}'", path.display()));
                assert_eq!(used, c[0] == "fresh", "{version} {} ({})", c[1], c[0]);
                checked += 1;
            }
        }
    }
    if checked > 0 {
        assert_eq!(checked, 25, "every fresh or stale demo cache is checked");
    }
    // Sourceless ldap_sync.pyc imports on 3.12; orphans never import.
    if let Some(py) = python("3.12") {
        let log = loaded_from(&py, &root, &["ldap_sync".to_string()], None);
        assert!(log.contains(&format!(
            "code object from '{}'",
            root.join("ldap_sync.pyc").display()
        )));
        let orphan = Command::new(&py)
            .current_dir(&root)
            .args(["-B", "-c", "import migrate_to_sqlcipher"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&orphan.stderr).contains("ModuleNotFoundError"));
    }
}
