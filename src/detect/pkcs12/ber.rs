//! A small BER reader for PKCS#12 structures. OpenSSL and keytool write DER, but Windows and NSS
//! exports use indefinite lengths and constructed OCTET STRINGs, which strict DER parsers refuse.
//! Every read is bounds-checked and nesting is limited, so hostile input ends in `None`.

use std::borrow::Cow;

/// Deepest nesting followed (PKCS#12 needs about ten levels).
const MAX_DEPTH: u8 = 32;

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_OID: u8 = 0x06;
pub const TAG_SEQUENCE: u8 = 0x30;
/// `[0]` constructed (EXPLICIT content, or IMPLICIT constructed OCTET STRING).
pub const TAG_CONTEXT_0: u8 = 0xa0;
/// `[0]` primitive (IMPLICIT OCTET STRING).
pub const TAG_CONTEXT_0_PRIMITIVE: u8 = 0x80;

/// One element: its tag byte and the bytes of its contents (for an indefinite length, everything
/// up to the end-of-contents marker).
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    pub tag: u8,
    pub body: &'a [u8],
    /// The whole encoding: header, body and any end-of-contents marker.
    pub raw: &'a [u8],
}

impl<'a> Element<'a> {
    /// The children of a constructed element, in order.
    pub fn children(&self) -> Children<'a> {
        Children { rest: self.body }
    }

    /// The content octets of an OCTET STRING, primitive or constructed (chunks joined), read
    /// under any tag (IMPLICIT tagging keeps the encoding, changes the tag).
    pub fn octets(&self) -> Option<Cow<'a, [u8]>> {
        octets_at(*self, 0)
    }

    /// A small non-negative INTEGER (iteration counts, versions).
    pub fn small_uint(&self) -> Option<u64> {
        if self.tag != TAG_INTEGER || self.body.is_empty() || self.body[0] & 0x80 != 0 {
            return None;
        }
        let digits = match self.body {
            [0, rest @ ..] => rest,
            all => all,
        };
        if digits.len() > 8 {
            return None;
        }
        Some(digits.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }
}

fn octets_at(element: Element<'_>, depth: u8) -> Option<Cow<'_, [u8]>> {
    if element.tag & 0x20 == 0 {
        return Some(Cow::Borrowed(element.body));
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    let mut joined = Vec::new();
    for child in element.children() {
        joined.extend_from_slice(&octets_at(child?, depth + 1)?);
    }
    Some(Cow::Owned(joined))
}

/// Iterator over the elements of a constructed body; yields `None` once on malformed input.
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Children<'a> {
    /// The next child, which must carry `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<Element<'a>> {
        self.next()?.filter(|element| element.tag == tag)
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Option<Element<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest, 0) {
            Some((element, rest)) => {
                self.rest = rest;
                Some(Some(element))
            }
            None => {
                self.rest = &[];
                Some(None)
            }
        }
    }
}

/// Read one element from the front of `input`; returns it and what follows.
pub fn read(input: &[u8], depth: u8) -> Option<(Element<'_>, &[u8])> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f || tag == 0 {
        return None; // multi-byte tags and end-of-contents never start a PKCS#12 element
    }
    let (&first, rest) = rest.split_first()?;
    if first == 0x80 {
        if tag & 0x20 == 0 {
            return None; // indefinite length needs a constructed element
        }
        let mut cursor = rest;
        loop {
            if let Some(after) = cursor.strip_prefix(&[0, 0]) {
                let body = &rest[..rest.len() - cursor.len()];
                let raw = &input[..input.len() - after.len()];
                return Some((Element { tag, body, raw }, after));
            }
            let (_, next) = read(cursor, depth + 1)?;
            cursor = next;
        }
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    let (body, after) = rest.split_at(len);
    let raw = &input[..input.len() - after.len()];
    Some((Element { tag, body, raw }, after))
}

/// Read `input` as exactly one element (trailing bytes refused).
pub fn read_whole(input: &[u8]) -> Option<Element<'_>> {
    match read(input, 0)? {
        (element, []) => Some(element),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_definite_and_indefinite_lengths() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let seq = read_whole(&der).unwrap();
        let mut children = seq.children();
        assert_eq!(children.expect(TAG_INTEGER).unwrap().small_uint(), Some(5));
        assert!(children.next().is_none());

        let ber = [0x30, 0x80, 0x02, 0x01, 0x07, 0x00, 0x00];
        let seq = read_whole(&ber).unwrap();
        assert_eq!(seq.children().count(), 1);
    }

    #[test]
    fn joins_constructed_octet_strings() {
        let ber = [0x24, 0x80, 0x04, 0x02, 1, 2, 0x04, 0x01, 3, 0x00, 0x00];
        let element = read_whole(&ber).unwrap();
        assert_eq!(element.octets().unwrap().as_ref(), &[1, 2, 3]);
    }

    #[test]
    fn refuses_truncated_and_deep_input() {
        assert!(read_whole(&[0x30, 0x05, 0x02]).is_none());
        assert!(read_whole(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_none());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert!(read_whole(&deep).is_none());
    }
}
