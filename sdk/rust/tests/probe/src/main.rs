//! The SDK's test contract: one function per SDK feature, so a test on the
//! chain can check each wrapper against docs/abi.md.
#![no_std]
#![no_main]

use core::hint::black_box;

use x64vm_sdk::prelude::*;
use x64vm_sdk::{CallStatus, host};

/// Every ABI type in one event.
#[event]
pub struct Ping {
    pub n: u64,
    pub data: Vec<u8>,
    pub who: Address,
    pub flag: bool,
    pub big: i128,
    pub text: String,
}

/// A tuple-struct event.
#[event]
pub struct Pair(pub u8, pub i16);

/// Typed storage, with one key overridden.
#[derive(Storage)]
pub struct Probe {
    /// Bumped by `forward` after its nested call (the caller goes on).
    after: StorageValue<u64>,
    /// The last nested call's output or revert data.
    last: StorageValue<Vec<u8>>,
    #[storage(key = "n")]
    numbers: StorageMap<u64, String>,
}

#[contract]
impl Probe {
    /// caller ‖ origin ‖ self ‖ value (16) ‖ block number (8) ‖ timestamp (8) ‖
    /// gas left (8).
    #[payable]
    pub fn context(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(caller().as_bytes());
        v.extend_from_slice(origin().as_bytes());
        v.extend_from_slice(self_address().as_bytes());
        v.extend_from_slice(&value().to_le_bytes());
        v.extend_from_slice(&block_number().to_le_bytes());
        v.extend_from_slice(&timestamp().to_le_bytes());
        v.extend_from_slice(&host::gas_left().to_le_bytes());
        v
    }

    /// sha256(data) ‖ keccak256(data).
    pub fn hashes(&self, data: Vec<u8>) -> Vec<u8> {
        let mut v = host::sha256(&data).to_vec();
        v.extend_from_slice(&keccak256(&data));
        v
    }

    /// The recovered public key, or nothing for an invalid signature.
    pub fn recover(&self, hash: Vec<u8>, sig: Vec<u8>) -> Vec<u8> {
        let hash: [u8; 32] = hash.try_into().unwrap_or_else(|_| revert("hash: 32 bytes"));
        let sig: [u8; 65] = sig.try_into().unwrap_or_else(|_| revert("sig: 65 bytes"));
        host::secp256k1_recover(&hash, &sig).map_or(Vec::new(), |k| k.to_vec())
    }

    /// ed25519 verification.
    pub fn verify(&self, key: Vec<u8>, sig: Vec<u8>, msg: Vec<u8>) -> bool {
        let key: [u8; 32] = key.try_into().unwrap_or_else(|_| revert("key: 32 bytes"));
        let sig: [u8; 64] = sig.try_into().unwrap_or_else(|_| revert("sig: 64 bytes"));
        host::ed25519_verify(&key, &sig, &msg)
    }

    /// The hash of block `n`, or nothing.
    pub fn hash_of_block(&self, n: u64) -> Vec<u8> {
        host::block_hash(n).map_or(Vec::new(), |h| h.to_vec())
    }

    /// The balance of `who`.
    pub fn balance_of(&self, who: Address) -> u128 {
        balance(&who)
    }

    /// Sends `amount` to `to`; whether the contract had enough.
    pub fn pay(&mut self, to: Address, amount: u128) -> bool {
        transfer(&to, amount).is_ok()
    }

    /// Calls `target` with `input`, `value` and `gas`; keeps going whatever the
    /// callee does. Returns the status (0 success, 1 reverted, 2 failed).
    pub fn forward(&mut self, target: Address, input: Vec<u8>, value: u128, gas: u64) -> u8 {
        let r = call(&target, &input, value, gas);
        self.last.set(&r.data);
        self.after.update(|n| n + 1);
        match r.status {
            CallStatus::Success => 0,
            CallStatus::Reverted => 1,
            CallStatus::Failed => 2,
        }
    }

    /// A typed nested call: `counter.get()` through `selector!` and `decode`.
    pub fn counter_get(&self, counter: Address) -> u64 {
        call(&counter, &encode_call(selector!("get()"), ()), 0, 0)
            .decode()
            .unwrap_or_else(|e| revert(&format!("probe: {e}")))
    }

    /// The last nested call's output or revert data.
    pub fn last(&self) -> Vec<u8> {
        self.last.get_or_default()
    }

    /// How many `forward`s completed.
    pub fn after(&self) -> u64 {
        self.after.get_or_default()
    }

    /// Raw storage write.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        host::storage_write(&key, &value);
    }

    /// Raw storage read; reverts with `absent` when there is no value.
    pub fn fetch(&self, key: Vec<u8>) -> Vec<u8> {
        host::storage_read(&key).unwrap_or_else(|| revert("absent"))
    }

    /// Raw storage remove.
    pub fn erase(&mut self, key: Vec<u8>) -> bool {
        host::storage_remove(&key)
    }

    /// Typed map: stores `text` under `n`; returns the previous text or "".
    pub fn name_number(&mut self, n: u64, text: String) -> String {
        let old = self.numbers.get(&n).unwrap_or_default();
        if text.is_empty() {
            self.numbers.remove(&n);
        } else {
            self.numbers.insert(&n, &text);
        }
        old
    }

    /// Emits `Ping` with every argument and `Pair(7, -2)`.
    pub fn ping(
        &mut self,
        n: u64,
        data: Vec<u8>,
        who: Address,
        flag: bool,
        big: i128,
        text: String,
    ) {
        Ping {
            n,
            data,
            who,
            flag,
            big,
            text,
        }
        .emit();
        Pair(7, -2).emit();
    }

    /// Every integer type decoded in order: the sum as i128.
    #[allow(clippy::too_many_arguments)]
    pub fn sum(
        &self,
        a: u8,
        b: u16,
        c: u32,
        d: u64,
        e: i8,
        f: i16,
        g: i32,
        h: i64,
        i: i128,
        neg: bool,
    ) -> i128 {
        let s = i128::from(a)
            + i128::from(b)
            + i128::from(c)
            + i128::from(d)
            + i128::from(e)
            + i128::from(f)
            + i128::from(g)
            + i128::from(h)
            + i;
        if neg { -s } else { s }
    }

    /// `"{s}:{len(b)}"`, the largest u128 and a bytes output.
    pub fn echo(&self, s: String, b: Vec<u8>) -> String {
        format!("{s}:{}", b.len())
    }

    /// Largest values round-trip.
    pub fn max_u128(&self, x: u128) -> u128 {
        x
    }

    /// Ways to fail: 0 overflow, 1 unwrap of None, 2 `panic!` with a formatted
    /// message, 3 `require`, 4 a failed allocation, 5 an index out of bounds.
    pub fn fail(&self, how: u8) -> u64 {
        match how {
            0 => black_box(u64::MAX) + u64::from(how + 1),
            1 => black_box(None::<u64>).unwrap(),
            2 => panic!("custom {}", 40 + how),
            3 => {
                require(false, "required");
                0
            }
            4 => {
                let v: Vec<u8> = Vec::with_capacity(black_box(1 << 40));
                black_box(v.as_ptr());
                v.capacity() as u64
            }
            _ => {
                let v = black_box([1u64, 2, 3]);
                v[black_box(usize::from(how))]
            }
        }
    }

    /// `Ok(7)` or `Err("no")`.
    pub fn result(&self, ok: bool) -> Result<u64, &'static str> {
        if ok { Ok(7) } else { Err("no") }
    }

    /// Writes to the debug output.
    pub fn say(&self, msg: String) {
        x64vm_sdk::debug!("say: {msg} ({} bytes)", msg.len());
    }

    /// Allocates `n` u64s (growing a vector), returns their sum.
    pub fn alloc_sum(&self, n: u32) -> u64 {
        let mut v = Vec::new();
        for i in 0..u64::from(n) {
            v.push(i);
        }
        let boxed: Vec<Vec<u8>> = (0..8).map(|i| vec![i; 100]).collect();
        v.iter().sum::<u64>() + boxed.iter().map(|b| u64::from(b[99])).sum::<u64>()
    }

    /// An associated function marked `view`.
    #[view]
    pub fn add(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }

    /// State-changing, not payable: reverts when value is sent.
    pub fn touch(&mut self) {
        self.after.update(|n| n + 100);
    }
}
