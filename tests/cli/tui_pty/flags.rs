//! The explorer's scan flags, as `scan` has them: several roots, `--exclude`,
//! `--one-file-system`, and a missing `--pycache-prefix` refused before the screen is taken.

use super::{Session, project};

#[test]
fn a_missing_pycache_prefix_is_refused_as_scan_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let missing = dir.path().join("no-such-prefix");
    let mut s = Session::start(&[
        dir.path().to_str().unwrap(),
        "--pycache-prefix",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(
        s.exit_code(),
        2,
        "a missing prefix must not open the explorer"
    );
    s.wait("the one-line refusal", |screen| {
        screen.contains("cannot use as --pycache-prefix") && screen.contains("no such directory")
    });
    assert!(!s.left_in_alternate_screen());
}

#[test]
fn several_paths_are_explored_and_excluded_names_are_not() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    project(one.path());
    std::fs::create_dir(two.path().join("skipme")).unwrap();
    std::fs::write(two.path().join("skipme/hidden_mod.py"), "x = 1\n").unwrap();
    std::fs::write(two.path().join("second_root_mod.py"), "x = 2\n").unwrap();
    let mut s = Session::start(&[
        "--one-file-system",
        one.path().to_str().unwrap(),
        two.path().to_str().unwrap(),
        "--exclude",
        "skipme",
    ]);
    // Each root is a top-level directory of its own.
    for root in [one.path(), two.path()] {
        s.wait_for(&format!("{}/", root.display()));
    }
    s.wait("the scan to finish", |screen| !screen.contains("scanning:"));
    s.keys("/second_root\r");
    s.wait_for("second_root_mod.py");
    // Esc alone first: "\x1b/" in one read is Alt-/.
    s.keys("\x1b");
    s.wait("the filter to clear", |screen| {
        !screen.contains("/second_root")
    });
    s.keys("/hidden_mod\r");
    s.wait_for("no module matches the filter");
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
}
