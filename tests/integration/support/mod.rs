//! Helpers shared by every area of the integration tests.
//!
//! Everything here is independent of the keysweep library: keys are generated with external
//! tools (openssl, ssh-keygen, puttygen, gpg), public halves are taken from those tools' output
//! and parsed with the small DER / SSH-wire readers in `der`, and RFC 7638 thumbprints are
//! computed in `jose` with `sha2` + `base64`. keysweep itself is only ever run through `Ks`.

pub mod der;
pub mod jose;
pub mod keys;
pub mod ks;
pub mod measure;
pub mod repo;
pub mod report;
pub mod server;
pub mod table;
pub mod text;
pub mod tools;
pub mod tree;

pub use der::{Curve, PublicKey, SshReader};
pub use jose::{hs_jwt, jwk_thumbprint, jwks, make_jwt, public_jwk, rs256_sign, with};
pub use keys::{
    Alg, Enc, GenKey, SshKey, encrypt_pkcs8, gen_dsa, gen_key, gen_pgp_block, gen_ppk,
    gen_rsa_legacy_encrypted, gen_ssh, p256_pem,
};
pub use ks::{Ks, Outcome};
pub use measure::run_measured;
pub use repo::Repo;
pub use report::{
    Loc, Scan, assert_finding_shape, assert_format, assert_key_finding, assert_locations,
    assert_valid_sarif, jsonl_records, loc, loc_col, loc_of,
};
pub use server::{Reply, Server, TestCa};
pub use table::{Case, run_table};
pub use text::{
    b64, b64_decode, b64url, b64url_decode, has_placeholder_marker, hex, line_col, pem_base64,
    pem_body_lines, pem_escaped, random_b64_secret, random_bytes, random_secret, random_string,
    windows_of,
};
pub use tools::{openssl, read_string, tool};
pub use tree::Tree;

/// The JOSE RFC vectors (tests/data/jose).
pub const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jose");

/// The SARIF 2.1.0 schema (tests/data).
pub const SARIF_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/sarif-schema-2.1.0.json"
);
