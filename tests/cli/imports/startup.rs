//! Reachability that matches a real start: three realistic apps (an application factory
//! with blueprints, a CLI with plugin loops, a 3.15 service with `lazy import`) are started
//! by the real interpreter, and pycache's "imported" set is compared with the project files
//! in `sys.modules`: precision and recall are printed and must both reach 95%.

use super::truth::python_truth;
use super::{project, with_reach};
use crate::support::{pycache, python, skip};
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

/// `pycache imports --json` with a hard timeout.
fn analyse(root: &Path, args: &[&str]) -> Value {
    let out = pycache()
        .timeout(Duration::from_secs(60))
        .arg("imports")
        .arg(root)
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
    let doc = analyse(&project(app), &["--entry", entry, "--python", version]);
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

#[test]
fn start_of_factory_app_with_blueprints() {
    compare("factoryapp", "3.13", "wsgi.py");
}

#[test]
fn start_of_cli_with_plugin_loops() {
    compare("plugincli", "3.13", "cli.py");
}

#[test]
fn start_of_315_app_with_lazy_imports() {
    compare("lazyapp", "3.15", "run.py");
}
