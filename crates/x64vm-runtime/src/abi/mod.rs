//! The call ABI: types and values, Borsh encoding, selectors, the ABI text
//! embedded in contracts (`.x64vm.abi`), call lines, and display of outputs
//! and events. See `docs/abi.md`, "Call encoding" and "ABI description".

mod borsh;
mod callline;
mod text;
mod types;

pub use borsh::{DecodeError, decode, decode_one, encode, encode_value};
pub use callline::{CallError, EncodedCall, encode_call_line, parse_call_line};
pub use text::{Abi, AbiError, Event, Function, Param};
pub use types::{Type, Value};

use crate::crypto::keccak256;

/// The 4-byte selector of a canonical signature such as `transfer(address,u128)`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// The topic of an event signature such as `Transfer(address,address,u128)`.
pub fn topic(signature: &str) -> [u8; 32] {
    keccak256(signature.as_bytes())
}

/// A call input: the selector of `signature` followed by the Borsh-encoded `args`.
/// The caller is responsible for `args` matching the signature.
pub fn encode_call(signature: &str, args: &[Value]) -> Vec<u8> {
    let mut v = selector(signature).to_vec();
    v.extend_from_slice(&encode(args));
    v
}

/// Renders an event as `Name(field: value, ...)` (fields without a name are
/// shown by value only); `None` when `data` does not decode as its fields.
pub fn display_event(event: &Event, data: &[u8]) -> Option<String> {
    let types: Vec<Type> = event.fields.iter().map(|p| p.ty).collect();
    let values = decode(&types, data).ok()?;
    let parts: Vec<String> = event
        .fields
        .iter()
        .zip(&values)
        .map(|(p, v)| match &p.name {
            Some(n) => format!("{n}: {v}"),
            None => v.to_string(),
        })
        .collect();
    Some(format!("{}({})", event.name, parts.join(", ")))
}

/// Renders a function's output with its return type; `None` when the function
/// has no return type or the output does not decode.
pub fn display_output(function: &Function, output: &[u8]) -> Option<String> {
    decode_one(function.ret?, output)
        .ok()
        .map(|v| v.to_string())
}
