//! Lineage hashes: SHA-256 of canonical serialisations, so a result can be reproduced and
//! checked anywhere (natively, in wasm, in another copy of the page).
//!
//! Canonical JSON (what [`canonical_json`] writes):
//! - the value is first turned into a `serde_json::Value` (so struct field order does not
//!   matter, and non-finite floats become `null`, as `serde_json` always does);
//! - object keys are sorted by their UTF-8 bytes, recursively; arrays keep their order;
//! - no whitespace at all (`{"a":1,"b":[1.5,"x"]}`);
//! - strings are escaped exactly as `serde_json` escapes them, numbers are written exactly as
//!   `serde_json` writes them (integers plainly, floats by the shortest round-trip form, always
//!   with a `.` or an exponent, e.g. `14.0`, `0.02`, `1e-7`).
//!
//! A value that cannot be represented as JSON (a map with non-string keys) serialises as
//! `null`; the engine's own types never do that.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Canonical JSON bytes of `v` (sorted keys, no whitespace); see the module docs.
pub fn canonical_json<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let value = serde_json::to_value(v).unwrap_or(Value::Null);
    let mut out = Vec::with_capacity(256);
    write_value(&value, &mut out);
    out
}

fn write_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_str(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(x, out);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                if let Some(x) = m.get(k) {
                    write_value(x, out);
                }
            }
            out.push(b'}');
        }
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping; serialising a &str cannot fail.
    match serde_json::to_vec(s) {
        Ok(b) => out.extend_from_slice(&b),
        Err(_) => out.extend_from_slice(b"null"),
    }
}

/// SHA-256 over bytes that arrive in pieces; `hex()` equals [`sha256_hex`] of them all.
pub struct Sha256Stream(Sha256);

impl Sha256Stream {
    pub fn new() -> Sha256Stream {
        Sha256Stream(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn hex(self) -> String {
        hex(&self.0.finalize())
    }
}

impl Default for Sha256Stream {
    fn default() -> Self {
        Sha256Stream::new()
    }
}

/// Lower-case hexadecimal SHA-256 of `bytes` (64 characters).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(2 * digest.len());
    for b in digest {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The first 7 characters of a hash, for display (`c7d8e9a`); shorter input is returned whole.
pub fn short(sha: &str) -> &str {
    match sha.char_indices().nth(7) {
        Some((i, _)) => &sha[..i],
        None => sha,
    }
}

/// `sha256_hex(canonical_json(v))`.
pub fn sha_of<T: Serialize + ?Sized>(v: &T) -> String {
    sha256_hex(&canonical_json(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn canonical_form() {
        let v = json!({"b": [1, 2.5, {"z": null, "a": true}], "a": "x\"y", "c": 14.0, "d": 0.02, "e": -3});
        assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            r#"{"a":"x\"y","b":[1,2.5,{"a":true,"z":null}],"c":14.0,"d":0.02,"e":-3}"#
        );
        #[derive(Serialize)]
        struct S {
            zeta: f64,
            alpha: Option<u32>,
            nan: f64,
        }
        let s = S { zeta: 1e-7, alpha: None, nan: f64::NAN };
        assert_eq!(String::from_utf8(canonical_json(&s)).unwrap(), r#"{"alpha":null,"nan":null,"zeta":1e-7}"#);
        let mut m = BTreeMap::new();
        m.insert("period".to_string(), 21.0);
        assert_eq!(canonical_json(&m), b"{\"period\":21.0}");
        assert_eq!(canonical_json("é"), "\"é\"".as_bytes());
    }

    /// Fixed strings, so the wasm test can assert the very same ones.
    #[test]
    fn fixed_hashes() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let v = json!({"name": "custom_rsi", "params": {"period": 21.0}});
        assert_eq!(canonical_json(&v), br#"{"name":"custom_rsi","params":{"period":21.0}}"#);
        assert_eq!(sha_of(&v), sha256_hex(br#"{"name":"custom_rsi","params":{"period":21.0}}"#));
        assert_eq!(sha_of(&v), CUSTOM_RSI_SHA);
        assert_eq!(short(CUSTOM_RSI_SHA), &CUSTOM_RSI_SHA[..7]);
        assert_eq!(short("abc"), "abc");
    }

    const CUSTOM_RSI_SHA: &str = "8e7d568bd56d92484458014b2dfd6f3b8deec75cfc87862916eb74073d099ad4";
}
