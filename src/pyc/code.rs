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
use std::borrow::Cow;
use std::collections::HashSet;

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
    let mut walk = Walk {
        count: 1,
        budget: after_header
            .len()
            .saturating_mul(marshal::WORK_PER_BYTE)
            .saturating_add(1 << 20),
    };
    let scope = Scope {
        code,
        qualname: "",
        kind: ScopeKind::Module,
    };
    let children = walk.nested(&scope, 1)?;
    Ok(CodeSummary {
        co_filename: code.filename().into_owned(),
        co_name: code.name().into_owned(),
        co_qualname: code.qualname().map(Cow::into_owned),
        co_firstlineno: code.firstlineno,
        co_flags: code.flags,
        docstring: module_docstring(code),
        children,
        code_objects: walk.count,
        marshal_bytes: module.consumed,
        trailing_bytes: after_header.len().saturating_sub(module.consumed),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Module,
    Class,
    Function,
    /// A comprehension or generator expression (its own code object before 3.12).
    Comprehension,
}

struct Scope<'a> {
    code: &'a Code,
    qualname: &'a str,
    kind: ScopeKind,
}

/// The walk over nested code objects. A back-reference can share one code object (or one
/// long name) between many parents, so a small file could describe a huge tree: the walk
/// counts code objects and the bytes of text it copies, against limits.
struct Walk {
    count: usize,
    budget: usize,
}

impl Walk {
    fn spend(&mut self, units: usize, at: usize) -> Result<(), PycError> {
        self.budget = self.budget.checked_sub(units).ok_or_else(|| {
            let why = "back-references repeat more code than a file this size holds";
            PycError::new(at, PycErrorKind::Other(why.into()))
        })?;
        Ok(())
    }

    fn nested(&mut self, parent: &Scope, depth: usize) -> Result<Vec<NestedCode>, PycError> {
        let mut out = Vec::new();
        let mut globals = None;
        for child in parent.code.consts.iter().filter_map(Value::as_code) {
            self.count += 1;
            if self.count > MAX_CODE_OBJECTS {
                let why = format!("more than {MAX_CODE_OBJECTS} code objects");
                return Err(PycError::new(child.offset, PycErrorKind::Other(why)));
            }
            // Heights are bounded by the reader; this guard keeps the walk bounded on its own.
            if depth > marshal::MAX_DEPTH {
                return Err(PycError::new(child.offset, PycErrorKind::TooDeep));
            }
            let name = child.name();
            let recorded = child.qualname();
            let qualname = match &recorded {
                Some(q) => q.to_string(),
                None => {
                    if parent.kind == ScopeKind::Function && globals.is_none() {
                        self.spend(parent.code.names.len(), child.offset)?;
                        globals = Some(declared_globals(parent.code));
                    }
                    let global = globals.as_ref().is_some_and(|g| g.contains(name.as_ref()));
                    derive_qualname(parent, &name, global)
                }
            };
            let text = name.len() + qualname.len() + recorded.as_ref().map_or(0, |q| q.len());
            self.spend(1 + text, child.offset)?;
            let kind = kind_of(child);
            let scope = Scope {
                code: child,
                qualname: &qualname,
                kind: match kind {
                    CodeKind::Class => ScopeKind::Class,
                    CodeKind::Comprehension => ScopeKind::Comprehension,
                    _ => ScopeKind::Function,
                },
            };
            let children = self.nested(&scope, depth + 1)?;
            out.push(NestedCode {
                kind,
                co_name: name.into_owned(),
                co_qualname: recorded.map(Cow::into_owned),
                co_firstlineno: child.firstlineno,
                co_flags: child.flags,
                offset: child.offset,
                children,
                qualname,
            });
        }
        Ok(out)
    }
}

/// Class bodies run with a dict namespace (no CO_OPTIMIZED) and start with
/// `__module__ = __name__`; Python 2 functions using `exec` or `import *` also lack
/// CO_OPTIMIZED, hence the second test.
fn kind_of(code: &Code) -> CodeKind {
    let name = code.name();
    match name.as_ref() {
        "<lambda>" => CodeKind::Lambda,
        "<genexpr>" | "<listcomp>" | "<setcomp>" | "<dictcomp>" => CodeKind::Comprehension,
        _ if code.flags & flags::OPTIMIZED == 0
            && code.name_at(0).as_deref() == Some("__name__")
            && code.name_at(1).as_deref() == Some("__module__") =>
        {
            CodeKind::Class
        }
        _ => CodeKind::Function,
    }
}

/// The compiler's rule for `__qualname__` (CPython `compiler_set_qualname`): a module-level
/// name stands alone; inside a class or a comprehension it is `parent.name`; inside a
/// function or lambda it is `func.<locals>.name`, unless the function declares the name
/// `global`. So a comprehension in a comprehension is `f.<locals>.<listcomp>.<listcomp>`.
fn derive_qualname(parent: &Scope, name: &str, declared_global: bool) -> String {
    match parent.kind {
        ScopeKind::Module => name.to_string(),
        ScopeKind::Class | ScopeKind::Comprehension => format!("{}.{name}", parent.qualname),
        ScopeKind::Function if declared_global => name.to_string(),
        ScopeKind::Function => format!("{}.<locals>.{name}", parent.qualname),
    }
}

/// A `global` name in a function is stored with STORE_GLOBAL: it is in `co_names` and in
/// none of the local, cell or free variable lists.
fn declared_globals(code: &Code) -> HashSet<Cow<'_, str>> {
    let mut set: HashSet<Cow<'_, str>> = code.names.iter().filter_map(Value::as_text).collect();
    for var in code.vars.all().filter_map(Value::as_text) {
        set.remove(&var);
    }
    set
}

/// The module docstring: the compiler's first statement is `__doc__ = <first constant>`
/// (names[0] is `__doc__`, consts[0] the string), the value `module.__doc__` gets. From
/// 3.14 a module with annotations under a condition (`if`, `try`, a loop: PEP 649) first
/// sets `__conditional_annotations__`, so `__doc__` is names[1] (consts[0] is still the
/// docstring; checked on 3.14.10 and 3.15.2).
fn module_docstring(code: &Code) -> Option<String> {
    let doc_first = match code.name_at(0).as_deref() {
        Some("__doc__") => true,
        Some("__conditional_annotations__") => code.name_at(1).as_deref() == Some("__doc__"),
        _ => false,
    };
    if !doc_first {
        return None;
    }
    code.consts
        .first()
        .and_then(Value::as_text)
        .map(Cow::into_owned)
}

#[cfg(test)]
mod tests;
