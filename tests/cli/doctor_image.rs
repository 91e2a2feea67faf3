//! `pycache doctor --root DIR` on small image root filesystems built here: a real CPython
//! 3.12 standard library (hard links of its sources, no caches, as the official images
//! ship it), `/etc/passwd`, a project, an OCI bundle config. The Dockerfile line it gives
//! is then run (the same version's real compileall) and the image comes out clean; the
//! binaries inside the image are never run; bad input is a one-line error.

use crate::support::{pycache, skip, write};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Hard-links (or copies) every `.py` below `from` into `to`, no `__pycache__`.
fn link_sources(from: &Path, to: &Path) -> usize {
    let mut n = 0;
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let name = e.file_name();
        let ty = e.file_type().unwrap();
        if ty.is_dir() && name == "encodings" {
            n += link_sources(&e.path(), &to.join(&name));
        } else if ty.is_file() && name.to_string_lossy().ends_with(".py") {
            if std::fs::hard_link(e.path(), to.join(&name)).is_err() {
                std::fs::copy(e.path(), to.join(&name)).unwrap();
            }
            n += 1;
        }
    }
    n
}

/// An image like `python:3.12-slim` with an app: returns (bundle dir, rootfs, host 3.12).
fn image(dir: &Path, user_uid: u32) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let py = crate::support::python("3.12")?;
    let out = std::process::Command::new(&py)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .unwrap();
    let stdlib = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let bundle = dir.join("bundle");
    let root = bundle.join("rootfs");
    let n = link_sources(&stdlib, &root.join("usr/local/lib/python3.12"));
    assert!(n > 100, "{n} stdlib sources");
    // A Python that must never run: it would leave a mark.
    let mark = dir.join("RAN");
    write(
        &root.join("usr/local/bin/python3.12"),
        format!("#!/bin/sh\ntouch {}\n", mark.display()),
    );
    let bin = root.join("usr/local/bin");
    std::fs::set_permissions(bin.join("python3.12"), PermissionsExt::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("python3.12", bin.join("python3")).unwrap();
    std::os::unix::fs::symlink("/usr/local/bin/python3", bin.join("python")).unwrap();
    write(
        &root.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/sh\napp:x:{user_uid}:{user_uid}::/app:/bin/sh\n"),
    );
    write(
        &root.join("etc/group"),
        format!("root:x:0:\napp:x:{user_uid}:\n"),
    );
    write(&root.join("app/run.py"), "import web\n");
    write(&root.join("app/web/__init__.py"), "X = 1\n");
    write(
        &bundle.join("config.json"),
        format!(
            r#"{{"ociVersion":"1.0.2","process":{{"user":{{"uid":{user_uid},"gid":{user_uid}}},"args":["python3","/app/run.py"],"env":["PATH=/usr/local/bin:/usr/bin","SECRET=hunter2"],"cwd":"/app"}},"root":{{"path":"rootfs","readonly":false}}}}"#
        ),
    );
    Some((bundle, root, py))
}

fn doctor(args: &[&std::ffi::OsStr]) -> (i32, Value, String) {
    let out = pycache()
        .arg("doctor")
        .args(args)
        .arg("--json")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc, err)
}

#[test]
fn an_image_without_caches_gets_the_dockerfile_fix_and_the_fix_works() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((bundle, root, py)) = image(tmp.path(), 4242) else {
        return skip("doctor --root", "no CPython 3.12");
    };
    let (code, doc, err) = doctor(&["--root".as_ref(), bundle.as_os_str()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        !tmp.path().join("RAN").exists(),
        "a binary inside the image was run"
    );
    assert_eq!(
        (doc["schema"].as_u64(), doc["kind"].as_str()),
        (Some(2), Some("doctor-image"))
    );
    let r = &doc["report"];
    assert_eq!(r["user"]["uid"], 4242, "the bundle's USER");
    assert_eq!(r["user"]["name"], "app");
    assert_eq!(r["python"]["path"], "/usr/local/bin/python3");
    assert_eq!(r["python"]["real"], "/usr/local/bin/python3.12");
    assert_eq!(r["python"]["python"], "3.12");
    assert!(
        !doc.to_string().contains("hunter2"),
        "only PYTHON* variables"
    );
    let trees = r["trees"].as_array().unwrap();
    let stdlib = trees.iter().find(|t| t["what"] == "stdlib").unwrap();
    assert_eq!(stdlib["dir"], "/usr/local/lib/python3.12");
    assert!(stdlib["sources"].as_u64().unwrap() > 100);
    assert_eq!(stdlib["missing"], stdlib["sources"]);
    assert_eq!(
        stdlib["unwritable"], stdlib["sources"],
        "app cannot write a root-owned stdlib"
    );
    let project = trees.iter().find(|t| t["what"] == "project").unwrap();
    assert_eq!(
        (project["dir"].as_str(), project["sources"].as_u64()),
        (Some("/app"), Some(2))
    );
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(doc["costs_every_start"], true);
    let f = &findings[0];
    assert_eq!(f["kind"], "stdlib-without-caches");
    let lines: Vec<&str> = f["dockerfile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .contains(&"RUN /usr/local/bin/python3 -m compileall -q -j0 /usr/local/lib/python3.12"),
        "{lines:?}"
    );
    assert!(
        lines[0].contains("as root, before the USER line"),
        "{lines:?}"
    );

    // Apply the Dockerfile lines: the same version's compileall over the same trees.
    for dir in ["usr/local/lib/python3.12", "app"] {
        let ok = std::process::Command::new(&py)
            .args(["-m", "compileall", "-q", "-j0"])
            .arg(root.join(dir))
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let (code, doc, err) = doctor(&["--root".as_ref(), bundle.as_os_str()]);
    assert_eq!(code, 0, "{err} {doc}");
    for t in doc["report"]["trees"].as_array().unwrap() {
        assert_eq!(t["usable"], t["sources"], "{t}");
    }
    // The text report says so in its first lines.
    let out = pycache()
        .arg("doctor")
        .arg("--root")
        .arg(&bundle)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains("every module of the image has a usable cache"),
        "{text}"
    );
}

#[test]
fn read_only_roots_and_0555_directories_change_the_fix() {
    if !nix::unistd::Uid::effective().is_root() {
        return skip(
            "doctor --root modes",
            "needs root to chown the image's files",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some((_, root, _)) = image(tmp.path(), 4242) else {
        return skip("doctor --root modes", "no CPython 3.12");
    };
    // The app belongs to its user: it compiles as that user, after a USER line.
    for p in ["app", "app/web", "app/run.py", "app/web/__init__.py"] {
        std::os::unix::fs::chown(root.join(p), Some(4242), Some(4242)).unwrap();
    }
    let args = |extra: &[&str]| {
        let mut v: Vec<std::ffi::OsString> = vec![
            "--root".into(),
            root.clone().into(),
            "--user".into(),
            "app".into(),
            "/app".into(),
        ];
        v.extend(extra.iter().map(Into::into));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let refs: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
        doctor(&refs)
    };
    let project = |doc: &Value| -> Value {
        doc["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "project-without-caches")
            .unwrap()
            .clone()
    };
    let (code, doc, err) = run(&[]);
    assert_eq!(code, 1, "{err}");
    let f = project(&doc);
    assert_eq!(
        f["every_start"], false,
        "app can write its own tree: once per container"
    );
    assert!(
        f["dockerfile"][0].as_str().unwrap().contains("as app"),
        "{f}"
    );
    // A read-only root: every start, and the prefix alternative says a volume is needed.
    let (_, doc, _) = run(&["--read-only"]);
    let f = project(&doc);
    assert_eq!(f["every_start"], true);
    assert!(f["details"].to_string().contains("read-only"), "{f}");
    assert!(
        f["alternative"]
            .to_string()
            .contains("the root is read-only"),
        "{f}"
    );
    // A directory even its owner cannot write: only root can compile there.
    std::fs::set_permissions(root.join("app/web"), PermissionsExt::from_mode(0o555)).unwrap();
    let (_, doc, _) = run(&[]);
    let f = project(&doc);
    assert_eq!(f["every_start"], true);
    assert!(f["details"].to_string().contains("/app/web"), "{f}");
    assert!(
        f["dockerfile"][0].as_str().unwrap().contains("as root"),
        "{f}"
    );
}

#[test]
fn bad_image_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec!["--root".into(), tmp.path().join("missing").into()],
            "no such",
        ),
        (
            vec!["--root".into(), empty.clone().into()],
            "not an image's root filesystem",
        ),
        (
            vec![
                "--root".into(),
                empty.clone().into(),
                "--unit".into(),
                "x".into(),
            ],
            "cannot be used with",
        ),
        // A missing config said "No such file or directory (os error 2)" and no more.
        (
            vec![
                "--root".into(),
                empty.clone().into(),
                "--image-config".into(),
                tmp.path().join("missing.json").into(),
            ],
            "no such file or directory; give the file 'docker inspect IMAGE > FILE' wrote",
        ),
    ];
    for (args, want) in cases {
        let out = pycache()
            .arg("doctor")
            .args(&args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    write(&empty.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    let out = pycache()
        .arg("doctor")
        .arg("--root")
        .arg(&empty)
        .args(["--user", "nobody"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not in the image's /etc/passwd"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = pycache()
        .arg("doctor")
        .arg("--root")
        .arg(&empty)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Python interpreter"), "{err}");
}
