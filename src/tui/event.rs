//! Everything the event loop reacts to arrives on one channel: keys and resizes from the
//! input thread, scan output, worker progress, lazily loaded details, and signals.

use super::app::{CodeView, Reach};
use super::work::WorkEvent;
use crossterm::event::{self as ct, KeyEvent, KeyEventKind};
use pycache::scan::ScanEvent;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Duration;

/// How often the input thread wakes to animate progress when no key arrives.
pub const TICK: Duration = Duration::from_millis(200);

/// Something that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal was resized.
    Resize(u16, u16),
    /// Time passed (animates the scan spinner and progress).
    Tick,
    /// Output of the scan with this generation (older scans are ignored).
    Scan(u64, ScanEvent),
    /// The scan thread of this generation ended; `Some(why)` when it panicked.
    ScanEnded(u64, Option<String>),
    /// The worker reports on a confirmed action.
    Work(WorkEvent),
    /// A cache's code object was decoded (or not, with why).
    Code(PathBuf, Result<CodeView, String>),
    /// The import analysis finished: reachability by module source path.
    Reach(Result<Vec<(PathBuf, Reach)>, String>),
    /// Whether this user can write a directory's `__pycache__`, in words.
    Access(PathBuf, String),
    /// A uid's user name was looked up.
    Owner(u32, Option<String>),
    /// A clean planned off the UI thread: its confirm dialog, or why there is none.
    Planned(Result<super::work::Dialog, String>),
    /// The service's next start was judged (or why not).
    Service(Result<Box<pycache::context::Service>, String>),
    /// The same service under the tree's other tags: (title, context and view), for the
    /// judgement of this round (an older round's are dropped).
    Alternatives(u64, Vec<(String, pycache::context::switch::Alternative)>),
    /// A context's compile and load times were measured (by its title), or why not.
    Measured(String, Result<pycache::context::switch::Measured, String>),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT arrived.
    Signal(i32),
    /// Reading the terminal failed; the loop ends with this error.
    InputError(String),
}

/// Reads keys and resizes until the receiver is gone.
pub fn spawn_input(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("pycache-input".into())
        .spawn(move || {
            loop {
                let ev = match ct::poll(TICK) {
                    Ok(true) => match ct::read() {
                        // Only presses: terminals with the kitty protocol also report releases.
                        Ok(ct::Event::Key(k)) if k.kind == KeyEventKind::Press => Event::Key(k),
                        Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                        Ok(_) => continue,
                        Err(e) => Event::InputError(e.to_string()),
                    },
                    Ok(false) => Event::Tick,
                    Err(e) => Event::InputError(e.to_string()),
                };
                let stop = matches!(ev, Event::InputError(_));
                // A failed send means the loop has ended: the user quit.
                if tx.send(ev).is_err() || stop {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Forwards termination signals to the loop, so the terminal is restored before exit.
pub fn spawn_signals(tx: Sender<Event>) -> std::io::Result<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])?;
    let handle = signals.handle();
    std::thread::Builder::new()
        .name("pycache-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if tx.send(Event::Signal(sig)).is_err() {
                    return;
                }
            }
        })?;
    Ok(handle)
}
