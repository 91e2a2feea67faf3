//! Third-party tools the fleet tests check pycache's output with (a real Prometheus text
//! parser, a real ansible-core), from one throwaway virtualenv: `.ci/run` makes it in
//! `target/ci-venv` and exports `PYCACHE_TEST_VENV`. Outside CI a missing one skips the
//! test with the command that makes it; under CI (`CI=true`) it is a failure.
#![allow(dead_code)]

use std::path::PathBuf;

/// The packages `.ci/run` installs (kept in step with it).
pub const PACKAGES: &str = "ansible-core==2.19.14 prometheus_client==0.26.0";

/// The virtualenv's `bin/NAME`, or None (with the reason printed) when it is not there.
pub fn tool(test: &str, name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("PYCACHE_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv"));
    let bin = venv.join("bin").join(name);
    if bin.is_file() {
        return Some(bin);
    }
    let why = format!(
        "no {} (make it: python3 -m venv {v} && {v}/bin/pip install {PACKAGES}, or run .ci/run)",
        bin.display(),
        v = venv.display()
    );
    assert!(!crate::support::in_ci(), "CI=true but {why}");
    crate::support::skip(test, &why);
    None
}
