//! Entering and leaving full-screen mode, and making sure the terminal is restored on
//! every way out: normal quit, error return (a guard), panic on any thread (a hook that
//! restores, then calls the previous hook), signals (the loop ends), and Ctrl-Z.

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// The terminal type the explorer draws on. Buffered, so a frame leaves in one write.
pub type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// True while the terminal is in raw mode and the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Restores the terminal when dropped (error returns and panics on the UI thread).
#[derive(Debug)]
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Enters raw mode and the alternate screen; returns the terminal and its guard.
pub fn enter() -> io::Result<(Term, Guard)> {
    install_panic_hook();
    activate()?;
    let guard = Guard;
    Ok((new_terminal()?, guard))
}

/// A terminal whose previous frame is blank, so its first draw paints every cell.
/// (`Terminal::clear` would ask the terminal for the cursor position and wait for the
/// answer, slow over ssh and racing the input thread; clearing is done in `activate`.)
fn new_terminal() -> io::Result<Term> {
    Terminal::new(CrosstermBackend::new(BufWriter::with_capacity(
        1 << 16,
        io::stdout(),
    )))
}

fn activate() -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        Hide,
        Clear(ClearType::All)
    )
}

/// Leaves raw mode and the alternate screen; does nothing the second time.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}

/// False once something (a panic on another thread) restored the terminal under us.
pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

/// Restores the terminal before the previous hook prints the panic, on any thread.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Ctrl-Z: give the terminal back, stop, and take it again when the shell resumes us.
pub fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    signal_hook::low_level::raise(signal_hook::consts::SIGTSTP)?;
    activate()?;
    // The shell may have drawn anything meanwhile: repaint every cell.
    *term = new_terminal()?;
    Ok(())
}

/// Draws a frame inside synchronized output (DEC mode 2026): a terminal that knows it
/// shows the frame at once instead of painting it as it arrives over a slow link; one
/// that does not ignores the two sequences (16 bytes a frame).
pub fn draw_frame(term: &mut Term, render: impl FnOnce(&mut ratatui::Frame)) -> io::Result<()> {
    use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    crossterm::queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    term.draw(render)?;
    execute!(term.backend_mut(), EndSynchronizedUpdate)
}
