//! Bad input of every kind: one line on stderr each, exit 2, never a panic; the good
//! files given with them are still reported. Permission tests run as `nobody` under root.

use super::{fixture_copy, fixture_dir, inspect_json};
use crate::support::{pycache, skip, write};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// A pyc whose header is fine but whose code is cut: (name, bytes).
fn bad_files(good: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut huge = good[..16].to_vec();
    huge.extend(b"s\xff\xff\xff\x7f");
    let mut deep = good[..16].to_vec();
    deep.extend(b")\x01".repeat(100_000));
    let mut random = vec![0x5a; 64];
    random[2] = 0x17;
    vec![
        ("empty.pyc", Vec::new()),
        ("short.pyc", good[..7].to_vec()),
        ("cut.pyc", good[..good.len() / 2].to_vec()),
        ("random.pyc", random),
        ("huge.pyc", huge),
        ("deep.pyc", deep),
    ]
}

#[test]
fn bad_input_gets_one_line_each_and_good_files_are_still_reported() {
    let tmp = fixture_copy();
    let good = tmp
        .path()
        .join("cpython-3.13.0/timestamp/pkg/__pycache__/alpha.cpython-313.pyc");
    let bytes = std::fs::read(&good).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![good.clone()];
    for (name, content) in bad_files(&bytes) {
        write(&dir.path().join(name), content);
        args.push(dir.path().join(name));
    }
    args.push(dir.path().to_path_buf());
    args.push(dir.path().join("missing.pyc"));
    let out = pycache()
        .env("RUST_BACKTRACE", "1")
        .arg("inspect")
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), args.len() - 1, "{stderr}");
    let wants = [
        "empty.pyc: empty file",
        "short.pyc: truncated header: 7 of 16 bytes at byte 7",
        "cut.pyc: truncated marshal stream at byte",
        "random.pyc: not a .pyc file: starts with 5a 5a 17 5a",
        "huge.pyc: truncated marshal stream at byte 17 of a 21-byte file",
        "deep.pyc: objects nested too deeply at byte 416",
        ": is a directory",
        "missing.pyc: no such file",
    ];
    for (line, want) in lines.iter().zip(wants) {
        assert!(
            line.starts_with("error: ") && line.contains(want),
            "{line:?} lacks {want:?}"
        );
    }
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("fresh: Python uses this bytecode"),
        "{stdout}"
    );

    let (json, code, _) =
        inspect_json(&args.iter().map(PathBuf::as_path).collect::<Vec<_>>(), None);
    assert_eq!(code, 2);
    assert_eq!(json.len(), args.len());
    assert_eq!(json[0]["status"], "fresh");
    assert!(json[0]["error"].is_null());
    let statuses: Vec<&str> = json[1..]
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "invalid",
            "unreadable",
            "unreadable"
        ]
    );
    assert!(json[1..].iter().all(|r| r["error"].is_string()));
    assert_eq!(json[4]["error_offset"], 2);
}

#[test]
fn truncation_at_every_byte_is_an_error_never_a_crash() {
    let good = fixture_dir().join("cpython-2.7.18/timestamp/pkg/shapes.pyc");
    let bytes = std::fs::read(good).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut args = Vec::new();
    for cut in (0..bytes.len()).step_by(7) {
        let path = dir.path().join(format!("cut{cut}.pyc"));
        write(&path, &bytes[..cut]);
        args.push(path);
    }
    let out = pycache().arg("inspect").args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), args.len());
    assert!(stderr.lines().all(|l| l.starts_with("error: ")), "{stderr}");
}

/// `pycache inspect --json ARGS` as a user the permission bits apply to: the current one,
/// or `nobody` through `setpriv` when the tests run as root (root reads anything).
fn inspect_as_unprivileged(args: &[&Path]) -> Option<(Vec<J>, i32, String)> {
    let probe = tempfile::NamedTempFile::new().unwrap();
    set_mode(probe.path(), 0o000);
    if std::fs::read(probe.path()).is_err() {
        return Some(inspect_json(args, None));
    }
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("pycache"))
        .args(["inspect", "--json"])
        .args(args)
        .env_remove("PYTHONPYCACHEPREFIX")
        .output()
        .ok()?;
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json = serde_json::from_slice(&out.stdout).ok()?;
    Some((json, out.status.code().unwrap(), stderr))
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn unreadable_files_and_sources_are_reported_as_unreadable() {
    let tmp = fixture_copy();
    set_mode(tmp.path(), 0o755);
    let locked = tmp.path().join("locked.pyc");
    write(&locked, b"\xf3\x0d\x0d\x0a");
    set_mode(&locked, 0o000);
    let checked = tmp
        .path()
        .join("cpython-3.13.0/checked-hash/pkg/__pycache__/alpha.cpython-313.pyc");
    set_mode(
        &tmp.path().join("cpython-3.13.0/checked-hash/pkg/alpha.py"),
        0o000,
    );
    let Some((json, code, stderr)) = inspect_as_unprivileged(&[&locked]) else {
        return skip("unreadable_files_...", "running as root without setpriv");
    };
    assert_eq!(code, 2);
    assert_eq!(json[0]["status"], "unreadable");
    assert_eq!(json[0]["mode"].as_u64().map(|m| m & 0o7777), Some(0));
    assert!(json[0]["owner"].is_string());
    assert!(stderr.contains("locked.pyc: permission denied"), "{stderr}");
    // A source that cannot be read is a finding about the cache, not an error: exit 1.
    let (json, code, stderr) = inspect_as_unprivileged(&[&checked]).unwrap();
    assert_eq!((code, stderr.as_str()), (1, ""));
    assert_eq!(json[0]["status"], "unreadable");
    assert!(
        json[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot read the source")
    );
    assert!(json[0]["code"].is_object());
}
