//! `doctor` as a security check (17.9): an imported source, cache, cache directory or
//! project directory that a user other than the service user and root can write is a
//! finding with the exact owner and mode and a chown/chmod fix; exit 1 until fixed.

use crate::as_root::{LIMIT, give_to_nobody, ready, scratch};
use crate::support::{pycache, write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// 17.9: files the service imports from that others can write are findings with the
/// exact owner and mode and a chown/chmod fix; doctor exits 1 until the fix is applied.
#[test]
fn files_others_can_write_are_security_findings() {
    let test = "files_others_can_write_are_security_findings";
    if !ready(test) {
        return;
    }
    type Setup = fn(&Path);
    let cases: [(&str, Setup, &str); 4] = [
        (
            "world-writable __pycache__",
            |app| {
                std::fs::set_permissions(
                    app.join("__pycache__"),
                    std::fs::Permissions::from_mode(0o777),
                )
                .unwrap();
            },
            "mode 777",
        ),
        (
            "a .pyc of another user, mode 666",
            |app| {
                let c = std::fs::read_dir(app.join("__pycache__"))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path();
                std::fs::set_permissions(&c, std::fs::Permissions::from_mode(0o666)).unwrap();
                give_to_nobody(&c);
            },
            "owned by nobody:nogroup, mode 666",
        ),
        (
            "group-writable cache directory",
            |app| {
                std::fs::set_permissions(
                    app.join("__pycache__"),
                    std::fs::Permissions::from_mode(0o775),
                )
                .unwrap();
                let ok = Command::new("chgrp")
                    .args(["nogroup"])
                    .arg(app.join("__pycache__"))
                    .status()
                    .unwrap();
                assert!(ok.success());
            },
            "mode 775",
        ),
        (
            "world-writable project directory",
            |app| {
                std::fs::set_permissions(app, std::fs::Permissions::from_mode(0o777)).unwrap();
            },
            "mode 777",
        ),
    ];
    for (what, setup, detail) in cases {
        let t = scratch();
        let app = t.path().join("app");
        write(&app.join("main.py"), "import helper\n");
        write(&app.join("helper.py"), "x = 1\n");
        let ok = Command::new("/usr/bin/python3")
            .args(["-m", "compileall", "-q"])
            .arg(&app)
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .status()
            .unwrap();
        assert!(ok.success());
        setup(&app);
        let args = |cmd: &mut assert_cmd::Command| {
            cmd.args(["doctor", "--user", "root", "--python", "/usr/bin/python3"])
                .args(["--no-measure", "--json"])
                .arg(&app)
                .timeout(LIMIT);
        };
        let mut cmd = pycache();
        args(&mut cmd);
        let out = cmd.output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {doc:#}");
        assert_eq!(doc["needs_action"], true, "{what}");
        let findings = doc["report"]["findings"].as_array().unwrap();
        let f = findings
            .iter()
            .find(|f| f["kind"] == "insecure")
            .unwrap_or_else(|| panic!("{what}: no finding: {doc:#}"));
        let details = f["details"].to_string();
        assert!(details.contains(detail), "{what}: {details}");
        for step in f["fixes"][0]["steps"].as_array().unwrap() {
            let run = step["run"].as_str().unwrap();
            assert!(
                run.starts_with("chown ") || run.starts_with("chmod "),
                "{run}"
            );
            assert!(
                Command::new("sh")
                    .args(["-c", run])
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let mut cmd = pycache();
        args(&mut cmd);
        let out = cmd.output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            !doc["report"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["kind"] == "insecure"),
            "{what}: the fix did not fix it: {doc:#}"
        );
    }
}
