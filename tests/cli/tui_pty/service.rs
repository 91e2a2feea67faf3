//! The demo opens in its service's view (lernmanager.service): the title names the
//! context, and `n` walks to `utils`, which the details say compiles at every start, and why.

use super::Session;

#[test]
fn the_demo_opens_in_its_services_view_and_n_reaches_utils_which_compiles_at_every_start() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut s = Session::start(&["demo", demo.to_str().unwrap()]);
    s.wait("the service's title", |screen| {
        screen.contains("as lernmanager") && screen.contains("prefix instance/tmp")
    });
    s.wait("the service to be judged", |screen| {
        !screen.contains("judging")
    });
    for _ in 0..20 {
        if s.screen().contains("module utils") {
            break;
        }
        s.keys("n");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    s.wait_for("module utils");
    s.wait_for("next start compiles at every start");
    s.wait_for("why        no cpython-313 cache at");
    // The reason follows the (long) cache path: scroll the details to it, a line at a
    // time (each step waits for its frame).
    s.keys("\t");
    let mut found = false;
    for line in 2..12 {
        if s.screen().contains("cannot write") {
            found = true;
            break;
        }
        s.keys("j");
        s.wait_for(&format!("(line {line}/"));
    }
    assert!(
        found || s.screen().contains("cannot write"),
        "the details never say why utils compiles at every start:\n{}",
        s.screen()
    );
    assert!(s.screen().contains("lernmanager"));
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
}
