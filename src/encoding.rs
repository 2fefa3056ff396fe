//! Decoders for the ways code holds secrets: base64 (standard and URL-safe, padded or not) and
//! string escapes (`\n`, `\\n`, XML character references) around PEM bodies.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decode standard base64, padded or not.
pub fn base64_standard(text: &[u8]) -> Option<Vec<u8>> {
    STANDARD_LENIENT.decode(text).ok()
}

/// Decode base64url (RFC 4648 §5), padded or not.
pub fn base64_url(text: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_LENIENT.decode(text).ok()
}

/// Encode bytes as unpadded base64url (the JOSE convention).
pub fn to_base64_url(bytes: &[u8]) -> String {
    general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Replace escaped line breaks (`\n`, `\r`, `\\n`, `&#10;`, `&#xA;`) with real newlines, so a
/// PEM held in a string literal or an escaped JSON value looks like a PEM again.
pub fn unescape_line_breaks(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        if byte == b'\\' {
            let mut j = i;
            while j < text.len() && text[j] == b'\\' {
                j += 1;
            }
            if j < text.len() && matches!(text[j], b'n' | b'r' | b't') {
                out.push(b'\n');
                i = j + 1;
                continue;
            }
            out.extend_from_slice(&text[i..j]);
            i = j;
            continue;
        }
        if byte == b'&' {
            let rest = &text[i..];
            const ENTITIES: [&[u8]; 6] =
                [b"&#10;", b"&#13;", b"&#xA;", b"&#xa;", b"&#xD;", b"&#xd;"];
            let entity = ENTITIES.iter().find(|e| rest.starts_with(e));
            if let Some(entity) = entity {
                out.push(b'\n');
                i += entity.len();
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    out
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Collect the base64 text of a PEM body held in any quoting: lines with a `Name: value` header
/// are dropped, then runs of base64 characters are joined; runs made only of punctuation (`+`
/// string concatenation, `//` comments) are dropped.
pub fn pem_body_base64(body: &[u8]) -> Vec<u8> {
    let unescaped = unescape_line_breaks(body);
    let mut out = Vec::with_capacity(unescaped.len());
    for line in unescaped.split(|&b| b == b'\n') {
        if is_header_line(line) || is_armor_checksum(line) {
            continue;
        }
        for run in line.split(|&b| !is_base64_byte(b)) {
            if run.iter().any(u8::is_ascii_alphanumeric) {
                out.extend_from_slice(run);
            }
        }
    }
    out
}

/// The `=XXXX` CRC-24 line that ends OpenPGP armour.
fn is_armor_checksum(line: &[u8]) -> bool {
    let trimmed = trim_ascii(line);
    trimmed.len() == 5 && trimmed[0] == b'='
}

/// `Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, `Version: ...` and the like.
fn is_header_line(line: &[u8]) -> bool {
    let trimmed = trim_ascii(line);
    let Some(colon) = memchr::memchr(b':', trimmed) else {
        return false;
    };
    colon > 0
        && trimmed[..colon]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && trimmed.get(colon + 1) == Some(&b' ')
}

/// Trim ASCII whitespace on both sides.
pub fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_all_line_break_spellings() {
        assert_eq!(
            unescape_line_breaks(br"a\nb\\nc&#10;d\re"),
            b"a\nb\nc\nd\ne"
        );
        assert_eq!(unescape_line_breaks(br"a\\b"), br"a\\b");
    }

    #[test]
    fn body_of_concatenated_string_literals() {
        let body = b"\\n\" +\n    \"MIIBAAAA+/xy\\n\" +\n    \"QUJD==\\n\"";
        assert_eq!(pem_body_base64(body), b"MIIBAAAA+/xyQUJD==");
    }

    #[test]
    fn drops_encryption_headers() {
        let body = b"\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00FF\n\nQUJD\n";
        assert_eq!(pem_body_base64(body), b"QUJD");
    }

    #[test]
    fn base64_variants_decode() {
        assert_eq!(base64_standard(b"QUJD").as_deref(), Some(&b"ABC"[..]));
        assert_eq!(base64_url(b"QUI").as_deref(), Some(&b"AB"[..]));
        assert_eq!(to_base64_url(&[0xfb, 0xff]), "-_8");
    }
}

/// Text that starts with a UTF-16 byte order mark (`FF FE` little-endian, `FE FF` big-endian),
/// decoded to UTF-8 (unpaired surrogates become U+FFFD). `None` for anything else.
pub fn utf16_with_bom(bytes: &[u8]) -> Option<Vec<u8>> {
    let little_endian = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = bytes[2..].chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little_endian {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

#[cfg(test)]
mod utf16_tests {
    use super::utf16_with_bom;

    #[test]
    fn both_byte_orders() {
        let text = "key = é𝄞\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend(unit.to_le_bytes());
            be.extend(unit.to_be_bytes());
        }
        assert_eq!(utf16_with_bom(&le).as_deref(), Some(text.as_bytes()));
        assert_eq!(utf16_with_bom(&be).as_deref(), Some(text.as_bytes()));
        assert_eq!(utf16_with_bom(b"plain"), None);
    }
}
