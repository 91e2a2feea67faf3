//! A crashed scanner is an error with exit 2 and a report, never a hang and never a
//! success: the debug build's `PYCACHE_DEBUG_PANIC_IN` makes a worker panic in one
//! directory (release builds ignore it).

use super::LIMIT;
use crate::support::{pycache, write};

#[test]
fn a_scan_worker_panic_exits_2_with_a_report() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..20 {
        write(&t.path().join(format!("d{i}/m.py")), "x = 1\n");
    }
    write(&t.path().join("boom/m.py"), "x = 1\n");
    for args in [
        &["scan"][..],
        &["scan", "--check"][..],
        &["scan", "--json"][..],
        &["clean", "--dry-run"][..],
        &["recompile", "--dry-run"][..],
        &["imports"][..],
        &["doctor", "--no-measure"][..],
    ] {
        let out = pycache()
            .args(args)
            .arg(t.path())
            .env("PYCACHE_DEBUG_PANIC_IN", "boom")
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("a scan worker panicked in"),
            "{args:?}: the panic report: {err}"
        );
        assert!(err.contains("the scanner crashed"), "{args:?}: {err}");
    }
}
