//! Write x64vm smart contracts in Rust.
//!
//! A contract is a `#![no_std]`, `#![no_main]` binary for the host's
//! `x86_64-unknown-linux-gnu` target, linked static and freestanding (see
//! `sdk/rust/README.md` for the exact flags). This crate gives it:
//!
//! - safe wrappers for every host service of `docs/abi.md` ([`host`], all
//!   re-exported here): input/output, [`revert`]/[`require`], [`debug!`], gas,
//!   storage, events, context ([`caller`], [`value`], [`block_number`], ...),
//!   [`transfer`], nested [`call`]s, and cryptography;
//! - [`Address`] and the Borsh [`Encode`]/[`Decode`] traits of the ABI types;
//! - typed storage: [`StorageValue`], [`StorageMap`] and `#[derive(Storage)]`;
//! - events: `#[event]` on a struct (topic = keccak256 of its signature,
//!   computed at compile time) and [`Event::emit`];
//! - `#[contract]` on an `impl` block: the `_start` entry that dispatches on the
//!   4-byte selector, decodes arguments, encodes the return value, and the ABI
//!   text in the `.x64vm.abi` section;
//! - a global allocator over the VM heap, a panic handler that reverts with the
//!   panic message, and `memcpy`/`memset`/... (features `allocator`,
//!   `panic-handler`, `mem`, all default).
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use x64vm_sdk::prelude::*;
//!
//! #[derive(Storage)]
//! pub struct Counter {
//!     count: StorageValue<u64>,
//! }
//!
//! #[contract]
//! impl Counter {
//!     pub fn increment(&mut self) -> u64 {
//!         self.count.update(|c| c.checked_add(1).unwrap_or_else(|| revert("overflow")))
//!     }
//!     pub fn get(&self) -> u64 {
//!         self.count.get_or_default()
//!     }
//! }
//! ```
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

mod address;
mod codec;
pub mod host;
mod rt;
pub mod storage;
mod sys;

pub use address::Address;
pub use codec::{Decode, DecodeError, Encode, encode_call};
pub use host::*;
pub use rt::HostAllocator;
pub use storage::{Storage, StorageMap, StorageValue};

/// `#[contract]`, `#[event]`, `#[derive(Storage)]`, `selector!`, `keccak256!`.
pub use x64vm_sdk_macros::{Storage, contract, event, keccak256, selector};

/// An event: a topic (keccak256 of [`Event::SIGNATURE`]) and Borsh data.
/// Implemented by `#[event]`.
pub trait Event {
    /// `Name(type,...)`, e.g. `Transfer(address,address,u128)`.
    const SIGNATURE: &'static str;
    /// keccak256 of the signature.
    const TOPIC: [u8; 32];

    /// Appends the fields, Borsh-encoded in declaration order.
    fn encode_data(&self, out: &mut alloc::vec::Vec<u8>);

    /// Logs the event (`emit_event`).
    fn emit(&self) {
        let mut data = alloc::vec::Vec::new();
        self.encode_data(&mut data);
        host::emit_event(&Self::TOPIC, &data);
    }
}

/// Writes a formatted message to the debug output, like `print!`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        $crate::host::debug(&$crate::__private::format!($($arg)*))
    };
}

/// Everything a contract usually needs, for `use x64vm_sdk::prelude::*`.
pub mod prelude {
    pub use crate::{
        Address, Decode, Encode, Event, Storage, StorageMap, StorageValue, balance, block_number,
        call, caller, contract, debug, encode_call, event, keccak256, origin, require, revert,
        selector, self_address, timestamp, transfer, value,
    };
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

/// Support for the code the macros generate; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use alloc::format;
    pub use alloc::vec::Vec;

    use crate::codec::{Decode, Encode};
    use crate::host;

    /// The call input the VM passes to the entry.
    ///
    /// # Safety
    /// `ptr` must be readable for `len` bytes for the rest of the call, unchanged
    /// (the VM's read-only input region), or `len` must be 0.
    pub unsafe fn input_slice(ptr: *const u8, len: u64) -> &'static [u8] {
        if len == 0 || ptr.is_null() {
            return &[];
        }
        // SAFETY: the caller guarantees `ptr..ptr+len` is readable and unchanged
        // for the rest of the call, which is the only lifetime the slice is used for.
        unsafe { core::slice::from_raw_parts(ptr, len as usize) }
    }

    /// Splits the selector off `input` and runs `f`; reverts for a short input or
    /// when `f` knows no such selector.
    pub fn dispatch(input: &[u8], f: impl FnOnce([u8; 4], &mut &[u8]) -> bool) {
        let Some((sel, mut args)) = input.split_first_chunk::<4>() else {
            host::revert("x64vm: call input shorter than a selector");
        };
        if !f(*sel, &mut args) {
            host::revert("x64vm: unknown function selector");
        }
    }

    /// Decodes the next argument; reverts when it does not decode.
    pub fn arg<T: Decode>(args: &mut &[u8]) -> T {
        T::decode(args).unwrap_or_else(|_| host::revert("x64vm: malformed call arguments"))
    }

    /// Reverts when arguments are left over.
    pub fn end_of_args(args: &[u8]) {
        if !args.is_empty() {
            host::revert("x64vm: malformed call arguments");
        }
    }

    /// Reverts when value was sent to a function not marked `#[payable]`.
    pub fn not_payable() {
        if host::value() != 0 {
            host::revert("x64vm: function is not payable");
        }
    }

    /// Sets the output to the encoded return value (nothing for `()`).
    pub fn output_value<T: Encode + ?Sized>(v: &T) {
        let mut out = Vec::new();
        v.encode(&mut out);
        host::output(&out);
    }

    /// `Ok(v)`: as [`output_value`]; `Err(e)`: reverts with `e`'s message.
    pub fn output_result<T: Encode, E: core::fmt::Display>(r: Result<T, E>) {
        match r {
            Ok(v) => output_value(&v),
            Err(e) => host::revert(&format!("{e}")),
        }
    }
}

/// The ELF entry `_start(input, len)` around a dispatch closure (used by
/// `#[contract]`; not a stable API).
#[doc(hidden)]
#[macro_export]
macro_rules! __entry {
    ($dispatch:expr) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub extern "C" fn _start(input: *const u8, len: u64) {
            // SAFETY: the VM enters with RDI/RSI = address and length of the call
            // input, a read-only region that stays mapped and unchanged until the
            // call ends.
            let input = unsafe { $crate::__private::input_slice(input, len) };
            $crate::__private::dispatch(input, $dispatch);
        }
    };
}
