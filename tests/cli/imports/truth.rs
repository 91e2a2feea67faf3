//! Ground truth: each committed project in tests/imports_truth/ is checked against
//! hand-written expectations and, when an interpreter is present, against what Python
//! really imports: a subprocess runs each entry and lists the project files in sys.modules.

use super::{json, module, project, set, with_reach};
use crate::support::{python, skip};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Runs each entry of `doc` for real and returns the project files left in sys.modules
/// (plus the module `-m` ran, which runpy keeps out of sys.modules but caches).
pub(super) const TRUTH: &str = r#"
import importlib, importlib.util, os, runpy, sys
root, kind, target = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
sys.path[0:0] = [p for p in sys.argv[4].split(os.pathsep) if p]
# What the program sees when started for real: its own name and no arguments.
sys.argv = [target]
origin = None
try:
    if kind == "script":
        runpy.run_path(target, run_name="__main__")
    elif kind == "run-module":
        spec = importlib.util.find_spec(target)
        if spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(target + ".__main__")
        origin = spec.origin
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        importlib.import_module(target)
except SystemExit as e:
    # A CLI ends with sys.exit(main()): what it imported up to there is the truth.
    if e.code not in (None, 0):
        raise
files = {origin} if origin else set()
files |= {getattr(m, "__file__", None) for m in list(sys.modules.values())}
files = {os.path.realpath(f) for f in files if f}
print("@@TRUTH@@")
for f in sorted(files):
    if f.startswith(root + os.sep):
        print(os.path.relpath(f, root))
"#;

pub(super) fn python_truth(py: &Path, doc: &Value) -> BTreeSet<String> {
    let root = doc["root"].as_str().unwrap();
    let paths: Vec<&str> = doc["search_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let mut truth = BTreeSet::new();
    for entry in doc["entries"].as_array().unwrap() {
        let kind = entry["kind"].as_str().unwrap();
        let target = match kind {
            "script" => format!("{root}/{}", entry["path"].as_str().unwrap()),
            _ => entry["module"].as_str().unwrap().to_owned(),
        };
        // -I: no user site or environment; -B: never write caches into the committed tree.
        // A hard timeout: a regression in a test project fails instead of hanging.
        let out = assert_cmd::Command::new(py)
            .timeout(std::time::Duration::from_secs(60))
            .args([
                "-I",
                "-B",
                "-c",
                TRUTH,
                root,
                kind,
                &target,
                &paths.join(":"),
            ])
            .current_dir(root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{kind} {target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, listed) = stdout.split_once("@@TRUTH@@\n").unwrap();
        truth.extend(listed.lines().map(str::to_owned));
        if kind == "script" {
            // The script ran as __main__: Python never caches it, and pycache says so.
            truth.remove(entry["path"].as_str().unwrap());
        }
    }
    truth
}

/// Compares pycache's `imported` set with Python's, for each interpreter present.
/// `dynamic` lists files Python imports through names pycache cannot know.
fn ground_truth(name: &str, extra_args: &[&str], dynamic: &[&str]) {
    let versions: Vec<(&str, PathBuf)> = ["3.15", "3.14", "3.13", "3.8"]
        .iter()
        .filter_map(|v| python(v).map(|p| (*v, p)))
        .collect();
    if versions.is_empty() {
        skip(
            &format!("ground truth of {name}"),
            "no 3.15, 3.14, 3.13 or 3.8 interpreter",
        );
        return;
    }
    for (version, py) in versions {
        let mut args = extra_args.to_vec();
        args.extend(["--python", version]);
        let doc = json(&project(name), &args);
        let mut truth = python_truth(&py, &doc);
        for d in dynamic {
            assert!(
                truth.remove(*d),
                "{name}: Python no longer imports {d} dynamically"
            );
        }
        assert_eq!(
            with_reach(&doc, "imported"),
            truth,
            "{name} on Python {version}"
        );
    }
}

#[test]
fn ground_truth_flask_style_app() {
    ground_truth("flaskapp", &[], &[]);
}

#[test]
fn relative_imports_at_several_levels() {
    let doc = json(
        &project("relpkg"),
        &["--entry", "main.py", "--python", "3.13"],
    );
    let imported = with_reach(&doc, "imported");
    for f in [
        "shop/orders/sub/deep.py",
        "shop/util.py",
        "shop/core/helpers.py",
        "shop/orders/refunds.py",
    ] {
        assert!(imported.contains(f), "{f}");
    }
    assert_eq!(with_reach(&doc, "not-imported"), set(&["shop/unused.py"]));
    let deep = &module(&doc, "shop/orders/sub/deep.py")["imports"][0];
    assert_eq!(
        (deep["module"].as_str(), deep["path"].as_str()),
        (Some("shop.util"), Some("shop/util.py"))
    );
    ground_truth("relpkg", &["--entry", "main.py"], &[]);
}

#[test]
fn namespace_package_over_two_paths() {
    let root = project("nspkg");
    let doc = json(
        &root,
        &[
            "--entry",
            "main.py",
            "--path",
            root.join("extra").to_str().unwrap(),
        ],
    );
    assert_eq!(
        with_reach(&doc, "imported"),
        set(&[
            "extra/plugins/delta.py",
            "plugins/alpha.py",
            "plugins/beta.py"
        ])
    );
    assert_eq!(with_reach(&doc, "not-imported"), set(&["plugins/gamma.py"]));
    ground_truth(
        "nspkg",
        &[
            "--entry",
            "main.py",
            "--path",
            root.join("extra").to_str().unwrap(),
        ],
        &[],
    );
    // Without --path the third portion is missing: a namespace package has no attributes,
    // so `from plugins import delta` fails, and pycache says so.
    let doc = json(&root, &["--entry", "main.py"]);
    let finding = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "missing-import")
        .unwrap();
    assert_eq!(
        (finding["path"].as_str(), finding["line"].as_u64()),
        (Some("main.py"), Some(4))
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("no module named 'plugins.delta'")
    );
}

#[test]
fn src_layout_with_main_and_console_script() {
    let doc = json(&project("srclayout"), &["--python", "3.13"]);
    let labels: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["-m mytool", "mytool.cli"]);
    assert_eq!(
        with_reach(&doc, "imported"),
        set(&[
            "src/mytool/__init__.py",
            "src/mytool/__main__.py",
            "src/mytool/cli.py",
            "src/mytool/core.py"
        ])
    );
    assert_eq!(
        with_reach(&doc, "not-imported"),
        set(&["src/mytool/legacy.py", "tests/test_cli.py"])
    );
    ground_truth("srclayout", &[], &[]);
}

#[test]
fn guarded_lazy_and_dynamic_imports() {
    let doc = json(
        &project("guards"),
        &["--entry", "main.py", "--python", "3.13"],
    );
    assert_eq!(
        with_reach(&doc, "imported"),
        set(&[
            "dunder_target.py",
            "modern.py",
            "plugins_dyn/__init__.py",
            "plugins_dyn/loaded.py",
            "plugins_dyn/other.py",
            "primary.py",
            "slow_json.py"
        ])
    );
    assert_eq!(with_reach(&doc, "lazy"), set(&["lazy_mod.py"]));
    assert_eq!(
        with_reach(&doc, "type-checking-only"),
        set(&["typed_helper.py", "typed_only.py"])
    );
    let not_imported = with_reach(&doc, "not-imported");
    for f in ["never_fallback.py", "legacy.py", "helper_of_broken.py"] {
        assert!(not_imported.contains(f), "{f}");
    }
    let broken = module(&doc, "broken.py");
    assert_eq!(
        (
            broken["health"]["status"].as_str(),
            broken["health"]["line"].as_u64()
        ),
        (Some("syntax-error"), Some(4))
    );
    assert_eq!(
        broken["imports"][0]["module"], "helper_of_broken",
        "recovered despite the error"
    );
    // A name built from constants is followed; one from the environment is not.
    let other = module(&doc, "main.py")["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["line"] == 28)
        .unwrap();
    assert_eq!(other["module"], "plugins_dyn.other");
    assert_eq!(doc["unresolved"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["unresolved"][0]["code"],
        "importlib.import_module(os.environ.get(\"GUARDS_BACKEND\", \"plugins_dyn.loaded\"))"
    );
    assert_eq!(doc["unresolved"][0]["line"], 44);
    ground_truth("guards", &["--entry", "main.py"], &[]);
}
