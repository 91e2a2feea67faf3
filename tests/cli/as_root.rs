//! Running as root over trees other users own (issue "Safe to run as root"): each attack
//! is tried with an unprivileged owner (`nobody`), and each test asserts that nothing
//! outside the tree changed and that the attacker's code never ran. Without root they
//! skip with a reason, except under CI, where they fail. Every run of pycache has a hard
//! timeout, so a regression fails instead of hanging.

use crate::support::{list_tree, pycache, skip, write};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A hard limit for one pycache run in these tests.
pub const LIMIT: Duration = Duration::from_secs(120);

/// `pycache ARGS` with its compile-error memory in `xdg`, under the hard limit.
pub fn run(xdg: &Path, args: &[&dyn AsRef<OsStr>]) -> Output {
    pycache()
        .env("XDG_CACHE_HOME", xdg)
        .args(args.iter().map(|a| a.as_ref()))
        .timeout(LIMIT)
        .output()
        .unwrap()
}

/// The system's `/usr/bin/python3` (which any user can run, unlike pyenv's under /root);
/// under CI its absence is a failure.
pub fn system_python() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/python3");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI: /usr/bin/python3 is required"
    );
    None
}

/// True when the test can run: root, `setpriv` and the system Python. Otherwise prints
/// why it skips (under CI=true, fails).
pub fn ready(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("not running as root")
    } else if !Path::new("/usr/bin/setpriv").exists() {
        Some("no /usr/bin/setpriv")
    } else if !Path::new("/usr/bin/python3").exists() {
        Some("no /usr/bin/python3")
    } else {
        None
    };
    match why {
        None => true,
        Some(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: {why} (required under CI)"
            );
            skip(test, why);
            false
        }
    }
}

/// A scratch area any user can traverse (tempdir makes mode 700 directories).
pub fn scratch() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t
}

/// Runs a shell command as nobody.
fn as_nobody(script: &str) {
    let ok = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .args(["sh", "-c", script])
        .status()
        .unwrap();
    assert!(ok.success(), "as nobody: {script}");
}

pub fn give_to_nobody(p: &Path) {
    let ok = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(p)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// A root-owned directory with genuine code, and the snapshot to compare it with.
fn root_dir(base: &Path) -> (PathBuf, Vec<String>) {
    let d = base.join("rootcode");
    write(&d.join("victim.py"), "print('genuine')\n");
    (d.clone(), list_tree(&d))
}

/// The marker an attacker's code would create.
fn pwned(base: &Path) -> PathBuf {
    base.join("PWNED")
}

/// A source that takes CPython seconds to compile (~300,000 lines).
pub fn slow_source(marker: &Path) -> String {
    let mut s = format!("open({:?}, 'w').close()\n", marker.display().to_string());
    for i in 0..300_000 {
        s.push_str(&format!("v{i} = [{i}, 'x{i}', {{{i}: ({i},)}}]\n"));
    }
    s
}

/// Waits until a compile driver runs (its command line holds the driver's first line).
pub fn wait_for_driver(limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
                && cmd.windows(22).any(|w| w == b"pycache compile driver")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Imports `victim` from `dir` as root with caches allowed: genuine code must run, and
/// the attacker's marker must not appear.
fn import_as_root(dir: &Path, marker: &Path) {
    let out = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import victim",
        ])
        .arg(dir)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .current_dir("/")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "genuine");
    assert!(!marker.exists(), "the attacker's code ran as root");
}

/// 17.1: the tree's owner swaps `pkg/` (or `pkg/__pycache__`) for a symlink to a
/// root-owned directory while the driver compiles; root must not write there (before:
/// py_compile wrote by path, after one symlink check).
#[test]
fn recompile_race_swapping_pkg_for_a_symlink_writes_nothing_outside() {
    let test = "recompile_race_swapping_pkg_for_a_symlink_writes_nothing_outside";
    if !ready(test) {
        return;
    }
    for swapped in ["pkg", "pkg/__pycache__"] {
        let t = scratch();
        let (rootcode, before) = root_dir(t.path());
        let app = t.path().join("app");
        let marker = pwned(t.path());
        write(&app.join("pkg/__init__.py"), "");
        write(&app.join("pkg/victim.py"), slow_source(&marker));
        std::fs::create_dir(app.join("pkg/__pycache__")).unwrap();
        give_to_nobody(&app);
        let victim = app.join(swapped).display().to_string();
        let swap = std::thread::spawn({
            let target = rootcode.display().to_string();
            move || {
                assert!(
                    wait_for_driver(Duration::from_secs(60)),
                    "no driver started"
                );
                std::thread::sleep(Duration::from_millis(300));
                as_nobody(&format!(
                    "mv {victim} {victim}.real && ln -s {target} {victim}"
                ));
            }
        });
        let out = run(
            &t.path().join("xdg"),
            &[
                &"recompile",
                &"--yes",
                &"--python",
                &"/usr/bin/python3",
                &app,
            ],
        );
        swap.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(list_tree(&rootcode), before, "{swapped}: {stdout}");
        assert!(stdout.contains("not followed"), "{swapped}: {stdout}");
        assert_eq!(out.status.code(), Some(1), "{swapped}: {stdout}");
        import_as_root(&rootcode, &marker);
    }
}

/// 17.2: a symlink planted inside the prefix tree by its owner is never followed.
#[test]
fn recompile_into_a_prefix_never_follows_a_planted_symlink() {
    let test = "recompile_into_a_prefix_never_follows_a_planted_symlink";
    if !ready(test) {
        return;
    }
    let t = scratch();
    let (rootcode, before) = root_dir(t.path());
    let app = t.path().join("app");
    let marker = pwned(t.path());
    write(
        &app.join("victim.py"),
        format!("open({:?}, 'w').close()\n", marker.display().to_string()),
    );
    let pfx = t.path().join("pfx");
    std::fs::create_dir(&pfx).unwrap();
    give_to_nobody(&pfx);
    // Where CPython would write app's caches: PREFIX/<app without its leading />.
    let mirror = pfx.join(app.strip_prefix("/").unwrap());
    as_nobody(&format!(
        "mkdir -p {} && ln -s {} {}",
        mirror.parent().unwrap().display(),
        rootcode.display(),
        mirror.display()
    ));
    let out = run(
        &t.path().join("xdg"),
        &[
            &"recompile",
            &"--yes",
            &"--python",
            &"/usr/bin/python3",
            &"--pycache-prefix",
            &pfx,
            &app,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(list_tree(&rootcode), before, "{stdout}");
    assert!(stdout.contains("not followed"), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    import_as_root(&rootcode, &marker);
}

/// A tree owned by nobody whose virtualenv's interpreter is the attacker's script.
pub(crate) fn tree_with_hostile_venv(base: &Path) -> (PathBuf, PathBuf) {
    let app = base.join("app");
    let marker = pwned(base);
    write(&app.join("m.py"), "x = 1\n");
    // A cache of a tag only the virtualenv claims, so its interpreter is the one needed.
    write(&app.join("__pycache__/m.cpython-399.pyc"), b"junk");
    write(
        &app.join(".venv/pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.99.0\n",
    );
    let py = app.join(".venv/bin/python3");
    write(&py, format!("#!/bin/sh\ntouch {}\n", marker.display()));
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    give_to_nobody(&app);
    (app, marker)
}

/// 17.5: a dry run, `doctor --no-measure` and a real run never execute the tree's own
/// interpreter as root; the real run says why it refused.
#[test]
fn the_trees_own_interpreter_is_never_run_as_root() {
    let test = "the_trees_own_interpreter_is_never_run_as_root";
    if !ready(test) {
        return;
    }
    let t = scratch();
    let (app, marker) = tree_with_hostile_venv(t.path());
    let dry = run(&t.path().join("xdg"), &[&"recompile", &"--dry-run", &app]);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(
        !marker.exists(),
        "recompile --dry-run ran the tree's interpreter"
    );
    assert!(
        stdout.contains("(Python 3.99.0)") && stdout.contains("planning only"),
        "the virtualenv is described from its pyvenv.cfg: {stdout}"
    );
    let explicit = run(
        &t.path().join("xdg"),
        &[
            &"recompile",
            &"--dry-run",
            &"--python",
            &app.join(".venv/bin/python3"),
            &app,
        ],
    );
    assert!(explicit.status.success(), "{explicit:?}");
    assert!(!marker.exists(), "recompile --dry-run --python ran it");
    let _ = run(
        &t.path().join("xdg"),
        &[&"doctor", &"--user", &"nobody", &"--no-measure", &app],
    );
    assert!(
        !marker.exists(),
        "doctor --no-measure ran the tree's interpreter"
    );
    let real = run(
        &t.path().join("xdg"),
        &[
            &"recompile",
            &"--yes",
            &"--python",
            &app.join(".venv/bin/python3"),
            &app,
        ],
    );
    let stderr = String::from_utf8_lossy(&real.stderr);
    assert!(
        !marker.exists(),
        "recompile --yes ran the tree's interpreter"
    );
    assert_eq!(real.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to run")
            && stderr.contains("owned by nobody")
            && stderr.contains("mode 0755")
            && stderr.contains("--python"),
        "{stderr}"
    );
    let measured = run(
        &t.path().join("xdg"),
        &[
            &"doctor",
            &"--user",
            &"nobody",
            &"--python",
            &app.join(".venv/bin/python3"),
            &app,
        ],
    );
    assert!(!marker.exists(), "doctor ran the tree's interpreter");
    assert_eq!(measured.status.code(), Some(2));
}

/// 17.8: a prefix that is `/` or holds the scanned tree is refused; in a prefix tree a
/// tagless `NAME.pyc` (code) is never removed unless named.
#[test]
fn a_prefix_over_real_code_is_refused_or_spares_its_code() {
    let t = scratch();
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    for prefix in [Path::new("/"), t.path()] {
        let out = run(
            &t.path().join("xdg"),
            &[&"clean", &"--dry-run", &"--pycache-prefix", &prefix, &app],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("refusing the cache prefix"), "{stderr}");
    }
    // A "prefix" that holds real code: a sourceless module and an orphaned prefix cache.
    let pfx = t.path().join("pfx");
    let Some(py) = system_python() else {
        return skip("a_prefix_over_real_code", "no /usr/bin/python3");
    };
    write(&pfx.join("lib/tool.py"), "y = 2\n");
    write(&pfx.join("lib/gone.py"), "z = 3\n");
    let ok = Command::new(&py)
        .args([
            "-c",
            "import py_compile, sys, importlib.util as u; d = sys.argv[1]
py_compile.compile(d + '/tool.py', cfile=d + '/tool.pyc')
py_compile.compile(d + '/gone.py', cfile=d + '/gone.' + sys.implementation.cache_tag + '.pyc')",
        ])
        .arg(pfx.join("lib"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::remove_file(pfx.join("lib/tool.py")).unwrap();
    std::fs::remove_file(pfx.join("lib/gone.py")).unwrap();
    let out = run(
        &t.path().join("xdg"),
        &[
            &"clean",
            &"--yes",
            &"--all",
            &"--pycache-prefix",
            &pfx,
            &app,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        pfx.join("lib/tool.pyc").exists(),
        "code was removed: {stdout}"
    );
    assert!(stdout.contains("tagless NAME.pyc is code"), "{stdout}");
}

/// A fake interpreter (a root-owned shell script in a private directory).
pub fn fake_python(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    write(&p, format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}
