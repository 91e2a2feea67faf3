//! `pycache scan`: summary, JSON, --check, bad roots, broken pipes, unreadable trees, odd
//! names, symlink loops, the prefix, and the fixture matrix of every local interpreter.

use crate::support::{PYPY, absent, all, in_ci, path_var, pycache, skip, snapshot_caches, write};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const T: u64 = 1_700_000_000;

fn source(path: &Path, text: &str) {
    write(path, text);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(T))
        .unwrap();
}

/// A CPython 3.13 timestamp header recording (mtime, size), plus a real body.
fn pyc(mtime: u64, size: usize) -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend((mtime as u32).to_le_bytes());
    b.extend((size as u32).to_le_bytes());
    b.extend(crate::support::BODY_313);
    b
}

/// fresh m, stale s, orphaned gone, invalid bad, sourceless legacy.
fn mixed_tree(r: &Path) {
    source(&r.join("m.py"), "x = 1\n");
    write(&r.join("__pycache__/m.cpython-313.pyc"), pyc(T, 6));
    source(&r.join("s.py"), "x = 22\n");
    write(&r.join("__pycache__/s.cpython-313.pyc"), pyc(T, 6));
    write(&r.join("__pycache__/gone.cpython-313.pyc"), pyc(T, 6));
    source(&r.join("bad.py"), "");
    write(&r.join("__pycache__/bad.cpython-313.pyc"), b"\0\0");
    write(&r.join("legacy.pyc"), pyc(T, 6));
}

fn json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = pycache()
        .arg("scan")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn statuses(doc: &serde_json::Value, root: &Path) -> BTreeMap<String, String> {
    snapshot_caches(doc)
        .iter()
        .map(|c| {
            let path = c["path"].as_str().unwrap();
            let rel = Path::new(path)
                .strip_prefix(root)
                .unwrap_or(Path::new(path));
            (
                rel.display().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn summary_counts_verdicts_and_check_fails_on_problems() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_tree(tmp.path());
    let out = pycache().arg("scan").arg(tmp.path()).output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "no progress line when stderr is not a terminal"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "invalid            1",
        "orphaned           1",
        "stale              1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(text.contains("sourceless         1") && text.contains("fresh              1"));
    assert!(text.contains("cpython-313"), "{text}");
    assert!(
        text.contains("worst directories (1 of 1 with problems)"),
        "{text}"
    );
    pycache()
        .arg("scan")
        .arg(tmp.path())
        .arg("--check")
        .assert()
        .code(1);
    let clean = tempfile::tempdir().unwrap();
    source(&clean.path().join("m.py"), "x = 1\n");
    write(
        &clean.path().join("__pycache__/m.cpython-313.pyc"),
        pyc(T, 6),
    );
    pycache()
        .arg("scan")
        .arg(clean.path())
        .arg("--check")
        .assert()
        .code(0);
}

#[test]
fn json_lists_every_cache_with_its_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_tree(tmp.path());
    let doc = json(&[tmp.path().as_os_str()]);
    let got = statuses(&doc, tmp.path());
    let want: BTreeMap<String, String> = [
        ("__pycache__/m.cpython-313.pyc", "fresh"),
        ("__pycache__/s.cpython-313.pyc", "stale"),
        ("__pycache__/gone.cpython-313.pyc", "orphaned"),
        ("__pycache__/bad.cpython-313.pyc", "invalid"),
        ("legacy.pyc", "sourceless"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(doc["summary"]["by_status"]["stale"]["count"], 1);
    assert_eq!(doc["summary"]["finished"], true);
    let caches = snapshot_caches(&doc);
    let m = caches
        .iter()
        .find(|c| c["path"].as_str().unwrap().ends_with("m.cpython-313.pyc"))
        .unwrap();
    assert_eq!(m["module"], "m");
    assert_eq!(m["tag"], "cpython-313");
    assert_eq!(m["invalidation"], "timestamp");
    assert_eq!(m["location"], "pycache");
}

#[test]
fn a_root_that_is_a_file_or_missing_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("m.py"), "");
    for (root, words) in [
        (tmp.path().join("m.py"), "is a file, not a directory"),
        (tmp.path().join("nope"), "no such directory"),
    ] {
        let out = pycache().arg("scan").arg(&root).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: cannot scan") && err.contains(words),
            "{err}"
        );
    }
    let out = pycache()
        .arg("scan")
        .arg(tmp.path())
        .args(["--exclude", "a{b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid --exclude pattern"));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..400 {
        write(
            &tmp.path().join(format!("__pycache__/m{i}.cpython-313.pyc")),
            pyc(T, 6),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    let mut child = Command::new(bin)
        .args(["scan", "--json"])
        .arg(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn non_utf8_names_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let mut py = name.to_owned();
    py.push(".py");
    source(&tmp.path().join(&py), "x = 1\n");
    let mut cache = name.to_owned();
    cache.push(".cpython-313.pyc");
    write(&tmp.path().join("__pycache__").join(&cache), pyc(T, 6));
    let doc = json(&[tmp.path().as_os_str()]);
    let c = &snapshot_caches(&doc)[0];
    assert!(
        c["path"]
            .as_str()
            .unwrap()
            .ends_with("caf\\xe9.cpython-313.pyc")
    );
    assert_eq!(
        (c["status"].as_str(), c["module"].as_str()),
        (Some("fresh"), Some("caf\\xe9"))
    );
}

#[test]
fn symlink_loops_are_reported_and_the_scan_completes() {
    let tmp = tempfile::tempdir().unwrap();
    mixed_tree(&tmp.path().join("a"));
    std::os::unix::fs::symlink(tmp.path(), tmp.path().join("a/up")).unwrap();
    let plain = json(&[tmp.path().as_os_str()]);
    assert_eq!(plain["caches"]["rows"].as_array().unwrap().len(), 5);
    assert!(plain["errors"].as_array().unwrap().is_empty());
    let out = pycache()
        .arg("scan")
        .arg(tmp.path())
        .arg("--follow-symlinks")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("errors (1)") && text.contains("a/up: symlink loop"),
        "{text}"
    );
}

#[test]
fn the_prefix_comes_from_the_flag_or_the_environment() {
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    source(&project.path().join("app.py"), "x = 1\n");
    let mirror = cache.path().join(project.path().strip_prefix("/").unwrap());
    write(&mirror.join("app.cpython-313.pyc"), pyc(T, 6));
    write(&mirror.join("old.cpython-313.pyc"), pyc(T, 6));
    let flag = json(&[
        project.path().as_os_str(),
        "--pycache-prefix".as_ref(),
        cache.path().as_os_str(),
    ]);
    let got = statuses(&flag, cache.path());
    let rel = |m: &str| {
        mirror
            .join(m)
            .strip_prefix(cache.path())
            .unwrap()
            .display()
            .to_string()
    };
    assert_eq!(got[&rel("app.cpython-313.pyc")], "fresh");
    assert_eq!(got[&rel("old.cpython-313.pyc")], "orphaned");
    assert_eq!(snapshot_caches(&flag)[0]["location"], "prefix");
    let out = pycache()
        .env("PYTHONPYCACHEPREFIX", cache.path())
        .arg("scan")
        .arg(project.path())
        .arg("--json")
        .output()
        .unwrap();
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["caches"]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(env["prefix"].as_str(), cache.path().to_str());
}

#[test]
fn excluded_and_vcs_directories_are_not_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    for dir in ["app", "vendor/lib", ".git/hooks"] {
        write(
            &tmp.path().join(dir).join("__pycache__/x.cpython-313.pyc"),
            pyc(T, 6),
        );
    }
    let doc = json(&[
        tmp.path().as_os_str(),
        "--exclude".as_ref(),
        "vendor".as_ref(),
    ]);
    let got: Vec<String> = statuses(&doc, tmp.path()).into_keys().collect();
    assert_eq!(got, ["app/__pycache__/x.cpython-313.pyc"]);
}

/// As root, permission bits do not stop us: drop to `nobody` to meet a real EACCES.
#[test]
fn unreadable_directories_and_caches_are_findings_not_aborts() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !nix::unistd::geteuid().is_root() || !setpriv.exists() {
        return skip(
            "unreadable test",
            "needs root and setpriv to run the scan as nobody",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    mixed_tree(r);
    write(&r.join("secret/__pycache__/x.cpython-313.pyc"), pyc(T, 6));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(r, 0o755).unwrap();
    mode(&r.join("__pycache__/m.cpython-313.pyc"), 0o600).unwrap();
    mode(&r.join("secret"), 0o700).unwrap();
    let bin: PathBuf = assert_cmd::cargo::cargo_bin("pycache");
    let out = Command::new(setpriv)
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&bin)
        .args(["scan", "--json"])
        .arg(r)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    if !out.status.success() && out.stdout.is_empty() {
        return skip("unreadable test", &String::from_utf8_lossy(&out.stderr));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = statuses(&doc, r);
    assert_eq!(got["__pycache__/m.cpython-313.pyc"], "unreadable");
    assert_eq!(got["__pycache__/s.cpython-313.pyc"], "stale");
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["kind"], "unreadable");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("/secret"));
}

/// Every verdict of the shared fixture matrix (real pycs of every local interpreter).
/// Skipped without the shared folder or interpreters; the matrix takes ~40 s to build.
#[test]
fn verdicts_match_the_fixture_matrix_of_every_local_interpreter() {
    let shared = std::env::var_os("PYCACHE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let script = shared.join("fixtures/make-pyc-matrix.sh");
    if !script.exists() {
        assert!(!in_ci(), "CI=true but {} is missing", script.display());
        return skip(
            "fixture matrix",
            "shared/fixtures/make-pyc-matrix.sh not found",
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("matrix");
    // The script finds python3.N and pypy3 on PATH: 3.14, 3.15 and PyPy come from there.
    let built = Command::new("bash")
        .arg(&script)
        .arg(&out_dir)
        .env("PATH", path_var())
        .output()
        .unwrap();
    if !built.status.success() {
        return skip("fixture matrix", &String::from_utf8_lossy(&built.stderr));
    }
    let out_dir = out_dir.canonicalize().unwrap();
    let manifest = std::fs::read_to_string(out_dir.join("manifest.tsv")).unwrap();
    let mut got = statuses(
        &json(&[
            out_dir.as_os_str(),
            "--exclude".as_ref(),
            "*/pycache-prefix/cache".as_ref(),
        ]),
        &out_dir,
    );
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let base = entry.unwrap().path().join("pycache-prefix");
        if base.is_dir() {
            let doc = json(&[
                base.join("proj").as_os_str(),
                "--pycache-prefix".as_ref(),
                base.join("cache").as_os_str(),
            ]);
            got.extend(statuses(&doc, &out_dir));
        }
    }
    let mut checked = 0;
    for row in manifest.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let want = match f[1] {
            "orphan" => "orphaned",
            "sourceless-legacy" => "sourceless",
            "missing" => {
                assert!(!got.contains_key(f[0]), "{} should not exist", f[0]);
                continue;
            }
            s => s,
        };
        let have = got
            .remove(f[0])
            .unwrap_or_else(|| panic!("{} not found", f[0]));
        assert_eq!(have, want, "{}", f[0]);
        checked += 1;
    }
    assert!(got.is_empty(), "caches not in the manifest: {got:?}");
    assert!(checked > 100, "only {checked} rows");
    // Every interpreter the tests know of took part (all of them under CI).
    let built = std::fs::read_to_string(out_dir.join("interpreters.tsv")).unwrap();
    for (version, _) in all() {
        let label = if version == PYPY {
            "pypy-3".to_string()
        } else {
            format!("cpython-{version}.")
        };
        assert!(
            built.contains(&label),
            "{label} not in the matrix:\n{built}"
        );
    }
    eprintln!("fixture matrix: {checked} verdicts; absent: {:?}", absent());
}
