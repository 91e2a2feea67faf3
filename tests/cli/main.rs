//! The one integration-test binary: runs the real `pycache` executable.
//! Each subcommand has its own module; shared helpers are in `support`.
#![allow(clippy::unwrap_used)]

mod ansible;
mod as_root;
mod attacks;
mod basics;
mod bounded;
mod clean;
mod demo;
mod doctor;
mod doctor_image;
mod imports;
mod insecure;
mod inspect;
mod metrics;
mod notices;
mod oracle;
mod paths;
mod quarantine_crash;
mod recompile;
mod recompile_honest;
mod review;
mod review2;
mod scan;
mod scan_from;
mod schema;
mod service;
mod service_oracle;
mod support;
mod timeouts;
mod today;
mod tui_pty;
mod venv_tools;
