//! A whole file through the path `pycache inspect` takes: header, then code objects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pycache::pyc::{header, summarize};

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = header::parse(data) {
        let body = data.get(h.header_size..).unwrap_or_default();
        if let Err(e) = summarize(body, &h.magic) {
            assert!(e.offset <= data.len());
        }
    }
});
