//! Procedural macros of the x64vm Rust SDK. Use them through `x64vm_sdk`
//! (`x64vm_sdk::contract`, `x64vm_sdk::event`, ...), which they refer to by path.
//!
//! Selectors and event topics are keccak256 hashes computed here, at compile
//! time, following `docs/abi.md`: selector = first 4 bytes of
//! `keccak256("name(type,...)")`, topic = `keccak256("Event(type,...)")`.

mod abi;
mod contract;
mod event;
mod storage;

use proc_macro::TokenStream;
use syn::parse_macro_input;

/// Turns an inherent `impl` block into the contract's ABI.
///
/// Every `pub fn` is exported: the macro generates the ELF entry
/// `_start(input, len)`, which reads the 4-byte selector, decodes the Borsh
/// arguments, loads the state (`<Self as Storage>::load()`), calls the method and
/// writes its return value (Borsh) as the call output. `&self` methods are
/// marked `view` in the ABI; `#[view]` marks an associated function (no
/// receiver) as one. State-changing functions revert when called with value
/// unless marked `#[payable]` (views do not check: a query carries no value). A `Result<T, E>` return value outputs `T` or reverts with the
/// message of `E`. The ABI lines (`fn name(type param, ...) -> type [view]`) go
/// to the `.x64vm.abi` section.
#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as syn::ItemImpl);
    contract::expand(attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Makes a struct an event: implements `x64vm_sdk::Event` with the topic
/// `keccak256("Name(type,...)")` and the fields Borsh-encoded in order as data,
/// and adds `event Name(type field, ...)` to the ABI section.
#[proc_macro_attribute]
pub fn event(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as syn::ItemStruct);
    event::expand(attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `x64vm_sdk::Storage` for a struct of storage handles
/// (`StorageValue`, `StorageMap`): each field is keyed by its name, or by
/// `#[storage(key = "...")]`.
#[proc_macro_derive(Storage, attributes(storage))]
pub fn derive_storage(item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as syn::DeriveInput);
    storage::expand(item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// `selector!("transfer(address,u128)")`: the 4-byte selector as a `[u8; 4]`
/// constant expression.
#[proc_macro]
pub fn selector(item: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(item as syn::LitStr);
    let s = abi::selector(&lit.value());
    quote::quote!([#(#s),*]).into()
}

/// `keccak256!("text")`: the keccak256 hash of the string's bytes as a
/// `[u8; 32]` constant expression (e.g. an event topic).
#[proc_macro]
pub fn keccak256(item: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(item as syn::LitStr);
    let h = abi::keccak256(lit.value().as_bytes());
    quote::quote!([#(#h),*]).into()
}
