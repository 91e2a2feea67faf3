//! Quarantine crash safety (issue "Bounded, honest and crash-safe", item 5): a run stopped
//! by SIGTERM or killed outright, or a manifest that cannot grow (a full disk, simulated
//! with RLIMIT_FSIZE), leaves a journal from which `--restore` brings every file back.

use crate::support::{pycache, write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 12_000;
const LIMIT: Duration = Duration::from_secs(120);

/// `dirs` directories of `per` orphaned caches each.
fn tree(root: &Path, dirs: usize, per: usize) {
    for d in 0..dirs {
        for f in 0..per {
            write(
                &root.join(format!("pkg{d}/__pycache__/m{f}.cpython-313.pyc")),
                b"\xf3\r\r\n\0\0\0\0\0\0\0\0\0\0\0\0x",
            );
        }
    }
}

fn count_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

fn done_marks(q: &Path) -> usize {
    std::fs::read_to_string(q.join("manifest.jsonl"))
        .map(|m| m.matches("\"kind\":\"done\"").count())
        .unwrap_or(0)
}

fn start_quarantine(root: &Path, q: &Path) -> Child {
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    Command::new(bin)
        .args(["clean", "--yes", "--quarantine"])
        .arg(q)
        .arg(root)
        .env_remove("PYTHONPYCACHEPREFIX")
        // The 12,000-line plan would fill a pipe nobody reads.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the run has moved `n` files, then sends `signal`; returns the exit status.
fn interrupt_after(mut child: Child, q: &Path, n: usize, signal: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + LIMIT;
    while done_marks(q) < n {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before {n} files were moved: {status}");
        }
        assert!(Instant::now() < deadline, "no progress within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("the run did not stop within {LIMIT:?} of SIG{signal}");
}

fn restore(q: &Path) -> (Option<i32>, String) {
    let out = pycache()
        .args(["clean", "--restore"])
        .arg(q)
        .timeout(LIMIT)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn crash_then_restore(signal: &str) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    tree(&root, 120, FILES / 120);
    let before = count_files(&root);
    assert_eq!(before, FILES);
    let q = t.path().join("q");
    let status = interrupt_after(start_quarantine(&root, &q), &q, 3_000, signal);
    assert!(!status.success(), "a stopped run must not exit 0: {status}");
    let moved = count_files(&q.join("files"));
    let in_tree = count_files(&root);
    assert_eq!(moved + in_tree, FILES, "no file may be lost in the middle");
    assert!((3_000..FILES).contains(&moved), "moved {moved}");
    if signal == "TERM" {
        // The current step finished, then the run stopped: every move is marked done.
        assert_eq!(done_marks(&q), moved);
    }
    let (code, stdout) = restore(&q);
    let after = count_files(&root);
    eprintln!(
        "SIG{signal}: tree {before} files before, {in_tree} + {moved} quarantined after the signal, {after} after --restore"
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("restored {moved} files")),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("failed ")),
        "{stdout}"
    );
    assert!(stdout.contains("failed 0"), "{stdout}");
    assert_eq!(after, FILES);
    assert_eq!(count_files(&q.join("files")), 0);
}

#[test]
fn sigterm_during_a_12000_file_quarantine_then_restore_brings_every_file_back() {
    crash_then_restore("TERM");
}

#[test]
fn sigkill_during_a_12000_file_quarantine_then_restore_brings_every_file_back() {
    crash_then_restore("KILL");
}

#[test]
fn a_manifest_that_cannot_grow_leaves_no_half_line() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    tree(&root, 20, 100);
    let q = t.path().join("q");
    // Files may grow to 200 KiB: the manifest fills up after about two batches of
    // intents, mid-line (SIGXFSZ ignored, so the write comes up short, like ENOSPC).
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    let out = Command::new("timeout")
        .args([
            "60",
            "bash",
            "-c",
            "trap '' XFSZ; ulimit -f 200; exec \"$@\"",
            "limited",
        ])
        .arg(bin)
        .args(["clean", "--yes", "--quarantine"])
        .arg(&q)
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("cannot write the quarantine manifest"),
        "{stdout}"
    );
    let manifest = std::fs::read(q.join("manifest.jsonl")).unwrap();
    assert!(manifest.ends_with(b"\n"), "a half line was left");
    let moved = count_files(&q.join("files"));
    assert!((1..2_000).contains(&moved), "moved {moved}");
    let (code, stdout) = restore(&q);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("restored {moved} files")),
        "{stdout}"
    );
    assert_eq!(count_files(&root), 2_000);
}
