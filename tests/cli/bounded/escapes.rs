//! Names with ESC, OSC, BEL, `\e[2J` and newlines, through every subcommand's text output,
//! the clean and recompile plans, and error lines: nothing arrives raw.

use super::LIMIT;
use crate::support::{pycache, snapshot_caches, write};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A CPython 3.13 timestamp header recording (mtime, size), plus a token body.
fn pyc(mtime: u32, size: u32) -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend(mtime.to_le_bytes());
    b.extend(size.to_le_bytes());
    b.extend([0xe3, 0, 0, 0]);
    b
}

fn p(dir: &Path, name: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(name))
}

/// A project whose own directory name and file names carry control sequences: a stale
/// cache, an orphan, a tag with ESC, and a name with a newline that would fake a line.
fn hostile_tree(base: &Path) -> PathBuf {
    let root = p(base, b"proj\x1b]0;owned\x07\nfake-root");
    std::fs::create_dir_all(&root).unwrap();
    write(&p(&root, b"clear\x1b[2J.py"), "x = 1\n");
    write(
        &p(&root, b"__pycache__/clear\x1b[2J.cpython-313.pyc"),
        pyc(1, 1),
    );
    write(
        &p(&root, b"__pycache__/orphan\x1b]0;x\x07.cpython-313.pyc"),
        pyc(1, 1),
    );
    write(
        &p(&root, b"__pycache__/tagged.cpython-3\x1b[31m13.pyc"),
        pyc(1, 1),
    );
    write(&p(&root, b"line\nfake 1 file.py"), "x = 2\n");
    write(
        &p(&root, b"__pycache__/line\nfake 1 file.cpython-313.pyc"),
        pyc(1, 1),
    );
    write(&p(&root, b"bell\x07\x9b.py"), "import os\n");
    write(
        &root.join("app.py"),
        b"import os\n__import__('dyn\x1b[2J')\nprint('\x1b]0;x\x07')\n",
    );
    root
}

/// Fails when `bytes` holds a control byte other than the line breaks of the report, a
/// C1 control (UTF-8 `\xc2\x80`-`\xc2\x9f`), or a line that a file name forged.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for (i, c) in text.chars().enumerate() {
        assert!(
            c == '\n' || !c.is_control(),
            "{what}: raw control {c:?} at char {i} in:\n{text}"
        );
    }
    for line in text.lines() {
        assert!(
            !line.starts_with("fake"),
            "{what}: a file name forged the line {line:?}"
        );
    }
}

fn run(what: &str, args: &[&OsStr], cwd: &Path) -> (Vec<u8>, Vec<u8>) {
    let out = pycache()
        .args(args)
        .current_dir(cwd)
        .env("PATH", "/nonexistent")
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_clean(&format!("{what} stdout"), &out.stdout);
    assert_clean(&format!("{what} stderr"), &out.stderr);
    (out.stdout, out.stderr)
}

#[test]
fn no_raw_control_byte_from_a_name_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_tree(dir.path());
    let r = root.as_os_str();
    let os = |s: &str| OsStr::new(s).to_owned();
    let cache = p(&root, b"__pycache__/clear\x1b[2J.cpython-313.pyc");
    let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        ("scan", vec![os("scan"), r.into()]),
        ("scan --check", vec![os("scan"), os("--check"), r.into()]),
        (
            "clean --dry-run",
            vec![os("clean"), os("--dry-run"), r.into()],
        ),
        (
            "clean --dry-run --quarantine",
            vec![os("clean"), os("--dry-run"), os("--quarantine"), r.into()],
        ),
        (
            "recompile --dry-run",
            vec![os("recompile"), os("--dry-run"), r.into()],
        ),
        ("imports", vec![os("imports"), r.into()]),
        (
            "imports --all-files",
            vec![os("imports"), os("--all-files"), r.into()],
        ),
        ("doctor", vec![os("doctor"), os("--no-measure"), r.into()]),
        ("inspect", vec![os("inspect"), cache.clone().into()]),
        (
            "inspect error",
            vec![os("inspect"), p(&root, b"missing\x1b[2J\n.pyc").into()],
        ),
        (
            "scan error",
            vec![os("scan"), p(&root, b"nowhere\x1b]0;x\x07\nfake").into()],
        ),
    ];
    let mut shown = String::new();
    for (what, args) in &cases {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (out, err) = run(what, &args, dir.path());
        shown.push_str(&String::from_utf8_lossy(&out));
        shown.push_str(&String::from_utf8_lossy(&err));
    }
    // The names are there, escaped, not dropped: the test sees what it checks.
    for escaped in [
        "proj\\x1b]0;owned\\x07\\nfake-root",
        "clear\\x1b[2J",
        "orphan\\x1b]0;x\\x07",
        "line\\nfake 1 file",
        "missing\\x1b[2J\\n.pyc",
    ] {
        assert!(shown.contains(escaped), "{escaped} not shown in:\n{shown}");
    }
}

#[test]
fn json_keeps_names_exact() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_tree(dir.path());
    let out = pycache()
        .args([OsStr::new("scan"), OsStr::new("--json"), root.as_os_str()])
        .timeout(LIMIT)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let caches = snapshot_caches(&doc);
    let paths: Vec<&str> = caches.iter().map(|c| c["path"].as_str().unwrap()).collect();
    let want = p(&root, b"__pycache__/clear\x1b[2J.cpython-313.pyc");
    assert!(
        paths.contains(&want.to_str().unwrap()),
        "{paths:?} lacks {want:?}"
    );
}
