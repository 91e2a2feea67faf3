//! No input makes the decoder panic, loop, or report an offset outside the file: arbitrary
//! bytes, random marshal-shaped streams, and every committed fixture truncated at every
//! byte and with bits flipped. (A coverage-guided fuzz target is in fuzz/.)
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use pycache::pyc::{header, summarize};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static DECODES: AtomicUsize = AtomicUsize::new(0);

/// header::parse + summarize, as `inspect` runs them; checks the error offsets.
fn decode(bytes: &[u8]) -> bool {
    DECODES.fetch_add(1, Ordering::Relaxed);
    let h = match header::parse(bytes) {
        Ok(h) => h,
        Err(e) => {
            assert!(e.offset <= bytes.len(), "{e} in {} bytes", bytes.len());
            return false;
        }
    };
    let body = bytes.get(h.header_size..).unwrap_or_default();
    match summarize(body, &h.magic) {
        Ok(s) => {
            assert!(s.marshal_bytes + s.trailing_bytes == body.len());
            true
        }
        Err(e) => {
            assert!(e.offset <= bytes.len(), "{e} in {} bytes", bytes.len());
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pyc");
    let text = std::fs::read_to_string(dir.join("expected.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            std::fs::read(dir.join(e["path"].as_str().unwrap())).unwrap()
        })
        .collect()
}

#[test]
fn every_fixture_truncated_at_every_byte_is_an_error() {
    let before = DECODES.load(Ordering::Relaxed);
    for file in fixtures() {
        assert!(decode(&file));
        for cut in 0..file.len() {
            assert!(!decode(&file[..cut]), "cut at {cut} decoded");
        }
    }
    eprintln!(
        "truncations decoded: {}",
        DECODES.load(Ordering::Relaxed) - before
    );
}

#[test]
fn every_single_bit_flip_of_some_fixtures_is_handled() {
    let files = fixtures();
    let mut count = 0;
    // One file per layout family is enough for an exhaustive pass; proptest covers the rest.
    for file in files.iter().step_by(13) {
        for i in 0..file.len() * 8 {
            let mut f = file.clone();
            f[i / 8] ^= 1 << (i % 8);
            decode(&f);
            count += 1;
        }
    }
    eprintln!("single-bit flips decoded: {count}");
}

/// Real magic words, so random bodies reach the marshal reader of each layout.
const MAGICS: &[u16] = &[
    62211, 3379, 3394, 3413, 3425, 3439, 3495, 3531, 3571, 3627, 3660, 336,
];

/// A marshal-shaped object: mostly valid type codes with plausible payloads, sometimes
/// FLAG_REF, references to small indices, and code objects with random fields.
fn object() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(b"N".to_vec()),
        Just(b"T".to_vec()),
        any::<i32>().prop_map(|i| [&[b'i'][..], &i.to_le_bytes()].concat()),
        "[a-z<>_]{0,12}".prop_map(|s| [&[b'z', s.len() as u8][..], s.as_bytes()].concat()),
        (0u32..8).prop_map(|i| [&[b'r'][..], &i.to_le_bytes()].concat()),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(|b| [
            &[b's'][..],
            &(b.len() as i32).to_le_bytes(),
            &b
        ]
        .concat()),
        proptest::collection::vec(any::<u8>(), 1..6),
    ];
    let flagged = |bytes: Vec<u8>, flag: bool| {
        let mut bytes = bytes;
        if flag && !bytes.is_empty() {
            bytes[0] |= 0x80;
        }
        bytes
    };
    leaf.prop_recursive(4, 96, 12, move |inner| {
        let tuple = proptest::collection::vec(inner.clone(), 0..5).prop_map(|items| {
            let mut out = vec![b')', items.len() as u8];
            items.iter().for_each(|i| out.extend(i));
            out
        });
        let code = (
            proptest::collection::vec(any::<u8>(), 20..32),
            proptest::collection::vec(inner, 8..14),
        )
            .prop_map(|(ints, fields)| {
                let mut out = vec![b'c'];
                out.extend(ints);
                fields.iter().for_each(|f| out.extend(f));
                out
            });
        (prop_oneof![tuple, code], any::<bool>()).prop_map(move |(b, f)| flagged(b, f))
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode(&bytes);
    }

    #[test]
    fn arbitrary_bodies_after_real_headers_never_panic(
        magic in proptest::sample::select(MAGICS),
        flags in 0u32..4,
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut file = magic.to_le_bytes().to_vec();
        file.extend([0x0d, 0x0a]);
        file.extend(flags.to_le_bytes());
        file.extend([0; 8]);
        file.extend(body);
        decode(&file);
    }

    #[test]
    fn marshal_shaped_streams_never_panic(
        magic in proptest::sample::select(MAGICS),
        top in object(),
    ) {
        let mut file = magic.to_le_bytes().to_vec();
        file.extend([0x0d, 0x0a, 0, 0, 0, 0]);
        file.extend([0; 8]);
        file.extend(top);
        decode(&file);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        let files = FILES.get_or_init(fixtures);
        let mut file = pick.get(files).clone();
        for (at, byte) in &edits {
            let i = at.index(file.len());
            file[i] = *byte;
        }
        let keep = file.len() - cut.index(file.len() / 4 + 1);
        decode(&file[..keep]);
    }
}
