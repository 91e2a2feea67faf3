//! Unit tests of the code summary: kinds, qualnames, docstrings, limits.

use super::*;
use crate::pyc::magic::lookup;
use crate::pyc::marshal::Vars;
use std::rc::Rc;

fn strings(v: &[&str]) -> Rc<[Value]> {
    v.iter().map(|s| Value::Str(Rc::from(*s))).collect()
}

fn code(name: &str, flags: u32, names: &[&str], varnames: &[&str]) -> Code {
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
        vars: Vars::Classic {
            varnames: strings(varnames),
            cellvars: strings(&[]),
            freevars: strings(&[]),
        },
        filename: Value::Str(Rc::from("m.py")),
        name: Value::Str(Rc::from(name)),
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
    assert_eq!(derive_qualname(&m, "f", false), "f");
    let class = code("C", 0, &[], &[]);
    let c = Scope {
        code: &class,
        qualname: "C",
        kind: ScopeKind::Class,
    };
    assert_eq!(derive_qualname(&c, "m", false), "C.m");
    let func = code("f", 3, &["g", "len", "h"], &["h"]);
    let f = Scope {
        code: &func,
        qualname: "C.f",
        kind: ScopeKind::Function,
    };
    assert_eq!(derive_qualname(&f, "h", false), "C.f.<locals>.h");
    assert_eq!(
        derive_qualname(&f, "<lambda>", false),
        "C.f.<locals>.<lambda>"
    );
    assert_eq!(derive_qualname(&f, "g", true), "g");
    // Comprehension scopes add no `<locals>` (3.3-3.10 store no co_qualname).
    let listcomp = code("<listcomp>", 0x13, &[], &[]);
    let lc = Scope {
        code: &listcomp,
        qualname: "C.f.<locals>.<listcomp>",
        kind: ScopeKind::Comprehension,
    };
    assert_eq!(
        derive_qualname(&lc, "<listcomp>", false),
        "C.f.<locals>.<listcomp>.<listcomp>"
    );
    assert_eq!(
        derive_qualname(&lc, "<lambda>", false),
        "C.f.<locals>.<listcomp>.<lambda>"
    );
    let globals = declared_globals(&func);
    assert!(globals.contains("g") && globals.contains("len") && !globals.contains("h"));
}

#[test]
fn docstrings_need_the_doc_store() {
    let mut m = code("<module>", 0, &["__doc__"], &[]);
    m.consts = Rc::from(vec![Value::Str(Rc::from("Doc.")), Value::None]);
    assert_eq!(module_docstring(&m).as_deref(), Some("Doc."));
    m.names = strings(&["x"]);
    assert_eq!(module_docstring(&m), None);
    // 3.14+: conditional annotations come first, then the docstring.
    m.names = strings(&["__conditional_annotations__", "__doc__", "sys"]);
    assert_eq!(module_docstring(&m).as_deref(), Some("Doc."));
    m.names = strings(&["__conditional_annotations__", "x", "__annotate__"]);
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

/// A 3.13 code object: no names, `consts` already encoded, flagged (FLAG_REF) or not.
fn code313(flagged: bool, consts: &[u8], name: &str) -> Vec<u8> {
    let empty = b"s\x00\x00\x00\x00";
    let text = |s: &str| [&[b'z', s.len() as u8][..], s.as_bytes()].concat();
    let mut out = vec![if flagged { 0xe3 } else { 0x63 }];
    out.extend([0u8; 20]);
    out.extend(empty);
    out.extend(consts);
    out.extend(b")\x00)\x00");
    out.extend(empty);
    for _ in 0..3 {
        out.extend(text(name));
    }
    out.extend(1u32.to_le_bytes());
    out.extend(empty);
    out.extend(empty);
    out
}

#[test]
fn a_code_object_shared_exponentially_stops_at_the_limit() {
    // C0 is a leaf; C(i) holds two references to C(i-1): 2^24 paths in ~1 KB.
    let mut consts = vec![b'(', 25, 0, 0, 0];
    consts.extend(code313(true, b")\x00", "c0"));
    for i in 1..25u32 {
        let mut inner = vec![b')', 2];
        for _ in 0..2 {
            inner.push(b'r');
            inner.extend(i.to_le_bytes());
        }
        consts.extend(code313(true, &inner, &format!("c{i}")));
    }
    let module = code313(true, &consts, "<module>");
    assert!(module.len() < 2000);
    let e = summarize(&module, &lookup(3571)).unwrap_err();
    assert_eq!(
        e.kind,
        PycErrorKind::Other(format!("more than {MAX_CODE_OBJECTS} code objects"))
    );
    // Unshared, the same shape decodes.
    let small = code313(
        true,
        &[&b")\x01"[..], &code313(false, b")\x00", "f")].concat(),
        "m",
    );
    let s = summarize(&small, &lookup(3571)).unwrap();
    assert_eq!((s.code_objects, s.children[0].qualname.as_str()), (2, "f"));
}
