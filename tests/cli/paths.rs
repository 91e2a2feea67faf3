//! Paths as users type them: run from inside the project (`current_dir`) with the default
//! `.`, relative prefixes, `./` and `..` in the middle. Every spelling of a directory must
//! give the same plan, and the caches written must be the ones the interpreter then uses.

use crate::support::{find, pycache, python, skip, snapshot_caches, write};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pycache` run from `cwd`, with its memory of compile errors in `memory`, and the
/// directories of the test interpreters first on `PATH` (where pycache looks for them).
fn pycache_in(cwd: &Path, memory: &Path) -> assert_cmd::Command {
    let mut dirs: Vec<PathBuf> = newest()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .into_iter()
        .collect();
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = pycache();
    cmd.current_dir(cwd)
        .env("XDG_CACHE_HOME", memory)
        .env("PATH", std::env::join_paths(dirs).unwrap());
    cmd
}

/// The newest CPython 3 here (3.15 first), for tests that need one interpreter.
fn newest() -> Option<PathBuf> {
    let found = ["3.15", "3.14", "3.13", "3.12"]
        .iter()
        .find_map(|v| find(v));
    found.or_else(|| python("3.13"))
}

/// Top-level modules, a package and a subpackage: the top level is what `.` lost.
fn project(root: &Path) -> Vec<&'static str> {
    let modules = ["m", "n", "pkg", "pkg.sub", "pkg.deep", "pkg.deep.leaf"];
    write(&root.join("m.py"), "x = 1\n");
    write(&root.join("n.py"), "import m\ny = m.x + 1\n");
    write(&root.join("pkg/__init__.py"), "");
    write(&root.join("pkg/sub.py"), "def f():\n    return 2\n");
    write(&root.join("pkg/deep/__init__.py"), "");
    write(&root.join("pkg/deep/leaf.py"), "z = 3\n");
    modules.to_vec()
}

/// Runs `code` with `py` in `dir`, allowed to write caches (and to use `prefix`).
fn run_python(py: &Path, dir: &Path, args: &[&str], prefix: Option<&Path>) -> (String, String) {
    let mut cmd = Command::new(py);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env_remove("PYTHONPATH");
    if let Some(p) = prefix {
        cmd.env("PYTHONPYCACHEPREFIX", p);
    }
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// The interpreter's own word, from `-v` with writing forbidden (`-B`): each module's
/// cache "matches" its source, i.e. the import used the cache pycache left.
fn assert_every_module_uses_its_cache(
    py: &Path,
    root: &Path,
    modules: &[&str],
    prefix: Option<&Path>,
) {
    let import = format!("import {}", modules.join(", "));
    let (_, log) = run_python(py, root, &["-B", "-v", "-c", &import], prefix);
    for module in modules {
        let stem = module.replace('.', "/");
        let file = if root.join(&stem).is_dir() {
            format!("{stem}/__init__.py")
        } else {
            format!("{stem}.py")
        };
        let source = root.join(&file);
        let used = log
            .lines()
            .any(|l| l.contains(" matches ") && l.ends_with(&source.display().to_string()));
        assert!(
            used,
            "{} did not use a cache for {file}:\n{log}",
            py.display()
        );
    }
}

#[test]
fn recompile_from_inside_the_project_caches_the_top_level_too() {
    let Some(py) = newest() else {
        return skip(
            "recompile_from_inside_the_project_caches_the_top_level_too",
            "no CPython 3.12+",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let memory = tempfile::tempdir().unwrap();
    let root = t.path().join("app");
    let modules = project(&root);
    // The tree's own tags decide (no --python): one import leaves caches in every
    // directory, then sources change and one cache goes, as on a deployed server.
    run_python(
        &py,
        &root,
        &["-c", &format!("import {}", modules.join(", "))],
        None,
    );
    write(&root.join("m.py"), "x = 10  # edited\n");
    write(
        &root.join("pkg/sub.py"),
        "def f():\n    return 20  # edited\n",
    );
    let pycache_dir = root.join("__pycache__");
    let n_cache = std::fs::read_dir(&pycache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("/n."))
        .unwrap();
    std::fs::remove_file(n_cache).unwrap();

    let plan = |cwd: &Path, path: Option<&str>| {
        let mut cmd = pycache_in(cwd, memory.path());
        cmd.args(["recompile", "--dry-run", "--json"]);
        if let Some(p) = path {
            cmd.arg(p);
        }
        let out = cmd.output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut targets: Vec<String> = doc["plan"]["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("no plan steps: {doc}"))
            .iter()
            .map(|s| s["cache"].as_str().unwrap().to_string())
            .collect();
        targets.sort();
        targets
    };
    let absolute = plan(t.path(), Some(root.to_str().unwrap()));
    assert_eq!(
        absolute.len(),
        3,
        "m and n at the top, pkg.sub below: {absolute:?}"
    );
    for (cwd, path) in [
        (root.clone(), None),
        (root.clone(), Some(".")),
        (root.clone(), Some("./")),
        (root.join("pkg"), Some("..")),
        (root.join("pkg/deep"), Some("../../../app/./pkg/..")),
    ] {
        assert_eq!(
            plan(&cwd, path),
            absolute,
            "from {} with {path:?}",
            cwd.display()
        );
    }

    pycache_in(&root, memory.path())
        .args(["recompile", "--yes"])
        .assert()
        .success();
    assert_every_module_uses_its_cache(&py, &root, &modules, None);
    let out = pycache_in(&root, memory.path())
        .args(["recompile", "--yes"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("nothing to compile"), "{stdout}");
}

/// Prefix caches by location and verdict, as `scan --json` run from `cwd` reports them.
fn locations(
    cwd: &Path,
    args: &[&str],
    env: Option<(&str, &str)>,
) -> BTreeMap<(String, String), usize> {
    let mut cmd = pycache();
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let out = cmd
        .current_dir(cwd)
        .args(["scan", "--json"])
        .args(args)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut counts = BTreeMap::new();
    // Python caches the standard library in the prefix too: count the project's only.
    let project = cwd.ancestors().find(|d| d.ends_with("app")).unwrap();
    for c in &snapshot_caches(&doc) {
        if !Path::new(c["source"].as_str().unwrap()).starts_with(project) {
            continue;
        }
        let key = (
            c["location"].as_str().unwrap().to_string(),
            c["status"].as_str().unwrap().to_string(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[test]
fn a_relative_prefix_under_the_root_is_scanned_and_recompiled_as_the_prefix() {
    let Some(py) = newest() else {
        return skip(
            "a_relative_prefix_under_the_root_is_scanned_and_recompiled_as_the_prefix",
            "no CPython 3.12+",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let memory = tempfile::tempdir().unwrap();
    let root = t.path().join("app");
    let prefix = root.join("pfx");
    let modules = project(&root);
    std::fs::create_dir_all(&prefix).unwrap();
    run_python(
        &py,
        &root,
        &["-c", &format!("import {}", modules.join(", "))],
        Some(&prefix),
    );
    let mut want = BTreeMap::new();
    want.insert(("prefix".to_string(), "fresh".to_string()), modules.len());
    let sub = root.join("pkg");
    for (cwd, args) in [
        (&root, vec![".", "--pycache-prefix", "pfx"]),
        (&root, vec![".", "--pycache-prefix", "../app/pfx"]),
        (&root, vec!["--pycache-prefix", "./pkg/../pfx"]),
        (&sub, vec!["..", "--pycache-prefix", "../pfx"]),
    ] {
        assert_eq!(
            locations(cwd, &args, None),
            want,
            "from {} with {args:?}",
            cwd.display()
        );
    }
    // A relative prefix in the environment is the same prefix.
    let env = Some(("PYTHONPYCACHEPREFIX", "../pfx"));
    assert_eq!(locations(&sub, &[".."], env), want);

    // clean plans nothing (the caches are fresh, not orphaned legacy files).
    let out = pycache_in(&sub, memory.path())
        .args(["clean", "--dry-run", "..", "--pycache-prefix", "../pfx"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("nothing to"), "{stdout}");

    // After edits, recompile from the subdirectory writes into the prefix what Python uses.
    write(&root.join("m.py"), "x = 10  # edited\n");
    write(&root.join("pkg/deep/leaf.py"), "z = 30  # edited\n");
    pycache_in(&sub, memory.path())
        .args(["recompile", "--yes", "..", "--pycache-prefix", "../pfx"])
        .assert()
        .success();
    assert!(!root.join("__pycache__").exists());
    assert_every_module_uses_its_cache(&py, &root, &modules, Some(&prefix));
}

#[test]
fn a_known_failure_is_remembered_under_every_spelling_of_its_path() {
    let Some(py) = newest() else {
        return skip(
            "a_known_failure_is_remembered_under_every_spelling_of_its_path",
            "no CPython 3.12+",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let memory = tempfile::tempdir().unwrap();
    let root = t.path().join("app");
    project(&root);
    write(&root.join("bad.py"), "def f(:\n");
    pycache_in(&root, memory.path())
        .args(["recompile", "--yes", "--python"])
        .arg(&py)
        .assert()
        .code(1);
    // No interpreter can be found now: only the remembered error can explain bad.py.
    let home = tempfile::tempdir().unwrap();
    let spelled = format!("{}/./trees/../app/", t.path().display());
    std::fs::create_dir_all(t.path().join("trees")).unwrap();
    let out = pycache_in(t.path(), memory.path())
        .env("PATH", "/nonexistent")
        .env("HOME", home.path())
        .env_remove("PYENV_ROOT")
        .args(["recompile", "--yes", &spelled])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("unchanged since it failed before"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("failed  {}:1:", root.join("bad.py").display())),
        "{stdout}"
    );
}

#[test]
fn scan_and_inspect_print_one_clean_spelling_of_each_path() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("app");
    project(&root);
    write(
        &root.join("__pycache__/m.cpython-313.pyc"),
        b"not a pyc at all, but a cache file name",
    );
    let paths = |cwd: &Path, arg: &str| {
        let out = pycache()
            .current_dir(cwd)
            .args(["scan", "--json", arg])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let caches: Vec<String> = snapshot_caches(&doc)
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect();
        (doc["roots"].clone(), caches)
    };
    let want = paths(t.path(), root.to_str().unwrap());
    assert_eq!(
        want.1,
        vec![
            root.join("__pycache__/m.cpython-313.pyc")
                .display()
                .to_string()
        ]
    );
    for (cwd, arg) in [
        (&root, "."),
        (&root, "./pkg/.."),
        (&t.path().to_path_buf(), "app//"),
    ] {
        assert_eq!(paths(cwd, arg), want, "{arg}");
    }
    // inspect shows a file typed relative relative to here, but cleaned; typed absolute,
    // absolute and cleaned. Either way the verdict sees the one clean path.
    let inspect = |arg: &str| {
        let out = pycache()
            .current_dir(&root)
            .args(["inspect", "--json", arg])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc[0].clone()
    };
    let rel = inspect("./pkg/../__pycache__/./m.cpython-313.pyc");
    assert_eq!(rel["path"], "__pycache__/m.cpython-313.pyc", "{rel}");
    assert_eq!(rel["source"], "m.py", "{rel}");
    let messy = format!("{}/./pkg/../__pycache__//m.cpython-313.pyc", root.display());
    let abs = inspect(&messy);
    assert_eq!(abs["path"], want.1[0].as_str(), "{abs}");
    assert_eq!(
        abs["source"],
        root.join("m.py").display().to_string(),
        "{abs}"
    );
    assert_eq!(rel["status"], abs["status"]);
}

#[test]
fn empty_paths_and_a_vanished_current_directory_are_one_line_errors() {
    let out = pycache().args(["scan", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.starts_with("error: PATHS is empty; give a path"),
        "{err}"
    );
    let t = tempfile::tempdir().unwrap();
    let gone = t.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    // The child starts in the directory, which is removed before it resolves `x`.
    let exe = assert_cmd::cargo::cargo_bin("pycache");
    let out = std::process::Command::new("sh")
        .current_dir(&gone)
        .arg("-c")
        .arg(format!(
            "rmdir '{}' && exec \"$0\" clean --under x --dry-run",
            gone.display()
        ))
        .arg(&exe)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.starts_with("error: cannot resolve --under x: the current directory cannot be read"),
        "{err}"
    );
}
