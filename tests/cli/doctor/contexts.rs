//! Runtime contexts: a systemd unit with drop-ins and environment files, a hardened unit,
//! a template unit with a dynamic user, and a running process.

use super::fixture::{self, Seed, as_nobody, interpreter, is_root};
use super::{doctor_json, kinds};
use crate::support::{pycache, skip};
use serde_json::Value;

#[test]
fn a_unit_with_drop_ins_and_environment_files_sets_the_context() {
    let Some(py) = interpreter() else {
        return skip("doctor unit", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor unit", "needs root to act as nobody");
    }
    let seed = Seed::new();
    let root = seed.units(&py);
    let prefix = seed.app.join("instance/tmp");
    std::fs::create_dir_all(&prefix).unwrap();
    fixture::chown_nobody(&prefix);
    let args = [
        "--unit",
        "lernmanager",
        "--systemd-root",
        root.to_str().unwrap(),
    ];
    let out = pycache()
        .arg("doctor")
        .args(args)
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let unit_file = root.join("etc/systemd/system/lernmanager.service");
    // The unit row names the file in full; the rows below name it by its file name.
    assert!(
        text.contains(&format!("from {}", unit_file.display())),
        "{text}"
    );
    assert!(
        text.contains("from User= at lernmanager.service:9"),
        "{text}"
    );
    assert!(
        text.contains(&format!("pycache prefix     {}", prefix.display())),
        "{text}"
    );
    assert!(text.contains("from 10-prefix.conf:3"), "{text}");
    assert!(text.contains("compile once at the next start"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");

    let (_, doc) = doctor_json(&args);
    let ctx = &doc["report"]["context"];
    assert_eq!(ctx["identity"]["name"], "nobody");
    assert_eq!(ctx["working_dir"], seed.app.to_str().unwrap());
    assert_eq!(ctx["entry"], seed.app.join("run.py").to_str().unwrap());
    assert_eq!(ctx["unit"], "lernmanager.service");
    let derived = ctx["derived"].as_array().unwrap();
    let files = derived.iter().find(|d| d["what"] == "unit").unwrap()["from"]
        .as_str()
        .unwrap()
        .to_string();
    let files: Vec<&str> = files.split(" + ").collect();
    let etc = root.join("etc/systemd/system");
    let usr = root.join("usr/lib/systemd/system");
    let want = [
        unit_file.clone(),
        etc.join("lernmanager.service.d/10-prefix.conf"),
        usr.join("lernmanager.service.d/20-vendor.conf"),
    ];
    let want: Vec<String> = want.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(
        files, want,
        "the /etc unit and drop-in win; drop-ins apply by file name"
    );
    assert_eq!(ctx["env"]["PYTHONPYCACHEPREFIX"], prefix.to_str().unwrap());

    // The real attempt with the unit's prefix writes into it; afterwards the doctor is quiet.
    let pfx = format!("PYTHONPYCACHEPREFIX={}", prefix.display());
    seed.run_as_nobody(&py, &[pfx.as_str()]);
    let mirror = prefix.join(seed.app.strip_prefix("/").unwrap());
    assert!(
        !mirror.join("__pycache__").exists(),
        "no __pycache__ level under a prefix"
    );
    let names: Vec<String> = std::fs::read_dir(&mirror)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("models.cpython-")),
        "{names:?}"
    );
    let (code, doc) = doctor_json(&args);
    assert_eq!((code, kinds(&doc)), (0, Vec::<String>::new()), "{doc:#}");
}

#[test]
fn a_strict_sandbox_keeps_even_a_writable_tree_read_only() {
    let Some(py) = interpreter() else {
        return skip("doctor strict", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor strict", "needs root to chown");
    }
    let seed = Seed::new();
    fixture::chown_nobody(&seed.app); // by mode bits nobody could write __pycache__
    let root = seed.units(&py);
    let out = pycache()
        .args([
            "doctor",
            "--unit",
            "strict.service",
            "--systemd-root",
            root.to_str().unwrap(),
            "--no-measure",
        ])
        .env("COLUMNS", "1000")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("read-only for the service: ProtectSystem=strict at"),
        "{text}"
    );
    assert!(
        text.contains("CacheDirectory=strict")
            && text.contains("Environment=\"PYTHONPYCACHEPREFIX=/var/cache/strict\""),
        "{text}"
    );
    assert!(text.contains("cost not measured"), "{text}");
}

#[test]
fn dont_write_bytecode_from_an_environment_file_and_a_dynamic_user() {
    let Some(py) = interpreter() else {
        return skip("doctor worker", "no Python 3.8+ interpreter");
    };
    let seed = Seed::new();
    let root = seed.units(&py);
    let (code, doc) = doctor_json(&[
        "--unit",
        "worker@blue",
        "--systemd-root",
        root.to_str().unwrap(),
        "--no-measure",
    ]);
    assert_eq!(code, 1);
    let f = &doc["report"]["findings"][0];
    assert_eq!(f["kind"], "dont-write-bytecode");
    let env_file = root.join("etc/lernmanager/nocache.env");
    assert!(
        f["title"].as_str().unwrap().contains(&format!(
            "PYTHONDONTWRITEBYTECODE=1 from {}:1",
            env_file.display()
        )),
        "{f}"
    );
    let ctx = &doc["report"]["context"];
    assert!(ctx["identity"]["uid"].is_null(), "DynamicUser=yes: {ctx}");
    assert_eq!(
        ctx["optimize"], 1,
        "PYTHONOPTIMIZE from `env` in ExecStart="
    );
    assert!(
        doc["report"]["targets"][0]["cache"]
            .as_str()
            .unwrap()
            .ends_with(".opt-1.pyc")
    );
}

#[test]
fn a_running_process_gives_user_environment_and_script() {
    let Some(py) = interpreter() else {
        return skip("doctor pid", "no Python 3.8+ interpreter");
    };
    if !is_root() {
        return skip("doctor pid", "needs root to start a process as nobody");
    }
    let seed = Seed::new();
    let serve = seed.app.join("serve.py");
    std::fs::write(&serve, "import sys, time\nimport app\nsys.stdout.write('up\\n'); sys.stdout.flush()\ntime.sleep(60)\n").unwrap();
    let mut child = as_nobody()
        .args(["env", "PYTHONDONTWRITEBYTECODE=1"])
        .arg(&py)
        .arg(&serve)
        .current_dir(&seed.app)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid = child.id().to_string();
    let out = pycache()
        .args(["doctor", "--pid", &pid, "--no-measure", "--json"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = &doc["report"]["context"];
    assert_eq!(ctx["identity"]["name"], "nobody", "{ctx}");
    assert_eq!(ctx["entry"], serve.to_str().unwrap());
    assert!(
        ctx["dont_write"]
            .as_str()
            .unwrap()
            .contains(&format!("/proc/{pid}/environ"))
    );
    assert_eq!(doc["report"]["findings"][0]["kind"], "dont-write-bytecode");
}
