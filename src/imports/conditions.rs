//! The `if` tests and `except` clauses that decide whether an import runs: `TYPE_CHECKING`,
//! `__name__ == "__main__"`, `sys.version_info` comparisons, and handlers that catch
//! `ImportError`.

use crate::pyc::magic::PyVersion;
use ruff_python_ast::{self as ast, CmpOp, ExceptHandler, Expr, Number};
use std::cmp::Ordering;

/// `TYPE_CHECKING` or `<anything>.TYPE_CHECKING`: true only for type checkers.
pub fn is_type_checking(test: &Expr) -> bool {
    match test {
        Expr::Name(n) => n.id.as_str() == "TYPE_CHECKING",
        Expr::Attribute(a) => a.attr.as_str() == "TYPE_CHECKING",
        _ => false,
    }
}

/// `__name__ == "__main__"` (either side): true only when the file runs as the program.
pub fn is_main_check(test: &Expr) -> bool {
    let Expr::Compare(cmp) = test else {
        return false;
    };
    if cmp.ops.len() != 1 || cmp.ops[0] != CmpOp::Eq {
        return false;
    }
    let (left, right) = (&*cmp.left, &cmp.comparators[0]);
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (is_name(left) && is_main(right)) || (is_main(left) && is_name(right))
}

/// Evaluates `sys.version_info OP (X, Y)` or `sys.version_info[:2] OP (X, Y)` for the
/// target version; `None` when the test is anything else.
pub fn version_test(test: &Expr, target: PyVersion) -> Option<bool> {
    let Expr::Compare(cmp) = test else {
        return None;
    };
    if cmp.ops.len() != 1 {
        return None;
    }
    let (exact, literal) = match (&*cmp.left, &cmp.comparators[0]) {
        (Expr::Tuple(_), _) => return None,
        (left, right) => (version_info(left)?, int_tuple(right)?),
    };
    if literal.is_empty() || literal.len() > 2 {
        return None;
    }
    let ours = [u32::from(target.major), u32::from(target.minor)];
    let mut ordering = ours[..literal.len()].cmp(&literal[..]);
    // `sys.version_info` is (major, minor, micro, level, serial): when the compared
    // prefix is equal, the longer tuple is the greater one.
    if ordering == Ordering::Equal && !(exact && literal.len() == 2) {
        ordering = Ordering::Greater;
    }
    Some(match cmp.ops[0] {
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::LtE => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::GtE => ordering != Ordering::Less,
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::NotEq => ordering != Ordering::Equal,
        _ => return None,
    })
}

/// `Some(false)` for `sys.version_info`, `Some(true)` for `sys.version_info[:2]`.
fn version_info(expr: &Expr) -> Option<bool> {
    let is_attr = |e: &Expr| {
        matches!(e, Expr::Attribute(a) if a.attr.as_str() == "version_info"
            && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "sys"))
    };
    match expr {
        e if is_attr(e) => Some(false),
        Expr::Subscript(sub) if is_attr(&sub.value) => match &*sub.slice {
            Expr::Slice(ast::ExprSlice {
                lower: None,
                upper: Some(upper),
                step: None,
                ..
            }) if int(upper) == Some(2) => Some(true),
            _ => None,
        },
        _ => None,
    }
}

fn int(expr: &Expr) -> Option<u32> {
    match expr {
        Expr::NumberLiteral(ast::ExprNumberLiteral {
            value: Number::Int(i),
            ..
        }) => i.as_u16().map(u32::from),
        _ => None,
    }
}

fn int_tuple(expr: &Expr) -> Option<Vec<u32>> {
    match expr {
        Expr::Tuple(t) => t.elts.iter().map(int).collect(),
        _ => None,
    }
}

/// Whether an `except` clause catches a failed import (bare, `ImportError`,
/// `ModuleNotFoundError`, `Exception`, `BaseException`, or a tuple holding one).
pub fn catches_import_error(handler: &ExceptHandler) -> bool {
    let ExceptHandler::ExceptHandler(h) = handler;
    match h.type_.as_deref() {
        None => true,
        Some(Expr::Tuple(t)) => t.elts.iter().any(is_import_error_class),
        Some(e) => is_import_error_class(e),
    }
}

fn is_import_error_class(expr: &Expr) -> bool {
    let name = match expr {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return false,
    };
    matches!(
        name,
        "ImportError" | "ModuleNotFoundError" | "Exception" | "BaseException"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn expr(src: &str) -> Expr {
        *parse_expression(src).unwrap().into_syntax().body
    }

    #[test]
    fn version_tests_follow_tuple_comparison() {
        let v313 = PyVersion::new(3, 13);
        let cases = [
            ("sys.version_info >= (3, 11)", Some(true)),
            ("sys.version_info < (3, 11)", Some(false)),
            ("sys.version_info >= (3, 13)", Some(true)),
            ("sys.version_info <= (3, 13)", Some(false)),
            ("sys.version_info > (3, 13)", Some(true)),
            ("sys.version_info[:2] == (3, 13)", Some(true)),
            ("sys.version_info[:2] <= (3, 13)", Some(true)),
            ("sys.version_info >= (3,)", Some(true)),
            ("sys.version_info < (4,)", Some(true)),
            ("sys.version_info >= (3, 14)", Some(false)),
            ("sys.platform == 'win32'", None),
            ("version_info >= (3, 11)", None),
        ];
        for (src, want) in cases {
            assert_eq!(version_test(&expr(src), v313), want, "{src}");
        }
    }

    #[test]
    fn recognises_guards() {
        assert!(is_type_checking(&expr("TYPE_CHECKING")));
        assert!(is_type_checking(&expr("typing.TYPE_CHECKING")));
        assert!(!is_type_checking(&expr("DEBUG")));
        assert!(is_main_check(&expr("__name__ == '__main__'")));
        assert!(is_main_check(&expr("'__main__' == __name__")));
        assert!(!is_main_check(&expr("__name__ != '__main__'")));
    }
}
