//! A generated large tree (25k modules, over the 20k from which `v` regroups between
//! frames): keys are answered while it scans, and `v`/`s` answer on the whole tree. How
//! fast is scripts/bench-tui.sh's business; this checks that they answer at all, while
//! the scan and the regrouping run.

use super::Session;
use std::path::Path;

/// `pkgNNN/modMMM.py`, sources only (the fewest files that make that many modules).
fn large_tree(root: &Path, packages: usize, modules: usize) {
    for p in 0..packages {
        let dir = root.join(format!("pkg{p:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        for m in 0..modules {
            std::fs::write(dir.join(format!("mod{m:03}.py")), format!("x = {m}\n")).unwrap();
        }
    }
}

#[test]
fn keys_answer_while_a_large_tree_scans_and_v_and_s_answer_on_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    large_tree(dir.path(), 125, 200);
    let mut s = Session::start(&[dir.path().to_str().unwrap()]);
    s.wait_for("Modules by directory");
    // A key pressed at once (most likely mid-scan) is answered: the help opens, and closes.
    s.keys("?");
    s.wait_for("show this help");
    s.keys("q");
    s.wait("the help to close", |screen| {
        !screen.contains("show this help")
    });
    // On a loaded machine the scan can take longer than one wait.
    let start = std::time::Instant::now();
    while s.screen().contains("scanning:") && start.elapsed().as_secs() < 180 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    s.wait("the scan to finish", |screen| !screen.contains("scanning:"));
    s.keys("v");
    s.wait("the verdict view", |screen| {
        screen.contains("regrouping by verdict") || screen.contains("Modules by verdict")
    });
    // Keys still move the old view while it regroups; the new view follows.
    s.keys("j");
    s.wait_for("Modules by verdict");
    s.wait_for("no cache");
    s.keys("s");
    s.wait_for("sorted by size");
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
}
