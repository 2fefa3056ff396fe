//! Any bytes as a binary key file (DER, PKCS#12, JKS).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = keysweep::detect::container::detect(data, "fuzz");
});
