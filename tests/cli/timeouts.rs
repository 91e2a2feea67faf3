//! Every child process has a deadline and bounded output (issue "Bounded, honest and
//! crash-safe", 11.1/11.2): fake interpreters that hang or write without end, as shell
//! scripts, must be killed with an error naming them. Each run has a hard timeout.

use crate::as_root::{fake_python, system_python};
use crate::support::{pycache, skip, write};
use std::time::{Duration, Instant};

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
        .timeout(Duration::from_secs(60))
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
    let Some(py) = system_python() else {
        return skip(
            "a_compile_driver_that_hangs_is_killed",
            "no /usr/bin/python3",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let fake = fake_python(
        t.path(),
        "python3",
        &format!(
            "case \"$*\" in *'compile driver'*) sleep 600;; *) exec {} \"$@\";; esac",
            py.display()
        ),
    );
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    let started = Instant::now();
    let out = pycache()
        .env("XDG_CACHE_HOME", t.path().join("xdg"))
        .args(["recompile", "--yes", "--python"])
        .arg(&fake)
        .arg(&app)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(started.elapsed() < Duration::from_secs(40), "{stdout}");
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
    let Some(py) = system_python() else {
        return skip("a_measurement_that_hangs_is_killed", "no /usr/bin/python3");
    };
    let t = tempfile::tempdir().unwrap();
    let fake = fake_python(
        t.path(),
        "python3",
        &format!(
            "case \"$*\" in *'measuring driver'*) sleep 600;; *) exec {} \"$@\";; esac",
            py.display()
        ),
    );
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    let started = Instant::now();
    let out = pycache()
        .args(["doctor", "--user", "root", "--python"])
        .arg(&fake)
        .arg(&app)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    // Words only: the human report wraps lines.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    assert!(started.elapsed() < Duration::from_secs(40), "{all}");
    assert!(
        all.contains(&format!("{} did not finish within", fake.display())),
        "{all}"
    );
}

/// 11.2: a compile driver that writes one endless line is stopped at the line cap, not
/// buffered until memory runs out.
#[test]
fn a_compile_driver_writing_an_endless_line_is_stopped() {
    let Some(py) = system_python() else {
        return skip(
            "a_compile_driver_writing_an_endless_line",
            "no /usr/bin/python3",
        );
    };
    let t = tempfile::tempdir().unwrap();
    let fake = fake_python(
        t.path(),
        "python3",
        &format!(
            "case \"$*\" in *'compile driver'*) yes | tr -d '\\n';; *) exec {} \"$@\";; esac",
            py.display()
        ),
    );
    let app = t.path().join("app");
    write(&app.join("m.py"), "x = 1\n");
    let out = pycache()
        .env("XDG_CACHE_HOME", t.path().join("xdg"))
        .args(["recompile", "--yes", "--python"])
        .arg(&fake)
        .arg(&app)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("a line longer than 65536 bytes"),
        "{stdout}"
    );
}
