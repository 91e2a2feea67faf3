//! The README's fleet commands with a real ansible-core against localhost: the ad-hoc
//! command (one line per host, the exit-code contract of `scan --check`) and the playbook
//! `docs/ansible/pycache-fleet.yml` over three local "hosts" (green, red, broken): the
//! summaries come back, the red host's snapshot is fetched and loads, the broken host
//! fails the run. Ansible's output is printed in the test log.

use crate::support::write;
use crate::venv_tools::tool;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `ansible`/`ansible-playbook` with its state kept in `home` (nothing under ~/.ansible),
/// no colour, a UTF-8 locale (ansible-core refuses others).
fn ansible(bin: &Path, home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin);
    cmd.env("ANSIBLE_HOME", home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("remote-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("LC_ALL", "C.UTF-8")
        .env_remove("PYTHONPYCACHEPREFIX")
        .timeout(Duration::from_secs(300));
    cmd
}

/// A green tree (a fresh cache) and a red one (the source changed since), compiled by
/// the virtualenv's interpreter.
fn trees(dir: &Path, python: &Path) -> (PathBuf, PathBuf) {
    let green = dir.join("green");
    let red = dir.join("red");
    for t in [&green, &red] {
        write(&t.join("app.py"), "x = 1\n");
        let ok = std::process::Command::new(python)
            .args(["-m", "py_compile"])
            .arg(t.join("app.py"))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    write(&red.join("app.py"), "x = 2  # changed after compiling\n");
    (green, red)
}

fn text(out: &std::process::Output) -> String {
    let s = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("---- ansible (exit {:?}) ----\n{s}----", out.status.code());
    s
}

#[test]
fn the_ad_hoc_command_gives_one_line_per_host_and_the_exit_contract() {
    let Some(bin) = tool("ansible ad-hoc", "ansible") else {
        return;
    };
    let python = bin.with_file_name("python");
    let tmp = tempfile::tempdir().unwrap();
    let (green, red) = trees(tmp.path(), &python);
    let pycache = assert_cmd::cargo::cargo_bin("pycache");
    let run = |root: &Path| {
        let out = ansible(&bin, &tmp.path().join("home"))
            .args(["localhost", "-c", "local", "-i", "localhost,", "-o"])
            .arg("-e")
            .arg(format!("ansible_python_interpreter={}", python.display()))
            .args(["-m", "ansible.builtin.command", "-a"])
            .arg(format!(
                "{} scan {} --summary --json --check",
                pycache.display(),
                root.display()
            ))
            .output()
            .unwrap();
        let s = text(&out);
        (
            out.status.code(),
            s,
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out, _) = run(&green);
    assert_eq!(code, Some(0), "{out}");
    let line = out.lines().find(|l| l.starts_with("localhost |")).unwrap();
    assert!(line.contains("| rc=0 |"), "{line}");
    let json = line.split_once("(stdout) ").unwrap().1;
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        (doc["kind"].as_str(), doc["problems"].as_u64()),
        (Some("summary"), Some(0))
    );
    assert_eq!(doc["by_status"]["fresh"]["count"], 1);
    // Red: --check exits 1, the ad-hoc run marks the host FAILED and exits 2.
    let (code, out, stdout) = run(&red);
    assert_eq!(code, Some(2), "{out}");
    // The README: the task result follows on a second line, on stdout (not stderr).
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("localhost | FAILED! => {")),
        "{stdout}"
    );
    let line = out.lines().find(|l| l.starts_with("localhost |")).unwrap();
    assert!(line.contains("FAILED") && line.contains("rc=1"), "{line}");
    assert!(
        line.contains("\\\"problems\\\":1") || line.contains("\"problems\":1"),
        "{line}"
    );
}

#[test]
fn the_playbook_collects_summaries_and_fetches_the_red_snapshot() {
    let Some(bin) = tool("ansible playbook", "ansible-playbook") else {
        return;
    };
    let python = bin.with_file_name("python");
    let tmp = tempfile::tempdir().unwrap();
    let (green, red) = trees(tmp.path(), &python);
    let reports = tmp.path().join("reports");
    let inventory = tmp.path().join("hosts.ini");
    let roots = |p: &Path| format!("'[\"{}\"]'", p.display());
    write(
        &inventory,
        format!(
            "green pycache_roots={}\nred pycache_roots={}\nbroken pycache_roots={}\n\
             [all:vars]\nansible_connection=local\nansible_python_interpreter={}\n\
             pycache={}\npycache_reports={}\n",
            roots(&green),
            roots(&red),
            roots(&tmp.path().join("missing")),
            python.display(),
            assert_cmd::cargo::cargo_bin("pycache").display(),
            reports.display()
        ),
    );
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ansible/pycache-fleet.yml");
    let started = std::time::Instant::now();
    let out = ansible(&bin, &tmp.path().join("home"))
        .arg("-i")
        .arg(&inventory)
        .arg(&playbook)
        .output()
        .unwrap();
    let log = text(&out);
    println!(
        "ansible-playbook took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // The broken host (a missing root: scan exits 2) fails the run; the others do not.
    assert_eq!(out.status.code(), Some(2), "{log}");
    let recap = |host: &str| -> String {
        log.lines()
            .rev()
            .find(|l| l.starts_with(&format!("{host} ")) && l.contains("failed="))
            .unwrap_or_else(|| panic!("no recap for {host}"))
            .to_string()
    };
    assert!(recap("green").contains("failed=0"), "{}", recap("green"));
    assert!(recap("red").contains("failed=0"), "{}", recap("red"));
    assert!(recap("broken").contains("failed=1"), "{}", recap("broken"));
    assert!(
        log.contains("green: green, problems: 0 of 1 caches"),
        "{log}"
    );
    assert!(log.contains("red: red, problems: 1 of 1 caches"), "{log}");

    let mut files: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "green.summary.json",
            "red.snapshot.json.gz",
            "red.summary.json"
        ]
    );
    for (host, problems) in [("green", 0), ("red", 1)] {
        let s = std::fs::read(reports.join(format!("{host}.summary.json"))).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(doc["kind"], "summary");
        assert_eq!(doc["problems"], problems, "{host}");
    }
    // The fetched snapshot is gzip and loads as the red tree: one stale cache.
    let gz = std::fs::read(reports.join("red.snapshot.json.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let model = pycache::scan::snapshot::load_reader(gz.as_slice()).unwrap();
    assert_eq!(model.roots, vec![red.clone()]);
    assert_eq!(model.summary.count(pycache::pyc::Status::Stale), 1);
    // Nothing is left on the "host": the temporary snapshot is removed.
    let left = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(".pycache.json.gz")
        })
        .count();
    assert_eq!(left, 0, "a temporary snapshot was left behind");
}

/// The README's playbook command passes `"pycache_reports": "./pycache-reports"`, then
/// opens `pycache-reports/HOST.snapshot.json.gz` from the same directory: a relative
/// reports directory is taken from where ansible-playbook runs (it landed beside the
/// playbook, in docs/ansible/).
#[test]
fn the_playbook_puts_relative_reports_in_the_current_directory() {
    let Some(bin) = tool("ansible playbook", "ansible-playbook") else {
        return;
    };
    let python = bin.with_file_name("python");
    let tmp = tempfile::tempdir().unwrap();
    let (_, red) = trees(tmp.path(), &python);
    let inventory = tmp.path().join("hosts.ini");
    write(
        &inventory,
        format!(
            "red ansible_connection=local ansible_python_interpreter={} pycache={}\n",
            python.display(),
            assert_cmd::cargo::cargo_bin("pycache").display(),
        ),
    );
    let cwd = tmp.path().join("controller");
    std::fs::create_dir(&cwd).unwrap();
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ansible/pycache-fleet.yml");
    let out = ansible(&bin, &tmp.path().join("home"))
        .current_dir(&cwd)
        .env("PWD", &cwd)
        .arg("-i")
        .arg(&inventory)
        .arg(&playbook)
        .arg("-e")
        .arg(format!(
            "{{\"pycache_roots\": [\"{}\"], \"pycache_reports\": \"./pycache-reports\"}}",
            red.display()
        ))
        .output()
        .unwrap();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        cwd.join("pycache-reports/red.snapshot.json.gz").is_file(),
        "{log}"
    );
    assert!(!playbook.with_file_name("pycache-reports").exists());
}
