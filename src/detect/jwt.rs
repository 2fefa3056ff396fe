//! Compact JWTs (RFC 7519): three base64url segments whose header is JSON with `alg` (a string,
//! or `null`: such tokens are still reported). A token split across concatenated string
//! literals (`"eyJhbGciOi…" + "eyJzdWIi…"`, PHP's `.`, adjacent literals) is joined first.
//! Decoding here is lenient on purpose: verification (`verify::tokens`) is where the
//! `jsonwebtoken` crate's strict parsing and signature checks apply.

use serde_json::Value;

use super::MatchContext;
use crate::encoding::base64_url;
use crate::finding::{Candidate, JwtInfo, kind};

/// Longest token read across concatenated literals.
const MAX_JOINED_BYTES: usize = 16 * 1024;
/// Most literals joined into one token.
const MAX_PIECES: usize = 64;

/// Report a JWT with its header and interesting claims. The signature is the secret part.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let (joined, joined_end) = join_literals(ctx.blob, ctx.secret_start);
    let joined_info = (joined_end > ctx.secret_end)
        .then(|| parse(&joined))
        .flatten();
    let (token, end, info) = match joined_info {
        Some(info) => (joined.as_str(), joined_end, info),
        None => {
            // One literal (or a join that is not a token): the match as it is.
            let token = std::str::from_utf8(ctx.secret()).ok()?;
            (token, ctx.secret_end, parse(token)?)
        }
    };
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
    candidate.end = end;
    candidate.jwt = Some(info);
    Some(candidate)
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'=')
}

/// Read token characters from `start`, and when they end at a closing quote followed by a
/// concatenation (`+`, `.`, `..`, `&`, `||`, or nothing: adjacent literals) and another quoted
/// literal, go on reading in that literal. Returns the joined text and where it ends in the
/// blob; a token in one literal comes back as it is.
fn join_literals(blob: &[u8], start: usize) -> (String, usize) {
    let mut joined = Vec::new();
    let mut at = start;
    for _ in 0..MAX_PIECES {
        let piece_end = blob[at..]
            .iter()
            .position(|&b| !is_token_byte(b))
            .map_or(blob.len(), |i| at + i);
        joined.extend_from_slice(&blob[at..piece_end]);
        at = piece_end;
        if joined.len() > MAX_JOINED_BYTES {
            break;
        }
        match next_literal(blob, at) {
            Some(next) => at = next,
            None => break,
        }
    }
    (String::from_utf8_lossy(&joined).into_owned(), at)
}

/// After a closing quote at `at`: the start of the next literal's content, if a concatenation
/// follows.
fn next_literal(blob: &[u8], at: usize) -> Option<usize> {
    let quote = *blob.get(at)?;
    if !matches!(quote, b'"' | b'\'' | b'`') {
        return None;
    }
    let skip_space = |mut i: usize| {
        while i < blob.len() && (blob[i].is_ascii_whitespace() || blob[i] == b'\\') {
            i += 1;
        }
        i
    };
    let mut i = skip_space(at + 1);
    for operator in [&b"||"[..], b"..", b"+", b".", b"&"] {
        if blob[i..].starts_with(operator) {
            i = skip_space(i + operator.len());
            break;
        }
    }
    // C# verbatim and interpolated strings, Python prefixes.
    if matches!(blob.get(i), Some(b'@' | b'$' | b'f' | b'r' | b'u' | b'b'))
        && matches!(blob.get(i + 1), Some(b'"' | b'\'' | b'`'))
    {
        i += 1;
    }
    let open = *blob.get(i)?;
    (matches!(open, b'"' | b'\'' | b'`') && blob.get(i + 1).copied().is_some_and(is_token_byte))
        .then_some(i + 1)
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
    let alg = match header.get("alg")? {
        Value::String(alg) => alg.clone(),
        // `"alg": null`: no algorithm at all; reported, never verified.
        Value::Null => "null".to_string(),
        _ => return None,
    };
    let mut info = JwtInfo {
        alg,
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
    fn null_alg_is_a_token() {
        // {"alg":null,"typ":"JWT"} . {"sub":"admin"} . (empty)
        let info = parse("eyJhbGciOm51bGwsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.").unwrap();
        assert_eq!(info.alg, "null");
        assert_eq!(info.sub.as_deref(), Some("admin"));
    }

    #[test]
    fn joins_concatenated_literals() {
        let cases: [&[u8]; 5] = [
            b"t = \"eyJhbGciOiJIUzI1NiJ9.\" + \"eyJzdWIiOiIxIn0.\" +\n    \"c2ln\";",
            b"$t = 'eyJhbGciOiJIUzI1NiJ9.' . 'eyJzdWIiOiIxIn0.c2ln';",
            b"t = (\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0\"\n     \".c2ln\")",
            b"t = \"eyJhbGciOiJIUzI1NiJ9.\" + \\\n \"eyJzdWIiOiIxIn0.c2ln\"",
            b"t = @\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.\" + @\"c2ln\"",
        ];
        for case in cases {
            let start = memchr::memmem::find(case, b"eyJ").unwrap();
            let (token, end) = join_literals(case, start);
            assert_eq!(
                token,
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
                "{}",
                String::from_utf8_lossy(case)
            );
            assert!(matches!(case[end], b'"' | b'\''), "{end}");
        }
        // A method call or a list is not a concatenation.
        for case in [
            &b"\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\".length"[..],
            b"[\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\", \"x\"]",
        ] {
            let start = memchr::memmem::find(case, b"eyJ").unwrap();
            let (token, _) = join_literals(case, start);
            assert_eq!(token, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln");
        }
    }

    #[test]
    fn rejects_headers_without_alg() {
        assert!(parse("eyJub3RhIjoiand0In0.eyJzdWIiOiJhZG1pbiJ9.c2ln").is_none());
    }
}
