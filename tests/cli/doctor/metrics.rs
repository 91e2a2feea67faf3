//! `doctor --metrics FILE`: parsed by the real Prometheus text parser, the modules
//! compiling at every start equal to the report's targets, the penalty to its JSON.

use super::fixture::{Seed, interpreter, is_root};
use crate::metrics::{parse, value};
use crate::support::{pycache, skip};
use serde_json::Value;

#[test]
fn doctor_metrics_count_the_modules_compiling_at_every_start() {
    let Some(py) = interpreter() else {
        return skip("doctor metrics", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor metrics", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let prom = seed.app.parent().unwrap().join("doctor.prom");
    let out = pycache()
        .arg("doctor")
        .arg(&seed.app)
        .args(["--user", "nobody", "--python"])
        .arg(&py)
        .arg("--json")
        .arg("--metrics")
        .arg(&prom)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("{}", std::fs::read_to_string(&prom).unwrap());
    let Some((samples, _)) = parse("doctor metrics", &prom) else {
        return;
    };
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
