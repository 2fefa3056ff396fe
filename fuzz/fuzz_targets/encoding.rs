//! Any bytes through the decoders: base64 (both alphabets), PEM bodies, escaped line breaks,
//! UTF-16 with a byte order mark.
#![no_main]

use keysweep::encoding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = encoding::base64_standard(data);
    let _ = encoding::base64_url(data);
    let body = encoding::pem_body_base64(data);
    let _ = encoding::base64_standard(&body);
    let _ = encoding::unescape_line_breaks(data);
    if let Some(text) = encoding::utf16_with_bom(data) {
        assert!(std::str::from_utf8(&text).is_ok());
    }
});
