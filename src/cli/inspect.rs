//! `pycache inspect FILE...`: decode .pyc files.

use color_eyre::eyre::Result;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The .pyc files to decode.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `inspect`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut code = ExitCode::SUCCESS;
    for file in &args.files {
        match std::fs::read(file) {
            Ok(bytes) => match pycache::pyc::header::parse(&bytes) {
                Ok(h) => println!("{}: {}", file.display(), h.magic.describe()),
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    code = ExitCode::from(2);
                }
            },
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                code = ExitCode::from(2);
            }
        }
    }
    Ok(code)
}
