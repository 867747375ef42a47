//! The host-call interface of x64vm: the numbers a contract passes to `int imm8`.
//!
//! This crate is the single source of truth for those numbers; the VM, the CLI and
//! the SDKs take them from here, and `docs/abi.md` is checked against this table.
//! Arguments travel in RDI, RSI, RDX, RCX, R8, R9 (System V order); the result is
//! returned in RAX.
#![no_std]

/// One host service: its `int` number, name and argument list as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    /// The immediate of the `int` instruction.
    pub number: u8,
    /// Stable lower-case name, used in docs, traces and the SDK headers.
    pub name: &'static str,
    /// Argument names in register order (RDI, RSI, RDX, ...).
    pub args: &'static [&'static str],
    /// What RAX holds afterwards.
    pub returns: &'static str,
}

/// `input_len() -> len`: size of the call input in bytes.
pub const INPUT_LEN: u8 = 0x20;
/// `input_read(dst, offset, len) -> copied`: copy input bytes into guest memory.
pub const INPUT_READ: u8 = 0x21;
/// `output(ptr, len) -> 0`: set (replace) the call output.
pub const OUTPUT: u8 = 0x22;
/// `revert(ptr, len)`: stop, discard effects, report `ptr[..len]` as revert data.
pub const REVERT: u8 = 0x23;
/// `debug(ptr, len) -> 0`: append bytes to the debug output.
pub const DEBUG: u8 = 0x24;
/// `alloc(size, align) -> ptr`: allocate guest heap memory; 0 when exhausted.
pub const ALLOC: u8 = 0x25;
/// `free(ptr) -> 0`: release memory from `alloc`; 0 is ignored.
pub const FREE: u8 = 0x26;
/// `gas_left() -> gas`: gas remaining after the current block was charged.
pub const GAS_LEFT: u8 = 0x27;
/// `finish(ptr, len)`: set the output and stop successfully at once.
pub const FINISH: u8 = 0x28;

/// The services every x64vm instance serves itself, whatever the host.
pub const CORE_SERVICES: &[Service] = &[
    Service {
        number: INPUT_LEN,
        name: "input_len",
        args: &[],
        returns: "input length",
    },
    Service {
        number: INPUT_READ,
        name: "input_read",
        args: &["dst", "offset", "len"],
        returns: "bytes copied",
    },
    Service {
        number: OUTPUT,
        name: "output",
        args: &["ptr", "len"],
        returns: "0",
    },
    Service {
        number: REVERT,
        name: "revert",
        args: &["ptr", "len"],
        returns: "does not return",
    },
    Service {
        number: DEBUG,
        name: "debug",
        args: &["ptr", "len"],
        returns: "0",
    },
    Service {
        number: ALLOC,
        name: "alloc",
        args: &["size", "align"],
        returns: "pointer or 0",
    },
    Service {
        number: FREE,
        name: "free",
        args: &["ptr"],
        returns: "0",
    },
    Service {
        number: GAS_LEFT,
        name: "gas_left",
        args: &[],
        returns: "gas remaining",
    },
    Service {
        number: FINISH,
        name: "finish",
        args: &["ptr", "len"],
        returns: "does not return",
    },
];

/// `storage_read(key, key_len, dst, cap) -> len`: value length (copies `min(len, cap)`
/// bytes to `dst`), or `u64::MAX` when the key is absent.
pub const STORAGE_READ: u8 = 0x30;
/// `storage_write(key, key_len, val, val_len) -> 0`.
pub const STORAGE_WRITE: u8 = 0x31;
/// `storage_remove(key, key_len) -> existed`: 1 if the key was present, else 0.
pub const STORAGE_REMOVE: u8 = 0x32;
/// `emit_event(topic32, data, data_len) -> 0`: log an event.
pub const EMIT_EVENT: u8 = 0x38;
/// `caller(dst32) -> 0`: the immediate caller's address.
pub const CALLER: u8 = 0x40;
/// `origin(dst32) -> 0`: the transaction's original sender.
pub const ORIGIN: u8 = 0x41;
/// `self_address(dst32) -> 0`: this contract's address.
pub const SELF_ADDRESS: u8 = 0x42;
/// `value(dst16) -> 0`: value sent with this call, u128 little-endian.
pub const VALUE: u8 = 0x43;
/// `block_number() -> number`.
pub const BLOCK_NUMBER: u8 = 0x44;
/// `timestamp() -> seconds`: block timestamp.
pub const TIMESTAMP: u8 = 0x45;
/// `block_hash(number, dst32) -> known`: 1 and the hash for one of the last 256 blocks, else 0.
pub const BLOCK_HASH: u8 = 0x46;
/// `balance(addr32, dst16) -> 0`: balance of an address, u128 little-endian.
pub const BALANCE: u8 = 0x47;
/// `transfer(addr32, amount16) -> status`: 0 done, 1 insufficient balance.
pub const TRANSFER: u8 = 0x50;
/// `call(addr32, input, input_len, value16_or_0, gas_cap) -> status`: 0 success,
/// 1 reverted, 2 failed (trap, out of gas, no such contract, depth limit).
pub const CALL: u8 = 0x51;
/// `return_data_len() -> len`: output (or revert data) of the last `call`.
pub const RETURN_DATA_LEN: u8 = 0x52;
/// `return_data_read(dst, offset, len) -> copied`.
pub const RETURN_DATA_READ: u8 = 0x53;
/// `sha256(ptr, len, dst32) -> 0`.
pub const SHA256: u8 = 0x60;
/// `keccak256(ptr, len, dst32) -> 0`.
pub const KECCAK256: u8 = 0x61;
/// `secp256k1_recover(hash32, sig65, dst64) -> status`: 0 and the uncompressed public
/// key (x ‖ y) on success, 1 for an invalid signature. `sig65` is r ‖ s ‖ v (v = 0/1 or 27/28).
pub const SECP256K1_RECOVER: u8 = 0x62;
/// `ed25519_verify(pubkey32, sig64, msg, msg_len) -> valid`: 1 valid, 0 invalid.
pub const ED25519_VERIFY: u8 = 0x63;

/// The services a contract host (a chain) serves.
pub const CHAIN_SERVICES: &[Service] = &[
    Service {
        number: STORAGE_READ,
        name: "storage_read",
        args: &["key", "key_len", "dst", "cap"],
        returns: "value length or u64::MAX",
    },
    Service {
        number: STORAGE_WRITE,
        name: "storage_write",
        args: &["key", "key_len", "val", "val_len"],
        returns: "0",
    },
    Service {
        number: STORAGE_REMOVE,
        name: "storage_remove",
        args: &["key", "key_len"],
        returns: "1 if it existed",
    },
    Service {
        number: EMIT_EVENT,
        name: "emit_event",
        args: &["topic32", "data", "data_len"],
        returns: "0",
    },
    Service {
        number: CALLER,
        name: "caller",
        args: &["dst32"],
        returns: "0",
    },
    Service {
        number: ORIGIN,
        name: "origin",
        args: &["dst32"],
        returns: "0",
    },
    Service {
        number: SELF_ADDRESS,
        name: "self_address",
        args: &["dst32"],
        returns: "0",
    },
    Service {
        number: VALUE,
        name: "value",
        args: &["dst16"],
        returns: "0",
    },
    Service {
        number: BLOCK_NUMBER,
        name: "block_number",
        args: &[],
        returns: "block number",
    },
    Service {
        number: TIMESTAMP,
        name: "timestamp",
        args: &[],
        returns: "seconds",
    },
    Service {
        number: BLOCK_HASH,
        name: "block_hash",
        args: &["number", "dst32"],
        returns: "1 if known",
    },
    Service {
        number: BALANCE,
        name: "balance",
        args: &["addr32", "dst16"],
        returns: "0",
    },
    Service {
        number: TRANSFER,
        name: "transfer",
        args: &["addr32", "amount16"],
        returns: "0 or 1",
    },
    Service {
        number: CALL,
        name: "call",
        args: &["addr32", "input", "input_len", "value16", "gas_cap"],
        returns: "0, 1 or 2",
    },
    Service {
        number: RETURN_DATA_LEN,
        name: "return_data_len",
        args: &[],
        returns: "length",
    },
    Service {
        number: RETURN_DATA_READ,
        name: "return_data_read",
        args: &["dst", "offset", "len"],
        returns: "bytes copied",
    },
    Service {
        number: SHA256,
        name: "sha256",
        args: &["ptr", "len", "dst32"],
        returns: "0",
    },
    Service {
        number: KECCAK256,
        name: "keccak256",
        args: &["ptr", "len", "dst32"],
        returns: "0",
    },
    Service {
        number: SECP256K1_RECOVER,
        name: "secp256k1_recover",
        args: &["hash32", "sig65", "dst64"],
        returns: "0 or 1",
    },
    Service {
        number: ED25519_VERIFY,
        name: "ed25519_verify",
        args: &["pubkey32", "sig64", "msg", "msg_len"],
        returns: "1 valid, 0 invalid",
    },
];

/// Limits a chain host enforces (each breach is a trap naming the limit).
pub mod limits {
    /// Largest storage key in bytes.
    pub const MAX_KEY: u64 = 256;
    /// Largest storage value in bytes.
    pub const MAX_VALUE: u64 = 64 * 1024;
    /// Most events one call (including nested calls) may emit.
    pub const MAX_EVENTS: u64 = 1024;
    /// Largest event data in bytes.
    pub const MAX_EVENT_DATA: u64 = 64 * 1024;
    /// Deepest nesting of contract calls (the outermost call is depth 1).
    pub const MAX_CALL_DEPTH: u64 = 64;
    /// Largest call input in bytes.
    pub const MAX_CALL_INPUT: u64 = 1024 * 1024;
}

/// Name of the ELF section (and packed-file entry) holding a contract's ABI text.
pub const ABI_SECTION: &str = ".x64vm.abi";

/// Looks up any documented service (core or chain) by number.
pub fn service(number: u8) -> Option<&'static Service> {
    CORE_SERVICES
        .iter()
        .chain(CHAIN_SERVICES)
        .find(|s| s.number == number)
}

/// Looks up a core service by number.
pub fn core_service(number: u8) -> Option<&'static Service> {
    CORE_SERVICES.iter().find(|s| s.number == number)
}
