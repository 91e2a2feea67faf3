//! Imports that are calls, not statements: `importlib.import_module(...)` and
//! `__import__(...)`, plus the literal `__all__` that `from pkg import *` follows.

use super::consts::Env;
use super::extract::{CallPackage, Statement};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

/// The import calls in one statement's own expressions (not in its nested bodies):
/// `(offset, inside a lambda, statement)`; a name built from constants (in a loop over
/// constants: one statement per value) is known, anything else is dynamic.
pub fn import_calls(stmt: &Stmt, text: &str, env: &Env<'_>) -> Vec<(TextSize, bool, Statement)> {
    let mut finder = CallFinder {
        found: Vec::new(),
        lambda_depth: 0,
    };
    visitor::walk_stmt(&mut finder, stmt);
    finder
        .found
        .into_iter()
        .flat_map(|(at, lazy, call)| {
            call_statement(call, text, env)
                .into_iter()
                .map(move |s| (at, lazy, s))
        })
        .collect()
}

struct CallFinder<'a> {
    found: Vec<(TextSize, bool, &'a ast::ExprCall)>,
    lambda_depth: u32,
}

impl<'a> Visitor<'a> for CallFinder<'a> {
    fn visit_body(&mut self, _body: &'a [Stmt]) {}

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => {
                self.lambda_depth += 1;
                visitor::walk_expr(self, expr);
                self.lambda_depth -= 1;
                return;
            }
            Expr::Call(call) if is_import_call(&call.func) => {
                self.found.push((call.start(), self.lambda_depth > 0, call));
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

fn is_import_call(func: &Expr) -> bool {
    match func {
        Expr::Name(n) => matches!(n.id.as_str(), "import_module" | "__import__"),
        Expr::Attribute(a) => {
            matches!(a.attr.as_str(), "import_module" | "__import__")
                && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "importlib")
        }
        _ => false,
    }
}

fn call_statement(call: &ast::ExprCall, text: &str, env: &Env<'_>) -> Vec<Statement> {
    let dynamic = || {
        let raw = &text[call.range()];
        let mut flat: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() > 80 {
            flat = flat.chars().take(77).collect::<String>() + "...";
        }
        Statement::Dynamic(flat)
    };
    let is_dunder = matches!(&*call.func, Expr::Name(n) if n.id.as_str() == "__import__")
        || matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "__import__");
    let Some(names) = call
        .arguments
        .find_argument_value("name", 0)
        .and_then(|e| env.strings(e))
    else {
        return vec![dynamic()];
    };
    names
        .into_iter()
        .map(|module| one_call(call, is_dunder, module, &dynamic))
        .collect()
}

fn one_call(
    call: &ast::ExprCall,
    is_dunder: bool,
    module: String,
    dynamic: &dyn Fn() -> Statement,
) -> Statement {
    if is_dunder {
        // `__import__(name, globals, locals, fromlist, level)`: a non-zero level is relative
        // to the caller's globals, which pycache does not evaluate.
        return match call.arguments.find_argument_value("level", 4) {
            None => Statement::Call {
                function: "__import__",
                module,
                package: CallPackage::None,
            },
            Some(Expr::NumberLiteral(n)) if matches!(&n.value, ast::Number::Int(i) if i.as_u8() == Some(0)) => {
                Statement::Call {
                    function: "__import__",
                    module,
                    package: CallPackage::None,
                }
            }
            Some(_) => dynamic(),
        };
    }
    let package = match call.arguments.find_argument_value("package", 1) {
        None => CallPackage::None,
        Some(Expr::StringLiteral(s)) => CallPackage::Literal(s.value.to_str().to_owned()),
        Some(Expr::Name(n)) if n.id.as_str() == "__package__" => CallPackage::CurrentPackage,
        Some(Expr::Name(n)) if n.id.as_str() == "__name__" => CallPackage::CurrentModule,
        Some(_) => CallPackage::Unknown,
    };
    if module.starts_with('.') && package == CallPackage::Unknown {
        return dynamic();
    }
    Statement::Call {
        function: "import_module",
        module,
        package,
    }
}

/// A literal top-level `__all__ = [...]` (plus `+=` extensions).
pub fn dunder_all(body: &[Stmt]) -> Option<Vec<String>> {
    let mut all: Option<Vec<String>> = None;
    let strings = |e: &Expr| -> Option<Vec<String>> {
        let elts = match e {
            Expr::List(l) => &l.elts,
            Expr::Tuple(t) => &t.elts,
            _ => return None,
        };
        elts.iter()
            .map(|e| match e {
                Expr::StringLiteral(s) => Some(s.value.to_str().to_owned()),
                _ => None,
            })
            .collect()
    };
    let is_all = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__all__");
    for stmt in body {
        match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 && is_all(&a.targets[0]) => {
                all = strings(&a.value);
            }
            Stmt::AugAssign(a) if is_all(&a.target) => {
                if let (Some(list), Some(more)) = (all.as_mut(), strings(&a.value)) {
                    list.extend(more);
                }
            }
            _ => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::extract::test_imports as imports;

    #[test]
    fn import_calls_literal_and_dynamic() {
        let src = "\
import importlib
importlib.import_module('plugins.a')
mod = importlib.import_module('.b', package=__package__)
__import__('c.d')
f = lambda: importlib.import_module('e')
importlib.import_module(name)
";
        let got = imports(src);
        assert_eq!(got.len(), 6);
        assert_eq!(
            got[1].1,
            Statement::Call {
                function: "import_module",
                module: "plugins.a".into(),
                package: CallPackage::None
            }
        );
        assert_eq!(
            got[2].1,
            Statement::Call {
                function: "import_module",
                module: ".b".into(),
                package: CallPackage::CurrentPackage
            }
        );
        assert_eq!(
            got[3].1,
            Statement::Call {
                function: "__import__",
                module: "c.d".into(),
                package: CallPackage::None
            }
        );
        assert!(got[4].2.lazy);
        assert_eq!(
            (got[5].0, got[5].1.clone()),
            (
                6,
                Statement::Dynamic("importlib.import_module(name)".into())
            )
        );
    }
}
