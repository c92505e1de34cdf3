//! The byte framing of the numbers the engine stores (matrices, out-of-fold caches), written once
//! so the two files are read by the same rules and a fix to one cannot miss the other.
//!
//! ```text
//! magic (8 bytes: 6 name the kind of file, 2 its format version) ‖ header length (u32 LE) ‖ header (JSON) ‖ body
//! ```
//!
//! The body is 8-byte little-endian words (`f64`, `i64`): bit-exact, which JSON text is not
//! guaranteed to be. The header is the caller's: it says how the body is laid out and carries a
//! checksum of the body, which the caller checks, so a damaged body is refused rather than read as
//! numbers. Stored bytes are keyed and hashed by content: the framing must not change.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why bytes are not a frame of the expected kind. Each file turns these into its own error,
/// whose messages users and tests rely on, so the cases are kept apart.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// Fewer bytes than the magic and the header length; `magic`: whether all 8 magic bytes were
    /// there.
    Short { magic: bool },
    /// The first 6 bytes are not this kind's.
    BadMagic,
    /// This kind of file in another format version (the magic's last 2 bytes, big-endian).
    Version(u16),
    /// The header runs past the end.
    Truncated { needed: usize, got: usize },
    /// The header is not the caller's JSON.
    Header(String),
}

/// A decoded frame: the caller's header and the bytes after it.
pub(crate) struct Frame<'a, H> {
    pub(crate) header: H,
    pub(crate) body: &'a [u8],
}

/// `magic ‖ header length ‖ header ‖ body`.
pub(crate) fn encode(magic: &[u8; 8], header: &impl Serialize, body: &[u8]) -> Vec<u8> {
    let h = serde_json::to_vec(header).unwrap_or_default();
    let mut out = Vec::with_capacity(magic.len() + 4 + h.len() + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(body);
    out
}

/// Read what [`encode`] wrote with this `magic`. The body is everything after the header; its
/// length and checksum are the caller's to check against the header.
pub(crate) fn decode<'a, H: DeserializeOwned>(bytes: &'a [u8], magic: &[u8; 8]) -> Result<Frame<'a, H>, FrameError> {
    if bytes.len() < 12 {
        return Err(FrameError::Short { magic: bytes.starts_with(magic) });
    }
    if bytes[..6] != magic[..6] {
        return Err(FrameError::BadMagic);
    }
    if bytes[6..8] != magic[6..8] {
        return Err(FrameError::Version(u16::from_be_bytes([bytes[6], bytes[7]])));
    }
    let hlen = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let hend = 12usize.saturating_add(hlen);
    if bytes.len() < hend {
        return Err(FrameError::Truncated { needed: hend, got: bytes.len() });
    }
    let header = serde_json::from_slice(&bytes[12..hend]).map_err(|e| FrameError::Header(e.to_string()))?;
    Ok(Frame { header, body: &bytes[hend..] })
}

/// Append `values` to a body, one little-endian word each.
pub(crate) fn put_f64s(body: &mut Vec<u8>, values: impl IntoIterator<Item = f64>) {
    for v in values {
        body.extend_from_slice(&v.to_le_bytes());
    }
}

/// Append `values` to a body, one little-endian word each.
pub(crate) fn put_i64s(body: &mut Vec<u8>, values: impl IntoIterator<Item = i64>) {
    for v in values {
        body.extend_from_slice(&v.to_le_bytes());
    }
}

/// The body's 8-byte words, in order (a trailing partial word is not one); the caller reads each
/// as `f64::from_le_bytes` or `i64::from_le_bytes`.
pub(crate) fn words(body: &[u8]) -> impl Iterator<Item = [u8; 8]> + '_ {
    body.chunks_exact(8).map(|c| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        w
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: &[u8; 8] = b"BTBTST\x00\x01";

    #[test]
    fn round_trip_and_every_refusal() {
        let mut body = Vec::new();
        put_i64s(&mut body, [-3]);
        put_f64s(&mut body, [1.5, f64::NAN]);
        let b = encode(MAGIC, &vec!["h"], &body);
        assert_eq!(&b[..8], MAGIC);
        let f = decode::<Vec<String>>(&b, MAGIC).unwrap();
        assert_eq!((f.header, f.body), (vec!["h".to_string()], &body[..]));
        let w: Vec<[u8; 8]> = words(f.body).collect();
        assert_eq!(i64::from_le_bytes(w[0]), -3);
        assert_eq!(f64::from_le_bytes(w[1]), 1.5);
        assert!(f64::from_le_bytes(w[2]).is_nan());
        assert!(matches!(decode::<Vec<String>>(&b[..10], MAGIC), Err(FrameError::Short { magic: true })));
        assert!(matches!(decode::<Vec<String>>(b"nope", MAGIC), Err(FrameError::Short { magic: false })));
        assert!(matches!(decode::<Vec<String>>(b"hello world!!", MAGIC), Err(FrameError::BadMagic)));
        let mut v2 = b.clone();
        v2[7] = 2;
        assert!(matches!(decode::<Vec<String>>(&v2, MAGIC), Err(FrameError::Version(2))));
        assert!(matches!(decode::<Vec<String>>(&b[..14], MAGIC), Err(FrameError::Truncated { needed: 17, got: 14 })));
        assert!(matches!(decode::<u32>(&b, MAGIC), Err(FrameError::Header(_))));
    }
}
