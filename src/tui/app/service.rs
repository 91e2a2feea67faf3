//! The service's view: what the next start of a service (its interpreter, user, prefix)
//! does with each module, judged off the UI thread after each scan. The tree marks the
//! imported modules without a usable cache, `n` visits them, `x` switches between this
//! view and the caches judged on their own.

use super::{App, Effect};
use pycache::context::{ModuleOutcome, NextStart, Service};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What the app knows of the service.
#[derive(Debug, Clone, Default)]
pub struct ServiceState {
    /// Who runs it: `cpython-313 as lernmanager, prefix instance/tmp` once judged.
    pub title: String,
    /// The imported modules' next start, by source path.
    pub by_source: HashMap<PathBuf, ModuleOutcome>,
    /// Time every start loses compiling (ms), when measured.
    pub every_start_ms: Option<f64>,
    /// False while judging (or when judging failed).
    pub judged: bool,
    /// False in the "no context" view (`x`).
    pub shown: bool,
}

impl ServiceState {
    /// The next start of a module, when it is imported and the view is on.
    pub fn outcome(&self, source: &Path) -> Option<&ModuleOutcome> {
        if !self.shown {
            return None;
        }
        self.by_source.get(source)
    }
}

impl App {
    /// Opens in a service's view: judged once the scan ends; `who` names it until then.
    pub fn expect_service(&mut self, who: String) {
        self.service = Some(ServiceState {
            title: who,
            shown: true,
            ..ServiceState::default()
        });
    }

    /// The service's view, when the explorer has one.
    pub fn service(&self) -> Option<&ServiceState> {
        self.service.as_ref()
    }

    /// The service's title when its view is shown.
    pub fn service_title(&self) -> Option<String> {
        let s = self.service.as_ref().filter(|s| s.shown)?;
        Some(if s.judged {
            s.title.clone()
        } else {
            format!("{}, judging…", s.title)
        })
    }

    /// The next start of the module keyed `key`, in the service's view.
    pub fn outcome_of(&self, key: &Path) -> Option<&ModuleOutcome> {
        self.service.as_ref()?.outcome(key)
    }

    /// After a scan: ask for the service's next start.
    pub(super) fn judge_service(&mut self) {
        if let Some(s) = self.service.as_mut() {
            s.judged = false;
            self.push(Effect::JudgeService);
        }
    }

    /// The service was judged (or not).
    pub(super) fn on_service(&mut self, result: Result<Box<Service>, String>) {
        let Some(state) = self.service.as_mut() else {
            return;
        };
        match result {
            Ok(svc) => {
                state.title = svc.context.title(&svc.root);
                state.every_start_ms = svc.view.every_start_ms;
                state.by_source = svc
                    .view
                    .modules
                    .into_iter()
                    .map(|m| (m.source.clone(), m))
                    .collect();
                // The first screen answers the question the view is for: the project's
                // details name what the next start compiles, until the cursor moves.
                if !state.judged && self.sel == 0 {
                    self.project_details = true;
                }
                state.judged = true;
            }
            Err(e) => self.message = Some(format!("cannot judge the service: {e}")),
        }
        self.flag_service_problems();
    }

    /// `x`: the service's view or each cache on its own.
    pub(super) fn toggle_service(&mut self) {
        let Some(s) = self.service.as_mut() else {
            self.message =
                Some("no service context: start with --unit, --python or --user to see one".into());
            return;
        };
        s.shown = !s.shown;
        self.message = Some(if s.shown {
            format!("service view: {}", s.title)
        } else {
            "no context: each cache judged on its own (x: the service's view)".into()
        });
        self.flag_service_problems();
    }

    /// Tells the tree which modules `n` visits beside those with a problem cache.
    pub(super) fn flag_service_problems(&mut self) {
        let flagged = match self.service.as_ref().filter(|s| s.shown && s.judged) {
            Some(s) => s
                .by_source
                .iter()
                .filter(|(_, m)| m.next != NextStart::LoadsCache)
                .map(|(p, _)| p.clone())
                .collect(),
            None => Default::default(),
        };
        self.tree.set_flagged(flagged);
        self.sync();
    }
}
