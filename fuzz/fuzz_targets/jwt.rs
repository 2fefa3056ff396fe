//! Any text as a compact JWT: header and claims decoding, HMAC verification input.
#![no_main]

use keysweep::detect::jwt::parse;
use keysweep::verify::hmac::HsToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(info) = parse(text)
        && let Some(token) = HsToken::parse(text, &info.alg)
    {
        let _ = token.verifies(b"fuzz");
    }
});
