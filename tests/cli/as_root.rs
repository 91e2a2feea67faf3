//! Running as root over trees other users own (issue "Safe to run as root"): each attack
//! is tried with an unprivileged owner (`nobody`), and each test asserts that nothing
//! outside the tree changed and that the attacker's code never ran. Without root they
//! skip with a reason, except under CI, where they fail.

use std::path::PathBuf;

/// The system's `/usr/bin/python3` (which any user can run, unlike pyenv's under /root);
/// under CI its absence is a failure.
pub fn system_python() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/python3");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI: /usr/bin/python3 is required"
    );
    None
}
