//! Compact JWTs (RFC 7519): three base64url segments whose header is JSON with `alg`.

use serde_json::Value;

use super::MatchContext;
use crate::encoding::base64_url;
use crate::finding::{Candidate, JwtInfo, kind};

/// Report a JWT with its header and interesting claims. The signature is the secret part.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let token = std::str::from_utf8(ctx.secret()).ok()?;
    let info = parse(token)?;
    let header_segment = token.split('.').next().unwrap_or("");
    let preview = format!(
        "{}…(redacted)",
        &header_segment[..header_segment.len().min(12)]
    );
    let mut candidate = ctx.candidate(
        kind::JWT,
        token.as_bytes().to_vec(),
        token.to_string(),
        preview,
        "jwt",
    );
    candidate.start = ctx.secret_start;
    candidate.end = ctx.secret_end;
    candidate.jwt = Some(info);
    Some(candidate)
}

/// Decode a compact JWT's header and claims. `None` when it is not a JWS JWT.
pub fn parse(token: &str) -> Option<JwtInfo> {
    let mut segments = token.split('.');
    let (header, payload, _signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&base64_url(header.as_bytes())?).ok()?;
    let header = header.as_object()?;
    if header.contains_key("enc") {
        return None; // JWE: the payload is encrypted, there is nothing to verify here.
    }
    let text = |object: &serde_json::Map<String, Value>, name: &str| {
        object.get(name).and_then(Value::as_str).map(str::to_string)
    };
    let mut info = JwtInfo {
        alg: text(header, "alg")?,
        kid: text(header, "kid"),
        typ: text(header, "typ"),
        ..JwtInfo::default()
    };
    let claims: Option<Value> =
        base64_url(payload.as_bytes()).and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(Value::Object(claims)) = claims {
        info.iss = text(&claims, "iss");
        info.sub = text(&claims, "sub");
        info.aud = claims.get("aud").cloned();
        info.exp = claims.get("exp").and_then(Value::as_i64);
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc7515_example() {
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let info = parse(token).unwrap();
        assert_eq!(info.alg, "HS256");
        assert_eq!(info.iss.as_deref(), Some("joe"));
        assert_eq!(info.exp, Some(1300819380));
    }

    #[test]
    fn rejects_headers_without_alg() {
        assert!(parse("eyJub3RhIjoiand0In0.eyJzdWIiOiJhZG1pbiJ9.c2ln").is_none());
    }
}
