//! Unit tests of the marshal reader: the `x = 1` vectors of pyc-format.md §7 (written by
//! each interpreter) and hand-made hostile streams.

use super::*;
use crate::pyc::header;

/// `x = 1\n` compiled by each interpreter (timestamp mode), from shared/fixtures/vectors.
const VECTORS: &[(&str, &str)] = &[
    (
        "2.7.18",
        "03f30d0a00f153656300000000000000000100000040000000730a0000006400005a000064010053280200000069010000004e280100000074010000007828000000002800000000280000000073040000006d2e707974080000003c6d6f64756c653e010000007400000000",
    ),
    (
        "3.6.15",
        "330d0d0a00f1536506000000e30000000000000000000000000100000040000000730800000064005a00640153002902e9010000004e2901da0178a90072030000007203000000fa046d2e7079da083c6d6f64756c653e010000007300000000",
    ),
    (
        "3.8.18",
        "550d0d0a0000000000f1536506000000e3000000000000000000000000000000000100000040000000730800000064005a00640153002902e9010000004e2901da0178a90072030000007203000000fa046d2e7079da083c6d6f64756c653e01000000f300000000",
    ),
    (
        "3.10.13",
        "6f0d0d0a0000000000f1536506000000e3000000000000000000000000000000000100000040000000730800000064005a00640153002902e9010000004e2901da0178a90072030000007203000000fa046d2e7079da083c6d6f64756c653e0100000073020000000800",
    ),
    (
        "3.11.7",
        "a70d0d0a0000000000f1536506000000e30000000000000000000000000100000000000000f30a000000970064005a00640153002902e9010000004e2901da0178a900f300000000fa046d2e7079fa083c6d6f64756c653e720700000001000000730e000000f003010101d804058001800180017205000000",
    ),
    (
        "3.13.0",
        "f30d0d0a0000000000f1536506000000e30000000000000000000000000100000000000000f30800000095005300720067012902e9010000004e2901da0178a900f300000000da046d2e7079da083c6d6f64756c653e720700000001000000730a000000f003010101d8040581017205000000",
    ),
    (
        "pypy-3.9.16",
        "50010d0a0000000000f153650600000063000000000000000000000000000000000100000040000000730800000064005a0064015300290269010000004e2901da0178290029002900fa046d2e70797a083c6d6f64756c653e010000007300000000",
    ),
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode(file: &[u8]) -> Result<ModuleCode, PycError> {
    let h = header::parse(file)?;
    let dialect = Dialect::for_version(h.magic.python.unwrap()).unwrap();
    read_module_code(&file[h.header_size..], h.header_size, dialect)
}

fn d313() -> Dialect {
    Dialect::for_version(PyVersion::new(3, 13)).unwrap()
}

#[test]
fn every_vector_decodes_to_the_module_python_reported() {
    for (version, hex) in VECTORS {
        let file = unhex(hex);
        let m = decode(&file).unwrap_or_else(|e| panic!("{version}: {e}"));
        let c = &m.code;
        assert_eq!(c.name(), "<module>", "{version}");
        assert_eq!(c.filename(), "m.py", "{version}");
        assert_eq!(c.firstlineno, 1, "{version}");
        assert_eq!(c.names(), vec!["x"], "{version}");
        assert_eq!(&c.consts[..], &[Value::Int(1), Value::None], "{version}");
        let modern = version.starts_with("3.11") || version.starts_with("3.13");
        assert_eq!(c.qualname.is_some(), modern, "{version}");
        assert_eq!(c.nlocals.is_none(), modern, "{version}");
        // Nothing follows the code object in any file CPython writes.
        assert_eq!(m.consumed + file.len() - m.consumed, file.len());
        assert_eq!(
            header::parse(&file).unwrap().header_size + m.consumed,
            file.len()
        );
    }
}

#[test]
fn references_follow_pre_order_slots() {
    // 3.13: the qualname is `r 7` (the name), the exception table `r 5` (empty bytes).
    let file = unhex(VECTORS[5].1);
    let m = decode(&file).unwrap();
    assert_eq!(m.code.qualname().as_deref(), Some("<module>"));
    assert!(
        m.code
            .exceptiontable
            .as_deref()
            .is_some_and(<[u8]>::is_empty)
    );
    assert_eq!(m.code.offset, 16);
}

#[test]
fn every_truncation_is_an_error_inside_the_file() {
    for (version, hex) in VECTORS {
        let file = unhex(hex);
        for cut in 0..file.len() {
            let err = decode(&file[..cut]).expect_err(version);
            assert!(err.offset <= cut, "{version} cut {cut}: {err}");
        }
    }
}

#[test]
fn unknown_types_and_python2_ref_flags_are_rejected_with_offsets() {
    let e = read_module_code(b"\xe3\x00\x00\x00\x00?", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(21, PycErrorKind::Truncated));
    let e = read_module_code(b"?", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(16, PycErrorKind::BadType(b'?')));
    let py2 = Dialect::for_version(PyVersion::new(2, 7)).unwrap();
    let e = read_module_code(b"\xe3", 8, py2).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::BadType(0xe3));
    let e = read_module_code(b"r\x00\x00\x00\x00", 8, py2).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::BadType(b'r'));
    let e = read_module_code(b"N", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(16, PycErrorKind::NotCode));
}

#[test]
fn huge_or_negative_lengths_fail_before_allocating() {
    let e = read_module_code(b"s\xff\xff\xff\x7fabc", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(17, PycErrorKind::Truncated));
    let e = read_module_code(b"(\xff\xff\xff\x7f", 16, d313()).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::Truncated);
    let e = read_module_code(b"s\xff\xff\xff\xff", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(17, PycErrorKind::BadLength(-1)));
    let e = read_module_code(b"l\x00\x00\x00\x80", 16, d313()).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::Truncated);
}

#[test]
fn bad_references_are_errors() {
    let e = read_module_code(b"r\x05\x00\x00\x00", 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(17, PycErrorKind::BadRef(5)));
    // A reference to an object still being read (its slot is reserved, not filled).
    let e = read_module_code(b"\xa9\x01r\x00\x00\x00\x00", 16, d313()).unwrap_err();
    assert_eq!(e.kind, PycErrorKind::BadRef(0));
    // Singletons take no slot even when flagged, as in CPython.
    let mut r = Reader::new(b")\x02\xce\xe9\x07\x00\x00\x00r\x00\x00\x00\x00", 0, d313());
    let v = r.read_object().unwrap();
    assert_eq!(v.as_tuple().unwrap(), &[Value::None, Value::Int(7)]);
}

#[test]
fn scalars_decode_like_cpython() {
    let mut r = Reader::new(
        b"l\xfd\xff\xff\xff\x00\x00\x00\x00\x01\x00f\x031.5x\x01\x31\x04-inf",
        0,
        d313(),
    );
    let Value::Long(l) = r.read_object().unwrap() else {
        panic!("not a long")
    };
    assert_eq!(l.to_i128(), Some(-(1i128 << 30)));
    assert_eq!(r.read_object().unwrap(), Value::Float(1.5));
    assert_eq!(
        r.read_object().unwrap(),
        Value::Complex(1.0, f64::NEG_INFINITY)
    );
    let e = Reader::new(b"l\x01\x00\x00\x00\x00\x00", 0, d313())
        .read_object()
        .unwrap_err();
    assert_eq!(e.kind, PycErrorKind::Other("unnormalized long".into()));
    let e = Reader::new(b"l\x01\x00\x00\x00\x00\x80", 0, d313())
        .read_object()
        .unwrap_err();
    assert_eq!(e.offset, 5);
    let slice = Dialect::for_version(PyVersion::new(3, 14)).unwrap();
    let v = Reader::new(b":NNN", 0, slice).read_object().unwrap();
    assert!(matches!(v, Value::Slice(_)));
    let e = Reader::new(b":NNN", 0, d313()).read_object().unwrap_err();
    assert_eq!(e.kind, PycErrorKind::BadType(b':'));
}

#[test]
fn python2_interned_strings_are_shared_through_the_table() {
    let py2 = Dialect::for_version(PyVersion::new(2, 7)).unwrap();
    let mut r = Reader::new(
        b"(\x02\x00\x00\x00t\x01\x00\x00\x00aR\x00\x00\x00\x00",
        0,
        py2,
    );
    let v = r.read_object().unwrap();
    let items = v.as_tuple().unwrap();
    assert_eq!(items[0], items[1]);
    let e = Reader::new(b"R\x01\x00\x00\x00", 0, py2)
        .read_object()
        .unwrap_err();
    assert_eq!(e, PycError::new(1, PycErrorKind::BadRef(1)));
}

#[test]
fn endless_nesting_stops_at_the_depth_limit() {
    let mut data = b")\x01".repeat(100_000);
    data.push(b'N');
    let e = read_module_code(&data, 16, d313()).unwrap_err();
    assert_eq!(e, PycError::new(16 + 2 * MAX_DEPTH, PycErrorKind::TooDeep));
    let e = read_module_code(&b"[".repeat(50_000), 16, d313()).unwrap_err();
    assert!(matches!(
        e.kind,
        PycErrorKind::Truncated | PycErrorKind::TooDeep
    ));
}

#[test]
fn reference_chains_cannot_build_a_tower() {
    // Item k is a flagged 1-tuple holding a reference to item k-1: shallow to read, but
    // its height grows by one per item.
    let n = MAX_HEIGHT as usize + 10;
    let mut data = vec![b'('];
    data.extend(u32::try_from(n).unwrap().to_le_bytes());
    data.extend(b"\xa9\x01N");
    for k in 0..n - 1 {
        data.extend(b"\xa9\x01r");
        data.extend(u32::try_from(k).unwrap().to_le_bytes());
    }
    let e = Reader::new(&data, 0, d313()).read_object().unwrap_err();
    assert_eq!(e.kind, PycErrorKind::TooDeep);
}

#[test]
fn code_fields_of_the_wrong_type_are_named() {
    let mut file = unhex(VECTORS[5].1);
    // co_consts starts at 50: make the small tuple a list.
    assert_eq!(file[50], 0x29);
    file[50] = b'[';
    file.splice(51..52, [2, 0, 0, 0]);
    let e = decode(&file).unwrap_err();
    assert_eq!(e.offset, 50);
    assert_eq!(
        e.to_string(),
        "bad code object: co_consts is a list, not a tuple at byte 50"
    );
}

#[test]
fn unsupported_versions_say_so() {
    assert!(Dialect::for_version(PyVersion::new(2, 2)).is_err());
    assert!(Dialect::for_version(PyVersion::new(1, 5)).is_err());
    assert_eq!(
        Dialect::for_version(PyVersion::new(3, 9)).unwrap().layout,
        CodeLayout::Py38
    );
}

#[test]
fn the_deepest_nesting_allowed_fits_in_a_small_thread_stack() {
    let code_header = [b'c']
        .iter()
        .chain(&[0u8; 20])
        .copied()
        .collect::<Vec<u8>>();
    // Debug builds need about 1 MiB here (release: under 256 KiB); threads get 2 MiB.
    for unit in [&b")\x01"[..], &code_header] {
        let mut data = unit.repeat(MAX_DEPTH + 50);
        data.push(b'N');
        let e = std::thread::Builder::new()
            .stack_size(1536 * 1024)
            .spawn(move || read_module_code(&data, 16, d313()).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(e.kind, PycErrorKind::TooDeep);
    }
}

#[test]
fn a_names_tuple_shared_by_many_code_objects_exhausts_the_budget() {
    // Slot 0: 100000 names; slot 1: b""; slot 2: 100000 kind bytes. Then 1000 code
    // objects whose names and localsplus names are both `r 0`: 2e8 checks without a cap.
    let m = 100_000u32;
    let mut s = vec![b'(', 0, 0, 0, 0];
    s[1..5].copy_from_slice(&1003u32.to_le_bytes());
    s.push(0xa8);
    s.extend(m.to_le_bytes());
    s.extend(b"z\x01x".repeat(m as usize));
    s.extend(b"\xf3\x00\x00\x00\x00");
    s.push(0xf3);
    s.extend(m.to_le_bytes());
    s.extend(vec![0x20; m as usize]);
    let r = |i: u8| [b'r', i, 0, 0, 0];
    for _ in 0..1000 {
        s.push(b'c');
        s.extend([0u8; 20]);
        s.extend(r(1));
        s.extend(b")\x00");
        s.extend(r(0));
        s.extend(r(0));
        s.extend(r(2));
        s.extend(b"z\x00z\x01fz\x01f");
        s.extend([1, 0, 0, 0]);
        s.extend(r(1));
        s.extend(r(1));
    }
    let e = Reader::new(&s, 16, d313()).read_object().unwrap_err();
    assert!(
        e.to_string().contains("back-references repeat more names"),
        "{e}"
    );
    // The first code objects were fine: the cap is far above what real files need.
    assert!(e.offset > 400_000);
}
