//! Reads: only regular files are opened (FIFOs and devices are refused before a byte is
//! read, never waited on), each read has a cap, and sources are hashed by streaming. Every
//! command runs with a hard timeout and, where memory is the risk, under `ulimit -v`.

use super::LIMIT;
use crate::support::{snapshot_caches, write};
use std::ffi::OsStr;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Output;

/// The address-space limit of the commands that once read `/dev/zero` or a 3 GiB file
/// whole (KiB, for `ulimit -v`): far below the file, far above what pycache needs.
const MEMORY_KIB: u64 = 1536 * 1024;

/// A CPython 3.13 checked-hash header (the hash is wrong on purpose), plus a token body
/// (not decodable: `inspect` then exits 2 after its report, which is not the point here).
fn hash_pyc() -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 3, 0, 0, 0];
    b.extend([0x11; 8]);
    b.extend([0xe3, 0, 0, 0]);
    b
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {path:?}");
}

/// `pycache ARGS` under the memory limit and the hard timeout.
fn bounded(args: &[&OsStr]) -> Output {
    bounded_for(args, LIMIT)
}

/// [`bounded`] with another timeout.
fn bounded_for(args: &[&OsStr], limit: std::time::Duration) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("pycache");
    let out = assert_cmd::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("PYTHONPYCACHEPREFIX")
        .env("NO_COLOR", "1")
        .timeout(limit)
        .output()
        .unwrap();
    // A timeout kills the child: no exit code. A failed allocation aborts: a signal.
    assert!(
        out.status.code().is_some(),
        "{args:?} did not finish (killed by a signal or the {limit:?} timeout): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("memory allocation"),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Sources and caches that are FIFOs or `/dev/zero`, behind symlinks: scan, inspect and
/// imports finish, and say what they did not read.
#[test]
fn special_files_named_like_sources_and_caches_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("proj");
    mkfifo(&dir.path().join("fifo"));
    write(&r.join("app.py"), "import piped\nimport zeros\n");
    symlink(dir.path().join("fifo"), r.join("piped.py")).unwrap();
    symlink("/dev/zero", r.join("zeros.py")).unwrap();
    write(&r.join("__pycache__/piped.cpython-313.pyc"), hash_pyc());
    write(&r.join("__pycache__/zeros.cpython-313.pyc"), hash_pyc());
    // Caches that are links to a FIFO and to /dev/zero: read only with --follow-symlinks.
    write(&r.join("other.py"), "x = 1\n");
    symlink(
        dir.path().join("fifo"),
        r.join("__pycache__/other.cpython-312.pyc"),
    )
    .unwrap();
    symlink("/dev/zero", r.join("__pycache__/other.cpython-311.pyc")).unwrap();
    let root = r.as_os_str();

    let scan = bounded(&[OsStr::new("scan"), OsStr::new("--json"), root]);
    let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    let reason = |name: &str| {
        snapshot_caches(&doc)
            .iter()
            .find(|c| c["path"].as_str().unwrap().ends_with(name))
            .map(|c| format!("{} {}", c["status"], c["reason"]))
            .unwrap_or_default()
    };
    // A FIFO or device is no source to Python (FileFinder wants a regular file): the
    // caches are orphans, judged without opening the "source".
    assert!(
        reason("piped.cpython-313.pyc").contains("orphaned"),
        "{doc}"
    );
    assert!(
        reason("zeros.cpython-313.pyc").contains("orphaned"),
        "{doc}"
    );

    let follow = bounded(&[OsStr::new("scan"), OsStr::new("--follow-symlinks"), root]);
    let shown = text(&follow);
    assert!(shown.contains("a FIFO, not a regular file"), "{shown}");
    assert!(shown.contains("a character device"), "{shown}");
    assert_ne!(follow.status.code(), Some(0), "{shown}");

    for name in ["piped", "zeros"] {
        let cache = r.join(format!("__pycache__/{name}.cpython-313.pyc"));
        let inspect = bounded(&[OsStr::new("inspect"), cache.as_os_str()]);
        assert!(text(&inspect).contains("verdict "), "{}", text(&inspect));
    }
    let linked = r.join("__pycache__/other.cpython-312.pyc");
    let inspect = bounded(&[OsStr::new("inspect"), linked.as_os_str()]);
    assert!(
        text(&inspect).contains("not a regular file"),
        "{}",
        text(&inspect)
    );
    // inspect refuses a FIFO and /dev/zero given directly too.
    let fifo = dir.path().join("fifo");
    let inspect = bounded(&[OsStr::new("inspect"), fifo.as_os_str()]);
    assert_eq!(inspect.status.code(), Some(2), "{}", text(&inspect));
    let inspect = bounded(&[OsStr::new("inspect"), OsStr::new("/dev/zero")]);
    assert_eq!(inspect.status.code(), Some(2), "{}", text(&inspect));

    // The module linked to /dev/zero: refused (it was read until memory ran out).
    let imports = bounded(&[OsStr::new("imports"), root]);
    let shown = text(&imports);
    assert!(
        shown.contains("zeros.py: cannot be read: a character device"),
        "{shown}"
    );
}

/// A `.pth` linked to `/dev/zero` in the virtualenv, `pyvenv.cfg` a FIFO: imports finishes.
#[test]
fn pth_and_pyvenv_cfg_links_to_special_files_do_not_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("proj");
    write(&r.join("app.py"), "import requests\n");
    let site = r.join(".venv/lib/python3.13/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    write(&r.join(".venv/pyvenv.cfg"), "version = 3.13.0\n");
    symlink("/dev/zero", site.join("zero.pth")).unwrap();
    mkfifo(&site.join("fifo.pth"));
    let out = bounded(&[OsStr::new("imports"), r.as_os_str()]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
    // pyvenv.cfg as a FIFO: a clear error, not a hang.
    let other = dir.path().join("venv2");
    std::fs::create_dir_all(&other).unwrap();
    mkfifo(&other.join("pyvenv.cfg"));
    let out = bounded(&[
        OsStr::new("imports"),
        OsStr::new("--venv"),
        other.as_os_str(),
        r.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("FIFO"), "{}", text(&out));
}

/// `doctor --unit` with the unit file a FIFO, and with `EnvironmentFile=`s that are
/// `/dev/zero` and a FIFO: it finishes, naming what it did not read.
#[test]
fn doctor_refuses_fifo_units_and_endless_environment_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("proj");
    write(&r.join("app.py"), "x = 1\n");
    let fifo_unit = dir.path().join("fifo.service");
    mkfifo(&fifo_unit);
    let out = bounded(&[
        OsStr::new("doctor"),
        OsStr::new("--no-measure"),
        OsStr::new("--unit"),
        fifo_unit.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("a FIFO"), "{}", text(&out));

    symlink("/dev/zero", dir.path().join("zero.env")).unwrap();
    mkfifo(&dir.path().join("fifo.env"));
    let unit = dir.path().join("app.service");
    write(
        &unit,
        format!(
            "[Service]\nWorkingDirectory={r}\nExecStart=/usr/bin/python3 {r}/app.py\n\
             EnvironmentFile={d}/zero.env\nEnvironmentFile=-{d}/fifo.env\n",
            r = r.display(),
            d = dir.path().display()
        ),
    );
    let out = bounded(&[
        OsStr::new("doctor"),
        OsStr::new("--no-measure"),
        OsStr::new("--unit"),
        unit.as_os_str(),
    ]);
    let shown = text(&out);
    assert!(shown.contains("character device"), "{shown}");
}

/// A sparse 3 GiB source of a hash-based cache is hashed by streaming: the scan finishes
/// under a 1.5 GiB address-space limit and finds the cache stale. (`inspect` hashes the
/// same way, `source_hash_of_file`; once is enough for the test's time.)
#[test]
fn a_sparse_3_gib_source_is_hashed_without_loading_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("proj");
    write(&r.join("__pycache__/big.cpython-313.pyc"), hash_pyc());
    let ok = std::process::Command::new("truncate")
        .args(["-s", "3G"])
        .arg(r.join("big.py"))
        .status()
        .unwrap()
        .success();
    assert!(ok, "truncate -s 3G");
    // Hashing 3 GiB takes ~8 s of CPU in a debug build: a longer timeout, still finite.
    let slow = std::time::Duration::from_secs(240);
    let args = [OsStr::new("scan"), OsStr::new("--json"), r.as_os_str()];
    let out = bounded_for(&args, slow);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot_caches(&doc)[0]["status"], "stale", "{doc}");
}

/// `inspect` reads at most its documented 64 MiB; above it, a one-line error.
#[test]
fn inspect_refuses_files_above_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.cpython-313.pyc");
    write(&big, hash_pyc());
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let out = bounded(&[OsStr::new("inspect"), big.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("limit of 64 MiB"), "{}", text(&out));
}
