//! Every `--json` document parses, carries `schema`, and has the fields docs/json.md lists
//! for it; fields shared between documents have the same JSON type everywhere.

use crate::support::{pycache, skip, snapshot_caches};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The backticked names of the docs' "Fields:" paragraph that follows `marker`.
pub(crate) fn documented(marker: &str) -> Vec<String> {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap();
    let at = docs
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in docs/json.md"));
    let rest = &docs[at..];
    let fields = rest.find("Fields: ").unwrap();
    let para = &rest[fields..];
    let para = &para[..para.find(".\n").unwrap()];
    para.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

pub(crate) fn has_fields(doc: &Value, marker: &str) {
    assert_eq!(doc["schema"], 2, "{marker}: {doc}");
    for f in documented(marker) {
        assert!(doc.get(&f).is_some(), "{marker}: no {f:?} in {doc}");
    }
}

fn json_of(args: &[&str]) -> Value {
    let out = pycache().args(args).env("NO_COLOR", "1").output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?} is not JSON ({e})"))
}

/// JSON type names of every field below `v`, by field name.
fn types(v: &Value, out: &mut BTreeMap<String, std::collections::BTreeSet<&'static str>>) {
    let name = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                if name(x) != "null" {
                    out.entry(k.clone()).or_default().insert(name(x));
                }
                types(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| types(x, out)),
        _ => {}
    }
}

#[test]
fn every_json_document_carries_schema_and_its_documented_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let info = pycache::demo::write(&tmp.path().join("demo")).unwrap();
    let root = info.root.to_str().unwrap();
    let prefix = info.prefix.to_str().unwrap();

    let scan = json_of(&["scan", root, "--pycache-prefix", prefix, "--json"]);
    has_fields(&scan, "## The snapshot");
    for (table, marker) in [
        ("dirs", "\"dirs\":{"),
        ("sources", "\"sources\":{"),
        ("caches", "\"caches\":{"),
    ] {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md")).unwrap();
        let at = docs.find(marker).unwrap();
        let line = &docs[at..];
        let line = &line[..line.find(']').unwrap() + 1];
        let want: Value = serde_json::from_str(&line[line.find('[').unwrap()..]).unwrap();
        assert_eq!(
            scan[table]["columns"], want,
            "{table} columns vs docs/json.md"
        );
    }
    let summary = json_of(&[
        "scan",
        root,
        "--pycache-prefix",
        prefix,
        "--summary",
        "--json",
    ]);
    has_fields(&summary, "## For fleets");
    let jsonl = pycache()
        .args(["scan", root, "--pycache-prefix", prefix, "--jsonl"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), snapshot_caches(&scan).len());
    for l in &lines {
        has_fields(l, "## One object per cache");
    }
    let pyc = lines.iter().find(|l| l["status"] == "fresh").unwrap()["path"]
        .as_str()
        .unwrap()
        .to_string();
    let inspect = json_of(&["inspect", "--json", &pyc]);
    has_fields(&inspect[0], "- `inspect --json`");
    let imports = json_of(&["imports", root, "--json"]);
    has_fields(&imports, "- `imports --json`");
    let clean = json_of(&[
        "clean",
        root,
        "--pycache-prefix",
        prefix,
        "--dry-run",
        "--json",
    ]);
    has_fields(&clean, "- `clean --json`");
    let recompile = json_of(&["recompile", root, "--dry-run", "--json"]);
    has_fields(&recompile, "- `clean --json`");
    let demo = json_of(&["demo", tmp.path().join("demo2").to_str().unwrap(), "--json"]);
    has_fields(&demo, "## The snapshot");
    let doctor = pycache()
        .args(["doctor", root, "--no-measure", "--json"])
        .output()
        .unwrap();
    let doctor: Option<Value> = match serde_json::from_slice(&doctor.stdout) {
        Ok(doc) => Some(doc),
        Err(_) if std::env::var("CI").as_deref() != Ok("true") => {
            skip(
                "doctor in the schema test",
                &String::from_utf8_lossy(&doctor.stderr),
            );
            None
        }
        Err(e) => panic!(
            "doctor --json: {e}: {}",
            String::from_utf8_lossy(&doctor.stderr)
        ),
    };
    if let Some(doc) = &doctor {
        has_fields(doc, "- `doctor --json`");
        assert!(!doc.to_string().contains("-0.0"), "{doc}");
    }

    // The same field, the same type, in every document (null aside).
    let mut seen = BTreeMap::new();
    for doc in [&summary, &inspect, &imports, &clean, &recompile]
        .into_iter()
        .chain(doctor.as_ref())
    {
        types(doc, &mut seen);
    }
    for l in &lines {
        types(l, &mut seen);
    }
    // `python` is left out: doctor's `report.python` is the interpreter object (docs/json.md).
    for field in [
        "schema",
        "path",
        "status",
        "tag",
        "magic",
        "invalidation",
        "size",
        "uid",
    ] {
        let t = &seen[field];
        assert_eq!(t.len(), 1, "{field} has the types {t:?}");
    }
    // `mode` as st_mode in cache and file objects (plan steps use it for the invalidation
    // mode, see docs/json.md).
    assert!(inspect[0]["mode"].is_u64() && lines[0]["mode"].is_u64());
    assert!(Path::new(&pyc).exists());
}

#[test]
fn the_fleet_summary_is_small_and_the_snapshot_compact() {
    let tmp = tempfile::tempdir().unwrap();
    let info = pycache::demo::write(&tmp.path().join("demo")).unwrap();
    let root = info.root.to_str().unwrap();
    let out = pycache()
        .args(["scan", root, "--summary", "--json"])
        .output()
        .unwrap();
    assert!(out.stdout.len() < 4096, "{} bytes", out.stdout.len());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "summary");
    assert!(doc["problems"].as_u64().unwrap() > 0);
    assert!(doc["top_findings"][0]["dir"].is_string());
    let snap = pycache().args(["scan", root, "--json"]).output().unwrap();
    assert_eq!(
        snap.stdout.iter().filter(|&&b| b == b'\n').count(),
        1,
        "one line"
    );
    let pretty = pycache()
        .args(["scan", root, "--json", "--pretty"])
        .output()
        .unwrap();
    let a: Value = serde_json::from_slice(&snap.stdout).unwrap();
    let b: Value = serde_json::from_slice(&pretty.stdout).unwrap();
    assert_eq!(a["caches"], b["caches"]);
    assert!(pretty.stdout.len() > snap.stdout.len());
}
