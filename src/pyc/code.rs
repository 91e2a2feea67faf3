//! What a `.pyc` contains, in terms a reader knows: the module's file name, docstring, and
//! the tree of classes, functions, lambdas and comprehensions defined in it.
//!
//! Built from the marshal reader (`pyc::marshal`). Nested code objects are the code
//! constants of their parent (pyc-format.md §6.5); Python 3.12+ inlines list/set/dict
//! comprehensions, so those vanish from the tree there, as they do from `co_consts`.

use super::error::{PycError, PycErrorKind};
use super::magic::MagicInfo;
use super::marshal::{self, Code, Dialect, Value, flags};
use serde::Serialize;

/// Most code objects a summary visits; a back-reference can share a code object, so a
/// crafted file could otherwise describe an exponentially large tree in a few bytes.
pub const MAX_CODE_OBJECTS: usize = 100_000;

/// A module's code object, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeSummary {
    /// `co_filename`: the path the compiler was given (not necessarily where it is now).
    pub co_filename: String,
    /// `co_name`: `<module>` for every module.
    pub co_name: String,
    /// `co_qualname`, stored from Python 3.11.
    pub co_qualname: Option<String>,
    /// `co_firstlineno`: the first statement's line up to 3.9, always 1 from 3.10.
    pub co_firstlineno: i32,
    /// `co_flags`.
    pub co_flags: u32,
    /// The module docstring (absent in `-OO` files).
    pub docstring: Option<String>,
    /// Classes, functions, lambdas and comprehensions at module level, in `co_consts` order.
    pub children: Vec<NestedCode>,
    /// Code objects in the file, the module included.
    pub code_objects: usize,
    /// Bytes of marshal data after the header.
    pub marshal_bytes: usize,
    /// Bytes after the code object (0 in every file CPython writes; ignored by it).
    pub trailing_bytes: usize,
}

/// What a nested code object defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeKind {
    /// A class body.
    Class,
    /// A `def` or `async def` (also other function-like scopes, e.g. annotation scopes).
    Function,
    /// A `lambda`.
    Lambda,
    /// A generator expression, or a list/set/dict comprehension (before 3.12).
    Comprehension,
}

impl CodeKind {
    /// The keyword shown for it: `class`, `def`, `lambda`, `comprehension`.
    pub fn keyword(self) -> &'static str {
        match self {
            CodeKind::Class => "class",
            CodeKind::Function => "def",
            CodeKind::Lambda => "lambda",
            CodeKind::Comprehension => "comprehension",
        }
    }
}

/// A code object nested in the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NestedCode {
    /// Class, function, lambda or comprehension.
    pub kind: CodeKind,
    /// `co_name`: the function or class name, `<lambda>`, `<genexpr>`...
    pub co_name: String,
    /// `co_qualname`, stored from Python 3.11.
    pub co_qualname: Option<String>,
    /// The qualified name: `co_qualname` when stored, else derived with the compiler's rule
    /// (`Outer.method`, `func.<locals>.inner`).
    pub qualname: String,
    /// `co_firstlineno`: the `def`/`class` line (or its first decorator's, from 3.8).
    pub co_firstlineno: i32,
    /// `co_flags`.
    pub co_flags: u32,
    /// File offset of the code object.
    pub offset: usize,
    /// Code objects nested in this one.
    pub children: Vec<NestedCode>,
}

/// Summarises the code object stored after a header. `after_header` is the file from
/// byte `magic.header_size()` on; error offsets are relative to the file start.
pub fn summarize(after_header: &[u8], magic: &MagicInfo) -> Result<CodeSummary, PycError> {
    let base = magic.header_size();
    let dialect = magic
        .python
        .ok_or_else(|| format!("unknown magic {}: no known code-object layout", magic.magic))
        .and_then(Dialect::for_version)
        .map_err(|why| PycError::new(base, PycErrorKind::Other(why)))?;
    let module = marshal::read_module_code(after_header, base, dialect)?;
    let code = &module.code;
    let mut count = 1;
    let scope = Scope {
        code,
        qualname: "",
        kind: ScopeKind::Module,
    };
    let children = nested(&scope, 1, &mut count)?;
    Ok(CodeSummary {
        co_filename: code.filename.clone(),
        co_name: code.name.clone(),
        co_qualname: code.qualname.clone(),
        co_firstlineno: code.firstlineno,
        co_flags: code.flags,
        docstring: module_docstring(code),
        children,
        code_objects: count,
        marshal_bytes: module.consumed,
        trailing_bytes: after_header.len().saturating_sub(module.consumed),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Module,
    Class,
    Function,
}

struct Scope<'a> {
    code: &'a Code,
    qualname: &'a str,
    kind: ScopeKind,
}

fn nested(parent: &Scope, depth: usize, count: &mut usize) -> Result<Vec<NestedCode>, PycError> {
    let mut out = Vec::new();
    for child in parent.code.consts.iter().filter_map(Value::as_code) {
        *count += 1;
        if *count > MAX_CODE_OBJECTS {
            return Err(PycError::new(
                child.offset,
                PycErrorKind::Other(format!("more than {MAX_CODE_OBJECTS} code objects")),
            ));
        }
        // Heights are bounded by the reader; this guard keeps the walk bounded on its own.
        if depth > marshal::MAX_DEPTH {
            return Err(PycError::new(child.offset, PycErrorKind::TooDeep));
        }
        let kind = kind_of(child);
        let qualname = child
            .qualname
            .clone()
            .unwrap_or_else(|| derive_qualname(parent, &child.name));
        let scope = Scope {
            code: child,
            qualname: &qualname,
            kind: if kind == CodeKind::Class {
                ScopeKind::Class
            } else {
                ScopeKind::Function
            },
        };
        let children = nested(&scope, depth + 1, count)?;
        out.push(NestedCode {
            kind,
            co_name: child.name.clone(),
            co_qualname: child.qualname.clone(),
            co_firstlineno: child.firstlineno,
            co_flags: child.flags,
            offset: child.offset,
            children,
            qualname,
        });
    }
    Ok(out)
}

/// Class bodies run with a dict namespace (no CO_OPTIMIZED) and start with
/// `__module__ = __name__`; Python 2 functions using `exec` or `import *` also lack
/// CO_OPTIMIZED, hence the second test.
fn kind_of(code: &Code) -> CodeKind {
    match code.name.as_str() {
        "<lambda>" => CodeKind::Lambda,
        "<genexpr>" | "<listcomp>" | "<setcomp>" | "<dictcomp>" => CodeKind::Comprehension,
        _ if code.flags & flags::OPTIMIZED == 0
            && code.names.len() >= 2
            && code.names[0] == "__name__"
            && code.names[1] == "__module__" =>
        {
            CodeKind::Class
        }
        _ => CodeKind::Function,
    }
}

/// The compiler's rule for `__qualname__` (CPython `compiler_set_qualname`): a module-level
/// name stands alone; inside a class it is `Class.name`; inside a function it is
/// `func.<locals>.name`, unless the function declares the name `global`.
fn derive_qualname(parent: &Scope, name: &str) -> String {
    match parent.kind {
        ScopeKind::Module => name.to_string(),
        ScopeKind::Class => format!("{}.{name}", parent.qualname),
        ScopeKind::Function if declared_global(parent.code, name) => name.to_string(),
        ScopeKind::Function => format!("{}.<locals>.{name}", parent.qualname),
    }
}

/// A `global` name in a function is stored with STORE_GLOBAL: it is in `co_names` and in
/// none of the local, cell or free variable lists.
fn declared_global(code: &Code, name: &str) -> bool {
    let has = |list: &[String]| list.iter().any(|n| n == name);
    has(&code.names) && !has(&code.varnames) && !has(&code.cellvars) && !has(&code.freevars)
}

/// The module docstring: the compiler's first statement is `__doc__ = <first constant>`
/// (names[0] is `__doc__`, consts[0] the string), the value `module.__doc__` gets.
fn module_docstring(code: &Code) -> Option<String> {
    if code.names.first().map(String::as_str) != Some("__doc__") {
        return None;
    }
    code.consts
        .first()
        .and_then(Value::as_text)
        .map(|t| t.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyc::magic::lookup;
    use std::rc::Rc;

    fn code(name: &str, flags: u32, names: &[&str], varnames: &[&str]) -> Code {
        let strings = |v: &[&str]| v.iter().map(ToString::to_string).collect();
        Code {
            offset: 0,
            argcount: 0,
            posonlyargcount: 0,
            kwonlyargcount: 0,
            nlocals: None,
            stacksize: 0,
            flags,
            code: Rc::from(&b""[..]),
            consts: Rc::from(Vec::new()),
            names: strings(names),
            varnames: strings(varnames),
            cellvars: Vec::new(),
            freevars: Vec::new(),
            filename: "m.py".into(),
            name: name.into(),
            qualname: None,
            firstlineno: 1,
            linetable: Rc::from(&b""[..]),
            exceptiontable: None,
        }
    }

    #[test]
    fn kinds_come_from_names_and_flags() {
        let class = code("Widget", 0x40, &["__name__", "__module__", "size"], &[]);
        assert_eq!(kind_of(&class), CodeKind::Class);
        // Python 2 function using `exec`: no CO_OPTIMIZED either, but no __module__.
        let unoptimized = code("u", 0x42, &[], &[]);
        assert_eq!(kind_of(&unoptimized), CodeKind::Function);
        assert_eq!(kind_of(&code("<lambda>", 0x53, &[], &[])), CodeKind::Lambda);
        assert_eq!(
            kind_of(&code("<genexpr>", 0x73, &[], &[])),
            CodeKind::Comprehension
        );
        assert_eq!(kind_of(&code("f", 0x43, &[], &[])), CodeKind::Function);
    }

    #[test]
    fn qualnames_follow_the_compiler_rule() {
        let module = code("<module>", 0, &[], &[]);
        let m = Scope {
            code: &module,
            qualname: "",
            kind: ScopeKind::Module,
        };
        assert_eq!(derive_qualname(&m, "f"), "f");
        let class = code("C", 0, &[], &[]);
        let c = Scope {
            code: &class,
            qualname: "C",
            kind: ScopeKind::Class,
        };
        assert_eq!(derive_qualname(&c, "m"), "C.m");
        let func = code("f", 3, &["g", "len"], &["h"]);
        let f = Scope {
            code: &func,
            qualname: "C.f",
            kind: ScopeKind::Function,
        };
        assert_eq!(derive_qualname(&f, "h"), "C.f.<locals>.h");
        assert_eq!(derive_qualname(&f, "<lambda>"), "C.f.<locals>.<lambda>");
        assert_eq!(derive_qualname(&f, "g"), "g");
    }

    #[test]
    fn docstrings_need_the_doc_store() {
        let mut m = code("<module>", 0, &["__doc__"], &[]);
        m.consts = Rc::from(vec![Value::Str(Rc::from("Doc.")), Value::None]);
        assert_eq!(module_docstring(&m).as_deref(), Some("Doc."));
        m.names = vec!["x".into()];
        assert_eq!(module_docstring(&m), None);
    }

    #[test]
    fn unknown_magics_and_old_versions_are_errors_not_guesses() {
        let e = summarize(b"\xe3", &lookup(7)).unwrap_err();
        assert_eq!(e.offset, 16);
        assert!(e.to_string().contains("unknown magic 7"), "{e}");
        let e = summarize(b"c", &lookup(20121)).unwrap_err();
        assert!(e.to_string().contains("Python 1.5"), "{e}");
    }
}
