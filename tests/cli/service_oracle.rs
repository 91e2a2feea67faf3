//! The oracle for verdicts in context: the real interpreter starts the project as the
//! context's user (`setpriv --reuid=nobody`), twice, with `-v`; what its import system
//! did with each module (loaded the cache, compiled and wrote it, compiled without
//! writing, failed to import a corrupt cache) must be what `pycache scan --user nobody --python PY ...` said the next start
//! does. Contexts: the tree as it is (root's, mode 755), a prefix nobody can write,
//! `PYTHONOPTIMIZE=1`, `PYTHONDONTWRITEBYTECODE=1`, and the tree given to nobody.
//!
//! Needs root, `setpriv`, and an interpreter nobody can run (3.14/3.15 from
//! `/work/pythons`, else Debian's python3): skipped with a printed reason when one is
//! missing, a failure under CI=true. Every child has a hard timeout.

use crate::support::{in_ci, pycache, skip};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
const NOBODY: u32 = 65534;

fn as_nobody() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .timeout(CHILD_TIMEOUT);
    cmd
}

/// An interpreter nobody can run, or why there is none.
fn interpreter() -> Result<PathBuf, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not root: cannot start the interpreter as nobody".into());
    }
    if as_nobody()
        .arg("true")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        return Err("setpriv --reuid=nobody does not work here".into());
    }
    let candidates = ["3.14", "3.15", "3.13", "3.12"]
        .iter()
        .filter_map(|v| crate::support::find(v))
        .chain([PathBuf::from("/usr/bin/python3")]);
    for py in candidates {
        let ok = as_nobody()
            .arg(&py)
            .args(["-c", "import sys"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(py);
        }
    }
    Err("no interpreter that nobody can run (pyenv's are under /root)".into())
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), uid);
        }
    }
}

/// The project: run.py imports alpha (a fresh cache), beta (none), pkg and pkg.gamma
/// (a stale cache), and broken (a valid header over a cut body), catching its failure.
fn project(dir: &Path, py: &Path) -> PathBuf {
    let root = dir.join("proj");
    write(
        &root.join("run.py"),
        "import alpha\nimport beta\nimport pkg.gamma\ntry:\n    import broken\nexcept Exception as e:\n    print('broken failed:', type(e).__name__)\n",
    );
    write(&root.join("broken.py"), "B = [1, 2, 3]\n");
    write(&root.join("alpha.py"), "A = 1\n");
    write(&root.join("beta.py"), "B = 2\n");
    write(&root.join("pkg/__init__.py"), "");
    write(&root.join("pkg/gamma.py"), "G = 3\n");
    let out = std::process::Command::new(py)
        .current_dir(&root)
        .env_remove("PYTHONPYCACHEPREFIX")
        .env_remove("PYTHONOPTIMIZE")
        .args([
            "-c",
            "import py_compile\nfor f in ('alpha.py', 'broken.py', 'pkg/__init__.py', 'pkg/gamma.py'): py_compile.compile(f, doraise=True)",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // broken's cache keeps its header and loses its body: the import fails.
    let pycache_dir = root.join("__pycache__");
    let cut = std::fs::read_dir(&pycache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("broken.")
        })
        .unwrap();
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..20]).unwrap();
    // gamma changes after its cache was written: stale.
    let gamma = root.join("pkg/gamma.py");
    write(&gamma, "G = 33\n");
    let later = std::time::SystemTime::now() + Duration::from_secs(10);
    std::fs::File::options()
        .write(true)
        .open(&gamma)
        .unwrap()
        .set_modified(later)
        .unwrap();
    for d in [dir, &root] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    root
}

/// `module -> (next, cache)` from pycache under the context.
fn ours(
    root: &Path,
    py: &Path,
    env: &[(&str, &str)],
    prefix: Option<&Path>,
) -> BTreeMap<String, (String, String)> {
    let mut cmd = pycache();
    cmd.args([
        "scan",
        root.to_str().unwrap(),
        "--user",
        "nobody",
        "--json",
        "--python",
    ])
    .arg(py);
    for (k, v) in env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    if let Some(p) = prefix {
        cmd.arg("--pycache-prefix").arg(p);
    }
    let out = cmd.timeout(CHILD_TIMEOUT).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::service::modules_of(&doc)
}

/// One start of the service as nobody: its `-v` trace.
fn start(root: &Path, py: &Path, env: &[(&str, &str)], prefix: Option<&Path>) -> String {
    let mut cmd = as_nobody();
    cmd.current_dir(root)
        .args(["env", "-i", "PATH=/usr/bin:/bin"]);
    for (k, v) in env {
        cmd.arg(format!("{k}={v}"));
    }
    if let Some(p) = prefix {
        cmd.arg(format!("PYTHONPYCACHEPREFIX={}", p.display()));
    }
    let out = cmd.arg(py).args(["-v", "run.py"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The run's report of a failed import is on stdout; the -v trace on stderr.
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What the interpreter did with `module`'s cache at `cache`, over two starts.
fn theirs(first: &str, second: &str, module: &str, cache: &str) -> &'static str {
    if first.contains(&format!("{module} failed:")) {
        assert!(
            second.contains(&format!("{module} failed:")),
            "{module}: failed once"
        );
        return "import-error";
    }
    let loaded = |trace: &str| trace.contains(&format!("# code object from '{cache}'"));
    let wrote = first.contains(&format!("# created '{cache}'"));
    match (loaded(first), wrote, loaded(second)) {
        (true, _, _) => "loads-cache",
        (false, true, true) => "compiles-writes-cache",
        (false, false, false) => "compiles-every-start",
        other => panic!("{cache}: an odd pair of starts {other:?}\n{first}"),
    }
}

fn check(
    name: &str,
    root: &Path,
    py: &Path,
    env: &[(&str, &str)],
    prefix: Option<&Path>,
    want: &[(&str, &str)],
) {
    let ours = ours(root, py, env, prefix);
    let first = start(root, py, env, prefix);
    let second = start(root, py, env, prefix);
    for (module, (next, cache)) in &ours {
        let did = theirs(&first, &second, module, cache);
        assert_eq!(next, did, "{name}: {module} ({cache})");
    }
    let got: Vec<(&str, &str)> = ours
        .iter()
        .map(|(m, (n, _))| (m.as_str(), n.as_str()))
        .collect();
    assert_eq!(got, want, "{name}");
    eprintln!("{name}: {got:?} agree with the interpreter");
}

#[test]
fn each_modules_next_start_is_what_the_interpreter_does_as_the_services_user() {
    let py = match interpreter() {
        Ok(p) => p,
        Err(why) if in_ci() => panic!("CI=true: {why}"),
        Err(why) => return skip("service oracle", &why),
    };
    let (l, w, e) = (
        "loads-cache",
        "compiles-writes-cache",
        "compiles-every-start",
    );
    let x = "import-error";
    // The tree as deployed: root's, nobody reads it and writes nothing.
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path(), &py);
    check(
        "root's tree",
        &root,
        &py,
        &[],
        None,
        &[
            ("alpha", l),
            ("beta", e),
            ("broken", x),
            ("pkg", l),
            ("pkg.gamma", e),
        ],
    );
    // -O reads .opt-1 caches, which nobody can write there either.
    check(
        "-O",
        &root,
        &py,
        &[("PYTHONOPTIMIZE", "1")],
        None,
        &[
            ("alpha", e),
            ("beta", e),
            ("broken", e),
            ("pkg", e),
            ("pkg.gamma", e),
        ],
    );
    // A prefix that nobody owns: everything compiles once and is written there.
    let prefix = tmp.path().join("pyc");
    std::fs::create_dir(&prefix).unwrap();
    chown_tree(&prefix, NOBODY);
    check(
        "bytecode off",
        &root,
        &py,
        &[("PYTHONDONTWRITEBYTECODE", "1")],
        Some(&prefix),
        &[
            ("alpha", e),
            ("beta", e),
            ("broken", e),
            ("pkg", e),
            ("pkg.gamma", e),
        ],
    );
    check(
        "nobody's prefix",
        &root,
        &py,
        &[],
        Some(&prefix),
        &[
            ("alpha", w),
            ("beta", w),
            ("broken", w),
            ("pkg", w),
            ("pkg.gamma", w),
        ],
    );

    // The tree given to nobody (a fresh copy: the first starts above wrote nothing in it).
    let tmp2 = tempfile::tempdir().unwrap();
    let root2 = project(tmp2.path(), &py);
    chown_tree(&root2, NOBODY);
    check(
        "nobody's tree",
        &root2,
        &py,
        &[],
        None,
        &[
            ("alpha", l),
            ("beta", w),
            ("broken", x),
            ("pkg", l),
            ("pkg.gamma", w),
        ],
    );
}
