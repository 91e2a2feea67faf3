//! Every child process has a deadline and bounded output (issue "Bounded, honest and
//! crash-safe", 11.1/11.2): fake interpreters that hang or write without end, as shell
//! scripts, must be killed with an error naming them. Each run has a hard timeout.

use crate::as_root::{fake_python, system_python};
use crate::support::{pycache, skip, write};
use std::process::Output;
use std::time::{Duration, Instant};

/// The hard limit of one run here: well above the limits under test.
const HARD: Duration = Duration::from_secs(60);

/// A project, and a fake `python3` that behaves like the real one except when its `-c`
/// program contains `marker`: then it runs `misbehave`. None (skipped) without a Python.
fn fake_that(test: &str, marker: &str, misbehave: &str) -> Option<tempfile::TempDir> {
    let Some(py) = system_python() else {
        skip(test, "no /usr/bin/python3");
        return None;
    };
    let t = tempfile::tempdir().unwrap();
    fake_python(
        t.path(),
        "python3",
        &format!(
            "case \"$*\" in *'{marker}'*) {misbehave};; *) exec {} \"$@\";; esac",
            py.display()
        ),
    );
    write(&t.path().join("app/m.py"), "x = 1\n");
    Some(t)
}

/// `pycache ARGS --python FAKE APP` under the hard limit, and how long it took.
fn run_with_fake(t: &tempfile::TempDir, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = pycache()
        .env("XDG_CACHE_HOME", t.path().join("xdg"))
        .args(args)
        .arg("--python")
        .arg(t.path().join("python3"))
        .arg(t.path().join("app"))
        .timeout(HARD)
        .output()
        .unwrap();
    (out, started.elapsed())
}

/// 11.1: an interpreter that hangs on the version probe is killed; the dry run finishes
/// and names it.
#[test]
fn a_hanging_interpreter_on_path_does_not_hang_a_dry_run() {
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("bin");
    fake_python(&bin, "python3.99", "sleep 600");
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    write(&app.join("__pycache__/m.cpython-399.pyc"), b"junk");
    let started = Instant::now();
    let out = pycache()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", t.path())
        .args(["recompile", "--dry-run"])
        .arg(&app)
        .timeout(HARD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(started.elapsed() < Duration::from_secs(30), "{stdout}");
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("python3.99") && stdout.contains("did not finish within 5 s"),
        "{stdout}"
    );
}

/// 11.1: an interpreter that answers the probe but hangs as the compile driver is killed
/// after the per-file limit, with an error naming it; exit 1.
#[test]
fn a_compile_driver_that_hangs_is_killed() {
    let test = "a_compile_driver_that_hangs_is_killed";
    let Some(t) = fake_that(test, "compile driver", "sleep 600") else {
        return;
    };
    let (out, took) = run_with_fake(&t, &["recompile", "--yes"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(took < Duration::from_secs(40), "{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("no answer within 10 s") && stdout.contains("killed"),
        "{stdout}"
    );
}

/// 11.1: doctor's measurement with an interpreter that hangs on the measuring driver ends
/// with an error naming the interpreter.
#[test]
fn a_measurement_that_hangs_is_killed() {
    let test = "a_measurement_that_hangs_is_killed";
    let Some(t) = fake_that(test, "measuring driver", "sleep 600") else {
        return;
    };
    let (out, took) = run_with_fake(&t, &["doctor", "--user", "root"]);
    // Words only: the human report wraps lines.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    assert!(took < Duration::from_secs(40), "{all}");
    let fake = t.path().join("python3");
    assert!(
        all.contains(&format!("{} did not finish within", fake.display())),
        "{all}"
    );
}

/// 11.2: a compile driver that writes one endless line is stopped at the line cap, not
/// buffered until memory runs out.
#[test]
fn a_compile_driver_writing_an_endless_line_is_stopped() {
    let test = "a_compile_driver_writing_an_endless_line_is_stopped";
    let Some(t) = fake_that(test, "compile driver", "yes | tr -d '\\n'") else {
        return;
    };
    let (out, _) = run_with_fake(&t, &["recompile", "--yes"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("a line longer than 65536 bytes"),
        "{stdout}"
    );
}
