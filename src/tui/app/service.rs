//! The service's view: what the next start of a service (its interpreter, user, prefix)
//! does with each module, judged off the UI thread after each scan. The tree marks the
//! imported modules without a usable cache, `n` visits them, `x` switches the context:
//! the service's, then the same service under each other tag with caches in the tree,
//! then none (each cache judged on its own), then the service's again. Each context's
//! compile and load times are measured once, off the UI thread, when it is first shown.

use super::{App, Effect};
use pycache::context::switch::{Alternative, Measured};
use pycache::context::{ModuleOutcome, NextStart, RuntimeContext, Service, ServiceView};
use pycache::doctor::cost::ModuleCost;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What is known of a context's costs.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Measure {
    /// Not asked yet.
    #[default]
    NotYet,
    /// The doctor's driver runs.
    Running,
    /// Measured with this interpreter, by source.
    Done(PathBuf, HashMap<PathBuf, ModuleCost>),
    /// Why it cannot be measured (one line).
    Failed(String),
}

/// The service under one interpreter.
#[derive(Debug, Clone)]
pub struct Choice {
    /// `cpython-313 as lernmanager, prefix instance/tmp`.
    pub title: String,
    /// The context.
    pub context: RuntimeContext,
    /// Its next start.
    pub view: ServiceView,
    /// Its measured costs.
    pub measure: Measure,
}

/// A measurement to run off the UI thread.
#[derive(Debug, Clone)]
pub struct MeasureJob {
    /// The choice's title (the answer is matched to it).
    pub title: String,
    /// Its context.
    pub context: RuntimeContext,
    /// Its next start (the modules measured).
    pub view: ServiceView,
}

impl PartialEq for MeasureJob {
    fn eq(&self, other: &Self) -> bool {
        self.title == other.title
    }
}

/// What the app knows of the service.
#[derive(Debug, Clone, Default)]
pub struct ServiceState {
    /// Who runs it: `cpython-313 as lernmanager, prefix instance/tmp` once judged.
    pub title: String,
    /// The imported modules' next start, by source path (of the current choice).
    pub by_source: HashMap<PathBuf, ModuleOutcome>,
    /// Time every start loses compiling (ms), when measured.
    pub every_start_ms: Option<f64>,
    /// False while judging (or when judging failed).
    pub judged: bool,
    /// False in the "no context" view (`x`).
    pub shown: bool,
    /// The service's own context first, then the other tags of the tree.
    pub choices: Vec<Choice>,
    /// The choice shown.
    pub current: usize,
    /// Judgements asked for: the other tags' views of an older one are dropped.
    pub round: u64,
}

impl ServiceState {
    /// The next start of a module, when it is imported and the view is on.
    pub fn outcome(&self, source: &Path) -> Option<&ModuleOutcome> {
        if !self.shown {
            return None;
        }
        self.by_source.get(source)
    }

    /// The choice shown (None before judging).
    pub fn choice(&self) -> Option<&Choice> {
        self.choices.get(self.current)
    }

    /// Makes choice `i` the one the tree and details show.
    fn show(&mut self, i: usize) {
        self.current = i;
        let Some(c) = self.choices.get(i) else {
            return;
        };
        self.title = c.title.clone();
        self.every_start_ms = c.view.every_start_ms;
        self.by_source = c
            .view
            .modules
            .iter()
            .map(|m| (m.source.clone(), m.clone()))
            .collect();
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
            s.round += 1;
            let round = s.round;
            self.push(Effect::JudgeService(round));
        }
    }

    /// The service was judged (or not).
    pub(super) fn on_service(&mut self, result: Result<Box<Service>, String>) {
        let Some(state) = self.service.as_mut() else {
            return;
        };
        match result {
            Ok(svc) => {
                let svc = *svc;
                let own = Choice {
                    title: svc.context.title(&svc.root),
                    context: svc.context,
                    view: svc.view,
                    measure: Measure::NotYet,
                };
                // A rescan judges again: the service's own context, the others follow.
                state.choices = vec![own];
                state.show(0);
                // The first screen answers the question the view is for: the project's
                // details name what the next start compiles, until the cursor moves.
                if !state.judged && self.sel == 0 {
                    self.project_details = true;
                }
                state.judged = true;
            }
            Err(e) => self.message = Some(format!("cannot judge the service: {e}")),
        }
        self.measure_shown();
        self.flag_service_problems();
    }

    /// The same service under the tree's other tags arrived (after its own context).
    pub(super) fn on_alternatives(&mut self, round: u64, others: Vec<(String, Alternative)>) {
        let Some(state) = self
            .service
            .as_mut()
            .filter(|s| !s.choices.is_empty() && s.round == round)
        else {
            return;
        };
        state.choices.truncate(1);
        state
            .choices
            .extend(others.into_iter().map(|(title, a)| Choice {
                title,
                context: a.context,
                view: a.view,
                measure: Measure::NotYet,
            }));
    }

    /// A context's costs were measured (or why not).
    pub(super) fn on_measured(&mut self, title: &str, result: Result<Measured, String>) {
        let Some(state) = self.service.as_mut() else {
            return;
        };
        let Some(c) = state.choices.iter_mut().find(|c| c.title == title) else {
            return;
        };
        c.measure = match result {
            Ok(m) => {
                c.view
                    .apply_costs(&pycache::context::outcome::costs_of(&m.costs));
                Measure::Done(m.python, pycache::context::switch::by_source(m.costs))
            }
            Err(why) => Measure::Failed(why),
        };
        let current = state.current;
        state.show(current);
    }

    /// Asks for the shown context's measurement, once.
    fn measure_shown(&mut self) {
        let Some(state) = self.service.as_mut().filter(|s| s.shown && s.judged) else {
            return;
        };
        let current = state.current;
        let Some(c) = state.choices.get_mut(current) else {
            return;
        };
        if c.measure != Measure::NotYet {
            return;
        }
        c.measure = Measure::Running;
        let job = MeasureJob {
            title: c.title.clone(),
            context: c.context.clone(),
            view: c.view.clone(),
        };
        self.push(Effect::Measure(Box::new(job)));
    }

    /// `x`: the service's context, each other tag of the tree, no context, and round.
    pub(super) fn toggle_service(&mut self) {
        let Some(s) = self.service.as_mut() else {
            self.message =
                Some("no service context: start with --unit, --python or --user to see one".into());
            return;
        };
        let n = s.choices.len();
        if !s.shown {
            s.shown = true;
            s.show(0);
        } else if s.current + 1 < n {
            let next = s.current + 1;
            s.show(next);
        } else {
            s.shown = false;
        }
        self.message = Some(match s.choice().filter(|_| s.shown) {
            Some(c) => {
                let py = c.context.interpreter.as_ref();
                let from = py.map_or(String::new(), |p| format!("; python from {}", p.from));
                format!(
                    "context {} of {n}: {}{from} (x: next)",
                    s.current + 1,
                    c.title
                )
            }
            None if s.shown => format!("service view: {}", s.title),
            None => "no context: each cache judged on its own (x: the service's view)".into(),
        });
        self.measure_shown();
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
