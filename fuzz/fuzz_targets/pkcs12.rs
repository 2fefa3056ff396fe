//! Any bytes as a PKCS#12 file: the BER walk, the MAC and every decryption path must end in a
//! result, never a panic or a stall (iteration counts are capped).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(contents) = keysweep::detect::pkcs12::open(data) {
        for key in &contents.keys {
            let _ = keysweep::detect::keys::from_pkcs8_der(&key.pkcs8);
        }
    }
});
