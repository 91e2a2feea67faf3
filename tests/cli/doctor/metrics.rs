//! `doctor --metrics FILE`: parsed by the real Prometheus text parser, the modules
//! compiling at every start equal to the report's targets, the penalty to its JSON.

use super::fixture::{Seed, interpreter, is_root};
use crate::metrics::{Samples, printed_and_parsed, value};
use crate::support::{pycache, skip};
use serde_json::Value;

/// Runs `pycache SUBCOMMAND SEED --user nobody --python PY ARGS... --json --metrics FILE`
/// on the seed tree: its exit code, JSON and parsed metrics; None when skipped.
fn seed_run(test: &str, subcommand: &str, args: &[&str]) -> Option<(i32, Value, Samples)> {
    let Some(py) = interpreter() else {
        skip(test, "no Python 3.8+ interpreter");
        return None;
    };
    if !is_root() {
        skip(test, "needs root to act as nobody");
        return None;
    }
    let seed = Seed::new();
    let prom = seed.app.parent().unwrap().join("run.prom");
    let out = pycache()
        .arg(subcommand)
        .arg(&seed.app)
        .args(["--user", "nobody", "--python"])
        .arg(&py)
        .args(args)
        .args(["--json", "--metrics"])
        .arg(&prom)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(code < 2, "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (samples, _) = printed_and_parsed(test, &prom)?;
    Some((code, doc, samples))
}

#[test]
fn doctor_metrics_count_the_modules_compiling_at_every_start() {
    let Some((code, doc, samples)) = seed_run("doctor metrics", "doctor", &[]) else {
        return;
    };
    assert_eq!(code, 1);
    let root = doc["report"]["root"].as_str().unwrap();
    let run = [("root", root)];
    let targets = doc["report"]["targets"].as_array().unwrap();
    let every = targets
        .iter()
        .filter(|t| t["outcome"] == "compiles-every-start")
        .count();
    assert_eq!(every, 4, "the seed's four modules cannot be cached");
    let n = value(
        &samples,
        "pycache_doctor_modules_compiling_every_start",
        &run,
    );
    assert_eq!(n, every as f64);
    let labels = [("root", root), ("outcome", "compiles-every-start")];
    assert_eq!(
        value(&samples, "pycache_doctor_modules", &labels),
        every as f64
    );
    let loads = [("root", root), ("outcome", "loads")];
    assert_eq!(value(&samples, "pycache_doctor_modules", &loads), 0.0);
    let secs = value(&samples, "pycache_doctor_per_start_seconds", &run);
    let ms = doc["per_start_ms"].as_f64().unwrap();
    assert!((secs * 1000.0 - ms).abs() < 0.01, "{secs} s vs {ms} ms");
    assert_eq!(value(&samples, "pycache_doctor_needs_action", &run), 1.0);
    let kind = [("root", root), ("kind", "cannot-write")];
    assert_eq!(value(&samples, "pycache_doctor_findings", &kind), 1.0);
    assert_eq!(value(&samples, "pycache_doctor_success", &run), 1.0);
}

#[test]
fn scan_metrics_under_a_context_count_the_modules_compiling_at_every_start() {
    let Some((_, doc, samples)) = seed_run("scan context metrics", "scan", &["--summary"]) else {
        return;
    };
    let counts = doc["context"]["modules"].as_object().unwrap();
    let every = counts["compiles-every-start"].as_f64().unwrap();
    assert!(
        every >= 4.0,
        "the seed's modules cannot be cached by nobody: {counts:?}"
    );
    let roots = doc["roots"][0].as_str().unwrap();
    let run = [("roots", roots)];
    assert_eq!(
        value(&samples, "pycache_modules_compiling_every_start", &run),
        every
    );
    for (outcome, n) in counts {
        let labels = [("roots", roots), ("outcome", outcome.as_str())];
        assert_eq!(
            value(&samples, "pycache_service_modules", &labels),
            n.as_f64().unwrap(),
            "{outcome}"
        );
    }
}
