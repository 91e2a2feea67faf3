//! Unreadable parts of a tree are not a success: `scan --check`, `clean`, `recompile`,
//! `imports` and `doctor` exit 2 with one line saying what was skipped.

use super::LIMIT;
use crate::support::{skip, write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A CPython 3.13 timestamp header that matches nothing, plus a token body.
fn pyc() -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend([1, 0, 0, 0, 1, 0, 0, 0, 0xe3, 0, 0, 0]);
    b
}

/// `pycache ARGS` as nobody (root reads every directory), with the hard timeout.
fn as_nobody(args: &[&str], root: &Path) -> std::process::Output {
    assert_cmd::Command::new("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("pycache"))
        .args(args)
        .arg(root)
        .env_remove("RUST_BACKTRACE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("NO_COLOR", "1")
        .env("PATH", "/nonexistent")
        .timeout(LIMIT)
        .output()
        .unwrap()
}

#[test]
fn an_unreadable_directory_is_never_a_success() {
    let test = "an_unreadable_directory_is_never_a_success";
    let can = Path::new("/usr/bin/setpriv").exists() && nix::unistd::geteuid().is_root();
    if !can {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test} needs root and setpriv under CI"
        );
        return skip(test, "needs root and /usr/bin/setpriv to run as nobody");
    }
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let root = t.path().join("proj");
    // Every cache nobody can see is fresh-looking enough; the hidden one is the problem.
    write(&root.join("app.py"), "import secret.mod\n");
    write(&root.join("secret/mod.py"), "x = 1\n");
    write(&root.join("secret/__pycache__/mod.cpython-313.pyc"), pyc());
    let secret = root.join("secret");
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o700)).unwrap();

    let out = as_nobody(&["scan", "--check"], &root);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "scan --check: {err}");
    assert!(
        err.contains("the scan is incomplete: 1 part of the tree could not be read"),
        "{err}"
    );
    assert!(err.contains("secret"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    for (args, what) in [
        (&["scan"][..], "the scan is incomplete"),
        (&["scan", "--json"][..], "the scan is incomplete"),
        (&["clean", "--dry-run"][..], "the clean plan is incomplete"),
        (
            &["recompile", "--dry-run"][..],
            "the recompile plan is incomplete",
        ),
        (
            &["imports", "--all-files"][..],
            "the import graph is incomplete",
        ),
    ] {
        let out = as_nobody(args, &root);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
    }

    // Readable again: the same check passes or fails on the caches alone.
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o755)).unwrap();
    let out = as_nobody(&["scan", "--check"], &root);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
