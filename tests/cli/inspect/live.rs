//! Every interpreter found compiles a fresh module in each invalidation mode it has, and
//! is the ground truth: its `marshal.loads` for the code (scripts/fixture-expect.py), and
//! its own import system for whether it uses the file, before and after the source is
//! edited. Absent interpreters are listed and skipped (under CI they fail).

use super::set_mtime;
use crate::support::{all, pycache, skip};
use serde_json::Value as J;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SOURCE: &str = r#""""Live module."""
VALUE = 1


def outer(n):
    def inner(m):
        return n * m
    return inner


class Thing(object):
    def method(self):
        return [x for x in range(3)]

    square = lambda self, v: v * v
"#;

const PROBE: &str = "import sys
try:
    import importlib.util as u
    magic = u.MAGIC_NUMBER
except Exception:
    import imp
    magic = imp.get_magic()
m = bytearray(magic)
sys.stdout.write('%d %d.%d' % (m[0] | m[1] << 8, sys.version_info[0], sys.version_info[1]))";

const COMPILE: &str = "import sys, py_compile
src, mode = sys.argv[1], sys.argv[2]
kw = {'doraise': True}
if mode != 'timestamp':
    kw['invalidation_mode'] = getattr(py_compile.PycInvalidationMode, mode.upper().replace('-', '_'))
try:
    from importlib.util import cache_from_source
    cfile = cache_from_source(src)
except ImportError:
    cfile = src + 'c'
py_compile.compile(src, cfile=cfile, **kw)
sys.stdout.write(cfile)";

/// Every interpreter the tests know of (tests/common: pyenv 2.7-3.13, 3.14, 3.15, PyPy;
/// all of them under CI) and /usr/bin/python3, one per real executable.
fn interpreters() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = all().into_iter().map(|(_, p)| p).collect();
    found.push(PathBuf::from("/usr/bin/python3"));
    let mut seen = Vec::new();
    found.retain(|p| match p.canonicalize() {
        Ok(real) if !seen.contains(&real) => {
            seen.push(real);
            true
        }
        _ => false,
    });
    found
}

fn python(py: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(py)
        .args(args)
        .current_dir(dir)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONOPTIMIZE")
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .unwrap()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

/// What the interpreter records about `pyc` (scripts/fixture-expect.py).
fn ground_truth(py: &Path, dir: &Path, pyc: &Path, mode: &str) -> J {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fixture-expect.py");
    let rel = pyc.strip_prefix(dir).unwrap().to_str().unwrap();
    let mut child = Command::new(py)
        .arg("-B")
        .arg(script)
        .arg(dir)
        .arg("live")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let row = format!("{rel}\tfresh\t{mode}\t0\tlivemod.py\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(row.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn inspect(pyc: &Path) -> J {
    let out = pycache()
        .args(["inspect", "--json"])
        .arg(pyc)
        .output()
        .unwrap();
    let json: J = serde_json::from_slice(&out.stdout).unwrap();
    json[0].clone()
}

fn tree(items: &J) -> Vec<String> {
    let mut out = Vec::new();
    for i in items.as_array().unwrap() {
        out.push(format!(
            "{} {} {}",
            i["kind"], i["co_name"], i["co_firstlineno"]
        ));
        out.extend(tree(&i["children"]));
    }
    out
}

#[test]
fn fresh_then_stale_with_every_interpreter_as_it_says() {
    let wanted = [
        "2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15",
    ];
    let mut seen = Vec::new();
    let mut checked = 0;
    for py in interpreters() {
        let dir = tempfile::tempdir().unwrap();
        let probe = python(&py, dir.path(), &["-B", "-c", PROBE]);
        if !probe.status.success() {
            skip("live inspect", &format!("{} does not run", py.display()));
            continue;
        }
        let probe = text(probe.stdout);
        let (magic, version) = probe.split_once(' ').unwrap();
        seen.push(version.to_string());
        let (major, minor) = version.split_once('.').unwrap();
        let pep552 = (major, minor.parse::<u32>().unwrap()) >= ("3", 7);
        let modes: &[&str] = if pep552 {
            &["timestamp", "checked-hash", "unchecked-hash"]
        } else {
            &["timestamp"]
        };
        for mode in modes {
            let at = format!("{} {mode}", py.display());
            let src = dir.path().join("livemod.py");
            std::fs::write(&src, SOURCE).unwrap();
            set_mtime(&src, 1_700_000_000);
            let out = python(
                &py,
                dir.path(),
                &["-B", "-c", COMPILE, src.to_str().unwrap(), mode],
            );
            assert!(out.status.success(), "{at}: {}", text(out.stderr));
            let pyc = PathBuf::from(text(out.stdout));
            let truth = ground_truth(&py, dir.path(), &pyc, mode);

            let got = inspect(&pyc);
            assert_eq!(got["status"], "fresh", "{at}: {got}");
            assert_eq!(got["magic"].to_string(), magic, "{at}");
            assert_eq!(got["python"], version, "{at}");
            assert_eq!(got["invalidation"], *mode, "{at}");
            for key in ["source_mtime", "source_size", "source_hash", "flags"] {
                assert_eq!(got[key], truth[key], "{at}: {key}");
            }
            for key in [
                "co_filename",
                "co_name",
                "co_qualname",
                "co_firstlineno",
                "docstring",
            ] {
                assert_eq!(got["code"][key], truth["code"][key], "{at}: {key}");
            }
            assert_eq!(
                tree(&got["code"]["children"]),
                tree(&truth["code"]["children"]),
                "{at}"
            );
            // The interpreter agrees: it loads this very file.
            let verbose = python(&py, dir.path(), &["-B", "-v", "-c", "import livemod"]);
            let log = text(verbose.stderr);
            assert!(
                log.lines()
                    .any(|l| l.contains("livemod") && l.contains(" matches ")),
                "{at}"
            );

            std::fs::write(&src, SOURCE.replace("VALUE = 1", "VALUE = 2  # edited")).unwrap();
            set_mtime(&src, 1_700_000_100);
            let got = inspect(&pyc);
            assert_eq!(got["status"], "stale", "{at}: {got}");
            let ran = python(
                &py,
                dir.path(),
                &["-B", "-c", "import livemod; print(livemod.VALUE)"],
            );
            let old_code_ran = text(ran.stdout).trim() == "1";
            assert_eq!(got["runs_anyway"], old_code_ran, "{at}: {got}");
            assert_eq!(old_code_ran, *mode == "unchecked-hash", "{at}");
            std::fs::remove_file(&pyc).unwrap();
            checked += 1;
        }
    }
    let absent: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|v| !seen.iter().any(|s| s == v))
        .collect();
    if !absent.is_empty() {
        skip("live inspect for", &absent.join(", "));
    }
    eprintln!(
        "live interpreters: {} ({checked} compile/edit rounds)",
        seen.join(", ")
    );
}
