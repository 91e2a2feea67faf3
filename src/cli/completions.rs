//! `pycache completions SHELL` and `pycache man`: generated from the clap definitions, so
//! they can never disagree with the real options. The man page is one page with every
//! subcommand in it (its usage, options and examples), as users of a single binary expect
//! `man pycache` to be complete.

use super::Cli;
use clap::CommandFactory;
use color_eyre::eyre::Result;
use std::io::Write;
use std::process::ExitCode;

const COMPLETIONS_AFTER_HELP: &str = "\
Examples:
  bash, for your user (needs the bash-completion package):
    mkdir -p ~/.local/share/bash-completion/completions
    pycache completions bash > ~/.local/share/bash-completion/completions/pycache
  zsh (a directory listed in $fpath; then restart zsh):
    pycache completions zsh > ~/.zfunc/_pycache
  fish:
    pycache completions fish > ~/.config/fish/completions/pycache.fish

Exit status: 0 printed, 2 usage or I/O error.";

/// `pycache man --help`'s epilogue.
pub const MAN_AFTER_HELP: &str = "\
Examples:
  Read it now:
    pycache man | man -l -
  Install it for your user (MANPATH includes ~/.local/share/man on most systems):
    mkdir -p ~/.local/share/man/man1
    pycache man > ~/.local/share/man/man1/pycache.1

Exit status: 0 printed, 2 usage or I/O error.";

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = COMPLETIONS_AFTER_HELP)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints shell completions to stdout.
pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "pycache", &mut out);
    write_stdout(&out)
}

/// Prints the roff man page to stdout.
pub fn man() -> Result<ExitCode> {
    write_stdout(&man_page()?)
}

/// The man page: the top level as clap_mangen renders it, then a section per subcommand.
fn man_page() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    // Left-aligned and unhyphenated: option names must stay whole to be searched for.
    out.extend_from_slice(b".ad l\n.nh\n");
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if let Some(text) = cmd.get_after_help() {
        out.extend_from_slice(b".SH \"EXPLORER, EXAMPLES, EXIT STATUS\"\n");
        literal(&mut out, &text.to_string());
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_string();
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", escape(&about.to_string()))?;
        }
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_options_section(&mut part)?;
        demote(&mut out, &String::from_utf8_lossy(&part));
        if let Some(text) = sub.get_after_help() {
            literal(&mut out, &text.to_string());
        }
    }
    man.render_version_section(&mut out)?;
    Ok(once_preamble(&out))
}

/// Each clap_mangen render starts with the same two-line preamble; keep the first.
fn once_preamble(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut kept = 0;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with(".ie \\n(.g") || line.starts_with(".el .ds Aq") {
            if kept == 2 {
                continue;
            }
            kept += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

/// Copies a subcommand's sections into its own: their headings become bold titles.
fn demote(out: &mut Vec<u8>, roff: &str) {
    for line in roff.lines() {
        match line.strip_prefix(".SH ") {
            Some(title) => {
                let title = title.trim_matches('"');
                let title = format!(".PP\n\\fB{}\\fR\n.br\n", escape(title));
                out.extend_from_slice(title.as_bytes());
            }
            None => {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
        }
    }
}

/// Text whose line breaks matter (examples, exit codes), kept as written.
fn literal(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b".PP\n.nf\n");
    for line in text.lines() {
        // `\&` first: a line starting with `.` or `'` would be read as a request.
        out.extend_from_slice(format!("\\&{}\n", escape(line)).as_bytes());
    }
    out.extend_from_slice(b".fi\n");
}

/// Escapes roff's backslash, and writes dashes as the minus signs of options.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// Writes everything; a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
