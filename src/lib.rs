//! pycache explains and repairs Python bytecode caches.
//!
//! Module map (the library holds the logic; the terminal UI and the CLI live in the binary):
//! - [`pyc`]: the `.pyc` format, CPython's magic numbers, cache names, and verdicts.
//! - [`scan`]: the walker, the verdicts per cache, and the shared scan model.

pub mod pyc;
pub mod scan;
