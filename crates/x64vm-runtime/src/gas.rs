//! Gas costs of the chain services (documented in docs/gas.md, "Chain services").
//!
//! Every host call first pays the VM's boundary cost (the `Int` row plus
//! [`x64vm::host::GAS_HOST_CALL_BASE`]) and 1 gas per 32 bytes copied between guest
//! memory and the host; the costs here come on top. An instruction costs about
//! 1 gas, so these are set against the instruction work a contract would spend
//! computing the same thing, and against the lasting cost to the chain (storage
//! is paid per byte, because every byte written is kept by every node).

/// `storage_read`: base.
pub const STORAGE_READ: u64 = 200;
/// `storage_read`: per byte of key and of value found.
pub const STORAGE_READ_PER_BYTE: u64 = 1;
/// `storage_write`: base.
pub const STORAGE_WRITE: u64 = 2_000;
/// `storage_write`: per byte of key and value.
pub const STORAGE_WRITE_PER_BYTE: u64 = 20;
/// `storage_remove`: base.
pub const STORAGE_REMOVE: u64 = 500;
/// `storage_remove`: per byte of key.
pub const STORAGE_REMOVE_PER_BYTE: u64 = 1;
/// `emit_event`: base.
pub const EMIT_EVENT: u64 = 400;
/// `emit_event`: per byte of data.
pub const EMIT_EVENT_PER_BYTE: u64 = 8;
/// `caller`, `origin`, `self_address`, `value`, `block_number`, `timestamp`.
pub const CONTEXT: u64 = 2;
/// `block_hash`.
pub const BLOCK_HASH: u64 = 20;
/// `balance`.
pub const BALANCE: u64 = 100;
/// `transfer`.
pub const TRANSFER: u64 = 1_000;
/// `call`: base, on top of the gas the callee uses.
pub const CALL: u64 = 1_000;
/// `call`: extra when value is sent.
pub const CALL_VALUE: u64 = 1_000;
/// `call`: per byte of input.
pub const CALL_PER_BYTE: u64 = 1;
/// `return_data_len`, `return_data_read` (plus the copy).
pub const RETURN_DATA: u64 = 2;
/// `sha256`: base.
pub const SHA256: u64 = 60;
/// `sha256`: per 64-byte block (rounded up).
pub const SHA256_PER_BLOCK: u64 = 24;
/// `keccak256`: base.
pub const KECCAK256: u64 = 30;
/// `keccak256`: per 136-byte block (rounded up).
pub const KECCAK256_PER_BLOCK: u64 = 36;
/// `secp256k1_recover`.
pub const SECP256K1_RECOVER: u64 = 3_000;
/// `ed25519_verify`: base.
pub const ED25519_VERIFY: u64 = 2_000;
/// `ed25519_verify`: per 128-byte block of message (SHA-512, rounded up).
pub const ED25519_VERIFY_PER_BLOCK: u64 = 24;

/// `per` for every started `block` bytes of `len`, saturating.
pub fn per_block(len: u64, block: u64, per: u64) -> u64 {
    len.div_ceil(block.max(1)).saturating_mul(per)
}

/// `base + per_byte * len`, saturating.
pub fn linear(base: u64, per_byte: u64, len: u64) -> u64 {
    base.saturating_add(per_byte.saturating_mul(len))
}
