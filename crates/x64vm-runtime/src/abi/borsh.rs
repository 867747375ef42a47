//! Borsh layout: little-endian integers, bool as one byte (0 or 1), bytes and
//! strings as a u32 length and the bytes, addresses as 32 bytes.

use std::fmt;

use super::types::{Type, Value};

/// Why bytes did not decode as the expected types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The data ended inside a value.
    Truncated {
        /// Index of the value being decoded.
        index: usize,
        /// Its type.
        ty: Type,
    },
    /// A bool byte other than 0 or 1.
    BadBool {
        /// Index of the value.
        index: usize,
        /// The byte found.
        byte: u8,
    },
    /// A string that is not UTF-8.
    BadUtf8 {
        /// Index of the value.
        index: usize,
    },
    /// Bytes left over after the last value.
    Trailing {
        /// How many.
        extra: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { index, ty } => {
                write!(f, "data ends inside value {index} ({ty})")
            }
            DecodeError::BadBool { index, byte } => {
                write!(f, "value {index}: bool byte {byte:#04x} is neither 0 nor 1")
            }
            DecodeError::BadUtf8 { index } => write!(f, "value {index}: string is not UTF-8"),
            DecodeError::Trailing { extra } => write!(f, "{extra} bytes left after the last value"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Appends the Borsh encoding of `v` to `out`.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Uint(bits, x) => {
            out.extend_from_slice(&x.to_le_bytes()[..(*bits as usize / 8).min(16)])
        }
        Value::Int(bits, x) => {
            out.extend_from_slice(&x.to_le_bytes()[..(*bits as usize / 8).min(16)])
        }
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Bytes(b) => {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        Value::String(s) => {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Address(a) => out.extend_from_slice(a),
    }
}

/// The Borsh encoding of `values`, one after the other.
pub fn encode(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode_value(v, &mut out);
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

fn read_value(r: &mut Reader<'_>, ty: Type, index: usize) -> Result<Value, DecodeError> {
    let short = DecodeError::Truncated { index, ty };
    let le = |bytes: &[u8], signed: bool| -> u128 {
        let mut buf = [0u8; 16];
        buf[..bytes.len()].copy_from_slice(bytes);
        let negative = signed && bytes.last().is_some_and(|b| b & 0x80 != 0);
        if negative {
            buf[bytes.len()..].fill(0xff);
        }
        u128::from_le_bytes(buf)
    };
    Ok(match ty {
        Type::Uint(bits) => {
            let b = r.take((bits as usize / 8).min(16)).ok_or(short)?;
            Value::Uint(bits, le(b, false))
        }
        Type::Int(bits) => {
            let b = r.take((bits as usize / 8).min(16)).ok_or(short)?;
            Value::Int(bits, le(b, true) as i128)
        }
        Type::Bool => match r.take(1).ok_or(short)?[0] {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            byte => return Err(DecodeError::BadBool { index, byte }),
        },
        Type::Bytes | Type::String => {
            let len = r.take(4).ok_or(short.clone())?;
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let b = r.take(len).ok_or(short)?.to_vec();
            if ty == Type::Bytes {
                Value::Bytes(b)
            } else {
                Value::String(String::from_utf8(b).map_err(|_| DecodeError::BadUtf8 { index })?)
            }
        }
        Type::Address => {
            let b = r.take(32).ok_or(short)?;
            let mut a = [0u8; 32];
            a.copy_from_slice(b);
            Value::Address(a)
        }
    })
}

/// Decodes `data` as the values of `types`, in order; every byte must be used.
///
/// # Errors
/// [`DecodeError`] for short data, bad bools, non-UTF-8 strings or trailing bytes.
pub fn decode(types: &[Type], data: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut r = Reader { data, pos: 0 };
    let mut out = Vec::with_capacity(types.len());
    for (i, &ty) in types.iter().enumerate() {
        out.push(read_value(&mut r, ty, i)?);
    }
    if r.pos != data.len() {
        return Err(DecodeError::Trailing {
            extra: data.len() - r.pos,
        });
    }
    Ok(out)
}

/// Decodes `data` as exactly one value of type `ty`.
///
/// # Errors
/// As [`decode`].
pub fn decode_one(ty: Type, data: &[u8]) -> Result<Value, DecodeError> {
    let mut v = decode(&[ty], data)?;
    v.pop().ok_or(DecodeError::Truncated { index: 0, ty })
}
