//! `pycache scan PATH --unit X | --python ... | --user ...`: the service's view, and its
//! agreement with `pycache doctor` module by module.

use crate::support::pycache;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn demo(dir: &Path) -> pycache::demo::DemoInfo {
    pycache::demo::write(dir).unwrap()
}

fn json(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `module -> (next, cache)` of a `scan --json` service document.
pub(crate) fn modules_of(doc: &Value) -> BTreeMap<String, (String, String)> {
    doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = |k: &str| m[k].as_str().unwrap().to_string();
            (text("module"), (text("next"), text("cache")))
        })
        .collect()
}

/// `module -> next`.
fn scan_outcomes(doc: &Value) -> BTreeMap<String, String> {
    modules_of(doc)
        .into_iter()
        .map(|(m, (next, _))| (m, next))
        .collect()
}

/// `pycache ARGS... --pycache-prefix P --user root --python SPEC --json` on the demo.
fn as_root_with(
    command: &str,
    info: &pycache::demo::DemoInfo,
    spec: &str,
    extra: &[&str],
) -> Value {
    let mut cmd = pycache();
    cmd.arg(command)
        .arg(&info.root)
        .arg("--pycache-prefix")
        .arg(&info.prefix)
        .args(["--user", "root", "--python", spec, "--json"])
        .args(extra)
        .env_remove("PYTHONDONTWRITEBYTECODE");
    json(&mut cmd)
}

#[test]
fn scan_under_the_demo_unit_says_utils_compiles_at_every_start_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("lernmanager"));
    let unit = info.root.join("lernmanager.service");
    let out = pycache()
        .args([
            "scan",
            info.root.to_str().unwrap(),
            "--unit",
            unit.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("service context: cpython-313 as lernmanager, prefix instance/tmp\n"),
        "{text}"
    );
    let utils = text
        .lines()
        .find(|l| l.trim_start().starts_with("utils "))
        .unwrap();
    assert!(utils.contains("on first use"), "{utils}");
    assert!(utils.contains("compiles at every start"), "{utils}");
    assert!(
        text.contains("lernmanager cannot write the prefix directory"),
        "{text}"
    );
    for loads in ["app", "config", "models"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{loads} ")))
            .unwrap();
        assert!(line.ends_with("loads the cache"), "{line}");
    }
    // --check fails on a module that compiles at every start.
    pycache()
        .args([
            "scan",
            info.root.to_str().unwrap(),
            "--unit",
            unit.to_str().unwrap(),
            "--check",
        ])
        .assert()
        .code(1);

    let doc = json(pycache().args([
        "scan",
        info.root.to_str().unwrap(),
        "--unit",
        unit.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(doc["kind"], "service");
    crate::schema::has_fields(&doc, "## The service's view");
    let utils = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "utils")
        .unwrap();
    assert_eq!(utils["next"], "compiles-every-start");
    assert_eq!(utils["when"], "on-first-use");
    assert_eq!(utils["every_start"]["kind"], "cannot-write");
    assert_eq!(utils["every_start"]["prefix"], true);
    assert_eq!(doc["context"]["interpreter"]["tag"], "cpython-313");
    // Only the interpreter's variables of the service's environment are shown.
    assert!(
        doc["context"]["env"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| k.starts_with("PYTHON"))
    );
    let roles: Vec<&str> = doc["caches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["unused"]["why"].as_str())
        .collect();
    assert!(roles.contains(&"pycache-while-prefix") && roles.contains(&"other-tag"));

    let summary = json(pycache().args([
        "scan",
        info.root.to_str().unwrap(),
        "--unit",
        unit.to_str().unwrap(),
        "--summary",
        "--json",
    ]));
    assert_eq!(summary["kind"], "summary");
    for f in [
        "title",
        "user",
        "uid",
        "python",
        "version",
        "tag",
        "prefix",
        "optimize",
        "dont_write",
        "check_hash_based_pycs",
        "unit",
        "imports_from",
        "modules",
        "every_start_at_start",
        "unused_caches",
    ] {
        assert!(summary["context"].get(f).is_some(), "no context.{f}");
    }
    let counts = &summary["context"]["modules"];
    assert_eq!(counts["loads-cache"], 6);
    assert_eq!(counts["compiles-every-start"], 1);
    assert_eq!(counts["compiles-writes-cache"], 0);
    assert_eq!(counts["import-error"], 0);
    assert_eq!(
        summary["context"]["title"],
        "cpython-313 as lernmanager, prefix instance/tmp"
    );
}

#[test]
fn scan_and_doctor_agree_module_by_module_on_the_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("lernmanager"));
    let unit = info.root.join("lernmanager.service");
    let scan = json(pycache().args([
        "scan",
        info.root.to_str().unwrap(),
        "--unit",
        unit.to_str().unwrap(),
        "--json",
    ]));
    let doctor = json(pycache().args([
        "doctor",
        "--unit",
        unit.to_str().unwrap(),
        "--no-measure",
        "--json",
    ]));
    let doctor_outcomes: BTreeMap<String, String> = doctor["report"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let next = match t["outcome"].as_str().unwrap() {
                "loads" => "loads-cache",
                "writes-at-next-start" => "compiles-writes-cache",
                "compiles-every-start" => "compiles-every-start",
                "import-error" => "import-error",
                other => panic!("unknown doctor outcome {other}"),
            };
            (t["module"].as_str().unwrap().to_string(), next.to_string())
        })
        .collect();
    let scan_outcomes = scan_outcomes(&scan);
    assert_eq!(scan_outcomes.len(), 7, "{scan_outcomes:?}");
    assert_eq!(scan_outcomes, doctor_outcomes);
    assert_eq!(
        scan["context"]["interpreter"]["tag"],
        doctor["report"]["python"]["tag"]
    );
    // The same cache path, module by module.
    for t in doctor["report"]["targets"].as_array().unwrap() {
        let m = scan["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["module"] == t["module"])
            .unwrap();
        assert_eq!(m["cache"], t["cache"]);
    }
}

#[test]
fn python_is_a_path_or_a_version_in_scan_doctor_and_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("lernmanager"));
    let root = info.root.to_str().unwrap();
    let Some(py313) = crate::support::python("3.13") else {
        crate::support::skip("python_is_a_path_or_a_version", "no CPython 3.13");
        return;
    };
    for spec in ["3.13", py313.to_str().unwrap()] {
        let scan = as_root_with("scan", &info, spec, &[]);
        assert_eq!(
            scan["context"]["interpreter"]["tag"], "cpython-313",
            "{spec}"
        );
        let doctor = as_root_with("doctor", &info, spec, &["--no-measure"]);
        assert_eq!(doctor["report"]["python"]["tag"], "cpython-313", "{spec}");
        let imports = json(pycache().args(["imports", root, "--python", spec, "--json"]));
        assert_eq!(imports["python"], "3.13", "{spec}");
    }
    let out = pycache()
        .args(["scan", root, "--python", "3.99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no installed Python 3.99"), "{err}");
    let out = pycache()
        .args(["scan", root, "--python", "3.1.2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn without_python_the_guess_is_the_newest_interpreter_whose_tag_has_caches_in_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("lernmanager"));
    let doc = json(
        pycache()
            .arg("scan")
            .arg(&info.root)
            .args(["--user", "root", "--json"])
            .env_remove("PYTHONDONTWRITEBYTECODE"),
    );
    let py = &doc["context"]["interpreter"];
    let from = py["from"].as_str().unwrap();
    assert!(from.contains("has caches in the tree"), "{from}");
    // The demo has cpython-312 and cpython-313 caches; 3.14 and 3.15, when installed, are
    // newer but have none.
    let want = if crate::support::find("3.13").is_some() {
        "cpython-313"
    } else {
        "cpython-312"
    };
    assert_eq!(py["tag"], want, "{py}");
    let python = doc["context"]["derived"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == "python")
        .unwrap();
    assert_eq!(python["from"], py["from"]);
}

/// As root, the project's interpreter that another user could change is described from
/// its pyvenv.cfg, never run: guessed (the project's virtualenv) or named (--python).
#[test]
fn as_root_a_virtualenv_another_user_owns_is_described_never_run() {
    let test = "as_root_a_virtualenv_another_user_owns_is_described_never_run";
    if !crate::as_root::ready(test) {
        return;
    }
    let t = crate::as_root::scratch();
    let (app, marker) = crate::as_root::tree_with_hostile_venv(t.path());
    let venv_python = app.join(".venv/bin/python3");
    for named in [false, true] {
        let mut cmd = pycache();
        cmd.arg("scan")
            .arg(&app)
            .args(["--user", "nobody", "--json"]);
        if named {
            cmd.arg("--python").arg(&venv_python);
        }
        let doc = json(&mut cmd);
        assert!(
            !marker.exists(),
            "scan ran the tree's interpreter (named: {named})"
        );
        let py = &doc["context"]["interpreter"];
        assert_eq!(py["version"], "3.99.0", "{py}");
        assert_eq!(py["path"], venv_python.to_str().unwrap());
    }
}

#[test]
fn venv_names_the_interpreter_of_the_service() {
    let Some(py312) = crate::support::python("3.12") else {
        return crate::support::skip(
            "venv_names_the_interpreter_of_the_service",
            "no CPython 3.12",
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    let info = demo(&tmp.path().join("lernmanager"));
    let venv = tmp.path().join("venv");
    let made = std::process::Command::new(&py312)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let doc = json(
        pycache()
            .arg("scan")
            .arg(&info.root)
            .arg("--venv")
            .arg(&venv)
            .args(["--user", "root", "--json"])
            .env_remove("PYTHONDONTWRITEBYTECODE"),
    );
    let py = &doc["context"]["interpreter"];
    assert_eq!(py["tag"], "cpython-312", "{py}");
    assert!(py["from"].as_str().unwrap().starts_with("--venv "), "{py}");
    // 3.12 has fresh caches for app and utils, stale ones for config and models.
    let next = scan_outcomes(&doc);
    assert_eq!(next["app"], "loads-cache");
    assert_eq!(next["config"], "compiles-writes-cache");
    let out = pycache()
        .arg("scan")
        .arg(&info.root)
        .arg("--venv")
        .arg(tmp.path().join("nothing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A corrupt cache behind a valid header fails the import: scan --python and doctor both
/// say so for the module (and the doctor exits 1 with a corrupt-cache finding).
#[test]
fn a_corrupt_cache_is_an_import_error_for_scan_and_doctor() {
    let Some(py) = crate::support::python("3.13") else {
        return crate::support::skip("a_corrupt_cache_is_an_import_error", "no CPython 3.13");
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    crate::support::write(&root.join("run.py"), "import m\nimport ok\n");
    crate::support::write(&root.join("m.py"), "X = [1, 2, 3]\n");
    crate::support::write(&root.join("ok.py"), "Y = 1\n");
    let made = std::process::Command::new(&py)
        .current_dir(&root)
        .env_remove("PYTHONPYCACHEPREFIX")
        .args([
            "-c",
            "import py_compile; py_compile.compile('m.py'); py_compile.compile('ok.py')",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let cache = root.join("__pycache__/m.cpython-313.pyc");
    let bytes = std::fs::read(&cache).unwrap();
    std::fs::write(&cache, &bytes[..20]).unwrap();
    let scan = json(
        pycache()
            .arg("scan")
            .arg(&root)
            .args(["--user", "root", "--python"])
            .arg(&py)
            .arg("--json"),
    );
    let next = scan_outcomes(&scan);
    assert_eq!(next["m"], "import-error");
    assert_eq!(next["ok"], "loads-cache");
    let out = pycache()
        .arg("doctor")
        .arg(&root)
        .args(["--user", "root", "--no-measure", "--json", "--python"])
        .arg(&py)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doctor: Value = serde_json::from_slice(&out.stdout).unwrap();
    let targets = doctor["report"]["targets"].as_array().unwrap();
    let m = targets.iter().find(|t| t["module"] == "m").unwrap();
    assert_eq!(m["outcome"], "import-error");
    assert_eq!(m["state"], "corrupt");
    let kinds: Vec<&str> = doctor["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"corrupt-cache"), "{kinds:?}");
}
