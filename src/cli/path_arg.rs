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
        if value.is_empty() {
            let name = arg.map_or_else(|| "PATH".to_string(), ToString::to_string);
            return Err(cmd.clone().error(
                clap::error::ErrorKind::InvalidValue,
                format!("{name} is empty; give a path ('.' for the current directory)"),
            ));
        }
        pycache::paths::normalize(Path::new(value)).map_err(|e| {
            cmd.clone().error(
                clap::error::ErrorKind::Io,
                format!(
                    "cannot resolve the relative path {}: the current directory is unreadable \
                     ({e}); give an absolute path or cd to an existing directory",
                    Path::new(value).display()
                ),
            )
        })
    }
}
