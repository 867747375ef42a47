//! A counter: `increment() -> u64`, `get() -> u64` (view), `reset()`.
//!
//! The same ABI as examples/counter/c and examples/counter/cpp. The count is
//! stored Borsh-encoded (8 bytes, little-endian) under the key `count`.
#![no_std]
#![no_main]

use x64vm_sdk::prelude::*;

/// The contract state: one stored u64.
#[derive(Storage)]
pub struct Counter {
    count: StorageValue<u64>,
}

#[contract]
impl Counter {
    /// Adds one and returns the new count; reverts on overflow.
    pub fn increment(&mut self) -> u64 {
        let next = self
            .count
            .get_or_default()
            .checked_add(1)
            .unwrap_or_else(|| revert("counter: overflow"));
        self.count.set(&next);
        next
    }

    /// The current count (0 before the first increment).
    pub fn get(&self) -> u64 {
        self.count.get_or_default()
    }

    /// Back to 0 (the stored value is removed).
    pub fn reset(&mut self) {
        self.count.remove();
    }
}
