//! The walk against the full reader on every real fixture, every truncation of them, and
//! hostile streams whose outcome CPython's marshal.c defines.

use super::*;
use crate::pyc::{PyVersion, header};
use std::path::Path;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyc");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "pyc") {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    assert!(out.len() > 20, "fixtures missing: {}", out.len());
    out
}

fn d(v: (u8, u8)) -> Dialect {
    Dialect::for_version(PyVersion::new(v.0, v.1)).unwrap()
}

fn check(file: &[u8], walk: &mut BodyWalk) -> Option<Result<(), PycError>> {
    let h = header::parse(file).ok()?;
    let dialect = Dialect::for_version(h.magic.python?).ok()?;
    Some(walk.check_module(&file[h.header_size..], h.header_size, dialect))
}

#[test]
fn every_real_cache_passes_and_every_truncation_fails_like_the_reader() {
    let mut walk = BodyWalk::new();
    let mut checked = 0;
    for (name, file) in fixtures() {
        let Some(result) = check(&file, &mut walk) else {
            continue;
        };
        let h = header::parse(&file).unwrap();
        let dialect = Dialect::for_version(h.magic.python.unwrap()).unwrap();
        let reader = super::super::read_module_code(&file[h.header_size..], h.header_size, dialect);
        assert_eq!(
            result.is_ok(),
            reader.is_ok(),
            "{name}: {result:?} vs {reader:?}"
        );
        if result.is_err() {
            continue;
        }
        checked += 1;
        for cut in (h.header_size..file.len()).step_by(7) {
            let e = check(&file[..cut], &mut walk).unwrap().unwrap_err();
            assert!(
                matches!(e.kind, PycErrorKind::Python(t) if t.starts_with("EOFError")),
                "{name} cut at {cut}: {e}"
            );
        }
    }
    assert!(checked > 20, "only {checked} fixtures checked");
}

#[test]
fn hostile_streams_raise_what_cpython_raises() {
    let mut w = BodyWalk::new();
    let v313 = d((3, 13));
    let py = |r: Result<(), PycError>| match r {
        Err(PycError {
            kind: PycErrorKind::Python(t),
            ..
        }) => t,
        Err(PycError {
            kind: PycErrorKind::NotCode,
            ..
        }) => "not code",
        other => panic!("{other:?}"),
    };
    assert_eq!(
        py(w.check_module(b"?", 16, v313)),
        "ValueError: bad marshal data (unknown type code)"
    );
    assert_eq!(
        py(w.check_module(b"", 16, v313)),
        "EOFError: EOF read where object expected"
    );
    assert_eq!(
        py(w.check_module(b"s\x05\x00\x00\x00ab", 16, v313)),
        "EOFError: marshal data too short"
    );
    assert_eq!(
        py(w.check_module(b"s\xff\xff\xff\xff", 16, v313)),
        "ValueError: bad marshal data (bytes object size out of range)"
    );
    assert_eq!(py(w.check_module(b"N", 16, v313)), "not code");
    assert_eq!(py(w.check_module(b"\xa9\x01N", 16, v313)), "not code");
    // A reference to a slot never stored, and to the code object still being read.
    assert_eq!(
        py(w.check_module(b"r\x00\x00\x00\x00", 16, v313)),
        "ValueError: bad marshal data (invalid reference)"
    );
    // Nesting beyond MAX_MARSHAL_STACK_DEPTH.
    let mut deep = Vec::new();
    for _ in 0..MARSHAL_MAX_DEPTH {
        deep.extend_from_slice(b")\x01");
    }
    deep.push(b'N');
    assert_eq!(
        py(w.check_module(&deep, 16, v313)),
        "ValueError: recursion limit exceeded"
    );
    let mut ok_depth = Vec::new();
    for _ in 0..MARSHAL_MAX_DEPTH - 1 {
        ok_depth.extend_from_slice(b")\x01");
    }
    ok_depth.push(b'N');
    assert_eq!(py(w.check_module(&ok_depth, 16, v313)), "not code");
    // NULL inside a tuple; an unnormalized long; Python 2 has no FLAG_REF.
    assert_eq!(
        py(w.check_module(b")\x010", 16, v313)),
        "TypeError: NULL object in marshal data for object"
    );
    assert_eq!(
        py(w.check_module(b"l\x01\x00\x00\x00\x00\x00", 16, v313)),
        "ValueError: bad marshal data (unnormalized long data)"
    );
    assert_eq!(
        py(w.check_module(b"\xe3", 8, d((2, 7)))),
        "ValueError: bad marshal data (unknown type code)"
    );
    // Lone surrogates pass (surrogatepass); other bad UTF-8 does not.
    assert_eq!(
        py(w.check_module(b"u\x03\x00\x00\x00\xed\xa0\x80", 16, v313)),
        "not code"
    );
    assert!(
        py(w.check_module(b"u\x01\x00\x00\x00\xff", 16, v313)).starts_with("UnicodeDecodeError")
    );
}

#[test]
fn code_fields_must_have_the_types_pycode_new_requires() {
    let mut w = BodyWalk::new();
    let vector = "e30000000000000000000000000100000000000000f30800000095005300720067012902e9010000004e2901da0178a900f300000000da046d2e7079da083c6d6f64756c653e720700000001000000730a000000f003010101d8040581017205000000";
    let mut body: Vec<u8> = (0..vector.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&vector[i..i + 2], 16).unwrap())
        .collect();
    let v313 = d((3, 13));
    assert_eq!(w.check_module(&body, 16, v313), Ok(()));
    // co_code (after the type byte and 5 counters) made an empty tuple: rejected.
    assert_eq!(body[21], 0xf3);
    body.splice(21..21 + 5 + 8, *b")\x00");
    let e = w.check_module(&body, 16, v313).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::Python(BAD_CODE), "{e}");
}

/// A 3.13 code object (FLAG_REF set: slot 0) with the given consts and name fields.
fn code313(consts: &[u8], name: &[u8]) -> Vec<u8> {
    let mut b = vec![0xe3];
    b.extend_from_slice(&[0; 20]); // argcount .. flags
    b.extend_from_slice(b"s\x00\x00\x00\x00"); // co_code
    b.extend_from_slice(consts);
    b.extend_from_slice(b")\x00)\x00s\x00\x00\x00\x00"); // names, localsplus names and kinds
    b.extend_from_slice(b"\xfa\x01f"); // co_filename: slot 1
    b.extend_from_slice(name); // co_name
    b.extend_from_slice(b"r\x01\x00\x00\x00"); // co_qualname: the filename again
    b.extend_from_slice(&[0; 4]); // firstlineno
    b.extend_from_slice(b"s\x00\x00\x00\x00s\x00\x00\x00\x00"); // linetable, exceptiontable
    b
}

#[test]
fn references_name_only_finished_objects_of_the_right_kind() {
    let mut w = BodyWalk::new();
    let v313 = d((3, 13));
    let err = |b: &[u8], w: &mut BodyWalk| match w.check_module(b, 16, v313) {
        Err(PycError {
            kind: PycErrorKind::Python(t),
            ..
        }) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        w.check_module(&code313(b")\x00", b"r\x01\x00\x00\x00"), 16, v313),
        Ok(())
    );
    // The code object itself is still being read: as its name, and from inside its consts.
    let own_name = code313(b")\x00", b"r\x00\x00\x00\x00");
    assert_eq!(err(&own_name, &mut w), BAD_REF);
    let own_const = code313(b")\x01r\x00\x00\x00\x00", b"r\x01\x00\x00\x00");
    assert_eq!(err(&own_const, &mut w), BAD_REF);
    // A slot not stored yet, and a finished slot of the wrong kind (a tuple as a name).
    assert_eq!(
        err(&code313(b")\x00", b"r\x02\x00\x00\x00"), &mut w),
        BAD_REF
    );
    let tuple_name = code313(b"\xa9\x00", b"r\x01\x00\x00\x00");
    assert_eq!(err(&tuple_name, &mut w), BAD_CODE);
    // A finished code object may be named: an outer object (no FLAG_REF) whose consts are
    // an inner one (slot 0, its filename slot 1) and a reference to it; the outer
    // filename is slot 2, its name refers to it, its qualname to the inner filename.
    let inner = code313(b")\x00", b"r\x01\x00\x00\x00");
    let mut consts = b")\x02".to_vec();
    consts.extend_from_slice(&inner);
    consts.extend_from_slice(b"r\x00\x00\x00\x00");
    let mut outer = code313(&consts, b"r\x02\x00\x00\x00");
    outer[0] = b'c';
    assert_eq!(w.check_module(&outer, 16, v313), Ok(()));
}
