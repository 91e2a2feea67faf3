//! What a user sees from `imports`: the summary first, prose that fits 80 columns, a quiet
//! end when the output is cut by `head`, help with examples, one-line usage errors.

use super::project;
use crate::support::pycache;

#[test]
fn the_summary_comes_first_and_prose_fits_80_columns() {
    let out = pycache()
        .args(["imports", "--python", "3.13"])
        .arg(project("flaskapp"))
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("pycache imports: "), "{text}");
    assert!(
        lines[1].starts_with("summary: ") && lines[1].contains(" modules: "),
        "{text}"
    );
    let findings = text.split("\nfindings (").nth(1).unwrap();
    for line in findings.lines() {
        let long_word = line.split(' ').any(|w| w.chars().count() > 60);
        assert!(line.chars().count() <= 80 || long_word, "too wide: {line}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    for json in ["", "--json"] {
        let script = format!(
            "'{}' imports {json} '{}' | head -3 >/dev/null; echo $?",
            bin.display(),
            project("flaskapp").display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("set -o pipefail; {script}")])
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
    let out = pycache().args(["imports", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for want in [
        "What the service runs:",
        "Caches:",
        "Examples:",
        "pycache imports /srv/app",
        "--pycache-prefix",
        "JSON (--json):",
        "Exit status: 0",
    ] {
        assert!(help.contains(want), "{want} missing from:\n{help}");
    }
}

#[test]
fn a_mistyped_entry_is_an_error_not_a_module() {
    for entry in ["nope.py", "nope", "nope.sub"] {
        let out = pycache()
            .arg("imports")
            .arg(project("flaskapp"))
            .args(["--entry", entry])
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{entry}: {err}");
        assert!(
            err.starts_with(&format!("error: --entry {entry}: "))
                && err.trim_end().lines().count() == 1,
            "{entry}: {err}"
        );
    }
    // A standard-library module is a real module: reported, not an error.
    let out = pycache()
        .arg("imports")
        .arg(project("flaskapp"))
        .args(["--entry", "json"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("json: cannot follow: 'json' is not a project source module")
    );
}
