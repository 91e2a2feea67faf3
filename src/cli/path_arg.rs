//! The clap value parser of every path argument: each path given on the command line is
//! normalised here, once ([`pycache::paths::normalize`]: absolute, lexically clean, links
//! not resolved), so everything after parsing compares one spelling of each path.

use clap::builder::TypedValueParser;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `value_parser = PathArg` on a `PathBuf` argument.
#[derive(Debug, Clone, Copy)]
pub struct PathArg;

impl TypedValueParser for PathArg {
    type Value = PathBuf;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<PathBuf, clap::Error> {
        let name = match arg {
            Some(a) if a.is_positional() => a
                .get_value_names()
                .and_then(|v| v.first())
                .map_or_else(|| "PATH".to_string(), ToString::to_string),
            Some(a) => a
                .get_long()
                .map_or_else(|| a.to_string(), |l| format!("--{l}")),
            None => "PATH".to_string(),
        };
        if value.is_empty() {
            return Err(cmd.clone().error(
                clap::error::ErrorKind::InvalidValue,
                format!("{name} is empty; give a path ('.' for the current directory)"),
            ));
        }
        // `-` is standard input (`--from -`), not a file in the current directory.
        if value == "-" {
            return Ok(PathBuf::from("-"));
        }
        pycache::paths::normalize(Path::new(value)).map_err(|e| {
            let text = e.to_string();
            let why = text
                .split(" (os error")
                .next()
                .unwrap_or(&text)
                .to_lowercase();
            cmd.clone().error(
                clap::error::ErrorKind::Io,
                format!(
                    "cannot resolve {name} {}: the current directory cannot be read ({why}); \
                     give an absolute path or cd to an existing directory",
                    pycache::scan::display_path(Path::new(value))
                ),
            )
        })
    }
}
