//! Borsh encoding of the ABI types (`docs/abi.md`, "Call encoding"):
//! little-endian two's-complement integers, `bool` as one byte 0 or 1, `bytes`
//! (`Vec<u8>`) and `string` (`String`) as a u32 length then the bytes,
//! `address` as 32 bytes. Also tuples (arguments of nested calls, compound map
//! keys), `Option` (a 0/1 tag, then the value), fixed byte arrays (no length)
//! and `()` (nothing), as Borsh defines them.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::Address;

/// Why bytes do not decode as a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A `bool` byte other than 0 or 1.
    InvalidBool(u8),
    /// An `Option` tag other than 0 or 1.
    InvalidTag(u8),
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// Bytes left over after the value.
    TrailingBytes(usize),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd => f.write_str("input ends inside a value"),
            DecodeError::InvalidBool(b) => write!(f, "invalid bool byte {b}"),
            DecodeError::InvalidTag(b) => write!(f, "invalid option tag {b}"),
            DecodeError::InvalidUtf8 => f.write_str("string is not UTF-8"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} bytes left after the value"),
        }
    }
}

/// A value with a Borsh encoding.
pub trait Encode {
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// The encoding as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

/// A value decodable from its Borsh encoding.
pub trait Decode: Sized {
    /// Decodes one value from the front of `input` and advances it.
    ///
    /// # Errors
    /// [`DecodeError`] when `input` does not start with a valid encoding.
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError>;

    /// Decodes a value that must use all of `bytes`.
    ///
    /// # Errors
    /// As [`Decode::decode`], and [`DecodeError::TrailingBytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut rest = bytes;
        let v = Self::decode(&mut rest)?;
        if rest.is_empty() {
            Ok(v)
        } else {
            Err(DecodeError::TrailingBytes(rest.len()))
        }
    }
}

/// Takes `n` bytes from the front of `input`.
fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if input.len() < n {
        return Err(DecodeError::UnexpectedEnd);
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn take_array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], DecodeError> {
    let mut a = [0u8; N];
    a.copy_from_slice(take(input, N)?);
    Ok(a)
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            #[inline]
            fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(take_array(input)?))
            }
        }
    )*};
}

ints!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match u8::decode(input)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DecodeError::InvalidBool(b)),
        }
    }
}

/// `()` encodes as nothing: a function without a return value outputs nothing.
impl Encode for () {
    fn encode(&self, _out: &mut Vec<u8>) {}
}

impl Decode for () {
    fn decode(_input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(())
    }
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    // Values are far below 4 GiB (storage values ≤ 64 KiB, input ≤ 1 MiB).
    (len as u32).encode(out);
}

fn decode_len_prefixed<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    let len = u32::decode(input)? as usize;
    take(input, len)
}

/// `bytes`.
impl Encode for [u8] {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        out.extend_from_slice(self);
    }
}

/// `bytes`.
impl Encode for Vec<u8> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode(out);
    }
}

impl Decode for Vec<u8> {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        decode_len_prefixed(input).map(<[u8]>::to_vec)
    }
}

/// `string`.
impl Encode for str {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_bytes().encode(out);
    }
}

/// `string`.
impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().encode(out);
    }
}

impl Decode for String {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let b = decode_len_prefixed(input)?;
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| DecodeError::InvalidUtf8)
    }
}

/// `address`: 32 bytes.
impl Encode for Address {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Address {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        take_array(input).map(Address)
    }
}

/// A fixed-size byte array: the bytes, no length (Borsh `[u8; N]`).
impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        take_array(input)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match u8::decode(input)? {
            0 => Ok(None),
            1 => T::decode(input).map(Some),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}

macro_rules! tuples {
    ($(($($n:tt $t:ident),+))*) => {$(
        impl<$($t: Encode),+> Encode for ($($t,)+) {
            fn encode(&self, out: &mut Vec<u8>) {
                $(self.$n.encode(out);)+
            }
        }
        impl<$($t: Decode),+> Decode for ($($t,)+) {
            fn decode(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(($($t::decode(input)?,)+))
            }
        }
    )*};
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 E)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G)
    (0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H)
}

/// A call input for a nested [`call`](crate::call): the 4-byte selector (from
/// [`selector!`](crate::selector!)) followed by the Borsh-encoded arguments, given
/// as a tuple (`(to, amount)`; `()` for none).
pub fn encode_call<A: Encode>(selector: [u8; 4], args: A) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&selector);
    args.encode(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn round_trip<T: Encode + Decode + PartialEq + fmt::Debug>(v: T, bytes: &[u8]) {
        assert_eq!(v.to_bytes(), bytes, "{v:?}");
        assert_eq!(T::from_bytes(bytes).unwrap(), v);
    }

    #[test]
    fn integers_are_little_endian_twos_complement() {
        round_trip(0x12u8, &[0x12]);
        round_trip(0x1234u16, &[0x34, 0x12]);
        round_trip(1u32, &[1, 0, 0, 0]);
        round_trip(u64::MAX, &[0xff; 8]);
        round_trip(-1i8, &[0xff]);
        round_trip(-2i16, &[0xfe, 0xff]);
        round_trip(i32::MIN, &[0, 0, 0, 0x80]);
        round_trip(-1i64, &[0xff; 8]);
        round_trip(u128::MAX, &[0xff; 16]);
        let mut b = [0u8; 16];
        b[15] = 0x80;
        round_trip(i128::MIN, &b);
        round_trip(100u128, &{
            let mut b = [0u8; 16];
            b[0] = 100;
            b
        });
    }

    #[test]
    fn bool_bytes_string_address() {
        round_trip(true, &[1]);
        round_trip(false, &[0]);
        assert_eq!(bool::from_bytes(&[2]), Err(DecodeError::InvalidBool(2)));
        round_trip(vec![1u8, 2, 3], &[3, 0, 0, 0, 1, 2, 3]);
        round_trip(String::from("hé"), &[3, 0, 0, 0, b'h', 0xc3, 0xa9]);
        assert_eq!("ab".to_bytes(), [2, 0, 0, 0, b'a', b'b']);
        assert_eq!(
            String::from_bytes(&[1, 0, 0, 0, 0xff]),
            Err(DecodeError::InvalidUtf8)
        );
        round_trip(Address([7; 32]), &[7; 32]);
        round_trip([1u8, 2], &[1, 2]);
        round_trip(Some(5u8), &[1, 5]);
        round_trip(None::<u8>, &[0]);
        assert_eq!(
            Option::<u8>::from_bytes(&[2]),
            Err(DecodeError::InvalidTag(2))
        );
        round_trip((), &[]);
    }

    #[test]
    fn truncated_and_trailing_input() {
        assert_eq!(u32::from_bytes(&[1, 2, 3]), Err(DecodeError::UnexpectedEnd));
        assert_eq!(u8::from_bytes(&[1, 2]), Err(DecodeError::TrailingBytes(1)));
        // A length prefix larger than what is left never allocates or reads past.
        assert_eq!(
            Vec::<u8>::from_bytes(&[0xff, 0xff, 0xff, 0xff, 1]),
            Err(DecodeError::UnexpectedEnd)
        );
        assert_eq!(
            Address::from_bytes(&[0; 31]),
            Err(DecodeError::UnexpectedEnd)
        );
    }

    #[test]
    fn tuples_and_calls() {
        let to = Address([2; 32]);
        let mut want = vec![0xa9, 0x05, 0x9c, 0xbb];
        want.extend_from_slice(&[2; 32]);
        want.extend_from_slice(&100u128.to_le_bytes());
        assert_eq!(encode_call([0xa9, 0x05, 0x9c, 0xbb], (to, 100u128)), want);
        assert_eq!(encode_call([1, 2, 3, 4], ()), [1, 2, 3, 4]);
        round_trip((1u8, true, String::from("x")), &[1, 1, 1, 0, 0, 0, b'x']);
    }
}
