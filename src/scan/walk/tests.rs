//! The scanner over real temporary trees: every verdict, prefix mapping, symlinks,
//! excludes, odd names, bad roots, and stopping when the receiver is gone.

use super::*;
use crate::pyc::Status;
use crate::pyc::magic::lookup;
use crate::pyc::validate::source_hash;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, SystemTime};

const T: u64 = 1_700_000_000;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn source(path: &Path, text: &str, mtime: u64) {
    write(path, text.as_bytes());
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime))
        .unwrap();
}

/// CPython 3.13's module code object for `x = 1` (3.11+ layout, so 3.12 files take it too).
const BODY: &str = "e30000000000000000000000000100000000000000f30800000095005300720067012902e9010000004e2901da0178a900f300000000da046d2e7079da083c6d6f64756c653e720700000001000000730a000000f003010101d8040581017205000000";

fn body() -> Vec<u8> {
    (0..BODY.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&BODY[i..i + 2], 16).unwrap())
        .collect()
}

/// A timestamp pyc header (16 bytes, 3.7+ layout) plus a real module body.
fn ts_pyc(magic: u16, mtime: u64, size: usize) -> Vec<u8> {
    let mut b = magic.to_le_bytes().to_vec();
    b.extend([0x0d, 0x0a, 0, 0, 0, 0]);
    b.extend((mtime as u32).to_le_bytes());
    b.extend((size as u32).to_le_bytes());
    b.extend(body());
    b
}

fn scan_dir(opts: ScanOptions) -> ScanModel {
    let model = scan(&opts).unwrap();
    assert!(model.progress.finished);
    model
}

fn status_of(model: &ScanModel, path: &Path) -> Status {
    model
        .cache(path)
        .unwrap_or_else(|| panic!("{} not found; have {:?}", path.display(), paths(model)))
        .status
}

fn paths(model: &ScanModel) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = model.caches.iter().map(|c| c.path.clone()).collect();
    v.sort();
    v
}

#[test]
fn every_verdict_in_one_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let pc = r.join("__pycache__");
    source(&r.join("m.py"), "x = 1\n", T);
    write(&pc.join("m.cpython-313.pyc"), &ts_pyc(3571, T, 6));
    write(&pc.join("m.cpython-312.pyc"), &ts_pyc(3531, T - 5, 6));
    write(&pc.join("gone.cpython-313.pyc"), &ts_pyc(3571, T, 6));
    write(&r.join("legacy.pyc"), &ts_pyc(3531, T, 6));
    source(&r.join("sh.py"), "y = 2\n", T);
    write(&r.join("sh.pyc"), &ts_pyc(3531, T, 6));
    source(&r.join("bad.py"), "z = 3\n", T);
    write(&pc.join("bad.cpython-313.pyc"), b"");
    write(&pc.join("m.cpython-313.pyc.140234"), &ts_pyc(3571, T, 6));
    write(&pc.join("notes.txt"), b"not bytecode");
    source(&r.join("h.py"), "x = 1\n", T);
    let mut hashed = vec![0xf3, 0x0d, 0x0d, 0x0a, 3, 0, 0, 0];
    hashed.extend(source_hash(&lookup(3571), b"x = 1\n"));
    hashed.extend(body());
    write(&pc.join("h.cpython-313.pyc"), &hashed);
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    let expect = [
        (pc.join("m.cpython-313.pyc"), Status::Fresh),
        (pc.join("m.cpython-312.pyc"), Status::Stale),
        (pc.join("gone.cpython-313.pyc"), Status::Orphaned),
        (r.join("legacy.pyc"), Status::Sourceless),
        (r.join("sh.pyc"), Status::Shadowed),
        (pc.join("bad.cpython-313.pyc"), Status::Invalid),
        (pc.join("m.cpython-313.pyc.140234"), Status::Invalid),
        (pc.join("h.cpython-313.pyc"), Status::Fresh),
    ];
    for (path, status) in &expect {
        assert_eq!(status_of(&model, path), *status, "{}", path.display());
    }
    assert_eq!(model.caches.len(), expect.len());
    let m = model.cache(&pc.join("m.cpython-313.pyc")).unwrap();
    assert_eq!(m.source.as_deref(), Some(r.join("m.py").as_path()));
    assert_eq!(m.module, "m");
    assert_eq!(m.meta.size, 16 + body().len() as u64);
    assert_eq!(model.modules[&r.join("m.py")].caches.len(), 3);
    assert!(model.modules[&r.join("m.py")].source_exists());
    assert!(!model.modules[&r.join("gone.py")].source_exists());
    assert_eq!(model.progress.dirs, 2);
    assert_eq!(model.progress.files, 13);
    assert!(model.errors.is_empty(), "{:?}", model.errors);
}

#[test]
fn packages_name_their_modules_and_a_root_inside_a_package_keeps_the_package_name() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    source(&r.join("pkg/__init__.py"), "", T);
    write(
        &r.join("pkg/__pycache__/__init__.cpython-313.pyc"),
        &ts_pyc(3571, T, 0),
    );
    source(&r.join("pkg/sub/mod.py"), "a = 1\n", T);
    write(
        &r.join("pkg/sub/__pycache__/mod.cpython-313.pyc"),
        &ts_pyc(3571, T, 6),
    );
    source(&r.join("ns/leaf.py"), "", T);
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    let init = model.cache(&r.join("pkg/__pycache__/__init__.cpython-313.pyc"));
    assert_eq!(init.unwrap().module, "pkg");
    assert!(model.modules[&r.join("pkg/__init__.py")].is_package);
    let m = model.cache(&r.join("pkg/sub/__pycache__/mod.cpython-313.pyc"));
    assert_eq!(m.unwrap().module, "pkg.sub.mod");
    assert_eq!(model.modules[&r.join("ns/leaf.py")].name, "ns.leaf");
    // Scanning the package itself still names its modules from the package.
    let model = scan_dir(ScanOptions::new(vec![r.join("pkg")]));
    let m = model.cache(&r.join("pkg/sub/__pycache__/mod.cpython-313.pyc"));
    assert_eq!(m.unwrap().module, "pkg.sub.mod");
    // A __pycache__ given as the root is judged against its parent's sources.
    let model = scan_dir(ScanOptions::new(vec![r.join("pkg/sub/__pycache__")]));
    assert_eq!(model.caches.len(), 1);
    assert_eq!(model.caches[0].status, Status::Fresh);
}

#[test]
fn prefix_caches_map_to_their_absolute_source_directory() {
    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let p = project.path();
    source(&p.join("app.py"), "app = 1\n", T);
    let mirror = super::super::classify::prefix_cache_dir(cache.path(), p);
    write(&mirror.join("app.cpython-313.pyc"), &ts_pyc(3571, T, 8));
    write(&mirror.join("old.cpython-313.pyc"), &ts_pyc(3571, T, 8));
    write(&mirror.join("stray.pyc"), &ts_pyc(3571, T, 8));
    let opts = ScanOptions::new(vec![p.to_path_buf()]).with_prefix(Some(cache.path().into()));
    let model = scan_dir(opts);
    let app = model.cache(&mirror.join("app.cpython-313.pyc")).unwrap();
    assert_eq!(
        (app.status, app.location),
        (Status::Fresh, crate::pyc::Location::Prefix)
    );
    assert_eq!(app.source.as_deref(), Some(p.join("app.py").as_path()));
    assert_eq!(app.module, "app");
    assert_eq!(
        status_of(&model, &mirror.join("old.cpython-313.pyc")),
        Status::Orphaned
    );
    assert_eq!(
        status_of(&model, &mirror.join("stray.pyc")),
        Status::Invalid
    );
    // Scanning only the prefix: the source lies outside every root, and is still found.
    let opts = ScanOptions::new(vec![]).with_prefix(Some(cache.path().into()));
    let model = scan_dir(opts);
    assert_eq!(
        status_of(&model, &mirror.join("app.cpython-313.pyc")),
        Status::Fresh
    );
    let module = &model.modules[&p.join("app.py")];
    assert!(module.source_exists());
    assert!(module.name.ends_with(".app") && !module.name.starts_with('.'));
}

#[test]
fn a_prefix_inside_the_root_is_read_as_a_prefix_once() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    source(&r.join("app.py"), "app = 1\n", T);
    let prefix = r.join("instance/tmp");
    let mirror = super::super::classify::prefix_cache_dir(&prefix, r);
    write(&mirror.join("app.cpython-313.pyc"), &ts_pyc(3571, T, 8));
    let opts = ScanOptions::new(vec![r.to_path_buf()]).with_prefix(Some(prefix.clone()));
    let model = scan_dir(opts);
    assert_eq!(model.caches.len(), 1);
    assert_eq!(model.caches[0].status, Status::Fresh);
    // Without the prefix the same file cannot be imported: orphaned, with a hint.
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    assert_eq!(model.caches[0].status, Status::Orphaned);
    assert!(
        model.caches[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("--pycache-prefix")
    );
}

#[test]
fn symlinks_are_not_followed_unless_asked_and_loops_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("root");
    let other = tmp.path().join("other");
    source(&other.join("o.py"), "", T);
    write(
        &other.join("__pycache__/o.cpython-313.pyc"),
        &ts_pyc(3571, T, 0),
    );
    std::fs::create_dir_all(r.join("a")).unwrap();
    std::os::unix::fs::symlink(&other, r.join("link")).unwrap();
    std::os::unix::fs::symlink(&r, r.join("a/loop")).unwrap();
    let model = scan_dir(ScanOptions::new(vec![r.clone()]));
    assert!(model.caches.is_empty() && model.errors.is_empty());
    let mut opts = ScanOptions::new(vec![r.clone()]);
    opts.follow_symlinks = true;
    let model = scan_dir(opts);
    assert_eq!(model.caches.len(), 1);
    assert_eq!(model.caches[0].status, Status::Fresh);
    let loops: Vec<_> = model
        .errors
        .iter()
        .filter(|e| e.kind == ScanErrorKind::SymlinkLoop)
        .collect();
    assert_eq!(loops.len(), 1, "{:?}", model.errors);
    assert_eq!(loops[0].path, r.join("a/loop"));
}

#[test]
fn a_symlinked_source_still_counts_for_its_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    source(&r.join("real/m.py"), "x = 1\n", T);
    std::os::unix::fs::symlink(r.join("real/m.py"), r.join("m.py")).unwrap();
    write(
        &r.join("__pycache__/m.cpython-313.pyc"),
        &ts_pyc(3571, T, 6),
    );
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    assert_eq!(
        status_of(&model, &r.join("__pycache__/m.cpython-313.pyc")),
        Status::Fresh
    );
}

#[test]
fn excludes_and_vcs_directories_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for dir in ["keep", "vendor", ".git", "deep/build"] {
        write(
            &r.join(dir).join("__pycache__/x.cpython-313.pyc"),
            &ts_pyc(3571, T, 0),
        );
    }
    let mut opts = ScanOptions::new(vec![r.to_path_buf()]);
    opts.excludes = vec!["vendor".into(), "deep/build".into()];
    let model = scan_dir(opts);
    assert_eq!(
        paths(&model),
        vec![r.join("keep/__pycache__/x.cpython-313.pyc")]
    );
    let mut opts = ScanOptions::new(vec![r.to_path_buf()]);
    opts.skip_vcs = false;
    opts.excludes = vec!["*.pyc".into()];
    let model = scan_dir(opts);
    assert!(model.caches.is_empty());
}

#[test]
fn non_utf8_names_are_judged_and_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let src = r.join(OsStr::from_bytes(b"caf\xe9.py"));
    source(&src, "x = 1\n", T);
    let pyc = r.join(OsStr::from_bytes(b"__pycache__/caf\xe9.cpython-313.pyc"));
    write(&pyc, &ts_pyc(3571, T, 6));
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    let c = model.cache(&pyc).unwrap();
    assert_eq!(c.status, Status::Fresh);
    assert_eq!(c.module, "caf\\xe9");
    let json = model.to_json_string();
    assert!(json.contains("caf\\\\xe9.cpython-313.pyc"), "{json}");
}

#[test]
fn bad_roots_are_findings_and_the_scan_still_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("file.py"), b"");
    let roots = vec![tmp.path().join("file.py"), tmp.path().join("missing")];
    let model = scan_dir(ScanOptions::new(roots));
    assert_eq!(model.errors.len(), 2);
    assert!(
        model
            .errors
            .iter()
            .all(|e| e.kind == ScanErrorKind::BadRoot)
    );
    assert!(model.errors[0].message.contains("is a file"));
}

#[test]
fn overlapping_roots_are_walked_once() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(
        &r.join("a/__pycache__/x.cpython-313.pyc"),
        &ts_pyc(3571, T, 0),
    );
    let model = scan_dir(ScanOptions::new(vec![
        r.join("a"),
        r.to_path_buf(),
        r.to_path_buf(),
    ]));
    assert_eq!(model.caches.len(), 1);
}

#[test]
fn large_trees_arrive_in_several_batches_and_a_dropped_receiver_stops_the_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for d in 0..50 {
        for f in 0..60 {
            let dir = r.join(format!("d{d}"));
            write(&dir.join(format!("m{f}.py")), b"");
            write(
                &dir.join(format!("__pycache__/m{f}.cpython-313.pyc")),
                &ts_pyc(3571, T, 0),
            );
        }
    }
    let (tx, rx) = std::sync::mpsc::channel::<ScanEvent>();
    let handle = spawn(ScanOptions::new(vec![r.to_path_buf()]), tx);
    let events: Vec<ScanEvent> = rx.iter().collect();
    handle.join().unwrap();
    assert!(events.len() > 2, "{} events", events.len());
    assert_eq!(events.last(), Some(&ScanEvent::Finished));
    let mut model = ScanModel::default();
    for e in events {
        model.apply(e);
    }
    assert_eq!(model.caches.len(), 3000);
    let (tx, rx) = std::sync::mpsc::channel::<ScanEvent>();
    drop(rx);
    spawn(ScanOptions::new(vec![r.to_path_buf()]), tx)
        .join()
        .unwrap();
}

#[test]
fn one_file_system_stays_on_the_roots_device() {
    use std::os::unix::fs::MetadataExt;
    let (dev, shm) = (Path::new("/dev"), Path::new("/dev/shm"));
    let separate = match (std::fs::metadata(dev), std::fs::metadata(shm)) {
        (Ok(a), Ok(b)) => a.dev() != b.dev(),
        _ => false,
    };
    let Ok(tmp) = tempfile::tempdir_in(shm) else {
        return eprintln!("skipped one_file_system test: /dev/shm is not writable");
    };
    if !separate {
        return eprintln!("skipped one_file_system test: /dev/shm is not a separate mount");
    }
    let pyc = tmp.path().join("__pycache__/x.cpython-313.pyc");
    write(&pyc, &ts_pyc(3571, T, 0));
    let model = scan_dir(ScanOptions::new(vec![dev.to_path_buf()]));
    assert!(model.cache(&pyc).is_some());
    let mut opts = ScanOptions::new(vec![dev.to_path_buf()]);
    opts.one_file_system = true;
    assert!(scan_dir(opts).cache(&pyc).is_none());
}

/// A worker that panics (a bug) ends the scan with that panic, never a hang: the other
/// workers stop, no `Finished` is sent, and `scan` returns the message as an error.
#[test]
fn a_worker_panic_ends_the_scan_as_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        source(&dir.path().join(format!("d{i}/m.py")), "x = 1\n", T);
    }
    source(&dir.path().join("boom/m.py"), "x = 1\n", T);
    let opts = ScanOptions::new(vec![dir.path().to_path_buf()]);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (tx, rx) = std::sync::mpsc::channel::<ScanEvent>();
        let scanner = std::thread::spawn(move || {
            run_with(&opts, &tx, |ctx, job, out| {
                if job.path.ends_with("boom") {
                    panic!("injected bug in boom");
                }
                visit::visit(ctx, job, out);
            });
        });
        let finished = rx.iter().any(|e| matches!(e, ScanEvent::Finished));
        let joined = scanner.join().map_err(|p| panic_message(p.as_ref()));
        let _ = done_tx.send((finished, joined));
    });
    let (finished, joined) = done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the scan hung after a worker panic");
    assert!(!finished, "a crashed scan must not claim to be finished");
    assert_eq!(joined, Err("injected bug in boom".to_string()));
}

#[test]
fn the_import_systems_rules_decide_each_verdict() {
    use crate::pyc::Outcome;
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    let pc = r.join("__pycache__");
    let good = ts_pyc(3571, T, 6);
    // Corrupt bodies after a valid header: the import fails.
    source(&r.join("cut.py"), "x = 1\n", T);
    write(&pc.join("cut.cpython-313.pyc"), &good[..good.len() - 9]);
    source(&r.join("junk.py"), "x = 1\n", T);
    let mut junk = good[..16].to_vec();
    junk.push(b'?');
    write(&pc.join("junk.cpython-313.pyc"), &junk);
    source(&r.join("none.py"), "x = 1\n", T);
    let mut none = good[..16].to_vec();
    none.push(b'N');
    write(&pc.join("none.cpython-313.pyc"), &none);
    // 3.13a6's magic under the 3.13 tag: "bad magic number", recompiled.
    source(&r.join("alpha.py"), "x = 1\n", T);
    write(&pc.join("alpha.cpython-313.pyc"), &ts_pyc(3570, T, 6));
    // Shadowed by an extension module of 3.13 (not of 3.12), and by a package.
    source(&r.join("md.py"), "x = 1\n", T);
    write(&r.join("md.cpython-313-x86_64-linux-gnu.so"), b"\x7fELF");
    write(&pc.join("md.cpython-313.pyc"), &good);
    write(&pc.join("md.cpython-312.pyc"), &ts_pyc(3531, T, 6));
    source(&r.join("pk.py"), "x = 1\n", T);
    source(&r.join("pk/__init__.py"), "", T);
    write(&pc.join("pk.cpython-313.pyc"), &good);
    // A plain directory (namespace portion) does not beat the module.
    source(&r.join("ns.py"), "x = 1\n", T);
    std::fs::create_dir(r.join("ns")).unwrap();
    write(&pc.join("ns.cpython-313.pyc"), &good);
    // A symlinked cache is judged through the link.
    source(&r.join("ln.py"), "x = 1\n", T);
    write(&r.join("store/ln.pyc"), &good);
    std::os::unix::fs::symlink(r.join("store/ln.pyc"), pc.join("ln.cpython-313.pyc")).unwrap();
    // pytest's caches: its own kind, judged by pytest's rule.
    source(&r.join("test_a.py"), "x = 1\n", T);
    write(&pc.join("test_a.cpython-313-pytest-8.4.2.pyc"), &good);
    write(&pc.join("test_a.cpython-313-PYTEST.pyc"), &junk);
    write(&pc.join("test_gone.cpython-313-pytest-8.4.2.pyc"), &good);
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    let expect = [
        (
            "__pycache__/cut.cpython-313.pyc",
            Status::Invalid,
            Outcome::ImportError,
        ),
        (
            "__pycache__/junk.cpython-313.pyc",
            Status::Invalid,
            Outcome::ImportError,
        ),
        (
            "__pycache__/none.cpython-313.pyc",
            Status::Invalid,
            Outcome::ImportError,
        ),
        (
            "__pycache__/alpha.cpython-313.pyc",
            Status::Invalid,
            Outcome::Recompiled,
        ),
        (
            "__pycache__/md.cpython-313.pyc",
            Status::Shadowed,
            Outcome::NeverConsulted,
        ),
        (
            "__pycache__/md.cpython-312.pyc",
            Status::Fresh,
            Outcome::Used,
        ),
        (
            "__pycache__/pk.cpython-313.pyc",
            Status::Shadowed,
            Outcome::NeverConsulted,
        ),
        (
            "__pycache__/ns.cpython-313.pyc",
            Status::Fresh,
            Outcome::Used,
        ),
        (
            "__pycache__/ln.cpython-313.pyc",
            Status::Fresh,
            Outcome::Used,
        ),
        (
            "__pycache__/test_a.cpython-313-pytest-8.4.2.pyc",
            Status::Fresh,
            Outcome::NeverConsulted,
        ),
        (
            "__pycache__/test_a.cpython-313-PYTEST.pyc",
            Status::Stale,
            Outcome::NeverConsulted,
        ),
        (
            "__pycache__/test_gone.cpython-313-pytest-8.4.2.pyc",
            Status::Orphaned,
            Outcome::NeverConsulted,
        ),
    ];
    for (rel, status, outcome) in expect {
        let c = model
            .cache(&r.join(rel))
            .unwrap_or_else(|| panic!("{rel} not found; have {:?}", paths(&model)));
        assert_eq!(
            (c.status, c.verdict.outcome),
            (status, outcome),
            "{rel}: {:?}",
            c.reason
        );
    }
    let reason = |rel: &str| model.cache(&r.join(rel)).unwrap().reason.clone().unwrap();
    assert!(reason("__pycache__/cut.cpython-313.pyc").contains("EOFError"));
    assert!(
        reason("__pycache__/junk.cpython-313.pyc")
            .contains("ValueError: bad marshal data (unknown type code)")
    );
    assert!(reason("__pycache__/none.cpython-313.pyc").contains("ImportError: Non-code object"));
    assert!(reason("__pycache__/alpha.cpython-313.pyc").contains("bad magic number"));
    assert!(
        reason("__pycache__/md.cpython-313.pyc").contains("md.cpython-313-x86_64-linux-gnu.so")
    );
    let ln = model.cache(&pc.join("ln.cpython-313.pyc")).unwrap();
    assert!(ln.kind.link);
    let pt = model
        .cache(&pc.join("test_a.cpython-313-pytest-8.4.2.pyc"))
        .unwrap();
    assert_eq!(pt.kind.pytest.as_deref(), Some("8.4.2"));
    assert_eq!(pt.source.as_deref(), Some(r.join("test_a.py").as_path()));
    // --header-only keeps the 16-byte fast path: the corrupt bodies look fresh.
    let mut opts = ScanOptions::new(vec![r.to_path_buf()]);
    opts.header_only = true;
    let fast = scan_dir(opts);
    let cut = fast.cache(&pc.join("cut.cpython-313.pyc")).unwrap();
    assert_eq!(cut.status, Status::Fresh);
    assert!(!cut.kind.body_checked);
}

#[test]
fn mtimes_round_like_python_floats() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    source(&r.join("m.py"), "x = 1\n", T);
    let f = std::fs::File::options()
        .write(true)
        .open(r.join("m.py"))
        .unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::new(T, 999_999_999))
        .unwrap();
    // int(st_mtime) is T + 1: the float T.999999999 rounds up.
    write(
        &r.join("__pycache__/m.cpython-313.pyc"),
        &ts_pyc(3571, T + 1, 6),
    );
    write(
        &r.join("__pycache__/m.cpython-312.pyc"),
        &ts_pyc(3531, T, 6),
    );
    let model = scan_dir(ScanOptions::new(vec![r.to_path_buf()]));
    assert_eq!(
        status_of(&model, &r.join("__pycache__/m.cpython-313.pyc")),
        Status::Fresh
    );
    assert_eq!(
        status_of(&model, &r.join("__pycache__/m.cpython-312.pyc")),
        Status::Stale
    );
}
