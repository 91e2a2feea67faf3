//! What a user sees from `doctor`: the verdict first, prose that fits 80 columns with
//! commands kept whole, a quiet end under `head`, help with examples, the JSON contract,
//! modules that do not compile, an interpreter the service user can run, a pid that is
//! not Python.

use super::fixture::{Seed, as_nobody, interpreter, is_root};
use super::{doctor_json, kinds};
use crate::support::{pycache, skip};

/// Lines a user pastes: printed whole whatever the width.
fn is_command(line: &str) -> bool {
    let t = line.trim_start();
    [
        "pycache ",
        "install ",
        "chown ",
        "chmod ",
        "systemctl ",
        "Environment=",
    ]
    .iter()
    .any(|c| t.starts_with(c))
}

#[test]
fn the_verdict_comes_first_and_prose_fits_80_columns() {
    let Some(py) = interpreter() else {
        return skip("doctor 80 columns", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    let out = pycache()
        .args(["doctor", seed.app.to_str().unwrap(), "--user", "nobody"])
        .args(["--python", py.to_str().unwrap(), "--repeat", "1"])
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("pycache doctor: "), "{text}");
    assert!(lines[1].starts_with("verdict: "), "{text}");
    if is_root() {
        assert!(
            lines[1].contains("4 of 4 imported modules compile on every start"),
            "{text}"
        );
    }
    for line in &lines {
        let long_word = line.split(' ').any(|w| w.chars().count() > 50);
        assert!(
            line.chars().count() <= 80 || is_command(line) || long_word,
            "too wide: {line}\n{text}"
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let seed = Seed::new();
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    for json in ["", "--json"] {
        let script = format!(
            "set -o pipefail; '{}' doctor {json} --no-measure '{}' | head -3 >/dev/null; echo $?",
            bin.display(),
            seed.app.display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{json}: {stderr}");
        let status = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(status == "0" || status == "1", "{json}: exit {status}");
    }
}

#[test]
fn help_has_headings_examples_and_exit_status() {
    let out = pycache().args(["doctor", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Who runs the service:",
        "Measuring:",
        "Examples:",
        "pycache doctor --unit myapp",
        "JSON (--json, schema 2):",
        "Exit status: 0",
    ] {
        assert!(help.contains(want), "{want} missing from:\n{help}");
    }
}

#[test]
fn json_fields_are_the_documented_ones() {
    let Some(py) = interpreter() else {
        return skip("doctor json fields", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    let (_, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "nobody",
        "--python",
        py.to_str().unwrap(),
        "--repeat",
        "1",
    ]);
    for key in [
        "schema",
        "per_start_ms",
        "costs_every_start",
        "needs_action",
    ] {
        assert!(doc.get(key).is_some(), "{key}: {doc:#}");
    }
    let report = &doc["report"];
    assert_eq!(
        report["entry_script"]["path"],
        seed.app.join("run.py").to_str().unwrap()
    );
    assert!(report["entry_script"]["compile_ms"].as_f64().is_some());
    for key in [
        "root",
        "python",
        "imports_from",
        "followed",
        "targets",
        "broken",
    ] {
        assert!(report.get(key).is_some(), "{key}: {report:#}");
    }
    if is_root() {
        let fix = &report["findings"][0]["fixes"][0];
        assert!(
            fix["summary"].is_string() && fix["steps"][0]["run"].is_string(),
            "{fix}"
        );
    }
}

#[test]
fn an_imported_module_that_does_not_compile_is_a_finding_not_a_cost() {
    let Some(py) = interpreter() else {
        return skip("doctor broken module", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    std::fs::write(seed.app.join("utils.py"), "def slugify(s:\n    return s\n").unwrap();
    let (code, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "root",
        "--python",
        py.to_str().unwrap(),
        "--no-measure",
    ]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(kinds(&doc)[0], "cannot-compile", "{doc:#}");
    let report = &doc["report"];
    assert_eq!(report["broken"][0]["module"], "utils");
    assert!(
        report["broken"][0]["why"]
            .as_str()
            .unwrap()
            .starts_with("syntax error at line ")
    );
    let targets = report["targets"].as_array().unwrap();
    assert!(targets.iter().all(|t| t["module"] != "utils"), "{doc:#}");
    // Python agrees: the import fails.
    let out = std::process::Command::new(&py)
        .args(["-B", "-c", "import utils"])
        .current_dir(&seed.app)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("SyntaxError"));
}

#[test]
fn the_guessed_interpreter_is_one_the_service_user_can_run() {
    if !is_root() {
        return skip("doctor default python", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let out = pycache()
        .args(["doctor", seed.app.to_str().unwrap(), "--user", "nobody"])
        .args(["--no-measure", "--json"])
        .output()
        .unwrap();
    if out.status.code() == Some(2) {
        return skip("doctor default python", "no interpreter nobody can run");
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = doc["report"]["python"]["path"].as_str().unwrap();
    assert!(
        doc["report"]["python"]["from"]
            .as_str()
            .unwrap()
            .contains("nobody can run"),
        "{doc:#}"
    );
    let ran = as_nobody().args([python, "-c", "pass"]).status().unwrap();
    assert!(ran.success(), "nobody cannot run {python}");
}

#[test]
fn a_process_that_is_not_python_is_refused() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let out = pycache()
        .args(["doctor", "--pid", &child.id().to_string()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("does not run a Python interpreter") && err.trim_end().lines().count() == 1,
        "{err}"
    );
}
