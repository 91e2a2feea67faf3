//! Helpers shared by the CLI tests: the binary, interpreters, and temp trees.
#![allow(dead_code)]

use std::path::Path;

/// The `pycache` binary with a predictable environment: no colour, no backtraces, and no
/// `PYTHONPYCACHEPREFIX` leaking in from the developer's shell.
pub fn pycache() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("pycache").unwrap();
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("NO_COLOR", "1");
    cmd
}

#[path = "../common/interpreters.rs"]
mod interpreters;
/// Real interpreters for live tests: pyenv, 3.14/3.15 where `.ci/run` or
/// `get-new-pythons.sh` put them, PyPy; a missing one fails under CI.
#[allow(unused_imports)]
pub use interpreters::{CPYTHONS, PYPY, absent, all, find, in_ci, path_var, python};

/// Prints a skip reason in the test output.
pub fn skip(test: &str, why: &str) {
    eprintln!("skipped {test}: {why}");
}

/// Writes a file, creating parent directories.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// Every file below `root`, relative and sorted (for before/after comparisons).
pub fn list_tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
                out.push(format!("{rel}/"));
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// The marshalled module code object CPython 3.13 writes for `x = 1` (a real body: scans
/// check every cache's body as `marshal.loads` would).
pub const BODY_313: &[u8] = &[
    0xe3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xf3, 0x08, 0x00, 0x00, 0x00, 0x95, 0x00, 0x53, 0x00, 0x72, 0x00,
    0x67, 0x01, 0x29, 0x02, 0xe9, 0x01, 0x00, 0x00, 0x00, 0x4e, 0x29, 0x01, 0xda, 0x01, 0x78, 0xa9,
    0x00, 0xf3, 0x00, 0x00, 0x00, 0x00, 0xda, 0x04, 0x6d, 0x2e, 0x70, 0x79, 0xda, 0x08, 0x3c, 0x6d,
    0x6f, 0x64, 0x75, 0x6c, 0x65, 0x3e, 0x72, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x73,
    0x0a, 0x00, 0x00, 0x00, 0xf0, 0x03, 0x01, 0x01, 0x01, 0xd8, 0x04, 0x05, 0x81, 0x01, 0x72, 0x05,
    0x00, 0x00, 0x00,
];
