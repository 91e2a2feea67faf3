//! `pycache clean`: removes exactly the selected caches, never follows links, skips files
//! that changed since the scan, keeps sourceless caches, reports failures honestly.
//! Trees are built from hand-written CPython 3.13 headers: no interpreter needed.

use crate::support::{list_tree, pycache, skip, write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

const MTIME: u64 = 1_700_000_000;

/// A CPython 3.13 timestamp pyc recording this source mtime and size.
fn pyc313(mtime: u64, size: u32) -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend((mtime as u32).to_le_bytes());
    b.extend(size.to_le_bytes());
    b.extend(crate::support::BODY_313);
    b
}

fn source(path: &Path, text: &str) {
    write(path, text);
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME))
        .unwrap();
}

/// One cache of each verdict; returns the paths clean removes by default.
fn demo_tree(root: &Path) -> Vec<&'static str> {
    source(&root.join("app/fresh.py"), "x = 1\n");
    write(
        &root.join("app/__pycache__/fresh.cpython-313.pyc"),
        pyc313(MTIME, 6),
    );
    source(&root.join("app/stale.py"), "x = 22\n");
    write(
        &root.join("app/__pycache__/stale.cpython-313.pyc"),
        pyc313(MTIME - 5, 6),
    );
    write(
        &root.join("app/__pycache__/gone.cpython-313.pyc"),
        pyc313(MTIME, 6),
    );
    source(&root.join("app/broken.py"), "x = 1\n");
    write(
        &root.join("app/__pycache__/broken.cpython-313.pyc"),
        b"garbage!",
    );
    source(&root.join("app/legacy.py"), "x = 1\n");
    write(&root.join("app/legacy.pyc"), pyc313(MTIME, 6));
    write(&root.join("vendor/tool.pyc"), pyc313(MTIME, 6));
    write(
        &root.join("old/__pycache__/dead.cpython-313.pyc"),
        pyc313(MTIME, 6),
    );
    write(&root.join("old/readme.txt"), "not python");
    vec![
        "app/__pycache__/broken.cpython-313.pyc",
        "app/__pycache__/gone.cpython-313.pyc",
        "app/__pycache__/stale.cpython-313.pyc",
        "app/legacy.pyc",
        "old/__pycache__/",
        "old/__pycache__/dead.cpython-313.pyc",
    ]
}

fn without(before: &[String], gone: &[&str]) -> Vec<String> {
    before
        .iter()
        .filter(|p| !gone.contains(&p.as_str()))
        .cloned()
        .collect()
}

#[test]
fn clean_removes_exactly_the_selected_set() {
    let t = tempfile::tempdir().unwrap();
    let gone = demo_tree(t.path());
    let before = list_tree(t.path());
    let out = pycache()
        .args(["clean", "--yes"])
        .arg(t.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(list_tree(t.path()), without(&before, &gone), "{stdout}");
    assert!(
        stdout.contains("removed 5 files and 1 directory"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped 0, failed 0"), "{stdout}");
    assert!(stdout.contains("1 sourceless cache kept"), "{stdout}");
}

#[test]
fn dry_run_changes_nothing_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    let before = list_tree(t.path());
    let out = pycache()
        .args(["clean", "--dry-run"])
        .arg(t.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(list_tree(t.path()), before);
    assert!(stdout.starts_with("plan: remove 5 cache files"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("dry run: nothing was deleted"),
        "{stdout}"
    );
}

#[test]
fn without_a_terminal_or_yes_it_refuses() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    let before = list_tree(t.path());
    let out = pycache()
        .arg("clean")
        .arg(t.path())
        .write_stdin("y\n")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("rerun with --yes"), "{stderr}");
    assert_eq!(list_tree(t.path()), before);
}

#[test]
fn selection_by_tag_status_and_path() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    write(
        &t.path().join("app/__pycache__/fresh.cpython-312.pyc"),
        pyc313(MTIME, 6),
    );
    let before = list_tree(t.path());
    let under = t.path().join("app");
    pycache()
        .args(["clean", "--yes", "--status", "orphaned,stale", "--under"])
        .arg(&under)
        .arg(t.path())
        .assert()
        .success();
    let gone = [
        "app/__pycache__/gone.cpython-313.pyc",
        "app/__pycache__/stale.cpython-313.pyc",
    ];
    assert_eq!(list_tree(t.path()), without(&before, &gone));
    // The 3.12-named file holds 3.13 bytecode: invalid, and the only cpython-312 cache.
    pycache()
        .args(["clean", "--yes", "--all", "--tag", "cpython-312"])
        .arg(t.path())
        .assert()
        .success();
    let gone = [gone[0], gone[1], "app/__pycache__/fresh.cpython-312.pyc"];
    assert_eq!(list_tree(t.path()), without(&before, &gone));
}

#[test]
fn sourceless_caches_survive_unless_named() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    pycache()
        .args(["clean", "--yes", "--all"])
        .arg(t.path())
        .assert()
        .success();
    let tool = t.path().join("vendor/tool.pyc");
    assert!(tool.exists());
    assert!(
        !t.path()
            .join("app/__pycache__/fresh.cpython-313.pyc")
            .exists()
    );
    pycache()
        .args(["clean", "--yes", "--include-sourceless"])
        .arg(&tool)
        .arg(t.path())
        .assert()
        .success();
    assert!(!tool.exists());
}

#[test]
fn links_planted_before_the_scan_are_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    write(
        &outside.join("__pycache__/victim.cpython-313.pyc"),
        pyc313(MTIME, 6),
    );
    write(&outside.join("stale.pyc"), pyc313(1, 1));
    source(&outside.join("stale.py"), "x = 1\n");
    demo_tree(&root);
    std::os::unix::fs::symlink(&outside, root.join("app/linked")).unwrap();
    write(&root.join("other/victim.py"), "x = 1\n");
    std::os::unix::fs::symlink(outside.join("__pycache__"), root.join("other/__pycache__"))
        .unwrap();
    let before = list_tree(&outside);
    pycache()
        .args(["clean", "--yes", "--all"])
        .arg(&root)
        .assert()
        .success();
    assert_eq!(list_tree(&outside), before);
    assert!(root.join("app/linked").symlink_metadata().is_ok());
}

fn scan_and_plan(root: &Path) -> (pycache::actions::Plan, pycache::scan::ScanModel) {
    let model =
        pycache::scan::scan(&pycache::scan::ScanOptions::new(vec![root.to_path_buf()])).unwrap();
    let plan = pycache::actions::plan_clean(&model, &pycache::actions::Selection::default(), None);
    (plan, model)
}

fn execute(plan: &pycache::actions::Plan) -> pycache::actions::Report {
    let mut seen = 0;
    let report =
        pycache::actions::execute(plan, &pycache::actions::ExecOptions::default(), &mut |p| {
            seen += 1;
            assert_eq!((p.done, p.total), (seen, plan.steps.len()));
        });
    assert_eq!(seen, plan.steps.len());
    report
}

#[test]
fn a_pycache_swapped_for_a_link_after_the_plan_leaves_the_outside_alone() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    demo_tree(&root);
    let (plan, _) = scan_and_plan(&root);
    assert!(plan.totals.files >= 4);
    // The attacker moves the real directory away and plants a link to a look-alike.
    let outside = t.path().join("outside");
    std::fs::rename(root.join("app/__pycache__"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("app/__pycache__")).unwrap();
    let before = list_tree(&outside);
    let report = execute(&plan);
    assert_eq!(list_tree(&outside), before);
    let skipped: Vec<&PathBuf> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.outcome, pycache::actions::Outcome::Skipped(_)))
        .map(|o| &o.path)
        .collect();
    assert_eq!(skipped.len(), 3, "{:?}", report.outcomes);
    assert!(
        report
            .problem_lines()
            .iter()
            .all(|l| l.contains("not followed"))
    );
    assert!(
        !root.join("old/__pycache__").exists(),
        "the untouched part is still cleaned"
    );
}

#[test]
fn a_file_replaced_between_scan_and_clean_is_skipped() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    let (plan, _) = scan_and_plan(t.path());
    let stale = t.path().join("app/__pycache__/stale.cpython-313.pyc");
    // Keep the old inode alive so the new file cannot reuse its number; same size, same
    // second: only the inode tells them apart.
    std::fs::rename(&stale, t.path().join("stale.kept")).unwrap();
    write(&stale, pyc313(MTIME, 7));
    let report = execute(&plan);
    assert!(stale.exists());
    let o = report.outcomes.iter().find(|o| o.path == stale).unwrap();
    assert!(
        matches!(&o.outcome, pycache::actions::Outcome::Skipped(w) if w.contains("changed since the scan"))
    );
    assert!(!report.has_failures());
}

/// Makes `dir` unwritable even for root: `chattr +i`. None when the filesystem refuses.
fn immutable(dir: &Path) -> Option<()> {
    let ok = std::process::Command::new("chattr")
        .arg("+i")
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(())
}

#[test]
fn a_read_only_directory_gives_failures_and_exit_1() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    let locked = t.path().join("app/__pycache__");
    let mut cmd = pycache();
    if immutable(&locked).is_none() {
        // Fall back to running as nobody in a tree nobody may not change.
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.exists() || !nix::unistd::geteuid().is_root() {
            skip(
                "a_read_only_directory_gives_failures_and_exit_1",
                "neither chattr +i nor setpriv works here",
            );
            return;
        }
        // nobody owns the tree except the locked directory, which stays root's (0755).
        std::fs::set_permissions(
            t.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let chown = |args: &[&str], p: &Path| {
            std::process::Command::new("chown")
                .args(args)
                .arg(p)
                .status()
                .unwrap()
        };
        chown(&["-R", "nobody:nogroup"], t.path());
        chown(&["root:root"], &locked);
        cmd = assert_cmd::Command::new(setpriv);
        cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("pycache"));
    }
    let out = cmd.args(["clean", "--yes"]).arg(t.path()).assert();
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(&locked)
        .status();
    let out = out.code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    // Three caches in the locked directory fail; the two elsewhere and old/__pycache__ go.
    assert!(
        stdout.contains("removed 2 files and 1 directory"),
        "{stdout}"
    );
    assert!(stdout.contains("failed 3"), "{stdout}");
    assert_eq!(stdout.matches("failed  ").count(), 3, "{stdout}");
    assert!(locked.join("stale.cpython-313.pyc").exists());
}

#[test]
fn quarantine_then_restore_puts_everything_back() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    demo_tree(&root);
    let before = list_tree(&root);
    let q = t.path().join("q");
    let out = pycache()
        .args(["clean", "--yes", "--quarantine"])
        .arg(&q)
        .arg(&root)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("quarantined 5 files"));
    assert_eq!(std::fs::read_dir(q.join("files")).unwrap().count(), 5);
    let out = pycache()
        .args(["clean", "--restore"])
        .arg(&q)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&out.get_output().stdout).contains("restored 5 files"));
    assert_eq!(list_tree(&root), before);
}

#[test]
fn json_carries_the_plan_and_the_report() {
    let t = tempfile::tempdir().unwrap();
    demo_tree(t.path());
    let out = pycache()
        .args(["clean", "--yes", "--json"])
        .arg(t.path())
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(doc["plan"]["totals"]["files"], 5);
    assert_eq!(doc["plan"]["steps"][0]["step"], "remove-file");
    assert_eq!(doc["report"]["summary"]["files_removed"], 5);
    assert_eq!(doc["report"]["outcomes"][0]["result"], "done");
}

/// The demo keeps a PYTHONPYCACHEPREFIX tree inside the project. Scanned without
/// `--pycache-prefix`, its caches look orphaned by CPython's rules alone, yet the service
/// (which has the prefix set) uses them: a default clean keeps them and says why; only the
/// prefix cache whose source is really gone is planned.
#[test]
fn a_live_prefix_tree_inside_the_project_is_kept_without_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    pycache()
        .args(["demo", "--print"])
        .arg(&root)
        .assert()
        .success();
    let out = pycache()
        .args(["clean", "--dry-run", "--json"])
        .arg(&root)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let prefix = root.join("instance/tmp");
    let planned_in_prefix: Vec<&str> = doc["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["path"].as_str())
        .filter(|p| Path::new(p).starts_with(&prefix) && p.ends_with(".pyc"))
        .collect();
    assert_eq!(planned_in_prefix.len(), 1, "{planned_in_prefix:?}");
    assert!(planned_in_prefix[0].contains("migrate_to_sqlcipher"));
    let notes = doc["plan"]["notes"].to_string();
    assert!(notes.contains("live PYTHONPYCACHEPREFIX tree"), "{notes}");
    // With the flag, the prefix is judged by its own rules and nothing is kept for that reason.
    let out = pycache()
        .args(["clean", "--dry-run", "--json", "--pycache-prefix"])
        .arg(&prefix)
        .arg(&root)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !doc["plan"]["notes"]
            .to_string()
            .contains("live PYTHONPYCACHEPREFIX")
    );
}
