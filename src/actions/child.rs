//! Child processes with a deadline and bounded output.
//!
//! Every program pycache starts gets a time limit; on expiry its whole process group is
//! killed (a shell script's `sleep` would otherwise keep the pipes open), and the caller
//! gets an error naming the program. Output is read up to a cap, so a child that writes
//! without end cannot grow pycache's memory.

use crate::scan::record::display_path;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io::{BufRead, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a finished child left.
#[derive(Debug)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output, up to the cap.
    pub stdout: Vec<u8>,
    /// The last 4 KiB of its standard error.
    pub stderr: Vec<u8>,
}

/// Puts the child in its own process group, so [`kill`] ends everything it started.
pub fn own_group(cmd: &mut Command) -> &mut Command {
    cmd.process_group(0)
}

/// Kills the child's process group and reaps the child.
pub fn kill(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cmd` (stdin fed from `input`, stdout and stderr captured) for at most `limit`;
/// stdout longer than `cap` bytes is an error too. `program` names it in errors.
pub fn run(
    cmd: &mut Command,
    program: &Path,
    input: Option<&[u8]>,
    limit: Duration,
    cap: usize,
) -> Result<Output, String> {
    let name = display_path(program);
    own_group(cmd)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {name}: {}", crate::imports::io_reason(&e)))?;
    let started = Instant::now();
    if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), input) {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let out = Arc::new(Mutex::new((Vec::new(), false, false)));
    let err = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut pipe) = child.stdout.take() {
        let out = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = pipe.read(&mut buf).unwrap_or(0);
                let Ok(mut o) = out.lock() else { return };
                if n == 0 {
                    o.2 = true;
                    return;
                }
                if o.0.len() + n > cap {
                    o.1 = true;
                    return;
                }
                o.0.extend_from_slice(&buf[..n]);
            }
        });
    }
    if let Some(pipe) = child.stderr.take() {
        drain_tail(pipe, Arc::clone(&err));
    }
    let status = loop {
        let overflow = out.lock().map(|o| o.1).unwrap_or(false);
        if overflow {
            kill(&mut child);
            return Err(format!(
                "{name} wrote more than {} KiB: stopped",
                cap / 1024
            ));
        }
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > limit => {
                kill(&mut child);
                return Err(format!(
                    "{name} did not finish within {} s: killed",
                    limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                kill(&mut child);
                return Err(format!("waiting for {name}: {e}"));
            }
        }
    };
    // Whatever it left running is ended too; then collect the rest of the output.
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let grace = Instant::now();
    while !out.lock().map(|o| o.2 || o.1).unwrap_or(true)
        && grace.elapsed() < Duration::from_millis(500)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    let stdout = out.lock().map(|o| o.0.clone()).unwrap_or_default();
    let stderr = err.lock().map(|e| e.clone()).unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Reads a pipe to its end on a thread, keeping the last 4 KiB (for error messages).
pub fn drain_tail(mut pipe: impl Read + Send + 'static, tail: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = tail.lock() {
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(4096);
                t.drain(..excess);
            }
        }
    });
}

/// One message from a long-lived child's stdout.
#[derive(Debug)]
pub enum Message {
    /// A line (without its newline), at most the line cap.
    Line(Vec<u8>),
    /// A binary payload of the length the previous line announced.
    Bytes(Vec<u8>),
    /// Output ended, a line was too long, or a payload was cut short.
    End(String),
}

/// What the reader thread should read next.
pub enum Want {
    /// A line of at most this many bytes.
    Line(usize),
    /// Exactly this many bytes.
    Bytes(usize),
}

/// Reads a long-lived child's stdout on a thread: the caller says what to read next over
/// `want`, and receives it (or the end) on the returned channel, with its own deadline.
pub fn reader(pipe: impl Read + Send + 'static) -> (mpsc::Sender<Want>, mpsc::Receiver<Message>) {
    let (want_tx, want_rx) = mpsc::channel::<Want>();
    let (tx, rx) = mpsc::channel::<Message>();
    std::thread::spawn(move || {
        let mut input = std::io::BufReader::new(pipe);
        for want in want_rx {
            let msg = match want {
                Want::Line(cap) => read_line(&mut input, cap),
                Want::Bytes(n) => {
                    let mut buf = Vec::new();
                    match (&mut input).take(n as u64).read_to_end(&mut buf) {
                        Ok(got) if got == n => Message::Bytes(buf),
                        _ => Message::End(format!(
                            "its output ended after {} of {n} bytes",
                            buf.len()
                        )),
                    }
                }
            };
            let end = matches!(msg, Message::End(_));
            if tx.send(msg).is_err() || end {
                return;
            }
        }
    });
    (want_tx, rx)
}

fn read_line(input: &mut impl BufRead, cap: usize) -> Message {
    let mut line = Vec::new();
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) => return Message::End(e.to_string()),
        };
        if buf.is_empty() {
            return Message::End("it exited".into());
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > cap + 1 {
            return Message::End(format!("it wrote a line longer than {cap} bytes"));
        }
        line.extend_from_slice(&buf[..take]);
        input.consume(take);
        if done {
            line.pop();
            return Message::Line(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hanging_child_is_killed_with_its_children() {
        let started = Instant::now();
        let err = run(
            Command::new("/bin/sh").args(["-c", "sleep 30 & sleep 30"]),
            Path::new("/bin/sh"),
            None,
            Duration::from_millis(300),
            1024,
        )
        .unwrap_err();
        assert!(err.contains("did not finish within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn endless_output_is_cut_at_the_cap() {
        let err = run(
            Command::new("/bin/sh").args(["-c", "yes"]),
            Path::new("yes"),
            None,
            Duration::from_secs(20),
            64 * 1024,
        )
        .unwrap_err();
        assert!(err.contains("more than 64 KiB"), "{err}");
        let ok = run(
            Command::new("/bin/sh").args(["-c", "cat; echo done >&2"]),
            Path::new("sh"),
            Some(b"hello"),
            Duration::from_secs(20),
            1024,
        )
        .unwrap();
        assert_eq!(ok.stdout, b"hello");
        assert_eq!(ok.stderr, b"done\n");
    }

    #[test]
    fn lines_are_bounded() {
        let mut input = std::io::Cursor::new(b"short\nlooooooooong\n".to_vec());
        assert!(matches!(read_line(&mut input, 8), Message::Line(l) if l == b"short"));
        assert!(matches!(read_line(&mut input, 8), Message::End(_)));
    }
}
