//! The marshal reader alone: the first byte picks a Python version's layout, the rest is
//! the stream, so every input reaches the reader (random headers mostly fail earlier).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pycache::pyc::magic::lookup;
use pycache::pyc::summarize;

const MAGICS: &[u16] = &[
    62211, 3379, 3394, 3413, 3439, 3495, 3531, 3571, 3627, 3660, 336,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let magic = lookup(MAGICS[usize::from(pick) % MAGICS.len()]);
    if let Err(e) = summarize(body, &magic) {
        assert!(e.offset <= body.len() + magic.header_size());
    }
});
