//! The fixes the doctor prints are run as a user would paste them (`sh -c`), in a project
//! whose path needs quoting; afterwards the doctor must find nothing that costs a start.

use super::fixture::{Seed, interpreter, is_root};
use super::{doctor_json, kinds};
use crate::support::skip;
use serde_json::Value;

/// The `run` steps of a fix, in order.
fn commands(fix: &Value) -> Vec<String> {
    fix["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str().map(String::from))
        .collect()
}

fn sh(command: &str) {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pycache ...` as printed, run with this build's binary (and --yes: no terminal here).
fn sh_pycache(command: &str) {
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    let rest = command.strip_prefix("pycache ").unwrap();
    sh(&format!("'{}' {rest} --yes", bin.display()));
}

#[test]
fn the_first_fix_pasted_as_printed_ends_the_per_start_cost() {
    let Some(py) = interpreter() else {
        return skip("doctor pasted fix", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor pasted fix", "needs root to act as nobody");
    }
    let seed = Seed::named("my app");
    let app = seed.app.to_str().unwrap();
    let args = [app, "--user", "nobody", "--python", py.to_str().unwrap()];
    let (code, doc) = doctor_json(&args);
    assert_eq!(code, 1);
    let finding = &doc["report"]["findings"][0];
    assert_eq!(finding["kind"], "cannot-write", "{finding:#}");
    let fix = commands(&finding["fixes"][0]);
    assert_eq!(fix.len(), 1, "{finding:#}");
    assert!(
        fix[0].contains("'"),
        "the path with a space is quoted: {}",
        fix[0]
    );
    sh(&fix[0]);
    seed.run_as_nobody(&py, &[]);
    let (code, doc) = doctor_json(&args);
    assert_eq!((code, kinds(&doc)), (0, Vec::<String>::new()), "{doc:#}");
}

#[test]
fn the_precompile_fix_pasted_as_printed_leaves_only_the_latent_finding() {
    let Some(py) = interpreter() else {
        return skip("doctor precompile fix", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor precompile fix", "needs root to act as nobody");
    }
    let seed = Seed::named("my app");
    let app = seed.app.to_str().unwrap();
    let args = [app, "--user", "nobody", "--python", py.to_str().unwrap()];
    let (_, doc) = doctor_json(&args);
    let fixes = doc["report"]["findings"][0]["fixes"].as_array().unwrap();
    let last = commands(fixes.last().unwrap());
    assert!(last[0].starts_with("pycache recompile '"), "{last:?}");
    sh_pycache(&last[0]);
    let (code, doc) = doctor_json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["costs_every_start"], false);
    assert_eq!(kinds(&doc), ["cannot-rewrite"], "{doc:#}");
    let targets = doc["report"]["targets"].as_array().unwrap();
    assert!(targets.iter().all(|t| t["outcome"] == "loads"), "{doc:#}");
}

#[test]
fn a_world_writable_cache_directory_is_secured_by_its_fix() {
    let Some(py) = interpreter() else {
        return skip("doctor insecure fix", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor insecure fix", "needs root to chown");
    }
    use std::os::unix::fs::PermissionsExt;
    let seed = Seed::new();
    seed.compile_all(&py, None);
    let cache_dir = seed.app.join("__pycache__");
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let args = [
        seed.app.to_str().unwrap(),
        "--user",
        "nobody",
        "--python",
        py.to_str().unwrap(),
        "--no-measure",
    ];
    let (_, doc) = doctor_json(&args);
    let findings = doc["report"]["findings"].as_array().unwrap();
    let insecure = findings.iter().find(|f| f["kind"] == "insecure").unwrap();
    for command in commands(&insecure["fixes"][0]) {
        sh(&command);
    }
    let (code, doc) = doctor_json(&args);
    assert_eq!((code, kinds(&doc)), (0, Vec::<String>::new()), "{doc:#}");
}

#[test]
fn the_demo_prefix_tree_is_named_and_spared_by_the_orphan_fix() {
    let Some(py) = interpreter() else {
        return skip("doctor demo prefix tree", "no Python 3.8+ interpreter");
    };
    let tmp = tempfile::tempdir().unwrap();
    let demo = pycache::demo::write(&tmp.path().join("app")).unwrap();
    let (_, doc) = doctor_json(&[
        demo.root.to_str().unwrap(),
        "--user",
        "root",
        "--python",
        py.to_str().unwrap(),
        "--no-measure",
    ]);
    let findings = doc["report"]["findings"].as_array().unwrap();
    let tree = findings
        .iter()
        .find(|f| f["kind"] == "unused-prefix-tree")
        .unwrap_or_else(|| panic!("{doc:#}"));
    let prefix = demo.prefix.canonicalize().unwrap();
    assert!(
        tree["title"]
            .as_str()
            .unwrap()
            .starts_with(prefix.to_str().unwrap()),
        "{tree:#}"
    );
    let orphans = findings.iter().find(|f| f["kind"] == "orphans").unwrap();
    let clean = &commands(&orphans["fixes"][0])[0];
    assert!(
        clean.ends_with("--status orphaned --location pycache"),
        "{clean}"
    );
    // The command, run as printed, leaves the prefix tree alone.
    let before = crate::support::list_tree(&demo.prefix);
    sh_pycache(clean);
    assert_eq!(crate::support::list_tree(&demo.prefix), before);
}
