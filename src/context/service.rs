//! The whole chain for one service: its context, the scan its verdicts need, the
//! interpreter, the modules a start imports and what the next start does with them; and
//! the demo's context, built from the unit file `pycache demo` writes.

use super::outcome::{Costs, ServiceView, SystemAccess, next_start};
use super::reach::{Start, start_of};
use super::runtime::{ContextOptions, RuntimeContext, resolve};
use super::{choose_interpreter, scan_options, settle};
use crate::doctor::DoctorError;
use crate::scan::{ScanModel, ScanOptions};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A service and its next start.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// The project directory (canonical).
    pub root: PathBuf,
    /// Who runs it and how (with its interpreter).
    pub context: RuntimeContext,
    /// The modules a start imports.
    pub start: Start,
    /// What the next start does with them, and the role of every cache.
    pub view: ServiceView,
}

/// Builds the context from `opts`, scans `path` (default: the context's working
/// directory...) with `scan` (which may add the caller's own options, such as excludes or a
/// progress line, to the options it is given), chooses the interpreter, follows the
/// entry's imports and judges the next start. `run`: an interpreter in the project may be
/// run to ask its version (never one another user could change); without it, the
/// project's interpreters (and ones pycache refuses to run) are described from their
/// `pyvenv.cfg`. Returns the model too.
pub fn service(
    path: Option<&Path>,
    opts: &ContextOptions,
    run: bool,
    scan: &mut dyn FnMut(ScanOptions) -> Result<ScanModel, String>,
) -> Result<(Service, ScanModel), DoctorError> {
    let mut ctx = resolve(opts)?;
    let root = settle(&mut ctx, path)?;
    let crashed = |why: String| {
        DoctorError::new(format!(
            "the scanner crashed ({why}; its report is above): nothing was judged; please report this bug"
        ))
    };
    let mut model = scan(scan_options(&ctx, vec![root.clone()], true)).map_err(crashed)?;
    let py = choose_interpreter(&mut ctx, &root, &model, run)?;
    if ctx.prefix.is_some() && !py.supports_prefix() {
        ctx.notes.push(format!(
            "Python {} ignores the cache prefix (added in 3.8)",
            py.version
        ));
        model = scan(scan_options(&ctx, vec![root.clone()], false)).map_err(crashed)?;
    }
    let start = start_of(&root, &ctx, &model);
    let view = next_start(
        &model,
        &start.modules,
        &ctx,
        &SystemAccess::of(&ctx),
        &Costs::new(),
    )
    .map_err(DoctorError::new)?;
    Ok((
        Service {
            root,
            context: ctx,
            start,
            view,
        },
        model,
    ))
}

/// The context options of the demo's service: its unit file (`DIR/lernmanager.service`),
/// with `User=lernmanager` kept as a user who is not on this machine when there is none.
pub fn demo_options(info: &crate::demo::DemoInfo) -> ContextOptions {
    ContextOptions {
        unit: Some(info.root.join(crate::demo::UNIT_FILE).display().to_string()),
        absent_user_ok: true,
        ..ContextOptions::default()
    }
}

/// The demo's context, from the unit file `pycache demo` wrote: `User=lernmanager` (its
/// uid when the user exists here, else a user without one, judged by the permission bits
/// for others), `WorkingDirectory=`, `PYTHONPYCACHEPREFIX=DIR/instance/tmp`, and the
/// interpreter of its `ExecStart=` (described from its name when it is not installed).
/// Needs no `lernmanager` user and runs nothing as one.
pub fn demo_context(info: &crate::demo::DemoInfo) -> Result<RuntimeContext, DoctorError> {
    let mut ctx = resolve(&demo_options(info))?;
    let root = settle(&mut ctx, Some(&info.root))?;
    let model =
        crate::scan::scan(&scan_options(&ctx, vec![root.clone()], true)).map_err(|why| {
            DoctorError::new(format!(
                "the scanner crashed ({why}; its report is above); please report this bug"
            ))
        })?;
    choose_interpreter(&mut ctx, &root, &model, false)?;
    Ok(ctx)
}
