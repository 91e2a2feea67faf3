//! Run as root against files an unprivileged user prepared (issue "Safe to run as root",
//! items 3, 4, 6, 7): a planted manifest symlink, hostile manifests, a parent swapped for a
//! symlink before `--restore`, a pre-made demo directory, another user's compile-error
//! store. Each asserts that nothing outside the tree changed. The attacker is `nobody`
//! via `setpriv`; without root these skip with a reason, except under `CI=true`.

use crate::support::{pycache, skip, write};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// True when the test can run: root, `setpriv` and `nobody` present. Under CI a missing
/// prerequisite fails the test.
pub fn as_root(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        "needs root (it runs pycache as root against a tree an unprivileged user controls)"
    } else if Command::new("setpriv").arg("--version").output().is_err() {
        "needs setpriv (util-linux) to act as the unprivileged user"
    } else {
        return true;
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {why} (CI=true: prerequisites are required)"
    );
    skip(test, why);
    false
}

/// Runs a shell command as `nobody`/`nogroup`, with a timeout.
pub fn as_nobody(script: &str) {
    let out = Command::new("timeout")
        .args(["30", "setpriv", "--reuid=nobody", "--regid=nogroup"])
        .args(["--clear-groups", "sh", "-ec", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "as nobody: {script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// When `test` can run (see [`as_root`]): a temporary directory that `nobody` can enter,
/// with a world-writable sticky `shared/` (like /var/tmp) and a root-owned `outside/`
/// holding a victim file, whose path comes second.
pub fn arena(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    if !as_root(test) {
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = t.path().join("outside/victim.txt");
    write(&victim, "root's file\n");
    Some((t, victim))
}

/// Everything below `dir` (names, kinds, owners, modes, contents, link targets), to show
/// that it did not change.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let what = if m.file_type().is_symlink() {
            format!("link {:?}", std::fs::read_link(e.path()).unwrap())
        } else if m.is_file() {
            format!("file {:?}", std::fs::read(e.path()).unwrap())
        } else {
            "dir".into()
        };
        let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
        out.insert(
            rel,
            format!("{what} {}:{} {:o}", m.uid(), m.gid(), m.mode()),
        );
    }
    out
}

/// `/etc/ld.so.preload` as it is now (absent on a sane machine).
fn preload() -> Option<Vec<u8>> {
    std::fs::read("/etc/ld.so.preload").ok()
}

/// A tree owned by `nobody` with three orphaned caches.
fn service_tree(root: &Path) {
    for rel in [
        "pkg/__pycache__/a.cpython-313.pyc",
        "pkg/__pycache__/b.cpython-313.pyc",
    ] {
        write(&root.join(rel), b"\xf3\r\r\n\0\0\0\0\0\0\0\0\0\0\0\0x");
    }
    write(
        &root.join("top/__pycache__/c.cpython-313.pyc"),
        b"\xf3\r\r\n",
    );
    Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(root)
        .status()
        .unwrap();
}

/// Runs pycache as root with `args`, then `dirs`, and `XDG_CACHE_HOME` when given.
fn run(args: &[&str], dirs: &[&Path], xdg: Option<&Path>) -> std::process::Output {
    let mut cmd = pycache();
    cmd.args(args).timeout(LIMIT);
    for d in dirs {
        cmd.arg(d);
    }
    if let Some(x) = xdg {
        cmd.env("XDG_CACHE_HOME", x);
    }
    cmd.output().unwrap()
}

/// `service_tree` in `dir/tree`, quarantined by root into `dir/q`.
fn quarantined_service_tree(dir: &Path) -> (PathBuf, PathBuf) {
    let (root, q) = (dir.join("tree"), dir.join("q"));
    service_tree(&root);
    let out = run_clean(&["--yes", "--quarantine"], &[&q, &root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (root, q)
}

fn run_clean(args: &[&str], dirs: &[&Path]) -> std::process::Output {
    run(&[&["clean"], args].concat(), dirs, None)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_planted_manifest_symlink_is_refused() {
    let Some((t, victim)) = arena("a_planted_manifest_symlink_is_refused") else {
        return;
    };
    let root = t.path().join("tree");
    service_tree(&root);
    let q = t.path().join("shared/pyc-q");
    as_nobody(&format!(
        "mkdir -p {q}/files; ln -s {v} {q}/manifest.jsonl",
        q = q.display(),
        v = victim.display()
    ));
    let (outside, tree, etc) = (
        snapshot(&t.path().join("outside")),
        snapshot(&root),
        preload(),
    );
    let out = run_clean(&["--yes", "--quarantine"], &[&q, &root]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("belongs to nobody"), "{err}");
    // The same symlink in a directory of root's own is refused by O_NOFOLLOW.
    let own = t.path().join("own-q");
    std::fs::create_dir(&own).unwrap();
    std::os::unix::fs::symlink(&victim, own.join("manifest.jsonl")).unwrap();
    let out = run_clean(&["--yes", "--quarantine"], &[&own, &root]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is a symlink: refused"));
    assert_eq!(snapshot(&t.path().join("outside")), outside);
    assert_eq!(snapshot(&root), tree);
    assert_eq!(preload(), etc);
    eprintln!(
        "before: root appended file names to {}; after: refused, victim unchanged",
        victim.display()
    );
}

#[test]
fn a_hostile_manifest_is_refused_entry_by_entry() {
    let Some((t, _)) = arena("a_hostile_manifest_is_refused_entry_by_entry") else {
        return;
    };
    let (root, q) = quarantined_service_tree(t.path());
    // Tamper with root's own manifest: targets outside the roots, `..`, and a file name
    // that climbs out of files/.
    let manifest = q.join("manifest.jsonl");
    let mut body = std::fs::read_to_string(&manifest).unwrap();
    let run = body.lines().next().unwrap().to_string();
    let run_id = serde_json::from_str::<serde_json::Value>(&run).unwrap()["run"].clone();
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let evil = [
        ("e1", "/etc/ld.so.preload".to_string()),
        ("e2", format!("{}/pkg/../../outside/x.pyc", root.display())),
        (
            "e3",
            t.path().join("outside/evil.pyc").display().to_string(),
        ),
        (
            "../outside/victim.txt",
            format!("{}/pkg/z.pyc", root.display()),
        ),
    ];
    for (file, target) in &evil {
        write(
            &q.join("files").join(file.trim_start_matches("../outside/")),
            "evil",
        );
        body += &format!(
            "{}\n",
            serde_json::json!({"kind": "intent", "run": run_id, "file": file, "path": target,
                "path_hex": hex(target), "size": 4, "mtime": 0, "dev": 0, "ino": 0})
        );
    }
    std::fs::write(&manifest, body).unwrap();
    let (outside, etc) = (snapshot(&t.path().join("outside")), preload());
    let out = run_clean(&["--restore"], &[&q]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("restored 3 files"), "{stdout}");
    assert!(
        stdout.contains("only .pyc and .pyo files are restored"),
        "{stdout}"
    );
    assert!(stdout.contains("no '..'"), "{stdout}");
    assert!(
        stdout.contains("is not under a root its run cleaned"),
        "{stdout}"
    );
    assert!(stdout.contains("is not a plain file name"), "{stdout}");
    assert_eq!(snapshot(&t.path().join("outside")), outside);
    assert_eq!(preload(), etc);
    assert!(!root.join("pkg/z.pyc").exists());
    // A quarantine the attacker owns is refused as a whole, in one line.
    let theirs = t.path().join("shared/theirs");
    as_nobody(&format!(
        "mkdir -p {q}/files; touch {q}/manifest.jsonl",
        q = theirs.display()
    ));
    let out = run_clean(&["--restore"], &[&theirs]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    eprintln!(
        "before: --restore wrote /etc/ld.so.preload and followed ../; after: 4 entries refused, 3 genuine restored, exit 1"
    );
}

#[test]
fn restore_never_follows_a_parent_swapped_for_a_symlink() {
    let Some((t, _)) = arena("restore_never_follows_a_parent_swapped_for_a_symlink") else {
        return;
    };
    let (root, q) = quarantined_service_tree(t.path());
    // The tree's owner swaps pkg/ for a link to a root directory, and removes
    // top/__pycache__ (restore must make it, as nobody's, by handle).
    let outside = t.path().join("outside");
    as_nobody(&format!(
        "rm -rf {r}/pkg {r}/top/__pycache__; ln -s {o} {r}/pkg",
        r = root.display(),
        o = outside.display()
    ));
    let before = snapshot(&outside);
    let out = run_clean(&["--restore"], &[&q]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("restored 1 file, skipped 0, failed 2"),
        "{stdout}"
    );
    assert!(stdout.contains("not followed"), "{stdout}");
    assert_eq!(snapshot(&outside), before);
    let made = std::fs::metadata(root.join("top/__pycache__")).unwrap();
    assert_eq!((made.uid(), made.mode() & 0o7777), (65534, 0o755));
    assert!(root.join("top/__pycache__/c.cpython-313.pyc").is_file());
    assert_eq!(std::fs::read_dir(q.join("files")).unwrap().count(), 2);
    eprintln!(
        "before: restore wrote into the symlinked root directory and made a __pycache__ owned by the attacker there; after: 2 refused (kept in the quarantine), outside unchanged"
    );
}

#[test]
fn a_demo_directory_made_by_another_user_is_refused() {
    let Some((t, victim)) = arena("a_demo_directory_made_by_another_user_is_refused") else {
        return;
    };
    let dir = t.path().join("shared/demo");
    as_nobody(&format!(
        "mkdir {d}; touch {d}/.pycache-demo; ln -s {v} {d}/run.py; ln -s {o} {d}/app",
        d = dir.display(),
        v = victim.display(),
        o = t.path().join("outside").display()
    ));
    let (outside, etc) = (snapshot(&t.path().join("outside")), preload());
    let out = run(&["demo", "--print"], &[&dir], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("belongs to nobody"), "{err}");
    // A demo directory of root's own with planted links: the links go, nothing outside.
    let own = t.path().join("own-demo");
    std::fs::create_dir(&own).unwrap();
    write(&own.join(".pycache-demo"), "");
    std::os::unix::fs::symlink(&victim, own.join("run.py")).unwrap();
    std::os::unix::fs::symlink(t.path().join("outside"), own.join("app")).unwrap();
    let out = run(&["demo", "--print"], &[&own], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !own.join("run.py")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(snapshot(&t.path().join("outside")), outside);
    assert_eq!(preload(), etc);
    eprintln!(
        "before: demo wrote through the planted links; after: a foreign DIR is refused, links in our own are removed, victim unchanged"
    );
}

#[test]
fn another_users_compile_error_store_is_not_used() {
    let Some((t, victim)) = arena("another_users_compile_error_store_is_not_used") else {
        return;
    };
    let xdg = t.path().join("shared/xdg");
    let mut plant = format!(
        "mkdir -p {x}/pycache; ln -s {v} {x}/pycache/compile-errors.jsonl",
        x = xdg.display(),
        v = victim.display()
    );
    for n in 0..64 {
        plant += &format!(
            "; ln -s {v} {x}/pycache/compile-errors.jsonl.tmp.{n}",
            v = victim.display(),
            x = xdg.display()
        );
    }
    as_nobody(&plant);
    let tree = t.path().join("tree");
    write(&tree.join("bad.py"), "def broken(:\n");
    let (outside, store) = (snapshot(&t.path().join("outside")), snapshot(&xdg));
    let out = run(&["recompile", "--yes"], &[&tree], Some(&xdg));
    let err = text(&out.stderr);
    assert_eq!(
        err.matches("carrying on without remembering").count(),
        1,
        "{err}{}",
        text(&out.stdout)
    );
    assert!(err.contains("nobody (uid 65534)"), "{err}");
    assert_eq!(snapshot(&t.path().join("outside")), outside);
    assert_eq!(snapshot(&xdg), store);
    // Root's own store still works.
    let mine = t.path().join("root-xdg");
    let out = run(&["recompile", "--yes"], &[&tree], Some(&mine));
    let saved = std::fs::metadata(mine.join("pycache/compile-errors.jsonl"));
    assert!(saved.is_ok(), "{}", text(&out.stderr));
    assert_eq!(saved.unwrap().mode() & 0o777, 0o600);
    eprintln!(
        "before: root wrote through {}/pycache/compile-errors.*; after: the store is not used, said once, victim unchanged",
        xdg.display()
    );
}
