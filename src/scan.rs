//! Scanning: walk roots, find sources and caches, judge each cache, and build the model.
//!
//! - [`record`]: what is found (sources, caches with verdicts, errors).
//! - [`model`]: the shared inventory, changed only by [`ScanModel::apply`].
//! - [`options`]: what to scan (roots, prefix, symlinks, excludes).
//! - [`walk`]: the scanner thread ([`spawn`], [`scan`]); `visit` reads one directory.
//! - [`classify`]: the rules: names, source mapping, module names, one cache's record.
//! - [`packages`]: regular and namespace packages, derived from the model.
//! - [`json`]: the machine outputs (snapshot, one object per cache, summary), streamed.
//! - [`snapshot`]: loading a saved `scan --json` for offline review.

mod caches;
pub mod classify;
pub mod json;
pub mod model;
mod modules;
pub mod options;
pub mod packages;
pub mod record;
pub mod snapshot;
mod visit;
pub mod walk;

pub use model::{
    Module, Modules, Progress, SCHEMA, ScanBatch, ScanEvent, ScanModel, Summary, Totals,
};
pub use options::{ScanOptions, VCS_DIRS};
pub use packages::{Package, PackageKind};
pub use record::{
    CacheRecord, FileMeta, Recorded, ScanError, ScanErrorKind, SourceRecord, display_path,
};
pub use walk::{scan, spawn};
