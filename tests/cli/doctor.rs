//! `pycache doctor`: the seed's situation end to end (a root-owned tree, service user
//! `nobody`), checked against what the real interpreter does when run as that user; units
//! with drop-ins, environment files and sandboxing; a running process; JSON; usage errors.
//! The writability matrix against real attempts is in `doctor/access.rs`, the unit and
//! process contexts in `doctor/contexts.rs`.

mod access;
mod contexts;
mod fixes;
mod fixture;
mod metrics;
mod output;

use crate::support::{pycache, skip};
use fixture::{Seed, interpreter, is_root};
use serde_json::Value;
use std::path::Path;

fn doctor_json(args: &[&str]) -> (i32, Value) {
    let out = pycache()
        .arg("doctor")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code <= 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn kinds(doc: &Value) -> Vec<String> {
    doc["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_seed_situation_is_reproduced_and_the_fixes_work() {
    let Some(py) = interpreter() else {
        return skip("doctor seed", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor seed", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let app = seed.app.to_str().unwrap();
    let pys = py.to_str().unwrap();
    let out = pycache()
        .args(["doctor", app, "--user", "nobody", "--python", pys])
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "nobody cannot create {app}/__pycache__ ({app} is owned by root:root, mode 755)"
        )),
        "{text}"
    );
    assert!(
        text.contains("4 imported modules compile on every start, about"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "install -d -o nobody -g nogroup -m 755 {app}/__pycache__"
        )),
        "{text}"
    );
    assert!(
        text.contains("PYTHONPYCACHEPREFIX=") && text.contains("pycache recompile"),
        "{text}"
    );
    assert!(text.contains("run.py: runs as __main__"), "{text}");

    // The real attempt agrees: Python run as nobody leaves no cache behind.
    seed.run_as_nobody(&py, &[]);
    assert!(!seed.app.join("__pycache__").exists());

    // Fix 1: the cache directory for the service user. Now it only costs the next start...
    let status = std::process::Command::new("install")
        .args([
            "-d",
            "-o",
            "nobody",
            "-g",
            "nogroup",
            "-m",
            "755",
            &format!("{app}/__pycache__"),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, doc) = doctor_json(&[app, "--user", "nobody", "--python", pys]);
    assert_eq!(
        (code, kinds(&doc)),
        (0, vec!["writes-at-next-start".to_string()])
    );
    // ...which writes the caches, after which every start loads them.
    seed.run_as_nobody(&py, &[]);
    let (code, doc) = doctor_json(&[app, "--user", "nobody", "--python", pys]);
    assert_eq!((code, kinds(&doc)), (0, Vec::<String>::new()), "{doc:#}");
    let targets = doc["report"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 4);
    assert!(
        targets
            .iter()
            .all(|t| t["outcome"] == "loads" && t["state"] == "usable")
    );
}

#[test]
fn json_reports_costs_and_only_python_variables() {
    let Some(py) = interpreter() else {
        return skip("doctor json", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor json", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let (code, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "nobody",
        "--python",
        py.to_str().unwrap(),
        "--env",
        "SECRET_TOKEN=hunter2",
        "--env",
        "PYTHONOPTIMIZE=",
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["schema"], 2);
    assert_eq!(doc["needs_action"], true);
    assert_eq!(doc["costs_every_start"], true);
    assert!(doc["per_start_ms"].as_f64().unwrap() > 0.0);
    let f = &doc["report"]["findings"][0];
    assert_eq!(f["kind"], "cannot-write");
    assert_eq!(f["every_start"], true);
    assert_eq!(f["modules"].as_array().unwrap().len(), 4);
    let env = doc["report"]["context"]["env"].as_object().unwrap();
    assert!(env.contains_key("PYTHONOPTIMIZE") && !env.contains_key("SECRET_TOKEN"));
    assert!(!doc.to_string().contains("hunter2"));
    // The models module is big: compiling it must cost more than loading its cache.
    let costs = doc["report"]["costs"].as_array().unwrap();
    let models = costs
        .iter()
        .find(|c| c["source"].as_str().unwrap().ends_with("models.py"))
        .unwrap();
    assert!(
        models["compile_ms"].as_f64().unwrap() > models["load_ms"].as_f64().unwrap(),
        "{models}"
    );
}

#[test]
fn fresh_pycache_caches_are_ignored_under_a_prefix() {
    let Some(py) = interpreter() else {
        return skip("doctor prefix", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    seed.compile_all(&py, None);
    let pfx = seed.dir.path().join("pfx");
    let (code, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "root",
        "--python",
        py.to_str().unwrap(),
        "--pycache-prefix",
        pfx.to_str().unwrap(),
        "--no-measure",
    ]);
    assert_eq!(code, 0);
    assert!(
        kinds(&doc).contains(&"prefix-ignores-pycache".to_string()),
        "{doc:#}"
    );
    let targets = doc["report"]["targets"].as_array().unwrap();
    assert!(targets.iter().all(|t| t["location"] == "prefix"
        && t["outcome"] == "writes-at-next-start"
        && !t["ignored"].is_null()));
}

#[test]
fn other_interpreters_orphans_and_world_writable_caches_are_reported() {
    let Some(py) = interpreter() else {
        return skip("doctor tags", "no Python 3.8+ interpreter");
    };
    let Some(other) = crate::support::python("3.12").filter(|p| *p != py) else {
        return skip("doctor tags", "no second interpreter (3.12)");
    };
    let seed = Seed::new();
    seed.compile_all(&other, None);
    std::fs::write(seed.app.join("gone.py"), "x = 1\n").unwrap();
    seed.compile_all(&py, None);
    std::fs::remove_file(seed.app.join("gone.py")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        seed.app.join("__pycache__"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let (code, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "root",
        "--python",
        py.to_str().unwrap(),
        "--no-measure",
    ]);
    // None of these costs time at start, but a world-writable cache directory is a
    // code-injection risk: that needs action (exit 1).
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["needs_action"], true);
    let k = kinds(&doc);
    for want in ["other-interpreter", "orphans", "insecure"] {
        assert!(k.contains(&want.to_string()), "{want} missing: {k:?}");
    }
}

#[test]
fn bad_input_is_a_one_line_error() {
    let seed = fixture::Seed::new();
    let run_py = seed.app.join("run.py");
    let app = seed.app.to_str().unwrap();
    let cases: [&[&str]; 11] = [
        &["--user", "no-such-user-pycache"],
        &["--group", "no-such-group-pycache"],
        &[
            "--unit",
            "no-such-unit-pycache",
            "--systemd-root",
            "/nonexistent",
        ],
        &["--unit", "/nonexistent/app.service"],
        &["--pid", "999999999"],
        &["/nonexistent/project"],
        &[run_py.to_str().unwrap()],
        &[app, "--python", "/nonexistent/python3"],
        &[app, "--python", "/etc/hostname"],
        &[app, "--entry", "no_such_script.py"],
        &[app, "--env", "NOT_AN_ASSIGNMENT"],
    ];
    for args in cases {
        let out = pycache()
            .arg("doctor")
            .args(args)
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ")
                && !first.contains("(os error")
                && !err.contains("backtrace")
                && (err.trim_end().lines().count() == 1 || err.contains("try '--help'")),
            "{args:?}: {err}"
        );
    }
    let out = pycache()
        .args(["doctor", "--unit", "x", "--pid", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn measure_import_times_warm_and_cold_imports() {
    let Some(py) = interpreter() else {
        return skip("doctor importtime", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    let args = [
        seed.app.to_str().unwrap(),
        "--user",
        "root",
        "--python",
        py.to_str().unwrap(),
        "--measure-import",
        "--repeat",
        "3",
    ];
    let (_, doc) = doctor_json(&args);
    let t = &doc["report"]["import_time"];
    assert_eq!(t["runs"], 3, "{doc:#}");
    // Compiling the project's modules (models.py is large) is slower than loading them.
    assert!(
        t["project_cold_ms"].as_f64().unwrap() > t["project_warm_ms"].as_f64().unwrap(),
        "{t}"
    );
    assert!(
        !Path::new(&seed.app).join("__pycache__").exists(),
        "the tree itself is not touched"
    );
}

#[test]
fn the_demo_tree_shows_the_vps_state() {
    // The demo's caches are cpython-313 and 312: only config, models and analytics_queue
    // (plus the microweb stand-in) have fresh 3.13 caches; app and utils have none, as on
    // the seed's VPS. The doctor runs as root; nobody only appears as the service user.
    let Some(py) = crate::support::python("3.13") else {
        return skip(
            "doctor demo",
            "no CPython 3.13 (the demo's caches are 3.13)",
        );
    };
    let tmp = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let demo = pycache::demo::write(&tmp.path().join("app")).unwrap();
    let app = demo.root.to_str().unwrap();
    let (code, doc) = doctor_json(&[app, "--user", "nobody", "--python", py.to_str().unwrap()]);
    assert_eq!(code, 1);
    let k = kinds(&doc);
    assert_eq!(k[0], "cannot-write", "{k:?}");
    for want in ["cannot-rewrite", "other-interpreter", "orphans"] {
        assert!(k.contains(&want.to_string()), "{want} missing: {k:?}");
    }
    let first = &doc["report"]["findings"][0];
    let title = first["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!(
            "nobody cannot write {app}/__pycache__ (owned by root:root, mode 755)"
        )),
        "{title}"
    );
    let mut missing: Vec<&str> = first["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    missing.sort_unstable();
    assert_eq!(missing, ["app", "config", "utils (lazy: on first use)"]);
    // With the seed's fix (the prefix the demo also ships), the caches live under the prefix.
    let prefix = demo.prefix.to_str().unwrap();
    let (_, doc) = doctor_json(&[
        app,
        "--user",
        "nobody",
        "--python",
        py.to_str().unwrap(),
        "--pycache-prefix",
        prefix,
        "--no-measure",
    ]);
    let first = &doc["report"]["findings"][0];
    assert_eq!(
        first["fixes"][0]["steps"][0]["run"],
        format!("chown -R nobody:nogroup {prefix}"),
        "{first}"
    );
    assert!(kinds(&doc).contains(&"prefix-ignores-pycache".to_string()));
}

#[test]
fn a_prefix_nobody_cannot_create_is_named() {
    let Some(py) = interpreter() else {
        return skip("doctor prefix owner", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor prefix owner", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let pfx = seed.dir.path().join("cache/pfx");
    let (code, doc) = doctor_json(&[
        seed.app.to_str().unwrap(),
        "--user",
        "nobody",
        "--python",
        py.to_str().unwrap(),
        "--pycache-prefix",
        pfx.to_str().unwrap(),
        "--no-measure",
    ]);
    assert_eq!(code, 1);
    let f = &doc["report"]["findings"][0];
    let title = f["title"].as_str().unwrap();
    assert!(
        title.contains(&format!(
            "({} is owned by root:root, mode 755)",
            seed.dir.path().display()
        )),
        "{title}"
    );
    assert_eq!(
        f["fixes"][0]["steps"][0]["run"],
        format!("install -d -o nobody -g nogroup -m 755 {}", pfx.display()),
        "{f}"
    );
    // The kernel agrees: nobody cannot make the prefix.
    let made = fixture::as_nobody()
        .args(["mkdir", "-p"])
        .arg(&pfx)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!made.success());
}

#[test]
fn cache_paths_match_cache_from_source() {
    use pycache::actions::interpreters::{Origin, probe};
    use pycache::doctor::targets::{Python, cache_path};
    let mut checked = 0;
    // Whichever of these is present (3.4 is rarely installed: `find`, not required in CI).
    for v in ["3.15", "3.13", "3.8", "3.7", "3.4"] {
        let Some(exe) = crate::support::find(v) else {
            continue;
        };
        let i = probe(&exe, Origin::Flag).unwrap();
        let py = Python {
            path: exe.clone(),
            version: i.version,
            python: i.python,
            implementation: i.implementation,
            tag: i.tag,
            magic: i.magic,
            from: "test".into(),
        };
        for (opt, prefix) in [(0u8, None), (2, None), (0, Some("/pfx")), (1, Some("/pfx"))] {
            let src = Path::new("/srv/app/pkg/models.py");
            let ours = cache_path(src, &py, opt, prefix.map(Path::new)).0;
            let level = if opt == 0 {
                "''".to_string()
            } else {
                opt.to_string()
            };
            let code = format!(
                "import sys, importlib.util as u\nsys.pycache_prefix = {}\ntry:\n    print(u.cache_from_source({:?}, optimization={level}))\nexcept TypeError:\n    print(u.cache_from_source({:?}, debug_override={}))",
                prefix.map_or("None".to_string(), |p| format!("{p:?}")),
                src.display().to_string(),
                src.display().to_string(),
                if opt == 0 { "True" } else { "False" },
            );
            let out = std::process::Command::new(&exe)
                .args(["-I", "-c", &code])
                .output()
                .unwrap();
            let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                ours.display().to_string(),
                theirs,
                "{v} opt {opt} prefix {prefix:?}"
            );
            checked += 1;
        }
    }
    if checked == 0 {
        skip(
            "cache_from_source",
            "no pyenv interpreter among 3.13, 3.8, 3.7, 3.4",
        );
    }
}
