//! Problems found by trying the newest features as their users would (review 2): each
//! runs the real binary under a hard limit.

use crate::support::{pycache, write};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// The stderr of a failed run, which must be exactly one `error:` line.
fn one_error_line(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("error: "), "not an error line: {err:?}");
    err
}

/// `recompile --python` with something that is not an interpreter: one line, in the
/// system's words (not Rust's `entity not found` or `(os error 13)`), advice given once.
#[test]
fn recompile_python_that_cannot_run_is_one_plain_line() {
    let t = tempfile::tempdir().unwrap();
    write(&t.path().join("app/mod.py"), "x = 1\n");
    let app = t.path().join("app");
    let not_exec = t.path().join("notes.txt");
    write(&not_exec, "not a program\n");
    for py in [
        t.path().join("missing/python").into_os_string(),
        t.path().as_os_str().to_owned(),
        not_exec.into_os_string(),
    ] {
        let out = pycache()
            .arg("recompile")
            .arg(&app)
            .arg("--python")
            .arg(&py)
            .arg("--dry-run")
            .timeout(LIMIT)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{py:?}");
        let err = one_error_line(&out);
        for bad in ["entity not found", "os error", "(give the path"] {
            assert!(!err.contains(bad), "{py:?}: {err}");
        }
        assert_eq!(err.matches("pass --python").count(), 1, "{err}");
    }
}
