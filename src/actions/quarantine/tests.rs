use super::journal::{Intent, Record, RunHeader};
use super::*;
use crate::actions::plan::{Identity, RemoveFile};
use crate::actions::remove::{Handles, remove_file};
use crate::actions::report::Outcome;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

fn cache_in(root: &Path, rel: &str, bytes: &[u8]) -> RemoveFile {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let m = std::fs::metadata(&path).unwrap();
    RemoveFile {
        path,
        root: root.to_path_buf(),
        status: crate::pyc::Status::Orphaned,
        tag: None,
        expect: Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
        },
        disk_usage: 0,
    }
}

fn quarantine(qdir: &Path, root: &Path, steps: &[RemoveFile]) {
    let mut q = Quarantine::open(qdir, &[root.to_path_buf()]).unwrap();
    let mut h = Handles::default();
    for s in steps {
        assert_eq!(remove_file(&mut h, s, Some(&mut q)), Outcome::Done);
    }
}

fn manifest(qdir: &Path) -> String {
    std::fs::read_to_string(qdir.join(MANIFEST)).unwrap()
}

fn failures(report: &crate::actions::Report) -> Vec<String> {
    report
        .outcomes
        .iter()
        .filter_map(|o| match &o.outcome {
            Outcome::Failed(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

/// One file `rel` quarantined from `root` into `q`: the directory, the step, `q`.
fn one_quarantined(rel: &str, bytes: &[u8]) -> (tempfile::TempDir, RemoveFile, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let step = cache_in(&root, rel, bytes);
    let qdir = t.path().join("q");
    quarantine(&qdir, &root, std::slice::from_ref(&step));
    (t, step, qdir)
}

#[test]
fn quarantined_files_come_back_unchanged() {
    let (_t, step, qdir) = one_quarantined("pkg/__pycache__/m.cpython-313.pyc", b"bytecode");
    assert!(!step.path.exists());
    let mode = std::fs::metadata(&qdir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    std::fs::remove_dir(step.path.parent().unwrap()).unwrap();
    let m = manifest(&qdir);
    assert!(
        m.contains("\"kind\":\"intent\"") && m.contains("\"kind\":\"done\""),
        "{m}"
    );
    let report = restore(&qdir).unwrap();
    assert_eq!(report.summary.done, 1, "{:?}", report.outcomes);
    assert_eq!(std::fs::read(&step.path).unwrap(), b"bytecode");
    assert_eq!(
        std::fs::metadata(&step.path).unwrap().mtime(),
        step.expect.mtime
    );
    let made = std::fs::metadata(step.path.parent().unwrap()).unwrap();
    assert_eq!(made.permissions().mode() & 0o777, 0o755);
    assert_eq!(manifest(&qdir), "");
}

#[test]
fn restore_never_overwrites_and_says_so() {
    let (_t, step, qdir) = one_quarantined("m.pyc", b"old");
    std::fs::write(&step.path, b"new").unwrap();
    let report = restore(&qdir).unwrap();
    assert_eq!(report.summary.failed, 1, "{:?}", report.outcomes);
    assert!(failures(&report)[0].contains("a file exists there now"));
    assert_eq!(std::fs::read(&step.path).unwrap(), b"new");
    let m = manifest(&qdir);
    assert!(m.contains("\"kind\":\"run\"") && m.contains("m.pyc"), "{m}");
    assert_eq!(unhex(&hex(b"\xff/x")), Some(b"\xff/x".to_vec()));
}

/// Writes a manifest by hand (as root would find it) with one run over `root`.
fn hostile(qdir: &Path, root: &Path, entries: &[(&str, &[u8])]) {
    std::fs::create_dir_all(qdir.join(FILES)).unwrap();
    for d in [qdir.to_path_buf(), qdir.join(FILES)] {
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let st = std::fs::metadata(root).unwrap();
    let mut text = serde_json::to_string(&Record::Run(RunHeader {
        run: "1-1".into(),
        roots: vec![root.display().to_string()],
        roots_hex: vec![hex(root.as_os_str().as_bytes())],
        root_ids: vec![(st.dev(), st.ino())],
    }))
    .unwrap()
        + "\n";
    for (n, (file, target)) in entries.iter().enumerate() {
        std::fs::write(qdir.join(FILES).join(format!("f{n}")), b"evil").ok();
        let i = Intent {
            run: "1-1".into(),
            file: (*file).into(),
            path: String::from_utf8_lossy(target).into(),
            path_hex: hex(target),
            size: 4,
            mtime: 0,
            dev: 0,
            ino: 0,
        };
        text += &(serde_json::to_string(&Record::Intent(i)).unwrap() + "\n");
    }
    std::fs::write(qdir.join(MANIFEST), text).unwrap();
    std::fs::set_permissions(qdir.join(MANIFEST), std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn hostile_entries_are_refused_one_by_one() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let qdir = t.path().join("q");
    let dotdot = format!("{}/pkg/../../outside/x.pyc", root.display());
    let preload = t.path().join("etc/evil.pyc");
    let good = format!("{}/pkg/ok.pyc", root.display());
    hostile(
        &qdir,
        &root,
        &[
            ("f0", b"/etc/ld.so.preload"),
            ("f1", dotdot.as_bytes()),
            ("f2", preload.as_os_str().as_bytes()),
            ("../../escape", good.as_bytes()),
            ("f4", good.as_bytes()),
        ],
    );
    let report = restore(&qdir).unwrap();
    let why = failures(&report);
    assert_eq!(report.summary.done, 1, "{:?}", report.outcomes);
    assert!(
        why.iter().any(|w| w.contains("not under a root")),
        "{why:?}"
    );
    assert!(why.iter().any(|w| w.contains("only .pyc")), "{why:?}");
    assert!(why.iter().any(|w| w.contains("no '..'")), "{why:?}");
    assert!(
        why.iter().any(|w| w.contains("not a plain file name")),
        "{why:?}"
    );
    // f3 has no entry that may be used: it is reported and stays.
    assert!(
        why.iter().any(|w| w.contains("no manifest entry")),
        "{why:?}"
    );
    assert!(!outside.join("x.pyc").exists());
    assert!(!preload.exists());
    assert_eq!(std::fs::read(root.join("pkg/ok.pyc")).unwrap(), b"evil");
}

#[test]
fn restore_reconciles_files_with_the_journal() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let moved = cache_in(&root, "a/__pycache__/moved.cpython-313.pyc", b"1");
    let stayed = cache_in(&root, "a/__pycache__/stayed.cpython-313.pyc", b"2");
    let qdir = t.path().join("q");
    quarantine(&qdir, &root, &[moved.clone(), stayed.clone()]);
    // As if killed: `moved` lost its done mark; `stayed` was never moved (put it back and
    // drop its file and mark); a stray file sits in files/.
    let mut lines: Vec<String> = manifest(&qdir).lines().map(String::from).collect();
    let stayed_file = lines
        .iter()
        .find(|l| l.contains("stayed"))
        .and_then(|l| serde_json::from_str::<Record>(l).ok())
        .and_then(|r| match r {
            Record::Intent(i) => Some(i.file),
            _ => None,
        })
        .unwrap();
    std::fs::rename(qdir.join(FILES).join(&stayed_file), &stayed.path).unwrap();
    lines.retain(|l| !l.contains("\"kind\":\"done\""));
    lines.push("{\"kind\":\"intent\",\"run\":".into());
    std::fs::write(qdir.join(MANIFEST), lines.join("\n")).unwrap();
    std::fs::write(qdir.join(FILES).join("stray.pyc.quarantined"), b"?").unwrap();
    let report = restore(&qdir).unwrap();
    let why = failures(&report);
    assert_eq!(report.summary.done, 1, "{:?}", report.outcomes);
    assert_eq!(report.summary.skipped, 1, "{:?}", report.outcomes);
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(
        why.iter().any(|w| w.contains("no manifest entry")),
        "{why:?}"
    );
    assert!(why.iter().any(|w| w.contains("torn")), "{why:?}");
    assert_eq!(std::fs::read(&moved.path).unwrap(), b"1");
    assert_eq!(std::fs::read(&stayed.path).unwrap(), b"2");
}

#[test]
fn a_manifest_symlink_or_foreign_directory_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let victim = t.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let qdir = t.path().join("q");
    std::fs::create_dir_all(&qdir).unwrap();
    std::fs::set_permissions(&qdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&victim, qdir.join(MANIFEST)).unwrap();
    let e = Quarantine::open(&qdir, std::slice::from_ref(&root))
        .err()
        .unwrap();
    assert!(e.contains("is a symlink: refused"), "{e}");
    assert!(restore(&qdir).unwrap_err().contains("symlink"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    std::fs::set_permissions(&qdir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let e = Quarantine::open(&qdir, &[root]).err().unwrap();
    assert!(e.contains("chmod go-w"), "{e}");
}

#[test]
fn a_quarantine_on_another_filesystem_keeps_owner_mode_and_mtime() {
    let t = tempfile::tempdir().unwrap();
    let shm = Path::new("/dev/shm");
    let other =
        std::fs::metadata(shm).is_ok_and(|m| m.dev() != std::fs::metadata(t.path()).unwrap().dev());
    if !other {
        eprintln!("skipped: /dev/shm is not a separate filesystem here");
        return;
    }
    let q = tempfile::tempdir_in(shm).unwrap();
    let root = t.path().join("root");
    let step = cache_in(&root, "pkg/__pycache__/m.cpython-313.pyc", b"bytes");
    std::fs::set_permissions(&step.path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let qdir = q.path().join("q");
    quarantine(&qdir, &root, std::slice::from_ref(&step));
    assert!(!step.path.exists());
    let report = restore(&qdir).unwrap();
    assert_eq!(report.summary.done, 1, "{:?}", report.outcomes);
    let m = std::fs::metadata(&step.path).unwrap();
    assert_eq!((m.mode() & 0o777, m.mtime()), (0o640, step.expect.mtime));
    assert_eq!(std::fs::read(&step.path).unwrap(), b"bytes");
    assert_eq!(std::fs::read_dir(qdir.join(FILES)).unwrap().count(), 0);
}

#[test]
fn an_old_manifest_entry_is_explained_not_restored() {
    let t = tempfile::tempdir().unwrap();
    let qdir = t.path().join("q");
    std::fs::create_dir_all(qdir.join(FILES)).unwrap();
    std::fs::write(qdir.join("files/1-000001.pyc.quarantined"), b"old").unwrap();
    let target = t.path().join("m.pyc");
    let old = serde_json::json!({"file": "1-000001.pyc.quarantined", "path": target,
        "path_hex": hex(target.as_os_str().as_bytes()), "size": 3, "mtime": 0,
        "mode": 0o644, "uid": 0, "gid": 0});
    std::fs::write(qdir.join(MANIFEST), format!("{old}\n")).unwrap();
    for p in [qdir.clone(), qdir.join(FILES)] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::set_permissions(qdir.join(MANIFEST), std::fs::Permissions::from_mode(0o600)).unwrap();
    let report = restore(&qdir).unwrap();
    let why = failures(&report);
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].contains("older pycache") && why[0].contains("m.pyc"),
        "{why:?}"
    );
    assert!(!target.exists());
    assert!(manifest(&qdir).contains("1-000001"));
}
