//! Typed persistent storage on top of the byte-keyed storage services.
//!
//! Contract state is a struct of handles with `#[derive(Storage)]`; each field
//! is keyed by its name (or `#[storage(key = "...")]`):
//!
//! ```ignore
//! #[derive(Storage)]
//! pub struct Token {
//!     total_supply: StorageValue<u128>,       // key "total_supply"
//!     balances: StorageMap<Address, u128>,    // keys "balances" ‖ 0x00 ‖ address
//! }
//! ```
//!
//! Key derivation (so other tools can read the state):
//! - a [`StorageValue`] lives under its key, e.g. `total_supply`;
//! - a [`StorageMap`] entry lives under `prefix ‖ 0x00 ‖ borsh(key)`, e.g.
//!   `balances\0` followed by the 32 address bytes; a compound key `(a, b)` is
//!   the two encodings one after the other. When that would exceed the 256-byte
//!   key limit, the entry lives under `prefix ‖ 0x01 ‖ keccak256(borsh(key))`.
//!
//! Values are stored Borsh-encoded. Field names are identifiers, which never
//! contain 0x00 or 0x01, so no two keys derived this way can collide.
//!
//! Writing needs `&mut` access to the handle, so `&self` (view) methods of a
//! contract cannot write through their state.

use alloc::vec::Vec;
use core::marker::PhantomData;

use crate::codec::{Decode, Encode};
use crate::host;

/// Contract state that can be loaded (handles are only keys: loading reads
/// nothing). Derive it with `#[derive(Storage)]`.
pub trait Storage {
    /// The state's handles.
    fn load() -> Self;
}

/// A storage handle made from its key (what `#[derive(Storage)]` calls per field).
pub trait Handle {
    /// The handle stored under `key` (a value) or keys prefixed by it (a map).
    fn at(key: &'static [u8]) -> Self;
}

fn decode_stored<T: Decode>(bytes: &[u8]) -> T {
    T::from_bytes(bytes).unwrap_or_else(|_| host::revert("storage: stored value does not decode"))
}

/// Reads and decodes the value under `key`; small values (the usual integers
/// and addresses) are decoded straight from a stack buffer, without a heap
/// allocation.
fn read_stored<T: Decode>(key: &[u8]) -> Option<T> {
    let mut small = [0u8; 64];
    let len = host::storage_read_into(key, &mut small)?;
    if len <= small.len() {
        return Some(decode_stored(&small[..len]));
    }
    host::storage_read(key).map(|b| decode_stored(&b))
}

/// One typed value under a fixed key.
pub struct StorageValue<T> {
    key: &'static [u8],
    _ty: PhantomData<fn() -> T>,
}

impl<T> core::fmt::Debug for StorageValue<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StorageValue")
            .field("key", &self.key)
            .finish()
    }
}

impl<T> Handle for StorageValue<T> {
    fn at(key: &'static [u8]) -> Self {
        Self::new(key)
    }
}

impl<T> StorageValue<T> {
    /// The value under `key`.
    pub const fn new(key: &'static [u8]) -> Self {
        Self {
            key,
            _ty: PhantomData,
        }
    }

    /// Its storage key.
    pub fn key(&self) -> &'static [u8] {
        self.key
    }

    /// Whether a value is stored.
    pub fn exists(&self) -> bool {
        host::storage_read_into(self.key, &mut []).is_some()
    }
}

impl<T: Encode + Decode> StorageValue<T> {
    /// The stored value, `None` if there is none. Reverts if the stored bytes do
    /// not decode as `T`.
    pub fn get(&self) -> Option<T> {
        read_stored(self.key)
    }

    /// The stored value, or `T::default()` if there is none.
    pub fn get_or_default(&self) -> T
    where
        T: Default,
    {
        self.get().unwrap_or_default()
    }

    /// Stores `value`.
    pub fn set(&mut self, value: &T) {
        host::storage_write(self.key, &value.to_bytes());
    }

    /// Removes the value; whether there was one.
    pub fn remove(&mut self) -> bool {
        host::storage_remove(self.key)
    }

    /// Replaces the value (or `T::default()`) with `f(value)`; the new value.
    pub fn update(&mut self, f: impl FnOnce(T) -> T) -> T
    where
        T: Default,
    {
        let v = f(self.get_or_default());
        self.set(&v);
        v
    }
}

/// The storage key of entry `key` of a map with `prefix` (see the module docs).
pub fn map_key<K: Encode + ?Sized>(prefix: &[u8], key: &K) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 1 + 32);
    k.extend_from_slice(prefix);
    k.push(0);
    key.encode(&mut k);
    if k.len() as u64 > x64vm_abi::limits::MAX_KEY {
        let h = host::keccak256(&k[prefix.len() + 1..]);
        k.truncate(prefix.len());
        k.push(1);
        k.extend_from_slice(&h);
    }
    k
}

/// A typed map from `K` to `V`, each entry under its own key.
pub struct StorageMap<K, V> {
    prefix: &'static [u8],
    _ty: PhantomData<fn(K) -> V>,
}

impl<K, V> core::fmt::Debug for StorageMap<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StorageMap")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl<K, V> Handle for StorageMap<K, V> {
    fn at(key: &'static [u8]) -> Self {
        Self::new(key)
    }
}

impl<K, V> StorageMap<K, V> {
    /// The map whose entries are keyed under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Self {
            prefix,
            _ty: PhantomData,
        }
    }

    /// The prefix of its entries' keys.
    pub fn prefix(&self) -> &'static [u8] {
        self.prefix
    }
}

impl<K: Encode, V: Encode + Decode> StorageMap<K, V> {
    /// The storage key of entry `key`.
    pub fn key(&self, key: &K) -> Vec<u8> {
        map_key(self.prefix, key)
    }

    /// The entry under `key`, `None` if absent. Reverts if the stored bytes do
    /// not decode as `V`.
    pub fn get(&self, key: &K) -> Option<V> {
        read_stored(&self.key(key))
    }

    /// The entry under `key`, or `V::default()` if absent.
    pub fn get_or_default(&self, key: &K) -> V
    where
        V: Default,
    {
        self.get(key).unwrap_or_default()
    }

    /// Whether there is an entry under `key`.
    pub fn contains(&self, key: &K) -> bool {
        host::storage_read_into(&self.key(key), &mut []).is_some()
    }

    /// Stores `value` under `key`.
    pub fn insert(&mut self, key: &K, value: &V) {
        host::storage_write(&self.key(key), &value.to_bytes());
    }

    /// Removes the entry under `key`; whether there was one.
    pub fn remove(&mut self, key: &K) -> bool {
        host::storage_remove(&self.key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Address;

    #[test]
    fn map_keys_are_prefix_nul_borsh() {
        let k = map_key(b"balances", &Address([9; 32]));
        assert_eq!(&k[..9], b"balances\0");
        assert_eq!(&k[9..], &[9; 32]);
        let k = map_key(b"allowances", &(Address([1; 32]), Address([2; 32])));
        assert_eq!(k.len(), 11 + 64);
        assert_eq!(&k[11..43], &[1; 32]);
        assert_eq!(map_key(b"n", &7u64), b"n\0\x07\0\0\0\0\0\0\0");
    }
}
