//! `pycache inspect`: the committed fixtures judged in a temp copy (mtimes set as the
//! matrix set them), the JSON contract, bad input of every kind, and exit codes.
//! `live` compiles fresh files with every interpreter found.

mod errors;
mod live;

use crate::support::pycache;
use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Source mtime of every fixture source, and of the edited `pkg/stale_mod.py`.
const BASE_MTIME: u64 = 1_700_000_000;
const STALE_MTIME: u64 = 1_700_000_100;

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyc")
}

fn expected() -> Vec<J> {
    let text = std::fs::read_to_string(fixture_dir().join("expected.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn set_mtime(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temp copy of the fixtures with the matrix's mtimes, each prefix cache moved to
/// `LABEL/pfx/<absolute path of LABEL/pycache-prefix/proj>/...` (CPython's mirror layout).
pub fn fixture_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir(), tmp.path());
    let mut stack = vec![tmp.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                let stale = path.file_name().is_some_and(|n| n == "stale_mod.py");
                set_mtime(&path, if stale { STALE_MTIME } else { BASE_MTIME });
            }
        }
    }
    for e in expected() {
        let rel = e["path"].as_str().unwrap();
        if let Some((label, tail)) = rel.split_once("/pycache-prefix/cache/") {
            let proj = tmp.path().join(label).join("pycache-prefix/proj");
            let mirror = prefix_of(tmp.path(), label).join(proj.strip_prefix("/").unwrap());
            let to = mirror.join(tail);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::rename(tmp.path().join(rel), to).unwrap();
        }
    }
    tmp
}

fn prefix_of(root: &Path, label: &str) -> PathBuf {
    root.join(label).join("pfx")
}

/// Where a fixture is in the temp copy.
fn copied_path(root: &Path, rel: &str) -> PathBuf {
    match rel.split_once("/pycache-prefix/cache/") {
        Some((label, tail)) => {
            let proj = root.join(label).join("pycache-prefix/proj");
            prefix_of(root, label)
                .join(proj.strip_prefix("/").unwrap())
                .join(tail)
        }
        None => root.join(rel),
    }
}

pub fn inspect_json(args: &[&Path], prefix: Option<&Path>) -> (Vec<J>, i32, String) {
    let mut cmd = pycache();
    cmd.arg("inspect").arg("--json").args(args);
    if let Some(p) = prefix {
        cmd.arg("--pycache-prefix").arg(p);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json: Vec<J> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (json, out.status.code().unwrap(), stderr)
}

#[test]
fn fixture_verdicts_and_fields_match_what_the_interpreters_recorded() {
    let tmp = fixture_copy();
    let all = expected();
    let mut labels: Vec<&str> = all.iter().map(|e| e["label"].as_str().unwrap()).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut checked = 0;
    for group in [None, Some(())] {
        for label in &labels {
            let rows: Vec<&J> = all
                .iter()
                .filter(|e| e["label"] == *label)
                .filter(|e| {
                    e["path"].as_str().unwrap().contains("/pycache-prefix/") == group.is_some()
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let paths: Vec<PathBuf> = rows
                .iter()
                .map(|e| copied_path(tmp.path(), e["path"].as_str().unwrap()))
                .collect();
            let args: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
            let prefix = group.map(|()| prefix_of(tmp.path(), label));
            let (json, code, stderr) = inspect_json(&args, prefix.as_deref());
            assert_eq!(stderr, "", "{label}");
            // every group holds a stale or orphaned file: findings, exit 1
            assert_eq!(code, 1, "{label}");
            assert_eq!(json.len(), rows.len());
            for (got, want) in json.iter().zip(&rows) {
                let at = want["path"].as_str().unwrap();
                for key in [
                    "magic",
                    "python",
                    "implementation",
                    "header_size",
                    "flags",
                    "invalidation",
                    "source_mtime",
                    "source_size",
                    "source_hash",
                    "status",
                    "opt",
                ] {
                    // level 0 has no .opt-N part; a Python 2 .pyo names no level either
                    let unnamed = want[key] == "0" || at.ends_with(".pyo");
                    let want_value = if key == "opt" && unnamed {
                        &J::Null
                    } else {
                        &want[key]
                    };
                    assert_eq!(&got[key], want_value, "{at}: {key}");
                }
                let source = want["source"].as_str().map(|s| tmp.path().join(s));
                let got_source = got["source"].as_str().map(PathBuf::from);
                if let Some(s) = &source {
                    assert_eq!(got_source.as_ref(), Some(s), "{at}: source");
                    assert_eq!(got["actual"]["size"], std::fs::metadata(s).unwrap().len());
                } else {
                    assert!(got["actual"].is_null(), "{at}");
                }
                for key in [
                    "co_filename",
                    "co_name",
                    "co_firstlineno",
                    "docstring",
                    "code_objects",
                ] {
                    assert_eq!(got["code"][key], want["code"][key], "{at}: code.{key}");
                }
                let runs_anyway =
                    want["invalidation"] == "unchecked-hash" && want["status"] == "stale";
                assert_eq!(got["runs_anyway"], runs_anyway, "{at}");
                assert!(got["error"].is_null(), "{at}");
                checked += 1;
            }
        }
    }
    eprintln!("fixture verdicts checked through the binary: {checked}");
    assert_eq!(checked, all.len());
}

#[test]
fn the_environment_variable_names_the_prefix_tree_too() {
    let tmp = fixture_copy();
    let label = "cpython-3.13.0";
    let rel = format!("{label}/pycache-prefix/cache/pkg/alpha.cpython-313.pyc");
    let pyc = copied_path(tmp.path(), &rel);
    let out = pycache()
        .env("PYTHONPYCACHEPREFIX", prefix_of(tmp.path(), label))
        .args(["inspect", "--json"])
        .arg(&pyc)
        .output()
        .unwrap();
    let json: J = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["location"], "prefix");
    assert_eq!(json[0]["status"], "fresh");
    let source = tmp
        .path()
        .join(label)
        .join("pycache-prefix/proj/pkg/alpha.py");
    assert_eq!(json[0]["source"], source.to_str().unwrap());
    // Without a prefix the same file is a tagged name outside __pycache__: never imported.
    let (json, code, _) = inspect_json(&[&pyc], None);
    assert_eq!((json[0]["status"].as_str(), code), (Some("orphaned"), 1));
}

#[test]
fn human_output_shows_header_verdict_owner_and_code_tree() {
    let tmp = fixture_copy();
    let pyc = tmp
        .path()
        .join("cpython-3.13.0/timestamp/pkg/__pycache__/shapes.cpython-313.pyc");
    let out = pycache().arg("inspect").arg(&pyc).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "CPython 3.13 (magic 3571), tag cpython-313",
        "16 bytes, flags 0: timestamp",
        "source mtime 1700000000 (2023-11-14 22:13:20 UTC), size 588",
        "fresh: Python uses this bytecode",
        "pycache location, module pkg.shapes",
        "mode 0644",
        "docstring  shapes: every kind of nested code object.",
        "    def decorated  (line 8)",
        "      comprehension decorated.<locals>.<genexpr>  (line 12)",
        "      def made  (line 19)",
        "      class maker.<locals>.Local  (line 22)",
        "        lambda maker.<locals>.Local.<lambda>  (line 23)",
        "      def Shape.name  (line 31)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn help_documents_the_exit_status() {
    let out = pycache().args(["inspect", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Exit status:") && text.contains("2  some file could not be read"));
    assert!(text.contains("--pycache-prefix <DIR>") && text.contains("--json"));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    let good =
        fixture_dir().join("cpython-3.12.1/timestamp/pkg/__pycache__/shapes.cpython-312.pyc");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pycache"))
        .arg("inspect")
        .args(std::iter::repeat_n(&good, 400))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{:?}",
        out.status
    );
}
