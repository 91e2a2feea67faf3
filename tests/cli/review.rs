//! Attacks and newcomer paths found in review of the merged build: each runs the real
//! binary under a hard limit. Root-only ones skip with a reason (fail under `CI=true`).

use crate::as_root::{LIMIT, give_to_nobody, ready, scratch, system_python};
use crate::support::{pycache, write};
use std::os::unix::fs::PermissionsExt;

/// `doctor --measure-import` as root over nobody's tree runs the application's imports as
/// nobody (the tree's owner), never as root; with the unit's user named, as that user.
#[test]
fn measure_import_runs_the_apps_imports_as_the_tree_owner() {
    if !ready("measure_import_runs_the_apps_imports_as_the_tree_owner") {
        return;
    }
    let Some(py) = system_python() else { return };
    let t = scratch();
    let app = t.path().join("app");
    // The app notes who runs it in a sticky world-writable directory (any user can).
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let log = shared.join("who.txt");
    write(
        &app.join("run.py"),
        format!(
            "import os\nwith open({:?}, 'a') as f:\n    f.write('%d\\n' % os.getuid())\n",
            log.to_str().unwrap()
        ),
    );
    give_to_nobody(&app);
    let measure = |extra: &[&str]| {
        let out = pycache()
            .arg("doctor")
            .arg(&app)
            .args(["--entry", "run.py", "--python"])
            .arg(&py)
            .args(["--measure-import", "--repeat", "1", "--json"])
            .args(extra)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
        assert!(
            doc["report"]["import_time"]["runs"] == 1,
            "not measured: {doc:#}"
        );
        let who = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        who
    };
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap().uid;
    let who = measure(&[]);
    assert!(
        !who.is_empty() && who.lines().all(|l| l == nobody.to_string()),
        "the imports ran as {who:?}, not as nobody ({nobody})"
    );
    // A named service user wins over the tree's owner.
    let who = measure(&["--user", "daemon"]);
    let daemon = nix::unistd::User::from_name("daemon").unwrap().unwrap().uid;
    assert!(
        who.lines().all(|l| l == daemon.to_string()),
        "--user daemon: ran as {who:?}"
    );
}

/// Another user's compile-error store is reported in a dry run too (before: only when a
/// recompile ran), once, and nothing is written through it.
#[test]
fn a_foreign_compile_error_store_is_reported_in_a_dry_run() {
    let Some((t, victim)) =
        crate::attacks::arena("a_foreign_compile_error_store_is_reported_in_a_dry_run")
    else {
        return;
    };
    let xdg = t.path().join("shared/xdg");
    crate::attacks::as_nobody(&format!(
        "mkdir -p {x}/pycache; ln -s {v} {x}/pycache/compile-errors.jsonl",
        x = xdg.display(),
        v = victim.display()
    ));
    let tree = t.path().join("tree");
    write(&tree.join("bad.py"), "def broken(:\n");
    for args in [&["--dry-run"][..], &["--yes"][..]] {
        let out = pycache()
            .env("XDG_CACHE_HOME", &xdg)
            .arg("recompile")
            .args(args)
            .arg(&tree)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.matches("carrying on without remembering").count(),
            1,
            "{args:?}: {err}"
        );
        assert!(err.contains("nobody (uid 65534)"), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"root's file\n");
    }
}

/// A FIFO or /dev/zero given as `imports PATH` or `doctor --entry` is refused by what it
/// is, at once (before: `imports FIFO` printed an empty report with exit 0; `doctor
/// --entry FIFO` said "no such file").
#[test]
fn a_fifo_or_device_as_path_or_entry_is_named_for_what_it_is() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    write(&app.join("main.py"), "import os\n");
    let fifo = app.join("fifo.py");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let fifo_s = fifo.to_str().unwrap();
    let cases: [&[&str]; 4] = [
        &["imports", fifo_s],
        &["imports", "/dev/zero"],
        &["doctor", "--no-measure", "--entry", fifo_s],
        &["doctor", "--no-measure", "--entry", "fifo.py"],
    ];
    for args in cases {
        let mut cmd = pycache();
        cmd.args(args);
        if args[0] == "doctor" {
            // The project directory, and run from it for the relative entry.
            cmd.arg(&app).current_dir(&app);
        }
        let out = cmd.timeout(LIMIT).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            (err.contains("a FIFO") || err.contains("device")) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}

/// A new quarantine directory inside another user's directory is refused once, before
/// the plan, creating nothing (before: the plan ran and every file failed with the same
/// line, exit 1; missing parents were created by path first).
#[test]
fn a_quarantine_below_another_users_directory_is_refused_before_planning() {
    let Some((t, _victim)) = crate::attacks::arena(
        "a_quarantine_below_another_users_directory_is_refused_before_planning",
    ) else {
        return;
    };
    let nob = t.path().join("shared/nob");
    crate::attacks::as_nobody(&format!("mkdir {}", nob.display()));
    let tree = t.path().join("tree");
    for n in 0..3 {
        write(
            &tree.join(format!("pkg/__pycache__/gone{n}.cpython-311.pyc")),
            "x",
        );
    }
    let before = crate::support::list_tree(&tree);
    for q in [nob.join("q"), nob.join("sub/q")] {
        let out = pycache()
            .args(["clean", "--yes", "--quarantine"])
            .arg(&q)
            .arg(&tree)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("lets another user swap") && err.lines().count() == 1,
            "{err}"
        );
        assert!(out.stdout.is_empty(), "no plan is shown");
        assert!(!nob.join("sub").exists() && !nob.join("q").exists());
    }
    assert_eq!(crate::support::list_tree(&tree), before);
}

/// The project's virtualenv interpreter, owned by the service user, is refused to run as
/// root, but it is still the service's interpreter: doctor judges the caches by its
/// version (from `pyvenv.cfg`) instead of switching to another interpreter (before: the
/// newest one root could run, e.g. pyenv's 3.13 under /root, and its tag).
#[test]
fn a_refused_virtualenv_interpreter_still_decides_the_tag() {
    if !ready("a_refused_virtualenv_interpreter_still_decides_the_tag") {
        return;
    }
    let t = scratch();
    let app = t.path().join("app");
    let pwned = t.path().join("pwned");
    write(
        &app.join(".venv/pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.11.2\n",
    );
    let py = app.join(".venv/bin/python3");
    write(
        &py,
        format!(
            "#!/bin/sh\ntouch {}\nexec /usr/bin/python3 \"$@\"\n",
            pwned.display()
        ),
    );
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&app.join("app.py"), "import pkg.m\n");
    write(&app.join("pkg/__init__.py"), "");
    write(&app.join("pkg/m.py"), "x = 1\n");
    give_to_nobody(&app);
    let out = pycache()
        .arg("doctor")
        .arg(&app)
        .args(["--entry", "app.py", "--json"])
        .timeout(LIMIT)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    let python = &doc["report"]["python"];
    assert_eq!(python["tag"], "cpython-311", "{python:#}");
    assert_eq!(python["path"], py.to_str().unwrap(), "{python:#}");
    assert!(!pwned.exists(), "the tree's interpreter ran as root");
}

/// A FIFO or a device given as a scan root (or `--pycache-prefix`) is named for what it
/// is (before: "it is a file", with advice to `inspect` it).
#[test]
fn a_fifo_or_device_as_scan_root_is_named_for_what_it_is() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let dir = t.path().to_str().unwrap();
    let fifo_s = fifo.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["scan", fifo_s], "a FIFO"),
        (&["scan", "/dev/zero"], "a character device"),
        (&["scan", dir, "--pycache-prefix", fifo_s], "a FIFO"),
        (&["clean", fifo_s], "a FIFO"),
    ];
    for (args, kind) in cases {
        let out = pycache().args(args).timeout(LIMIT).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("it is {kind}, not a directory"))
                && !err.contains("it is a file")
                && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}

/// In `imports`, a `pyproject.toml` or `.pth` that is a FIFO or `/dev/zero` is a finding
/// naming the file and what it is (before: ignored without a word, exit 0); a source that
/// is a FIFO is a part of the tree not read: one line on stderr and exit 2 (before: only
/// listed under "parse problems", exit 0).
#[test]
fn imports_reports_unread_config_files_and_fails_on_unread_sources() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    write(&app.join("main.py"), "import mod\n");
    write(&app.join("mod.py"), "x = 1\n");
    write(&app.join(".venv/pyvenv.cfg"), "version = 3.12.1\n");
    let site = app.join(".venv/lib/python3.12/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    let fifo = |p: &std::path::Path| {
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap()
    };
    fifo(&app.join("pyproject.toml"));
    fifo(&site.join("fifo.pth"));
    std::os::unix::fs::symlink("/dev/zero", site.join("zero.pth")).unwrap();
    let imports = |json: bool| {
        let mut cmd = pycache();
        cmd.arg("imports")
            .arg(&app)
            .args(["--all-files"])
            .env("COLUMNS", "400");
        if json {
            cmd.arg("--json");
        }
        cmd.timeout(LIMIT).output().unwrap()
    };
    let out = imports(true);
    assert_eq!(out.status.code(), Some(1), "{:?}", out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut unread: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unread-file")
        .map(|f| format!("{} {}", f["path"].as_str().unwrap(), f["message"]))
        .collect();
    unread.sort();
    assert_eq!(unread.len(), 3, "{doc:#}");
    let expect = [
        ".venv/lib/python3.12/site-packages/fifo.pth \"a FIFO",
        ".venv/lib/python3.12/site-packages/zero.pth \"a character device",
        "pyproject.toml \"a FIFO",
    ];
    for (got, want) in unread.iter().zip(expect) {
        assert!(got.starts_with(want), "{got} does not start with {want}");
    }
    let text = String::from_utf8_lossy(&imports(false).stdout).to_string();
    for want in expect {
        let (file, kind) = want.split_once(" \"").unwrap();
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{file}: {kind}"))),
            "no line for {file}: {text}"
        );
    }

    // A source that is a FIFO: not read, so the graph is incomplete.
    std::fs::remove_file(app.join("mod.py")).unwrap();
    fifo(&app.join("mod.py"));
    for json in [false, true] {
        let out = imports(json);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("the import graph is incomplete")
                && err.contains("mod.py: a FIFO")
                && err.lines().count() == 1,
            "{err}"
        );
    }
}

/// A symlink planted by another user on the way to a new quarantine is refused, not
/// followed (before: the path was canonicalised first, so `shared/link/q` with `link`
/// nobody's link to a root-owned directory passed the trust check and root created its
/// quarantine there). Nothing is created, nothing is moved.
#[test]
fn a_quarantine_through_another_users_symlink_is_refused() {
    let Some((t, victim)) =
        crate::attacks::arena("a_quarantine_through_another_users_symlink_is_refused")
    else {
        return;
    };
    let outside = victim.parent().unwrap().to_path_buf();
    let shared = t.path().join("shared");
    crate::attacks::as_nobody(&format!(
        "ln -s {o} {s}/link; ln -s link {s}/rel",
        o = outside.display(),
        s = shared.display()
    ));
    let tree = t.path().join("tree");
    write(&tree.join("pkg/__pycache__/gone.cpython-311.pyc"), "x");
    let before_tree = crate::support::list_tree(&tree);
    let before_outside = crate::attacks::snapshot(&outside);
    for q in ["link/q", "link/sub/q", "rel/q"] {
        let out = pycache()
            .args(["clean", "--yes", "--quarantine"])
            .arg(shared.join(q))
            .arg(&tree)
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{q}: {err}");
        assert!(
            err.contains("is a symlink of nobody")
                && err.contains("not followed")
                && err.lines().count() == 1,
            "{q}: {err}"
        );
        assert_eq!(crate::attacks::snapshot(&outside), before_outside, "{q}");
    }
    assert_eq!(crate::support::list_tree(&tree), before_tree);
    // Root's own link to the same place is followed: the quarantine is made there.
    let mine = t.path().join("mine");
    std::os::unix::fs::symlink(&outside, &mine).unwrap();
    let out = pycache()
        .args(["clean", "--yes", "--quarantine"])
        .arg(mine.join("q"))
        .arg(&tree)
        .timeout(LIMIT)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(outside.join("q/manifest.jsonl").is_file());
}
