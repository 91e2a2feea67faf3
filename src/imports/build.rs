//! Turning one module's raw imports into resolved [`Import`] records, and entry points
//! into the modules they run.

use super::entry::{Entry, EntryKind};
use super::extract::{CallPackage, Context, Extracted, Statement};
use super::graph::{Bind, EntryPoint, Import, Resolved};
use super::resolve::{Found, Missing, Resolver, Steps};
use std::collections::HashSet;
use std::path::Path;

/// What the builder needs to know about the importing module.
pub struct Importer<'a> {
    /// Its source file.
    pub file: &'a Path,
    /// Its dotted name ("" for a file outside every search root).
    pub name: &'a str,
    /// A package's `__init__.py`.
    pub is_package: bool,
}

/// Resolved imports of one module, plus the text of its dynamic imports `(line, code)`.
pub fn resolve_imports(
    resolver: &Resolver<'_>,
    importer: &Importer<'_>,
    extracted: &Extracted,
    all_names: &dyn Fn(usize) -> Option<Vec<String>>,
    rel: &dyn Fn(usize) -> String,
) -> (Vec<Import>, Vec<(u32, String)>) {
    let mut out = Vec::new();
    let mut dynamic = Vec::new();
    for raw in &extracted.imports {
        let first = out.len();
        let mut binds: Vec<Bind> = Vec::new();
        let mut add = |module: String, steps: &Steps, via: &'static str| {
            out.push(record(raw.line, raw.context, module, steps, via, rel));
        };
        match &raw.statement {
            Statement::Import(dotted) => {
                add(dotted.clone(), &resolver.absolute(dotted), "import");
                binds = import_binds(dotted, &raw.binds);
            }
            Statement::From {
                level,
                module,
                names,
            } => {
                let (full, steps) = if *level == 0 {
                    let m = module.clone().unwrap_or_default();
                    let steps = resolver.absolute(&m);
                    (m, steps)
                } else {
                    match resolver.relative_base(
                        importer.file,
                        importer.name,
                        importer.is_package,
                        *level,
                    ) {
                        Err(missing) => {
                            let dots = ".".repeat(usize::try_from(*level).unwrap_or(0));
                            let m = format!("{dots}{}", module.as_deref().unwrap_or_default());
                            add(
                                m,
                                &Steps {
                                    found: Vec::new(),
                                    missing: Some(missing),
                                },
                                "from",
                            );
                            continue;
                        }
                        Ok((base, found)) => {
                            let mut steps = Steps {
                                found: vec![(base.clone(), found)],
                                missing: None,
                            };
                            if let Some(m) = module {
                                resolver.descend(&mut steps, m.split('.'));
                            }
                            let full = match module {
                                Some(m) => format!("{base}.{m}"),
                                None => base,
                            };
                            (full, steps)
                        }
                    }
                };
                add(full.clone(), &steps, "from");
                binds = names
                    .iter()
                    .zip(&raw.binds)
                    .filter(|(n, _)| *n != "*")
                    .map(|(n, local)| Bind {
                        alias: (local != n).then(|| local.as_str().into()),
                        attr: Some(n.as_str().into()),
                        plain: false,
                    })
                    .collect();
                if steps.missing.is_some() {
                    continue;
                }
                // `from pkg import name`: a submodule if the package has one, else an attribute.
                let mut wanted: Vec<String> = names.iter().filter(|n| *n != "*").cloned().collect();
                if names.iter().any(|n| n == "*")
                    && let Some((_, Found::Module(i))) = steps.found.last()
                {
                    wanted.extend(all_names(*i).unwrap_or_default());
                }
                for name in wanted {
                    let mut sub = steps.clone();
                    resolver.descend(&mut sub, std::iter::once(name.as_str()));
                    let is_project = matches!(
                        sub.found.last(),
                        Some((_, Found::Module(_) | Found::Namespace(_) | Found::Binary(_)))
                    );
                    if sub.missing.is_none() && sub.found.len() > steps.found.len() && is_project {
                        add(format!("{full}.{name}"), &sub, "from");
                    } else if matches!(steps.found.last(), Some((_, Found::Namespace(_)))) {
                        // A namespace package runs no code, so it has no attributes to offer.
                        let why = Missing::NotFound(format!("{full}.{name}"));
                        add(
                            format!("{full}.{name}"),
                            &Steps {
                                missing: Some(why),
                                ..steps.clone()
                            },
                            "from",
                        );
                    }
                }
            }
            Statement::Call {
                function,
                module,
                package,
            } => match call_target(module, package, importer) {
                Ok(full) => add(full.clone(), &resolver.absolute(&full), function),
                Err(why) => dynamic.push((raw.line, format!("{function}({module:?}): {why}"))),
            },
            Statement::Dynamic(code) => dynamic.push((raw.line, code.clone())),
        }
        if let Some(r) = out.get_mut(first) {
            r.binds = binds;
        }
    }
    mark_unused_fallbacks(&mut out);
    (out, dynamic)
}

fn record(
    line: u32,
    context: Context,
    module: String,
    steps: &Steps,
    via: &'static str,
    rel: &dyn Fn(usize) -> String,
) -> Import {
    let module_ids = |found: &[(String, Found)]| -> Vec<usize> {
        found
            .iter()
            .filter_map(|(_, f)| match f {
                Found::Module(i) => Some(*i),
                _ => None,
            })
            .collect()
    };
    let (resolved, target, parents, note) = match (&steps.missing, steps.found.split_last()) {
        (None, Some(((_, last), before))) => {
            let (resolved, target) = match last {
                Found::Module(i) => (Resolved::Project, Some(*i)),
                Found::Namespace(_) => (Resolved::Namespace, None),
                Found::Binary(_) => (Resolved::ProjectBinary, None),
                Found::Stdlib => (Resolved::Stdlib, None),
                Found::ThirdParty => (Resolved::ThirdParty, None),
            };
            (resolved, target, module_ids(before), None)
        }
        (missing, _) => {
            let note = missing
                .as_ref()
                .unwrap_or(&Missing::NotFound(module.clone()))
                .to_string();
            (
                Resolved::Missing,
                None,
                module_ids(&steps.found),
                Some(note),
            )
        }
    };
    Import {
        line,
        module,
        resolved,
        path: target.map(rel),
        via,
        context,
        fallback_unused: false,
        note,
        at_start: None,
        binds: Vec::new(),
        target,
        parents,
    }
}

/// What `import dotted` (`as local`) binds.
fn import_binds(dotted: &str, locals: &[String]) -> Vec<Bind> {
    let Some(local) = locals.first() else {
        return Vec::new();
    };
    let plain = local == dotted;
    vec![Bind {
        attr: None,
        alias: (!plain).then(|| local.as_str().into()),
        plain,
    }]
}

/// The absolute name `import_module(module, package)` imports.
fn call_target(
    module: &str,
    package: &CallPackage,
    importer: &Importer<'_>,
) -> Result<String, String> {
    let level = module.len() - module.trim_start_matches('.').len();
    if level == 0 {
        return Ok(module.to_owned());
    }
    let own_package = || -> String {
        match (importer.is_package, importer.name.rsplit_once('.')) {
            (true, _) => importer.name.to_owned(),
            (false, Some((pkg, _))) => pkg.to_owned(),
            (false, None) => String::new(),
        }
    };
    let anchor = match package {
        CallPackage::Literal(p) => p.clone(),
        CallPackage::CurrentPackage => own_package(),
        CallPackage::CurrentModule => importer.name.to_owned(),
        CallPackage::None => return Err("a relative name needs the 'package' argument".into()),
        CallPackage::Unknown => return Err("the package argument is not a literal".into()),
    };
    let mut parts: Vec<&str> = anchor.split('.').filter(|p| !p.is_empty()).collect();
    if parts.len() < level {
        return Err(Missing::BeyondTopLevel.to_string());
    }
    parts.truncate(parts.len() + 1 - level);
    let rest = &module[level..];
    Ok(if rest.is_empty() {
        parts.join(".")
    } else {
        format!("{}.{rest}", parts.join("."))
    })
}

/// An `except ImportError:` branch runs only when its `try` fails. pycache counts a `try`
/// as failing when one of its imports is missing (or it has no import to judge by).
fn mark_unused_fallbacks(imports: &mut [Import]) {
    let judged: HashSet<u32> = imports.iter().filter_map(|i| i.context.try_group).collect();
    let failing: HashSet<u32> = imports
        .iter()
        .filter(|i| i.resolved == Resolved::Missing)
        .filter_map(|i| i.context.try_group)
        .collect();
    for imp in imports.iter_mut() {
        if let Some(g) = imp.context.fallback_of {
            imp.fallback_unused = judged.contains(&g) && !failing.contains(&g);
        }
    }
}

/// Resolves an entry point to the module it runs and the packages imported before it.
pub fn entry_point(
    entry: &Entry,
    resolver: &Resolver<'_>,
    module_of: &dyn Fn(&Path) -> Option<usize>,
    rel: &dyn Fn(usize) -> String,
    root: &Path,
) -> EntryPoint {
    let mut point = EntryPoint {
        label: String::new(),
        kind: entry.kind,
        module: entry.module.clone(),
        target: None,
        parents: Vec::new(),
        path: None,
        detected: entry.detected.clone(),
        problem: None,
    };
    if let Some(path) = &entry.path {
        point.target = module_of(path);
        point.path = point.target.map(rel);
        let package = path
            .parent()
            .filter(|d| d.join("__init__.py").is_file() && *d != root);
        point.label = match (entry.kind, package) {
            (EntryKind::RunModule, Some(dir)) => {
                let init = dir.join("__init__.py");
                let name = super::discover::module_name(&init, resolver.roots).unwrap_or_default();
                // `python -m pkg` imports the package before running its `__main__`.
                point.parents = module_of(&init).into_iter().collect();
                point.module = Some(name.clone());
                format!("-m {name}")
            }
            _ => point
                .path
                .clone()
                .unwrap_or_else(|| path.display().to_string()),
        };
        return point;
    }
    let name = entry.module.clone().unwrap_or_default();
    point.label = match entry.kind {
        EntryKind::RunModule => format!("-m {name}"),
        _ => name.clone(),
    };
    let mut steps = resolver.absolute(&name);
    if let Some(missing) = &steps.missing {
        point.problem = Some(missing.to_string());
        return point;
    }
    let is_package =
        |s: &Steps| matches!(s.found.last(), Some((_, f)) if resolver.package_dirs(f).is_some());
    if entry.kind == EntryKind::RunModule && is_package(&steps) {
        let mut main = steps.clone();
        resolver.descend(&mut main, std::iter::once("__main__"));
        if main.missing.is_none() {
            steps = main;
        } else {
            // `python -m pkg` would fail; what the user means is importing the package.
            point.kind = EntryKind::Import;
            point.label = name.clone();
        }
    }
    let mut ids: Vec<usize> = steps
        .found
        .iter()
        .filter_map(|(_, f)| {
            if let Found::Module(i) = f {
                Some(*i)
            } else {
                None
            }
        })
        .collect();
    match steps.found.last() {
        Some((_, Found::Module(i))) => {
            ids.pop();
            point.target = Some(*i);
            point.path = Some(rel(*i));
        }
        Some((_, other)) => {
            let what = match other {
                Found::Stdlib => "it is in the standard library",
                Found::ThirdParty => "it is installed in the virtualenv",
                Found::Namespace(_) => "it is a namespace package with no code",
                _ => "it is compiled, with no source",
            };
            point.problem = Some(format!("'{name}' is not a project source module: {what}"));
        }
        None => {}
    }
    point.parents = ids;
    point
}
