//! The one integration-test binary: runs the real `pycache` executable.
//! Each subcommand has its own module; shared helpers are in `support`.
#![allow(clippy::unwrap_used)]

mod basics;
mod clean;
mod demo;
mod doctor;
mod imports;
mod inspect;
mod recompile;
mod scan;
mod schema;
mod support;
mod tui_pty;
