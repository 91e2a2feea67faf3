//! The oracle: every interpreter found here builds a tree holding every case the verdicts
//! cover (corrupt bodies, a pre-release magic under the final tag, an mtime of nsec
//! 999999999, shadowing by an extension module and by a package, a symlinked cache, hash
//! modes, sourceless and legacy files, a leftover, pytest's caches), then the import system
//! of that interpreter is asked what it does with each module (tests/cli/oracle.py: the
//! instrumented `FileFinder.find_spec` + `get_code` path; `imp` for 2.7), under no flag,
//! `-O` and `-OO`, and each `--check-hash-based-pycs` mode; each cache's outcome in
//! `pycache scan --json` (with the same mode) must be what the interpreter did.
//!
//! Interpreters: pyenv's (2.7, 3.6-3.13), Debian's python3, /work/pythons/bin/python3.14
//! and python3.15, pypy3. Absent ones are skipped with a printed reason, except under
//! CI=true, where a missing 3.14, 3.15 or PyPy fails the test.

use crate::support::{pycache, skip, snapshot_caches};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCRIPT: &str = include_str!("oracle.py");
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

struct Interpreter {
    label: String,
    path: PathBuf,
    /// `cpython-313`, `pypy39`, `cpython-27`.
    tag: String,
    py2: bool,
    hash_modes: bool,
}

fn python_cmd(path: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(path);
    cmd.env_remove("PYTHONPYCACHEPREFIX")
        .env_remove("PYTHONOPTIMIZE")
        .env_remove("PYTHONCHECKHASHBASEDPYCS")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .timeout(CHILD_TIMEOUT);
    cmd
}

fn describe(label: &str, path: PathBuf) -> Option<Interpreter> {
    let out = python_cmd(&path)
        .args([
            "-c",
            "import sys; t = getattr(sys, 'implementation', None); \
             print(t.cache_tag if t else 'cpython-%d%d' % sys.version_info[:2]); \
             print('%d.%d' % sys.version_info[:2])",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let tag = lines.next()?.trim().to_string();
    let version = lines.next()?.trim().to_string();
    let py2 = version.starts_with("2.");
    let hash_modes = !py2
        && version != "3.6"
        && python_cmd(&path)
            .args(["--check-hash-based-pycs", "always", "-c", "pass"])
            .output()
            .is_ok_and(|o| o.status.success());
    Some(Interpreter {
        label: format!("{label} ({version}, {tag})"),
        path,
        tag,
        py2,
        hash_modes,
    })
}

fn interpreters() -> Vec<Interpreter> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut found = Vec::new();
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".pyenv"));
    let mut versions: Vec<PathBuf> = std::fs::read_dir(pyenv.join("versions"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    for v in versions {
        let name = v.file_name().unwrap().to_string_lossy().to_string();
        if let Some(i) = describe(&format!("pyenv {name}"), v.join("bin/python")) {
            found.push(i);
        }
    }
    let mut optional = vec![
        ("Debian python3", PathBuf::from("/usr/bin/python3"), false),
        (
            "python3.14",
            PathBuf::from("/work/pythons/bin/python3.14"),
            true,
        ),
        (
            "python3.15",
            PathBuf::from("/work/pythons/bin/python3.15"),
            true,
        ),
    ];
    optional.push(("pypy3", PathBuf::from("/usr/bin/pypy3"), true));
    for (label, path, required_in_ci) in optional {
        match path
            .exists()
            .then(|| describe(label, path.clone()))
            .flatten()
        {
            Some(i) => found.push(i),
            None if ci && required_in_ci => {
                panic!("CI=true but {label} is missing at {}", path.display())
            }
            None => skip(
                "oracle",
                &format!("{label} not found at {}", path.display()),
            ),
        }
    }
    found
}

#[derive(Debug, Clone)]
struct Scanned {
    outcome: String,
    tag: Option<String>,
    opt: Option<String>,
    location: String,
    reason: String,
}

/// Runs a child (its timeout set by the caller) and returns its stdout; fails with stderr.
fn stdout_of(mut cmd: assert_cmd::Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn scan(root: &Path, mode: &str) -> BTreeMap<PathBuf, Scanned> {
    let mut cmd = pycache();
    cmd.args(["scan", "--json", "--check-hash-based-pycs", mode])
        .arg(root)
        .timeout(CHILD_TIMEOUT);
    parse_scan(&stdout_of(cmd, "pycache scan")).1
}

/// `scan --json`'s caches by path, and its errors' messages.
fn parse_scan(json: &str) -> (Vec<String>, BTreeMap<PathBuf, Scanned>) {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let errors = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| text(&e["message"]))
        .collect();
    let caches = snapshot_caches(&doc)
        .iter()
        .map(|c| {
            (
                PathBuf::from(c["path"].as_str().unwrap()),
                Scanned {
                    outcome: text(&c["outcome"]).unwrap_or_default(),
                    tag: text(&c["tag"]),
                    opt: text(&c["opt"]),
                    location: text(&c["location"]).unwrap_or_default(),
                    reason: text(&c["reason"]).unwrap_or_default(),
                },
            )
        })
        .collect();
    (errors, caches)
}

/// Writes the script and has the interpreter build its tree: (tree, script, module names).
fn make_tree(python: &Path, label: &str, dir: &Path) -> (PathBuf, PathBuf, Vec<String>) {
    let root = dir.join("tree");
    std::fs::create_dir(&root).unwrap();
    let script = dir.join("oracle.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let mut cmd = python_cmd(python);
    cmd.arg(&script).arg("make").arg(&root);
    let names = stdout_of(cmd, &format!("{label} make"))
        .split_whitespace()
        .map(str::to_string)
        .collect();
    (root, script, names)
}

/// What the interpreter did, per cache it read: outcome (and the error it raised).
fn probe(
    py: &Interpreter,
    script: &Path,
    root: &Path,
    names: &[String],
    flags: &[&str],
) -> BTreeMap<PathBuf, (String, String)> {
    let mut cmd = python_cmd(&py.path);
    cmd.args(flags)
        .arg(script)
        .arg("probe")
        .arg(root)
        .args(names);
    parse_probe(&stdout_of(cmd, &format!("{} probe {flags:?}", py.label)))
}

/// The probe's lines: per cache the interpreter read, its outcome and the error raised.
fn parse_probe(lines: &str) -> BTreeMap<PathBuf, (String, String)> {
    lines
        .lines()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let cache = v["cache"].as_str()?;
            Some((
                PathBuf::from(cache),
                (
                    v["outcome"].as_str().unwrap_or_default().to_string(),
                    v["error"].as_str().unwrap_or_default().to_string(),
                ),
            ))
        })
        .collect()
}

/// True when this run of the interpreter (opt level `opt`) would look for this cache at all.
fn in_run(py: &Interpreter, root: &Path, path: &Path, c: &Scanned, opt: &str) -> bool {
    // Only the probed directory (the symlinks' targets in store/ are not probed).
    let dir = path.parent().unwrap_or(path);
    // A legacy file whose magic names no version is looked at by every interpreter.
    let tag_ok =
        c.tag.as_deref() == Some(py.tag.as_str()) || (c.location == "legacy" && c.tag.is_none());
    if !tag_ok || (dir != root && dir != root.join("__pycache__")) {
        return false;
    }
    let name = path.to_string_lossy();
    if py.py2 {
        // Python 2 reads NAME.pyc, or NAME.pyo under -O.
        return name.ends_with(if opt.is_empty() { ".pyc" } else { ".pyo" });
    }
    // Python 3 reads a legacy (sourceless) .pyc at every level, __pycache__ ones at theirs.
    c.location == "legacy" || c.opt.as_deref().unwrap_or("") == opt
}

#[test]
fn every_verdict_is_what_each_interpreter_does() {
    let found = interpreters();
    if found.is_empty() {
        return skip("oracle", "no interpreter found");
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for py in &found {
        let tmp = tempfile::tempdir().unwrap();
        let (root, script, names) = make_tree(&py.path, &py.label, tmp.path());
        let modes: &[&str] = if py.hash_modes {
            &["default", "always", "never"]
        } else {
            &["default"]
        };
        let opts: &[(&str, &str)] = if py.py2 {
            &[("", ""), ("-O", "1")]
        } else {
            &[("", ""), ("-O", "1"), ("-OO", "2")]
        };
        let (mut agree, mut total) = (0, 0);
        for mode in modes {
            let scanned = scan(&root, mode);
            for (flag, opt) in opts {
                let mut flags: Vec<&str> = Vec::new();
                if !flag.is_empty() {
                    flags.push(flag);
                }
                if py.hash_modes {
                    flags.extend(["--check-hash-based-pycs", mode]);
                }
                let did = probe(py, &script, &root, &names, &flags);
                for (path, c) in &scanned {
                    if !in_run(py, &root, path, c, opt) {
                        continue;
                    }
                    let (want, error) = did
                        .get(path)
                        .cloned()
                        .unwrap_or_else(|| ("never-consulted".into(), String::new()));
                    total += 1;
                    if c.outcome == want {
                        agree += 1;
                    } else {
                        failures.push(format!(
                            "{} {flags:?}: {}: interpreter {want} {error}, pycache {} ({})",
                            py.label,
                            path.strip_prefix(&root).unwrap_or(path).display(),
                            c.outcome,
                            c.reason
                        ));
                    }
                }
            }
        }
        assert!(total > 20, "{}: only {total} comparisons", py.label);
        report.push(format!("{}: {agree}/{total} agree", py.label));
    }
    eprintln!(
        "oracle agreement per interpreter:\n  {}",
        report.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A `__pycache__` with mode 711 (traversable, not listable): Python opens its caches by
/// name, so pycache judges them by the names `cache_from_source` gives. Run as an
/// unprivileged user (root can list anything), against that interpreter's own outcome.
#[test]
fn an_unlistable_pycache_is_judged_by_name_like_the_interpreter() {
    use std::os::unix::fs::PermissionsExt;
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let python = PathBuf::from("/usr/bin/python3");
    let root_user = nix::unistd::geteuid().is_root();
    if !python.exists() || !root_user || !Path::new("/usr/bin/setpriv").exists() {
        assert!(!ci, "CI=true needs root, setpriv and /usr/bin/python3");
        return skip("oracle 711", "needs root, setpriv and /usr/bin/python3");
    }
    let Some(py) = describe("Debian python3", python.clone()) else {
        return skip("oracle 711", "/usr/bin/python3 does not run");
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (root, script, names) = make_tree(&python, &py.label, tmp.path());
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
                stack.push(p);
            } else if meta.is_file() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }
    let pc = root.join("__pycache__");
    std::fs::set_permissions(&pc, std::fs::Permissions::from_mode(0o711)).unwrap();
    let as_nobody = |program: &Path| {
        let mut cmd = assert_cmd::Command::new("/usr/bin/setpriv");
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(program)
            .env("NO_COLOR", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONPYCACHEPREFIX")
            .timeout(CHILD_TIMEOUT);
        cmd
    };
    let mut cmd = as_nobody(&assert_cmd::cargo::cargo_bin("pycache"));
    cmd.args(["scan", "--json"]).arg(&root);
    // The listing was refused, so the scan is incomplete (pytest's caches and leftovers in
    // it are not seen): exit 2, as for any unreadable part, with the by-name verdicts.
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (errors, scanned) = parse_scan(&String::from_utf8_lossy(&out.stdout));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cannot list this __pycache__")),
        "{errors:?}"
    );
    let mut cmd = as_nobody(&python);
    cmd.arg(&script).arg("probe").arg(&root).args(&names);
    let did = parse_probe(&stdout_of(cmd, "probe as nobody"));
    let (mut agree, mut total) = (0, 0);
    for (cache, (want, error)) in &did {
        // Only caches that exist (the interpreter also looks for missing ones).
        if cache.parent() != Some(pc.as_path()) || std::fs::symlink_metadata(cache).is_err() {
            continue;
        }
        total += 1;
        let got = scanned
            .get(cache)
            .map_or("not found", |c| c.outcome.as_str());
        assert_eq!(got, want, "{} ({}): {error}", cache.display(), py.label);
        agree += 1;
    }
    assert!(total > 10, "only {total} caches read by the interpreter");
    eprintln!("oracle 711 ({}): {agree}/{total} agree", py.label);
}
