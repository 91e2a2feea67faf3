//! Reachability that matches a real start: three realistic apps (an application factory
//! with blueprints, a CLI with plugin loops, a 3.15 service with `lazy import`) are started
//! by the real interpreter, and pycache's "imported" set is compared with the project files
//! in `sys.modules`: precision and recall are printed and must both reach 95%.

use super::truth::python_truth;
use super::{json, project, set, with_reach};
use crate::support::{python, skip};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The interpreter for `version`: pyenv's, else the one the new-pythons script installs.
fn interpreter(version: &str) -> Option<PathBuf> {
    python(version).or_else(|| {
        let p = Path::new("/work/pythons/bin").join(format!("python{version}"));
        p.is_file().then_some(p)
    })
}

/// Precision and recall of `predicted` against `truth`, in percent.
fn scores(predicted: &BTreeSet<String>, truth: &BTreeSet<String>) -> (f64, f64) {
    let hit = predicted.intersection(truth).count() as f64;
    let pct = |n: usize| {
        if n == 0 {
            100.0
        } else {
            100.0 * hit / n as f64
        }
    };
    (pct(predicted.len()), pct(truth.len()))
}

/// Starts `app`'s entry with the real interpreter and compares; returns pycache's document.
/// A missing interpreter skips with a reason, except under CI where it fails.
fn compare(app: &str, version: &str, entry: &str) -> Option<Value> {
    let Some(py) = interpreter(version) else {
        let why = format!("no Python {version} (pyenv or /work/pythons)");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{app}: {why}; CI needs it"
        );
        skip(&format!("start of {app}"), &why);
        return None;
    };
    let doc = json(&project(app), &["--entry", entry, "--python", version]);
    let truth = python_truth(&py, &doc);
    let predicted = with_reach(&doc, "imported");
    let (precision, recall) = scores(&predicted, &truth);
    eprintln!(
        "{app} on Python {version}: precision {precision:.1}% recall {recall:.1}% ({} predicted, {} in sys.modules)",
        predicted.len(),
        truth.len()
    );
    let missed: Vec<_> = truth.difference(&predicted).collect();
    let extra: Vec<_> = predicted.difference(&truth).collect();
    assert!(
        precision >= 95.0 && recall >= 95.0,
        "{app}: precision {precision:.1}% recall {recall:.1}%; not predicted: {missed:?}; predicted but not imported: {extra:?}"
    );
    Some(doc)
}

/// Why pycache says the import at `path:line` of `module` runs at start.
fn at_start<'d>(doc: &'d Value, path: &str, line: u64, module: &str) -> &'d str {
    super::module(doc, path)["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["line"] == line && i["module"] == module)
        .and_then(|i| i["at_start"].as_str())
        .unwrap_or_else(|| panic!("{path}:{line} {module}: no at_start"))
}

#[test]
fn start_of_factory_app_with_blueprints() {
    // Without a start, what the sources alone say (no interpreter needed).
    let doc = json(
        &project("factoryapp"),
        &["--entry", "wsgi.py", "--python", "3.13"],
    );
    assert_eq!(
        with_reach(&doc, "lazy"),
        set(&[
            "blog/mailer.py",
            "blog/reports.py",
            "blog/stats.py",
            "flask/serving.py",
            "flask/testing.py"
        ])
    );
    assert_eq!(
        at_start(&doc, "blog/factory.py", 22, "blog.views.auth"),
        "wsgi.py line 4 calls create_app() -> register_blueprints()"
    );
    assert_eq!(
        at_start(&doc, "blog/extensions.py", 10, "blog.models.base"),
        "wsgi.py line 4 calls create_app() -> Database.init_app()"
    );
    assert_eq!(
        at_start(&doc, "flask/app.py", 11, "flask.json"),
        "wsgi.py line 4 calls create_app() -> Flask.__init__()"
    );
    let auth = super::module(&doc, "blog/views/auth.py");
    assert_eq!(
        auth["chain"],
        serde_json::json!(["wsgi.py", "blog", "blog.factory", "blog.views.auth"])
    );
    compare("factoryapp", "3.13", "wsgi.py");
}

#[test]
fn start_of_cli_with_plugin_loops() {
    let doc = json(
        &project("plugincli"),
        &["--entry", "cli.py", "--python", "3.13"],
    );
    // main()'s help branch runs only without a command: lazy, not imported at start.
    assert_eq!(
        with_reach(&doc, "lazy"),
        set(&[
            "dbtool/help.py",
            "dbtool/migrations/__init__.py",
            "dbtool/migrations/planner.py"
        ])
    );
    let not_imported = with_reach(&doc, "not-imported");
    for f in [
        "dbtool/commands/export.py",
        "dbtool/formats/json.py",
        "dbtool/plugins/sentry.py",
    ] {
        assert!(not_imported.contains(f), "{f}");
    }
    assert_eq!(
        at_start(&doc, "dbtool/registry.py", 33, "dbtool.plugins.audit"),
        "cli.py line 18 calls load_builtin_plugins()"
    );
    // Names from the user's settings stay unknown, and are listed.
    let unresolved = &doc["unresolved"];
    assert_eq!(unresolved.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            unresolved[0]["path"].as_str(),
            unresolved[0]["line"].as_u64()
        ),
        (Some("dbtool/registry.py"), Some(28))
    );
    compare("plugincli", "3.13", "cli.py");
}

#[test]
fn start_of_315_app_with_lazy_imports() {
    let doc = json(
        &project("lazyapp"),
        &["--entry", "run.py", "--python", "3.15"],
    );
    assert_eq!(
        with_reach(&doc, "lazy"),
        set(&[
            "svc/cache.py",
            "svc/handlers/__init__.py",
            "svc/handlers/reports.py",
            "svc/handlers/upload.py",
            "svc/metrics.py"
        ])
    );
    assert_eq!(
        at_start(&doc, "run.py", 3, "svc.settings"),
        "svc.settings.LOG_LEVEL is used at line 11 of run.py"
    );
    assert_eq!(
        at_start(&doc, "svc/app.py", 1, "svc.templates"),
        "run.py line 12 calls build() -> App.__init__()"
    );
    compare("lazyapp", "3.15", "run.py");
}

/// Copies a committed project to a temporary directory (so a real start may write caches).
fn copy_project(app: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                if entry.file_name() != "__pycache__" {
                    copy(&entry.path(), &target);
                }
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&project(app), dir.path());
    dir
}

/// After a real start wrote its caches, pycache advises nothing about them: no module the
/// start cached is called unused, and none it imported lacks a fresh cache.
fn caches_of_a_real_start(app: &str, entry: &str) {
    let Some(py) = interpreter("3.13") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{app}: no Python 3.13; CI needs it"
        );
        return skip(&format!("caches of {app}"), "no Python 3.13");
    };
    let dir = copy_project(app);
    let out = assert_cmd::Command::new(&py)
        .timeout(Duration::from_secs(60))
        .arg(entry)
        .current_dir(dir.path())
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(dir.path(), &["--entry", entry, "--python", "3.13"]);
    // A lazy module was not imported by the start, so it has no cache yet: advice about
    // it is right. Anything else would be advice against what the start just did.
    let imported = with_reach(&doc, "imported");
    let wrong: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .filter(|(kind, path)| {
            *kind == "unused-cache" || (*kind == "no-fresh-cache" && imported.contains(*path))
        })
        .collect();
    assert!(wrong.is_empty(), "{app}: {wrong:?}");
    assert_eq!(doc["caches_checked"], true);
    let written = crate::support::list_tree(dir.path())
        .iter()
        .filter(|p| p.ends_with(".cpython-313.pyc"))
        .count();
    assert_eq!(
        written,
        imported.len(),
        "{app}: one cache per module the start imported"
    );
}

#[test]
fn no_cache_advice_after_a_real_start_of_the_factory_app() {
    caches_of_a_real_start("factoryapp", "wsgi.py");
}

#[test]
fn no_cache_advice_after_a_real_start_of_the_cli() {
    caches_of_a_real_start("plugincli", "cli.py");
}
