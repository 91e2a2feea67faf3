//! The explorer end to end: the real binary in a pseudo-terminal (portable-pty), the screen
//! read back through a terminal emulator (vt100). Waits poll the screen with a generous
//! timeout; no fixed sleeps decide a result.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod flags;
mod large;
mod service;

const TIMEOUT: Duration = Duration::from_secs(20);

/// A running explorer and its screen.
struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Set once the reader saw the end of the output (every writer closed the terminal).
    eof: Arc<AtomicBool>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        Session::start_program(env!("CARGO_BIN_EXE_pycache"), args)
    }

    /// Runs `program` (e.g. a shell that redirects pycache's stdin) in the terminal.
    fn start_program(program: &str, args: &[&str]) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("PYTHONPYCACHEPREFIX");
        cmd.env_remove("NO_COLOR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let rows = NonZeroU16::new(24).unwrap();
        let cols = NonZeroU16::new(80).unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let p = Arc::clone(&parser);
        let eof = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&eof);
        std::thread::spawn(move || {
            // Keep the master open for the reader's lifetime.
            let _master = pty.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
            done.store(true, Ordering::SeqCst);
        });
        Session {
            parser,
            eof,
            writer,
            child,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `ok`; fails with the last screen after the timeout.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for(&self, text: &str) {
        self.wait(text, |s| s.contains(text));
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the process to end; returns its exit code.
    fn exit_code(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "the explorer did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn in_alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// After the exit: true when the screen is still the alternate one once every byte
    /// the explorer wrote has been read.
    fn left_in_alternate_screen(&self) -> bool {
        let start = Instant::now();
        while !self.eof.load(Ordering::SeqCst) {
            assert!(start.elapsed() < TIMEOUT, "the terminal output never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.in_alternate_screen()
    }
}

/// A 3.13 timestamp header matching `source` (or any values for an orphan).
fn header(mtime: u32, size: u32) -> Vec<u8> {
    let mut b = 3571u16.to_le_bytes().to_vec();
    b.extend([0x0d, 0x0a, 0, 0, 0, 0]);
    b.extend(mtime.to_le_bytes());
    b.extend(size.to_le_bytes());
    // A marshalled `None` as the body: the verdict only needs the header.
    b.push(b'N');
    b
}

/// app.py with a fresh 3.13 cache, and gone.cpython-313.pyc whose source is gone.
fn project(dir: &Path) {
    std::fs::write(dir.join("app.py"), "import os\n").unwrap();
    let meta = std::fs::metadata(dir.join("app.py")).unwrap();
    let pyc = dir.join("__pycache__");
    std::fs::create_dir(&pyc).unwrap();
    std::fs::write(
        pyc.join("app.cpython-313.pyc"),
        header(meta.mtime() as u32, meta.size() as u32),
    )
    .unwrap();
    std::fs::write(pyc.join("gone.cpython-313.pyc"), header(1, 1)).unwrap();
}

#[test]
fn navigate_to_an_orphan_clean_it_and_quit_with_the_terminal_restored() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut s = Session::start(&[dir.path().to_str().unwrap()]);
    s.wait_for("gone.py");
    s.wait_for("313 orphan");
    // Jump to the only problem and read why.
    s.keys("n");
    s.wait_for("source is gone");
    s.keys("c");
    s.wait_for("plan: remove 1 cache file");
    // The dialog alone deletes nothing.
    assert!(dir.path().join("__pycache__/gone.cpython-313.pyc").exists());
    s.keys("y");
    s.wait_for("removed 1 file");
    assert!(!dir.path().join("__pycache__/gone.cpython-313.pyc").exists());
    s.keys("\r");
    s.wait("the orphan to leave the tree", |screen| {
        !screen.contains("gone.py") && screen.contains("app.py")
    });
    assert!(dir.path().join("__pycache__/app.cpython-313.pyc").exists());
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
    assert!(
        !s.left_in_alternate_screen(),
        "the terminal was left in the alternate screen"
    );
}

#[test]
fn cancelling_the_confirm_dialog_keeps_every_file() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut s = Session::start(&["--ascii", dir.path().to_str().unwrap()]);
    s.wait_for("313 orphan");
    s.keys("nc");
    s.wait_for("plan: remove 1 cache file");
    s.keys("\x1b");
    s.wait_for("cancelled: nothing was changed");
    assert!(dir.path().join("__pycache__/gone.cpython-313.pyc").exists());
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
}

#[test]
fn read_only_offers_no_clean() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut s = Session::start(&["--read-only", dir.path().to_str().unwrap()]);
    s.wait_for("313 orphan");
    s.keys("nc");
    s.wait_for("read-only session");
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
    assert!(dir.path().join("__pycache__/gone.cpython-313.pyc").exists());
}

#[test]
fn sigterm_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut s = Session::start(&[dir.path().to_str().unwrap()]);
    s.wait_for("gone.py");
    assert!(s.in_alternate_screen());
    let pid = s.child.process_id().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(s.exit_code(), 128 + 15);
    assert!(
        !s.left_in_alternate_screen(),
        "SIGTERM left the alternate screen on"
    );
}

#[test]
fn help_lists_the_keys_and_closes() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut s = Session::start(&[dir.path().to_str().unwrap()]);
    s.wait_for("gone.py");
    s.keys("?");
    s.wait_for("show this help");
    s.keys("\x1b");
    s.wait("the help to close", |screen| {
        !screen.contains("show this help")
    });
    // Esc on the main screen does not throw the scan away; q quits.
    s.keys("\x1b");
    s.wait_for("Esc does not quit: press q to quit");
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
    assert!(!s.left_in_alternate_screen());
}

#[test]
fn the_demo_opens_in_the_explorer_and_its_orphans_can_be_found_read_and_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut s = Session::start(&["demo", demo.to_str().unwrap()]);
    s.wait_for("analytics_queue.py");
    // The demo's prefix tree is scanned too: its caches show as `313@prefix`.
    s.wait_for("313@prefix");
    // The verdict view lists the orphaned modules together.
    s.keys("v");
    s.wait_for("orphaned");
    s.keys("jlj");
    s.wait_for("source is gone");
    s.wait_for("migrate_drop_password_plain");
    let root = demo.canonicalize().unwrap();
    let orphan = root.join("__pycache__/migrate_drop_password_plain.cpython-313.pyc");
    assert!(orphan.exists());
    s.keys("c");
    s.wait_for("plan: remove 2 cache files");
    s.keys("y");
    s.wait_for("removed 2 files");
    assert!(!orphan.exists());
    s.keys("\r");
    s.wait("the orphan to leave the tree", |screen| {
        !screen.contains("migrate_drop_password") && screen.contains("migrate_to_sqlcipher")
    });
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
    assert!(!s.left_in_alternate_screen());
}

/// Writes the test project into `app` and returns its `scan --json`.
fn project_snapshot(app: &Path) -> Vec<u8> {
    std::fs::create_dir(app).unwrap();
    project(app);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pycache"))
        .args(["scan", "--json"])
        .arg(app)
        .env_remove("PYTHONPYCACHEPREFIX")
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn a_snapshot_opens_read_only_and_the_clean_key_offers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    let snapshot = dir.path().join("scan.json");
    std::fs::write(&snapshot, project_snapshot(&app)).unwrap();
    // Even a snapshot whose project is gone opens: nothing is read from this disk.
    std::fs::remove_dir_all(&app).unwrap();
    let mut s = Session::start(&["--from", snapshot.to_str().unwrap()]);
    s.wait_for("snapshot of");
    s.wait_for("gone.py");
    s.wait_for("a saved scan");
    s.keys("nc");
    s.wait_for("clean is off");
    s.keys("p");
    s.wait_for("recompile is off");
    s.keys("R");
    s.wait_for("rescan is off");
    let screen = s.screen();
    assert!(!screen.contains("plan:"), "{screen}");
    assert!(!screen.contains("clean problems"), "{screen}");
    s.keys("q");
    assert_eq!(s.exit_code(), 0);
    assert!(!s.left_in_alternate_screen());
}

#[test]
fn a_snapshot_reads_the_same_from_a_file_stdin_gzip_and_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let json = project_snapshot(&dir.path().join("app"));
    let plain = dir.path().join("scan.json");
    std::fs::write(&plain, &json).unwrap();
    let gz = dir.path().join("scan.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zst = dir.path().join("scan.json.zst");
    std::fs::write(&zst, zstd::encode_all(json.as_slice(), 3).unwrap()).unwrap();
    // The screen of each, but for the tree's title, which names the file.
    let screen_of = |mut s: Session| {
        s.wait_for("snapshot of");
        s.wait_for("gone.py");
        let screen: Vec<String> = s
            .screen()
            .lines()
            .filter(|l| !l.contains("Snapshot "))
            .map(str::to_string)
            .collect();
        s.keys("q");
        assert_eq!(s.exit_code(), 0);
        screen
    };
    let from_file = screen_of(Session::start(&["--from", plain.to_str().unwrap()]));
    let bin = env!("CARGO_BIN_EXE_pycache");
    let from_stdin = screen_of(Session::start_program(
        "/bin/sh",
        &[
            "-c",
            "exec \"$0\" --from - < \"$1\"",
            bin,
            plain.to_str().unwrap(),
        ],
    ));
    let from_gzip = screen_of(Session::start(&["--from", gz.to_str().unwrap()]));
    let from_zstd = screen_of(Session::start(&["--from", zst.to_str().unwrap()]));
    assert!(from_file.iter().any(|l| l.contains("gone.py")));
    assert_eq!(from_stdin, from_file, "stdin");
    assert_eq!(from_gzip, from_file, "gzip file");
    assert_eq!(from_zstd, from_file, "zstd file");
}
