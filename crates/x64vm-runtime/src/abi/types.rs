//! ABI types and values.

use std::fmt;

use crate::Address;

/// A parameter, return or event field type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// Unsigned integer of 8, 16, 32, 64 or 128 bits.
    Uint(u32),
    /// Signed (two's complement) integer of 8, 16, 32, 64 or 128 bits.
    Int(u32),
    /// One byte, 0 or 1.
    Bool,
    /// u32 length, then the bytes.
    Bytes,
    /// u32 length, then UTF-8 bytes.
    String,
    /// 32 bytes.
    Address,
}

impl Type {
    /// Every type, in documentation order.
    pub const ALL: [Type; 14] = [
        Type::Uint(8),
        Type::Uint(16),
        Type::Uint(32),
        Type::Uint(64),
        Type::Uint(128),
        Type::Int(8),
        Type::Int(16),
        Type::Int(32),
        Type::Int(64),
        Type::Int(128),
        Type::Bool,
        Type::Bytes,
        Type::String,
        Type::Address,
    ];

    /// Parses a type name (`u8` … `i128`, `bool`, `bytes`, `string`, `address`).
    pub fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "u8" => Type::Uint(8),
            "u16" => Type::Uint(16),
            "u32" => Type::Uint(32),
            "u64" => Type::Uint(64),
            "u128" => Type::Uint(128),
            "i8" => Type::Int(8),
            "i16" => Type::Int(16),
            "i32" => Type::Int(32),
            "i64" => Type::Int(64),
            "i128" => Type::Int(128),
            "bool" => Type::Bool,
            "bytes" => Type::Bytes,
            "string" => Type::String,
            "address" => Type::Address,
            _ => return None,
        })
    }

    /// The canonical name, as used in signatures.
    pub fn name(&self) -> &'static str {
        match self {
            Type::Uint(8) => "u8",
            Type::Uint(16) => "u16",
            Type::Uint(32) => "u32",
            Type::Uint(64) => "u64",
            Type::Uint(_) => "u128",
            Type::Int(8) => "i8",
            Type::Int(16) => "i16",
            Type::Int(32) => "i32",
            Type::Int(64) => "i64",
            Type::Int(_) => "i128",
            Type::Bool => "bool",
            Type::Bytes => "bytes",
            Type::String => "string",
            Type::Address => "address",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An unsigned integer and its width in bits.
    Uint(u32, u128),
    /// A signed integer and its width in bits.
    Int(u32, i128),
    /// A boolean.
    Bool(bool),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A UTF-8 string.
    String(String),
    /// An address.
    Address(Address),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> Type {
        match self {
            Value::Uint(b, _) => Type::Uint(*b),
            Value::Int(b, _) => Type::Int(*b),
            Value::Bool(_) => Type::Bool,
            Value::Bytes(_) => Type::Bytes,
            Value::String(_) => Type::String,
            Value::Address(_) => Type::Address,
        }
    }
}

/// Integers in decimal, bytes and addresses as `0x` hex, strings quoted with
/// escapes (the call-line syntax, so a displayed value can be pasted back).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Uint(_, v) => write!(f, "{v}"),
            Value::Int(_, v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Bytes(b) => f.write_str(&crate::hex(b)),
            Value::Address(a) => f.write_str(&crate::hex(a)),
            Value::String(s) => write!(f, "{s:?}"),
        }
    }
}
