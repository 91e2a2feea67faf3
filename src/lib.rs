//! pycache explains and repairs Python bytecode caches.
//!
//! Module map (the library holds the logic; the terminal UI and the CLI live in the binary):
//! - [`pyc`]: the `.pyc` format, CPython's magic numbers, cache names, and verdicts.

pub mod pyc;
