//! Every committed fixture (tests/fixtures/pyc, made by scripts/make-fixtures.sh) decodes
//! to what the interpreter that wrote it recorded in expected.jsonl: header fields from the
//! bytes, code objects from its own `marshal.loads`, the docstring from executing the
//! module, class/function kinds from the source's AST. Needs no interpreter.
#![allow(clippy::unwrap_used)]

use pycache::pyc::{CodeSummary, NestedCode, header, summarize};
use serde_json::Value as J;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyc")
}

fn expected() -> Vec<J> {
    let text = std::fs::read_to_string(fixture_dir().join("expected.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn decode(e: &J) -> (header::Header, CodeSummary, usize) {
    let path = fixture_dir().join(e["path"].as_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let h = header::parse(&bytes).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let s = summarize(&bytes[h.header_size..], &h.magic)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    (h, s, bytes.len())
}

fn opt_u64(v: &J) -> Option<u64> {
    v.as_u64()
}

fn compare_children(path: &str, got: &[NestedCode], want: &J, kinds_checked: &mut usize) {
    let want = want.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{path}: nested code objects");
    for (g, w) in got.iter().zip(want) {
        let at = format!("{path} > {}", g.co_name);
        assert_eq!(g.co_name, w["co_name"].as_str().unwrap(), "{at}");
        assert_eq!(g.co_qualname.as_deref(), w["co_qualname"].as_str(), "{at}");
        assert_eq!(
            i64::from(g.co_firstlineno),
            w["co_firstlineno"].as_i64().unwrap(),
            "{at}"
        );
        assert_eq!(
            u64::from(g.co_flags),
            w["co_flags"].as_u64().unwrap(),
            "{at}"
        );
        if let Some(kind) = w["kind"].as_str() {
            assert_eq!(serde_json::to_value(g.kind).unwrap(), kind, "{at}: kind");
            *kinds_checked += 1;
        }
        compare_children(&at, &g.children, &w["children"], kinds_checked);
    }
}

#[test]
fn every_fixture_decodes_to_what_its_interpreter_recorded() {
    let mut per_label: BTreeMap<String, usize> = BTreeMap::new();
    let mut kinds_checked = 0;
    for e in expected() {
        let path = e["path"].as_str().unwrap();
        let (h, s, len) = decode(&e);
        assert_eq!(
            u64::from(h.magic.magic),
            e["magic"].as_u64().unwrap(),
            "{path}"
        );
        let python = h.magic.python.map(|v| v.to_string());
        assert_eq!(python.as_deref(), e["python"].as_str(), "{path}");
        assert_eq!(
            h.magic.implementation.as_str(),
            e["implementation"],
            "{path}"
        );
        assert_eq!(
            h.magic.expected_tag().as_deref(),
            e["cache_tag"].as_str(),
            "{path}"
        );
        assert_eq!(
            h.header_size as u64,
            e["header_size"].as_u64().unwrap(),
            "{path}"
        );
        assert_eq!(h.flags.map(u64::from), opt_u64(&e["flags"]), "{path}");
        assert_eq!(h.invalidation.as_str(), e["invalidation"], "{path}");
        assert_eq!(
            h.source_mtime.map(u64::from),
            opt_u64(&e["source_mtime"]),
            "{path}"
        );
        assert_eq!(
            h.source_size.map(u64::from),
            opt_u64(&e["source_size"]),
            "{path}"
        );
        assert_eq!(
            h.source_hash_hex().as_deref(),
            e["source_hash"].as_str(),
            "{path}"
        );
        let code = &e["code"];
        assert_eq!(
            s.co_filename,
            code["co_filename"].as_str().unwrap(),
            "{path}"
        );
        assert_eq!(s.co_name, code["co_name"].as_str().unwrap(), "{path}");
        assert_eq!(
            s.co_qualname.as_deref(),
            code["co_qualname"].as_str(),
            "{path}"
        );
        assert_eq!(
            i64::from(s.co_firstlineno),
            code["co_firstlineno"].as_i64().unwrap()
        );
        assert_eq!(
            u64::from(s.co_flags),
            code["co_flags"].as_u64().unwrap(),
            "{path}"
        );
        assert_eq!(
            s.docstring.as_deref(),
            code["docstring"].as_str(),
            "{path}: docstring"
        );
        assert_eq!(
            s.code_objects as u64,
            code["code_objects"].as_u64().unwrap(),
            "{path}"
        );
        assert_eq!(s.trailing_bytes, 0, "{path}");
        assert_eq!(h.header_size + s.marshal_bytes, len, "{path}");
        compare_children(path, &s.children, &code["children"], &mut kinds_checked);
        *per_label
            .entry(e["label"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    eprintln!("fixtures decoded per interpreter:");
    for (label, n) in &per_label {
        eprintln!("  {label:<16} {n}");
    }
    eprintln!("  class/function kinds checked against the AST: {kinds_checked}");
    let total: usize = per_label.values().sum();
    assert!(total >= 100, "only {total} fixtures");
    assert!(kinds_checked >= 100, "only {kinds_checked} kinds checked");
    for version in [
        "2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13",
    ] {
        assert!(
            per_label
                .keys()
                .any(|l| l.starts_with(&format!("cpython-{version}."))),
            "no fixture for {version}"
        );
    }
}

/// Flattened tree: (co_name, first line) -> qualname.
fn qualnames(items: &[NestedCode], out: &mut HashMap<(String, i32), String>) {
    for i in items {
        out.insert((i.co_name.clone(), i.co_firstlineno), i.qualname.clone());
        qualnames(&i.children, out);
    }
}

/// Before 3.11 no qualname is stored; pycache derives it with the compiler's rule. The same
/// sources compiled by 3.13 record it, so both must agree for every shared definition.
#[test]
fn derived_qualnames_agree_with_the_ones_313_records() {
    let all = expected();
    let mut recorded: HashMap<String, HashMap<(String, i32), String>> = HashMap::new();
    for e in all.iter().filter(|e| e["label"] == "cpython-3.13.0") {
        let (_, s, _) = decode(e);
        let module = e["path"].as_str().unwrap().split('/').next_back().unwrap();
        let key = format!(
            "{}/{}",
            e["invalidation"],
            module.split('.').next().unwrap()
        );
        let mut map = HashMap::new();
        qualnames(&s.children, &mut map);
        recorded.insert(key, map);
    }
    let mut compared = 0;
    for e in all.iter().filter(|e| e["code"]["co_qualname"].is_null()) {
        let (_, s, _) = decode(e);
        let module = e["path"].as_str().unwrap().split('/').next_back().unwrap();
        let key = format!(
            "{}/{}",
            e["invalidation"],
            module.split('.').next().unwrap()
        );
        let Some(want) = recorded.get(&key) else {
            continue;
        };
        let mut got = HashMap::new();
        qualnames(&s.children, &mut got);
        for (k, q) in &got {
            if let Some(w) = want.get(k) {
                assert_eq!(q, w, "{}: {:?}", e["path"], k);
                compared += 1;
            }
        }
    }
    eprintln!("derived qualnames compared with 3.13's: {compared}");
    assert!(compared >= 150, "only {compared} qualnames compared");
}
