//! pycache explains and repairs Python bytecode caches.
//!
//! Module map (the library holds the logic; the terminal UI and the CLI live in the binary):
//! - [`actions`]: clean and recompile, as plans shown before anything changes.
//! - [`pyc`]: the `.pyc` format, CPython's magic numbers, cache names, and verdicts.
//! - [`context`]: who runs a service and how, and what its next start does per module.
//! - [`doctor`]: why a service has no usable caches, what it costs per start, the fix.
//! - [`imports`]: which project modules the entry points import, from the sources alone.
//! - [`paths`]: user-given paths made absolute and clean once, before any comparison.
//! - [`scan`]: the walker, the verdicts per cache, and the shared scan model.
//! - [`fleet`]: several snapshots opened together, one tree per host.
//! - [`metrics`]: the Prometheus textfile of a scan or a diagnosis (`--metrics FILE`).
//! - [`fsread`]: opening files for reading: regular files only, never blocking, capped.
//! - [`text`]: names as exact text (JSON) and as terminal-safe text (everything printed).
//! - [`demo`]: the bundled demo project (`pycache demo`), written with designed mtimes.

pub mod actions;
pub mod context;
pub mod demo;
pub mod doctor;
pub mod fleet;
pub mod fsread;
pub mod imports;
pub mod metrics;
pub mod paths;
pub mod pyc;
pub(crate) mod safe_dir;
pub mod scan;
pub mod text;

/// The live tests' interpreter finder (pyenv, 3.14/3.15, PyPy; required under CI), shared
/// with the integration tests.
#[cfg(test)]
#[path = "../tests/common/interpreters.rs"]
pub(crate) mod test_interpreters;
