//! `scan --metrics FILE`: the textfile parsed by the real Prometheus text parser
//! (`prometheus_client.parser`), its numbers equal to the scan's own summary; replaced
//! atomically; a bad destination is a one-line error. The doctor's metrics are tested in
//! `doctor/metrics.rs`.

use crate::support::{pycache, write};
use crate::venv_tools::tool;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Samples by metric name: (labels, value).
pub type Samples = BTreeMap<String, Vec<(Value, f64)>>;

/// Every sample of a textfile, as the Prometheus parser reads it:
/// name -> [(labels, value)], and each family's type.
pub fn parse(test: &str, file: &Path) -> Option<(Samples, Value)> {
    let python = tool(test, "python")?;
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8").read()
samples, types = [], {}
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for s in family.samples:
        samples.append([s.name, s.labels, s.value, s.timestamp])
print(json.dumps({"samples": samples, "types": types}))
"#;
    let out = assert_cmd::Command::new(python)
        .args(["-c", script])
        .arg(file)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut by_name: Samples = BTreeMap::new();
    for s in doc["samples"].as_array().unwrap() {
        assert!(s[3].is_null(), "no sample carries a timestamp: {s}");
        by_name
            .entry(s[0].as_str().unwrap().to_string())
            .or_default()
            .push((s[1].clone(), s[2].as_f64().unwrap()));
    }
    Some((by_name, doc["types"].clone()))
}

/// Prints the textfile in the test log, then parses it.
pub fn printed_and_parsed(test: &str, file: &Path) -> Option<(Samples, Value)> {
    println!("{}", std::fs::read_to_string(file).unwrap());
    parse(test, file)
}

/// The one value of `name` whose labels include all of `labels`.
pub fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let hits: Vec<f64> = samples
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {samples:?}"))
        .iter()
        .filter(|(l, _)| labels.iter().all(|(k, v)| l[*k] == *v))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(hits.len(), 1, "{name} {labels:?}: {hits:?}");
    hits[0]
}

#[test]
fn scan_metrics_parse_and_match_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app \"quoted\"");
    // A fresh-looking tree without an interpreter: a source, an orphaned cache (its source
    // is gone), an invalid one (empty), a legacy .pyc without source.
    write(&root.join("a.py"), "x = 1\n");
    write(&root.join("__pycache__/gone.cpython-313.pyc"), pyc_313());
    write(&root.join("__pycache__/a.cpython-312.pyc"), "");
    write(&root.join("lib/old.pyc"), pyc_313());
    let out_dir = tmp.path().join("textfile");
    std::fs::create_dir(&out_dir).unwrap();
    let prom = out_dir.join("pycache.prom");
    std::fs::write(&prom, "stale content of an older run\n").unwrap();

    let out = pycache()
        .arg("scan")
        .arg(&root)
        .arg("--metrics")
        .arg(&prom)
        .args(["--summary", "--json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let Some((samples, types)) = printed_and_parsed("scan metrics", &prom) else {
        return;
    };
    let names: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "only the textfile is left in the collector directory"
    );
    for (name, t) in types.as_object().unwrap() {
        assert_eq!(t, "gauge", "{name}");
    }
    let roots = root.to_str().unwrap();
    let run = [("roots", roots)];
    // Every verdict is there, zeros too, and equals the summary's count.
    for (status, t) in summary["by_status"].as_object().unwrap() {
        let labels = [("roots", roots), ("status", status.as_str())];
        let n = value(&samples, "pycache_caches_by_status", &labels);
        assert_eq!(n, t["count"].as_f64().unwrap(), "{status}");
    }
    assert_eq!(samples["pycache_caches_by_status"].len(), 7);
    let problems = value(&samples, "pycache_problem_caches", &run);
    assert_eq!(problems, summary["problems"].as_f64().unwrap());
    assert!(
        problems >= 2.0,
        "the orphan and the empty cache are problems"
    );
    // By status and tag: the cells sum to the summary's tags, bytes included.
    for (tag, t) in summary["by_tag"].as_object().unwrap() {
        let sum = |name: &str| -> f64 {
            samples[name]
                .iter()
                .filter(|(l, _)| l["tag"] == *tag && l["roots"] == roots)
                .map(|(_, v)| v)
                .sum()
        };
        assert_eq!(sum("pycache_caches"), t["count"].as_f64().unwrap(), "{tag}");
        assert_eq!(
            sum("pycache_cache_bytes"),
            t["bytes"].as_f64().unwrap(),
            "{tag}"
        );
        assert_eq!(
            sum("pycache_cache_disk_bytes"),
            t["disk_usage"].as_f64().unwrap()
        );
    }
    assert_eq!(
        value(&samples, "pycache_sources", &run),
        summary["sources"].as_f64().unwrap()
    );
    assert_eq!(
        value(&samples, "pycache_scan_files", &run),
        summary["files"].as_f64().unwrap()
    );
    assert_eq!(value(&samples, "pycache_scan_unread_parts", &run), 0.0);
    assert_eq!(value(&samples, "pycache_scan_success", &run), 1.0);
    let took = value(&samples, "pycache_scan_duration_seconds", &run);
    assert!(took > 0.0 && took < 60.0, "{took}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let at = value(&samples, "pycache_scan_timestamp_seconds", &run);
    assert!((now - at).abs() < 120.0, "{at} vs {now}");
    let info = &samples["pycache_scan_info"][0];
    assert_eq!(info.0["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn an_unreadable_part_makes_success_zero() {
    if !nix::unistd::Uid::effective().is_root() {
        return crate::support::skip("metrics unread", "needs root to act as nobody");
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    write(&root.join("locked/m.py"), "x = 1\n");
    std::fs::set_permissions(
        root.join("locked"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let open = |p: &Path| {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap()
    };
    open(tmp.path());
    open(&root);
    let prom = tmp.path().join("pycache.prom");
    let out = assert_cmd::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("pycache"))
        .arg("scan")
        .arg(&root)
        .arg("--metrics")
        .arg(&prom)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Some((samples, _)) = parse("metrics unread", &prom) else {
        return;
    };
    let run = [("roots", root.to_str().unwrap())];
    assert_eq!(value(&samples, "pycache_scan_success", &run), 0.0);
    assert_eq!(value(&samples, "pycache_scan_unread_parts", &run), 1.0);
}

#[test]
fn a_bad_destination_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pycache()
        .arg("scan")
        .arg(tmp.path())
        .arg("--metrics")
        .arg(tmp.path().join("no/such/dir/pycache.prom"))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write metrics to "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// A valid 3.13 .pyc of `pass` (magic 3571, timestamp mode).
fn pyc_313() -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    b.extend_from_slice(&4u32.to_le_bytes());
    // The code object itself is not checked for a cache Python would not load.
    b.extend_from_slice(b"\xe3");
    b
}
