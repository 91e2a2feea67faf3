//! Today's interpreters, checked against themselves: CPython 3.14 and 3.15 caches are
//! named as released versions and decode like the interpreter reads them (docstrings,
//! qualified names), `imports` knows their standard libraries, and PEP 810 lazy imports
//! are reported the way 3.15 runs them. Under CI a missing 3.14/3.15 is a failure.

use crate::support::{pycache, python, skip, write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `py` in `dir` with `args` (caches may be written), returns stdout; must succeed.
fn run(py: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(py);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env_remove("PYTHON_LAZY_IMPORTS")
        .env_remove("PYTHONPATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Compiles `dir/NAME.py` with `py` and returns the cache it wrote.
fn compile(py: &Path, dir: &Path, name: &str) -> PathBuf {
    let code = format!(
        "import py_compile, sys; sys.stdout.write(py_compile.compile('{name}.py', doraise=True))"
    );
    dir.join(run(py, dir, &["-c", &code], &[]))
}

fn inspect(pyc: &Path) -> Value {
    let out = pycache()
        .args(["inspect", "--json"])
        .arg(pyc)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc[0].clone()
}

#[test]
fn caches_of_3_14_and_3_15_are_named_as_released_versions() {
    let mut checked = 0;
    for version in ["3.14", "3.15"] {
        let Some(py) = python(version) else {
            skip("released-version labels", &format!("no Python {version}"));
            continue;
        };
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join("m.py"), "x = 1\n");
        let pyc = compile(&py, t.path(), "m");
        let magic = run(
            &py,
            t.path(),
            &[
                "-c",
                "import importlib.util as u; print(int.from_bytes(u.MAGIC_NUMBER[:2], 'little'))",
            ],
            &[],
        );
        let got = inspect(&pyc);
        assert_eq!(got["status"], "fresh", "{got}");
        assert_eq!(got["python"], version);
        assert_eq!(got["magic"].to_string(), magic);
        assert_eq!(got["describe"], format!("CPython {version}"), "{got}");
        let human = pycache().arg("inspect").arg(&pyc).output().unwrap();
        let text = String::from_utf8_lossy(&human.stdout).to_string();
        assert!(
            text.contains(&format!("CPython {version} (magic {magic})"))
                && !text.contains("development"),
            "{text}"
        );
        checked += 1;
    }
    let version = pycache().arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(text.contains("CPython 3.15, 3.14, 3.13"), "{text}");
    assert!(!text.contains("development"), "{text}");
    eprintln!("labels checked on {checked} interpreters");
}

/// Modules whose docstring placement changed in 3.14 (PEP 649 conditional annotations).
const DOCSTRING_CASES: [(&str, &str); 6] = [
    (
        "conditional",
        "\"\"\"The doc.\"\"\"\nimport sys\nif sys:\n    x: int = 1\n",
    ),
    ("annotated", "\"\"\"The doc.\"\"\"\nx: int = 1\n"),
    (
        "future",
        "\"\"\"The doc.\"\"\"\nfrom __future__ import annotations\nif True:\n    y: int = 1\n",
    ),
    (
        "in_try",
        "\"\"\"The doc.\"\"\"\ntry:\n    z: int = 3\nexcept Exception:\n    pass\n",
    ),
    (
        "no_doc",
        "x: int = 1\n\"\"\"not a docstring\"\"\"\nif x:\n    w: str\n",
    ),
    ("plain", "#!/usr/bin/env python\n\"\"\"Plain.\"\"\"\n"),
];

#[test]
fn module_docstrings_decode_as_the_interpreter_sets_them() {
    let mut checked = Vec::new();
    for version in ["3.13", "3.14", "3.15"] {
        let Some(py) = python(version) else {
            skip("docstrings", &format!("no Python {version}"));
            continue;
        };
        let t = tempfile::tempdir().unwrap();
        for (name, source) in DOCSTRING_CASES {
            write(&t.path().join(format!("{name}.py")), source);
            let pyc = compile(&py, t.path(), name);
            let truth = run(
                &py,
                t.path(),
                &[
                    "-B",
                    "-c",
                    &format!("import json, {name}; print(json.dumps({name}.__doc__))"),
                ],
                &[],
            );
            let truth: Value = serde_json::from_str(&truth).unwrap();
            let got = inspect(&pyc);
            assert_eq!(got["code"]["docstring"], truth, "{version} {name}: {got}");
        }
        checked.push(version);
    }
    eprintln!("docstrings checked on {}", checked.join(", "));
}

/// Each lambda returns its own `__qualname__`: the interpreter's name for every scope
/// around it, comprehensions included (3.3-3.10 store no co_qualname; pycache derives it).
const QUALNAMES: &str = "\
def f():
    return [[(lambda: 0).__qualname__ for y in range(1)] for x in range(1)][0][0]
class C:
    def m(self):
        return {k: (lambda: 0).__qualname__ for k in range(1)}[0]
    class D:
        h = [(lambda: 0).__qualname__ for _ in range(1)][0]
g = list((lambda: 0).__qualname__ for _ in range(1))[0]
def outer():
    def inner():
        return {(lambda: 0).__qualname__ for _ in range(1)}.pop()
    return inner()
QUALS = [f(), C().m(), C.D.h, g, outer()]
";

fn lambda_qualnames(items: &Value, out: &mut BTreeSet<String>) {
    for item in items.as_array().unwrap() {
        if item["kind"] == "lambda" {
            out.insert(item["qualname"].as_str().unwrap().to_string());
        }
        lambda_qualnames(&item["children"], out);
    }
}

#[test]
fn derived_qualnames_match_the_interpreters_under_comprehensions() {
    let mut checked = Vec::new();
    for version in ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.14", "3.15"] {
        let Some(py) = python(version) else {
            skip("qualnames", &format!("no Python {version}"));
            continue;
        };
        let t = tempfile::tempdir().unwrap();
        write(&t.path().join("q.py"), QUALNAMES);
        let pyc = compile(&py, t.path(), "q");
        let truth = run(
            &py,
            t.path(),
            &["-B", "-c", "import json, q; print(json.dumps(q.QUALS))"],
            &[],
        );
        let truth: BTreeSet<String> = serde_json::from_str(&truth).unwrap();
        let mut got = BTreeSet::new();
        lambda_qualnames(&inspect(&pyc)["code"]["children"], &mut got);
        assert_eq!(got, truth, "Python {version}");
        checked.push(version);
    }
    eprintln!("qualnames checked on {}", checked.join(", "));
}

fn imports_json(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = pycache();
    cmd.current_dir(dir).env_remove("PYTHON_LAZY_IMPORTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["imports", "--json", "--all-files"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn missing(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "missing-import")
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn imports_for_3_15_know_its_standard_library_and_default_to_it() {
    let t = tempfile::tempdir().unwrap();
    let main =
        "import annotationlib\nimport compression.zstd\nimport string.templatelib\nimport json\n";
    write(&t.path().join("main.py"), main);
    let doc = imports_json(t.path(), &["--entry", "main.py"], &[]);
    assert_eq!(
        doc["python"], "3.15",
        "the default target is the newest list"
    );
    for version in ["3.15", "3.14"] {
        let doc = imports_json(t.path(), &["--entry", "main.py", "--python", version], &[]);
        assert_eq!(missing(&doc), Vec::<String>::new(), "{version}: {doc}");
        let notes = doc["notes"].to_string();
        assert!(
            !notes.contains("no standard-library list"),
            "{version}: {notes}"
        );
    }
    let old = imports_json(t.path(), &["--entry", "main.py", "--python", "3.13"], &[]);
    let old_missing = missing(&old).join("\n");
    assert!(
        old_missing.contains("annotationlib") && old_missing.contains("compression"),
        "{old}"
    );
    // The interpreter agrees: the imports run on 3.15.
    match python("3.15") {
        Some(py) => {
            run(&py, t.path(), &["-B", "main.py"], &[]);
        }
        None => skip("imports on 3.15", "no Python 3.15"),
    }
}

/// A project whose imports 3.15 defers in every way PEP 810 allows, and some it does not.
fn lazy_project(root: &Path) {
    for m in ["a", "b", "c", "d", "e", "f", "g", "h", "k"] {
        write(&root.join(format!("{m}.py")), "X = 1\n");
    }
    write(&root.join("pkg/__init__.py"), "");
    write(&root.join("pkg/sub.py"), "Y = 2\n");
    write(
        &root.join("main.py"),
        "\
import a
__lazy_modules__ = ['b', 'pkg.sub', 'c']
import b
import pkg.sub
from c import X
lazy import d
try:
    import e
except ImportError:
    pass
with open(__file__):
    import f
class K:
    import g
def later():
    import h
import k
import sys
print(sorted(m for m in sys.modules if m.split('.')[0] in 'a b c d e f g h k pkg'.split()))
",
    );
}

#[test]
fn lazy_imports_are_reported_as_3_15_runs_them() {
    let Some(py) = python("3.15") else {
        return skip(
            "lazy_imports_are_reported_as_3_15_runs_them",
            "no Python 3.15",
        );
    };
    let t = tempfile::tempdir().unwrap();
    lazy_project(t.path());
    // (interpreter options, environment, pycache flags) that mean the same mode.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 3] = [
        (&[], &[], &[]),
        (&["-X", "lazy_imports=all"], &[], &["--lazy-imports", "all"]),
        (&[], &[("PYTHON_LAZY_IMPORTS", "all")], &[]),
    ];
    for (x, env, flag) in cases {
        let mut args = x.to_vec();
        args.extend(["-B", "main.py"]);
        let loaded: BTreeSet<String> = serde_json::from_str::<Vec<String>>(
            &run(&py, t.path(), &args, env).replace('\'', "\""),
        )
        .unwrap()
        .into_iter()
        .collect();
        let mut pargs = vec!["--entry", "main.py", "--python", "3.15"];
        pargs.extend(flag);
        let doc = imports_json(t.path(), &pargs, env);
        let mut at_start = BTreeSet::new();
        let mut lazy = BTreeSet::new();
        for m in doc["modules"].as_array().unwrap() {
            let name = m["module"].as_str().unwrap().to_string();
            match m["reachability"].as_str().unwrap() {
                "imported" => at_start.insert(name),
                "lazy" => lazy.insert(name),
                _ => false,
            };
        }
        assert_eq!(at_start, loaded, "{x:?} {env:?}: {doc}");
        assert!(lazy.iter().all(|m| !loaded.contains(m)), "{lazy:?}");
        assert!(lazy.contains("h") && lazy.contains("d"), "{lazy:?}");
    }
    // The text says what lazy means now.
    let out = pycache()
        .current_dir(t.path())
        .args([
            "imports",
            "--all-files",
            "--entry",
            "main.py",
            "--python",
            "3.15",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("imported on first use"), "{text}");
    assert!(!text.contains("only inside functions"), "{text}");
    // A mode 3.15 refuses is an error that says what to do.
    let out = pycache()
        .current_dir(t.path())
        .env("PYTHON_LAZY_IMPORTS", "none")
        .args(["imports", "--entry", "main.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.starts_with("error: PYTHON_LAZY_IMPORTS=none") && err.contains("--lazy-imports"),
        "{err}"
    );
}

#[test]
fn the_invalid_verdict_names_the_exception_the_import_raises() {
    let mut checked = Vec::new();
    for version in ["3.8", "3.13", "3.14", "3.15"] {
        let Some(py) = python(version) else {
            skip(
                "invalid-verdict exceptions",
                &format!("no Python {version}"),
            );
            continue;
        };
        let t = tempfile::tempdir().unwrap();
        write(
            &t.path().join("m.py"),
            "\"\"\"Doc.\"\"\"\nVALUE = [1, 2, 3]\n",
        );
        let good = std::fs::read(compile(&py, t.path(), "m")).unwrap();
        std::fs::remove_dir_all(t.path().join("__pycache__")).unwrap();
        std::fs::remove_file(t.path().join("m.py")).unwrap();
        // Sourceless legacy files: the import has nothing to fall back to, so it raises.
        let mut cases: Vec<(String, Vec<u8>)> = (17..good.len())
            .step_by(9)
            .map(|n| (format!("cut{n}"), good[..n].to_vec()))
            .collect();
        cases.extend([
            (
                "bad_type".into(),
                [&good[..16], b"\x01", &good[17..]].concat(),
            ),
            (
                "not_code".into(),
                [&good[..16], b"\xe9\x05\x00\x00\x00"].concat(),
            ),
        ]);
        let mut messages = BTreeSet::new();
        for (name, bytes) in cases {
            let pyc = t.path().join(format!("{name}.pyc"));
            std::fs::write(&pyc, bytes).unwrap();
            let out = Command::new(&py)
                .current_dir(t.path())
                .args(["-B", "-c", &format!("import {name}")])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            let raised = err.lines().last().unwrap_or_default().to_string();
            messages.insert(raised.split(':').next().unwrap_or_default().to_string());
            let got = inspect(&pyc);
            assert_eq!(got["status"], "invalid", "{version} {name}: {got}");
            let reason = got["reason"].as_str().unwrap();
            // The exception and its message exactly; for a truncation the exception (its
            // message depends on where CPython's reader ran out).
            let (kind, _) = raised.split_once(": ").unwrap_or((&raised, ""));
            let named = if kind == "EOFError" {
                "fails with EOFError".to_string()
            } else {
                format!("fails with {raised}")
            };
            assert!(
                reason.contains(&named),
                "{version} {name}: Python raised {raised:?}; pycache says {reason:?}"
            );
        }
        assert_eq!(
            messages.len(),
            3,
            "EOFError, ValueError, ImportError: {messages:?}"
        );
        checked.push(version);
    }
    eprintln!("exceptions checked on {}", checked.join(", "));
}
