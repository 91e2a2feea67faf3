//! `pycache recompile`: the caches it writes are the ones each interpreter accepts (checked
//! by importing with that interpreter and seeing no rewrite), modes are kept or changed on
//! request, syntax errors are reported per file, and missing interpreters are explained.

use crate::support::{PYPY, python, skip, write};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pycache` with its memory of compile errors in a private directory, not ~/.cache.
fn pycache_isolated() -> assert_cmd::Command {
    static CACHE: std::sync::LazyLock<tempfile::TempDir> =
        std::sync::LazyLock::new(|| tempfile::tempdir().unwrap());
    let mut cmd = crate::support::pycache();
    cmd.env("XDG_CACHE_HOME", CACHE.path());
    cmd
}

/// Python 3 interpreters with `__pycache__`, oldest first: CPython 3.6-3.15, then PyPy.
const VERSIONS: [&str; 11] = [
    "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", PYPY,
];

fn newest() -> Option<PathBuf> {
    VERSIONS[..VERSIONS.len() - 1]
        .iter()
        .rev()
        .find_map(|v| python(v))
}

fn project(root: &Path) {
    write(&root.join("m.py"), "x = 1\n");
    write(&root.join("pkg/__init__.py"), "");
    write(&root.join("pkg/sub.py"), "def f():\n    return 2\n");
}

/// Every file under `root` with its inode and mtime: an import that rewrites a cache
/// changes both (py_compile and import write a new file and rename it).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p);
            } else {
                out.insert(p, (m.ino(), m.mtime(), m.mtime_nsec()));
            }
        }
    }
    out
}

/// Runs `code` with the interpreter in `root`, allowed to write caches.
fn run_python(py: &Path, root: &Path, code: &str, prefix: Option<&Path>) -> String {
    let mut cmd = Command::new(py);
    cmd.current_dir(root)
        .args(["-c", code])
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX");
    if let Some(p) = prefix {
        cmd.env("PYTHONPYCACHEPREFIX", p);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Imports the project with `py`: the caches pycache wrote must be found, carry the
/// interpreter's magic, and be used as they are.
fn assert_accepted(py: &Path, root: &Path, prefix: Option<&Path>) {
    let check = r#"
import importlib.util, os
for src in ["m.py", os.path.join("pkg", "__init__.py"), os.path.join("pkg", "sub.py")]:
    c = importlib.util.cache_from_source(os.path.abspath(src))
    assert os.path.exists(c), "missing " + c
    with open(c, "rb") as f:
        assert f.read(4) == importlib.util.MAGIC_NUMBER, "magic of " + c
import m, pkg.sub
print(m.x + pkg.sub.f())
"#;
    // With a prefix, Python also caches the standard library there: watch the project only.
    let watched = match prefix {
        Some(p) => p.join(root.strip_prefix("/").unwrap()),
        None => root.to_path_buf(),
    };
    let watched = watched.as_path();
    let before = snapshot(watched);
    assert_eq!(run_python(py, root, check, prefix), "3");
    assert_eq!(
        snapshot(watched),
        before,
        "{} rewrote a cache pycache wrote",
        py.display()
    );
}

#[test]
fn each_interpreter_accepts_the_caches_written_for_it() {
    let mut ran = 0;
    for v in VERSIONS {
        let Some(py) = python(v) else {
            skip(
                "each_interpreter_accepts_the_caches_written_for_it",
                &format!("no Python {v}"),
            );
            continue;
        };
        let t = tempfile::tempdir().unwrap();
        project(t.path());
        pycache_isolated()
            .args(["recompile", "--yes", "--python"])
            .arg(&py)
            .arg(t.path())
            .assert()
            .success();
        assert_accepted(&py, t.path(), None);
        let out = pycache_isolated()
            .args(["recompile", "--yes"])
            .arg(t.path())
            .assert()
            .success();
        assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("nothing to compile"));
        ran += 1;
    }
    eprintln!("checked {ran} interpreters");
}

#[test]
fn caches_go_into_the_prefix_tree_when_one_is_configured() {
    let Some(py) = python("3.13").or_else(|| python("3.12")) else {
        return skip(
            "caches_go_into_the_prefix_tree_when_one_is_configured",
            "no Python 3.12+",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let (root, prefix) = (t.path().join("app"), t.path().join("pfx"));
    project(&root);
    std::fs::create_dir_all(&prefix).unwrap();
    pycache_isolated()
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .arg("--pycache-prefix")
        .arg(&prefix)
        .arg(&root)
        .assert()
        .success();
    assert!(!root.join("__pycache__").exists());
    assert_accepted(&py, &root, Some(&prefix));
}

fn header(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()[..16].to_vec()
}

fn only_cache(dir: &Path) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}

#[test]
fn checked_hash_stays_checked_hash_and_modes_change_on_request() {
    let Some(py) = python("3.12")
        .or_else(newest)
        .filter(|p| !p.to_string_lossy().contains("3.6"))
    else {
        return skip(
            "checked_hash_stays_checked_hash_and_modes_change_on_request",
            "no Python 3.7+",
        );
    };
    let t = tempfile::tempdir().unwrap();
    project(t.path());
    run_python(
        &py,
        t.path(),
        "import py_compile as p; p.compile('m.py', invalidation_mode=p.PycInvalidationMode.CHECKED_HASH)",
        None,
    );
    let cache = only_cache(&t.path().join("__pycache__"));
    write(&t.path().join("m.py"), "x = 11\n");
    pycache_isolated()
        .args(["recompile", "--yes", "--under"])
        .arg(t.path().join("m.py"))
        .arg(t.path())
        .assert()
        .success();
    assert_eq!(header(&cache)[4], 3, "checked-hash flags kept");
    let before = snapshot(t.path());
    assert_eq!(
        run_python(&py, t.path(), "import m; print(m.x)", None),
        "11"
    );
    assert_eq!(snapshot(t.path()), before);
    // compileall keeps the old mode (cpython#117204); pycache rewrites on a mode change.
    pycache_isolated()
        .args([
            "recompile",
            "--yes",
            "--invalidation-mode",
            "unchecked-hash",
            "--under",
        ])
        .arg(t.path().join("m.py"))
        .arg(t.path())
        .assert()
        .success();
    assert_eq!(header(&cache)[4], 1);
    let out = pycache_isolated()
        .args(["recompile", "--dry-run", "--under"])
        .arg(t.path().join("m.py"))
        .arg(t.path())
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("nothing to compile"));
}

#[test]
fn syntax_errors_are_reported_per_file_and_the_rest_compiles() {
    let Some(py) = newest() else {
        return skip(
            "syntax_errors_are_reported_per_file_and_the_rest_compiles",
            "no Python 3",
        );
    };
    let t = tempfile::tempdir().unwrap();
    project(t.path());
    write(&t.path().join("bad1.py"), "def f(:\n");
    write(&t.path().join("pkg/bad2.py"), "x = 1\ny = (\n");
    // Python reports no position for a bad encoding (line 0, column -1).
    write(
        &t.path().join("pkg/bad3.py"),
        "# -*- coding: uft-8 -*-\nx = 1\n",
    );
    let out = pycache_isolated()
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .arg(t.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains(&format!(
            "failed  {}:1:",
            t.path().join("bad1.py").display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "failed  {}:2:",
            t.path().join("pkg/bad2.py").display()
        )),
        "{stdout}"
    );
    let bad3 = format!(
        "failed  {}: SyntaxError: unknown encoding",
        t.path().join("pkg/bad3.py").display()
    );
    assert!(stdout.contains(&bad3), "{stdout}");
    assert!(
        stdout.contains("compiled 3 files, skipped 0, failed 3"),
        "{stdout}"
    );
    assert_accepted(&py, t.path(), None);
}

#[test]
fn a_tag_without_an_interpreter_is_skipped_with_what_was_found() {
    let t = tempfile::tempdir().unwrap();
    project(t.path());
    // Nothing could be compiled: exit 1, with a line saying what was not written.
    let out = pycache_isolated()
        .args(["recompile", "--yes", "--tag", "cpython-399"])
        .arg(t.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains(
            "3 planned cache files were not written (3 had no interpreter for their tag)"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("no interpreter writes cpython-399 caches; found:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("compiled 0 files, skipped 3, failed 0"),
        "{stdout}"
    );
    assert!(!t.path().join("__pycache__").exists());
}

#[test]
fn as_root_new_caches_belong_to_the_source_directory_owner() {
    // The driver runs as the tree's owner: it needs an interpreter nobody can run (pyenv's
    // are under /root).
    let Some(py) = crate::as_root::system_python() else {
        return skip(
            "as_root_new_caches_belong_to_the_source_directory_owner",
            "no /usr/bin/python3",
        );
    };
    if !nix::unistd::geteuid().is_root() {
        return skip(
            "as_root_new_caches_belong_to_the_source_directory_owner",
            "not running as root",
        );
    }
    let t = tempfile::tempdir().unwrap();
    let (mine, kept) = (t.path().join("svc"), t.path().join("kept"));
    for root in [&mine, &kept] {
        project(root);
        Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(root)
            .status()
            .unwrap();
    }
    pycache_isolated()
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .arg(&mine)
        .assert()
        .success();
    pycache_isolated()
        .args(["recompile", "--yes", "--keep-root-owner", "--python"])
        .arg(&py)
        .arg(&kept)
        .assert()
        .success();
    let nobody = std::fs::metadata(&mine).unwrap().uid();
    for dir in [mine.join("__pycache__"), mine.join("pkg/__pycache__")] {
        assert_eq!(
            std::fs::metadata(&dir).unwrap().uid(),
            nobody,
            "{}",
            dir.display()
        );
        for f in std::fs::read_dir(&dir).unwrap() {
            assert_eq!(f.unwrap().metadata().unwrap().uid(), nobody);
        }
    }
    assert_eq!(
        std::fs::metadata(kept.join("__pycache__")).unwrap().uid(),
        0
    );
}

#[test]
fn python2_legacy_caches_are_rewritten_in_place() {
    let Some(py) = python("2.7") else {
        return skip(
            "python2_legacy_caches_are_rewritten_in_place",
            "no Python 2.7",
        );
    };
    let t = tempfile::tempdir().unwrap();
    write(&t.path().join("m.py"), "x = 1\n");
    run_python(
        &py,
        t.path(),
        "import py_compile; py_compile.compile('m.py')",
        None,
    );
    // Python 2 records no size: the edit must move the mtime to be seen.
    write(&t.path().join("m.py"), "x = 333\n");
    let f = std::fs::File::options()
        .write(true)
        .open(t.path().join("m.py"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(10))
        .unwrap();
    let out = pycache_isolated()
        .args(["recompile", "--yes"])
        .arg(t.path())
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("compiled 1 file"));
    let before = snapshot(t.path());
    assert_eq!(
        run_python(&py, t.path(), "import m; print(m.x)", None),
        "333"
    );
    assert_eq!(snapshot(t.path()), before);
}

#[test]
fn a_known_compile_error_is_reported_again_without_starting_python() {
    let Some(py) = newest() else {
        return skip(
            "a_known_compile_error_is_reported_again_without_starting_python",
            "no Python 3",
        );
    };
    let t = tempfile::tempdir().unwrap();
    project(t.path());
    write(&t.path().join("bad.py"), "def f(:\n");
    pycache_isolated()
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .arg(t.path())
        .assert()
        .code(1);
    // No interpreter can be found now: only the remembered error can explain bad.py.
    let home = tempfile::tempdir().unwrap();
    let hidden = |cmd: &mut assert_cmd::Command| {
        cmd.env("PATH", "/nonexistent")
            .env("HOME", home.path())
            .env_remove("PYENV_ROOT");
    };
    let mut cmd = pycache_isolated();
    hidden(&mut cmd);
    let out = cmd
        .args(["recompile", "--yes"])
        .arg(t.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let line = format!("failed  {}:1:", t.path().join("bad.py").display());
    assert!(stdout.contains(&line), "{stdout}");
    assert!(
        stdout.contains("unchanged since it failed before"),
        "{stdout}"
    );
    assert!(
        stdout.contains("compiled 0 files, skipped 0, failed 1"),
        "{stdout}"
    );
    // Once fixed, it compiles like any other file (with the same interpreter: the newest
    // may live where discovery does not look, e.g. /work/pythons' 3.15).
    write(&t.path().join("bad.py"), "def f():\n    pass\n");
    pycache_isolated()
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .arg(t.path())
        .assert()
        .success();
}
