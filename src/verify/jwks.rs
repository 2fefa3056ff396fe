//! JWK Sets from URLs, files and OIDC discovery; RFC 7638 thumbprints of their keys.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::http::Fetcher;
use crate::detect::keys::PublicKey;
use crate::encoding::to_base64_url;

/// One key of a published set.
#[derive(Clone, Debug)]
pub struct PublishedKey {
    /// Position in the set's `keys` array.
    pub index: usize,
    pub kid: Option<String>,
    pub kty: Option<String>,
    pub alg: Option<String>,
    /// RFC 7638 thumbprint, when the required members are present and well-formed.
    pub thumbprint: Option<String>,
    /// The member object as published.
    pub raw: Map<String, Value>,
}

/// A key set and where it came from.
#[derive(Clone, Debug)]
pub struct KeySet {
    /// The JWKS URL or file, as fetched or read.
    pub location: String,
    /// What the user configured: the JWKS URL or file, or the issuer.
    pub configured: String,
    pub keys: Vec<PublishedKey>,
}

/// Whether a configured source is a URL (else a file).
pub fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Read a key set: `{"keys":[...]}`, or a single JWK object.
pub fn parse_set(bytes: &[u8]) -> Result<Vec<PublishedKey>, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|error| format!("invalid JSON ({error})"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "not a JWK Set: the document is not a JSON object".to_string())?;
    let members: Vec<Value> = match object.get("keys") {
        Some(Value::Array(keys)) => keys.clone(),
        Some(_) => return Err("not a JWK Set: \"keys\" is not an array".to_string()),
        None if object.contains_key("kty") => vec![value.clone()],
        None => return Err("not a JWK Set: no \"keys\" member".to_string()),
    };
    Ok(members
        .into_iter()
        .enumerate()
        .map(|(index, member)| published_key(index, member))
        .collect())
}

fn published_key(index: usize, member: Value) -> PublishedKey {
    let raw = match member {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let text = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_string);
    PublishedKey {
        index,
        kid: text("kid"),
        kty: text("kty"),
        alg: text("alg"),
        thumbprint: thumbprint(&raw),
        raw,
    }
}

/// The public key of a JWK as keysweep's detectors compute it (leading zeros stripped), so a
/// published key and a found private key compare equal.
pub fn public_key(jwk: &Map<String, Value>) -> Option<PublicKey> {
    PublicKey::from_jwk(|name| jwk.get(name).and_then(Value::as_str))
}

/// RFC 7638 thumbprint of a JWK: required members only, sorted, SHA-256, base64url. Keys
/// keysweep can parse are normalised first; other types (oct, X25519, Ed448, other curves)
/// are hashed from their members as written.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    if let Some(public) = public_key(jwk) {
        return Some(public.thumbprint());
    }
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let canonical = match text("kty")? {
        "oct" => format!(r#"{{"k":{},"kty":"oct"}}"#, quote(text("k")?)),
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            quote(text("e")?),
            quote(text("n")?)
        ),
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            quote(text("crv")?),
            quote(text("x")?),
            quote(text("y")?)
        ),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            quote(text("crv")?),
            quote(text("x")?)
        ),
        _ => return None,
    };
    Some(to_base64_url(&Sha256::digest(canonical.as_bytes())))
}

/// RFC 7638 thumbprint of a symmetric key given as its base64url `k`.
pub fn oct_thumbprint(k: &str) -> String {
    let canonical = format!(r#"{{"k":{},"kty":"oct"}}"#, quote(k));
    to_base64_url(&Sha256::digest(canonical.as_bytes()))
}

fn quote(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// Load one configured `--jwks` source: fetch a URL or read a file.
pub fn load(source: &str, fetcher: &mut Fetcher) -> Result<KeySet, String> {
    let bytes = if is_url(source) {
        fetcher
            .get(source)
            .map_err(|error| format!("JWKS {source}: {error}"))?
            .to_vec()
    } else {
        std::fs::read(source).map_err(|error| format!("JWKS file {source}: {error}"))?
    };
    let keys = parse_set(&bytes).map_err(|error| format!("JWKS {source}: {error}"))?;
    Ok(KeySet {
        location: source.to_string(),
        configured: source.to_string(),
        keys,
    })
}

/// The discovery document URL of an issuer (OpenID Connect Discovery 1.0 §4: appended after
/// the issuer's path).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Resolve an issuer's `jwks_uri` through discovery; the document's `issuer` must be the one
/// asked for.
pub fn discover(issuer: &str, fetcher: &mut Fetcher) -> Result<String, String> {
    let url = discovery_url(issuer);
    let bytes = fetcher
        .get(&url)
        .map_err(|error| format!("issuer {issuer}: discovery {url}: {error}"))?;
    let document: Value = serde_json::from_slice(&bytes)
        .map_err(|error| format!("issuer {issuer}: discovery {url}: invalid JSON ({error})"))?;
    let stated = document.get("issuer").and_then(Value::as_str);
    match stated {
        Some(stated) if stated.trim_end_matches('/') == issuer.trim_end_matches('/') => {}
        Some(stated) => {
            return Err(format!(
                "issuer {issuer}: discovery document names issuer {stated:?}, not the one asked for; refused"
            ));
        }
        None => {
            return Err(format!(
                "issuer {issuer}: discovery document {url} has no \"issuer\""
            ));
        }
    }
    document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("issuer {issuer}: discovery document {url} has no \"jwks_uri\""))
}

/// Load an issuer's key set through discovery.
pub fn load_issuer(issuer: &str, fetcher: &mut Fetcher) -> Result<KeySet, String> {
    if !is_url(issuer) {
        return Err(format!("issuer {issuer}: not an http(s) URL"));
    }
    let jwks_uri = discover(issuer, fetcher)?;
    if !is_url(&jwks_uri) {
        return Err(format!(
            "issuer {issuer}: jwks_uri {jwks_uri:?} is not an http(s) URL"
        ));
    }
    let bytes = fetcher
        .get(&jwks_uri)
        .map_err(|error| format!("issuer {issuer}: JWKS {jwks_uri}: {error}"))?;
    let keys =
        parse_set(&bytes).map_err(|error| format!("issuer {issuer}: JWKS {jwks_uri}: {error}"))?;
    Ok(KeySet {
        location: jwks_uri,
        configured: issuer.to_string(),
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7517_A1: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/jose/rfc7517-A.1-jwks.json"
    );

    #[test]
    fn thumbprints_of_the_rfc_set() {
        let keys = parse_set(&std::fs::read(RFC7517_A1).unwrap()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[0].thumbprint.as_deref(),
            Some("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s")
        );
        assert_eq!(
            keys[1].thumbprint.as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(keys[1].kid.as_deref(), Some("2011-04-29"));
    }

    #[test]
    fn oct_thumbprint_matches_rfc_vector_table() {
        let k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
        assert_eq!(
            oct_thumbprint(k),
            "y_x3gCJnL6oKGBBIXScabduwxTVy2Wd2bzRVEUbdUzc"
        );
    }

    #[test]
    fn rejects_non_sets() {
        assert!(parse_set(b"[]").is_err());
        assert!(parse_set(b"{\"keys\": 3}").is_err());
        assert!(parse_set(b"not json").is_err());
        assert_eq!(parse_set(b"{\"keys\": []}").unwrap().len(), 0);
    }

    #[test]
    fn discovery_url_appends_after_the_path() {
        assert_eq!(
            discovery_url("https://a.example/tenant/"),
            "https://a.example/tenant/.well-known/openid-configuration"
        );
    }
}
