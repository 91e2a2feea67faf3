//! `--metrics FILE` on `scan` and `doctor`: the library renders the textfile and replaces
//! the file atomically; this only times the run and turns a failure into the exit-2 error.

use color_eyre::eyre::{Result, eyre};
use pycache::doctor::Report;
use pycache::metrics::{Run, check_destination, doctor_metrics, scan_metrics, write_atomically};
use pycache::scan::ScanModel;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Refuses a bad `--metrics FILE` before the scan or diagnosis starts (a long scan
/// should not end in "cannot write metrics").
pub fn check(file: Option<&Path>) -> Result<()> {
    file.map_or(Ok(()), |f| check_destination(f).map_err(|e| eyre!(e)))
}

/// Writes the scan's metrics; `unread` parts of the tree make `pycache_scan_success` 0;
/// with the service's view (a scan under a context), its next start per module too.
pub fn write_scan(
    file: &Path,
    model: &ScanModel,
    took: Duration,
    unread: usize,
    view: Option<&pycache::context::ServiceView>,
) -> Result<()> {
    let run = Run {
        duration: took,
        complete: unread == 0,
        at: SystemTime::now(),
    };
    write_atomically(file, scan_metrics(model, run, unread, view).text()).map_err(|e| eyre!(e))
}

/// Writes the diagnosis's metrics.
pub fn write_doctor(file: &Path, report: &Report, took: Duration) -> Result<()> {
    let run = Run {
        duration: took,
        complete: report.skipped.is_empty(),
        at: SystemTime::now(),
    };
    write_atomically(file, doctor_metrics(report, run).text()).map_err(|e| eyre!(e))
}
