//! Safe wrappers for every host service of `docs/abi.md`, one function each
//! (numbers from `x64vm-abi`). All of them are re-exported at the crate root.

use alloc::vec;
use alloc::vec::Vec;

use x64vm_abi as n;

use crate::Address;
use crate::sys::{call0, call1, call2, call2_noreturn, call3, call4, call5};

fn ptr<T: ?Sized>(p: *const T) -> u64 {
    p.cast::<u8>() as u64
}

fn mut_ptr<T: ?Sized>(p: *mut T) -> u64 {
    p.cast::<u8>() as u64
}

// ---------------------------------------------------------------- core services

/// Length of the call input in bytes (`input_len`, 0x20).
pub fn input_len() -> usize {
    // SAFETY: `input_len` takes no arguments and touches no guest memory.
    unsafe { call0::<{ n::INPUT_LEN }>() as usize }
}

/// Copies call input from `offset` into `buf`; the number of bytes copied
/// (`input_read`, 0x21).
pub fn input_read(buf: &mut [u8], offset: usize) -> usize {
    // SAFETY: `buf` is writable for `buf.len()` bytes, the most the VM copies.
    unsafe {
        call3::<{ n::INPUT_READ }>(mut_ptr(buf.as_mut_ptr()), offset as u64, buf.len() as u64)
            as usize
    }
}

/// The whole call input (selector included).
pub fn input() -> Vec<u8> {
    let mut v = vec![0; input_len()];
    let got = input_read(&mut v, 0);
    v.truncate(got);
    v
}

/// Sets (replaces) the call output (`output`, 0x22).
pub fn output(data: &[u8]) {
    // SAFETY: `data` is readable for `data.len()` bytes.
    unsafe {
        call2::<{ n::OUTPUT }>(ptr(data.as_ptr()), data.len() as u64);
    }
}

/// Sets the output and ends the call successfully at once (`finish`, 0x28).
pub fn finish(data: &[u8]) -> ! {
    // SAFETY: `data` is readable for `data.len()` bytes; `finish` does not return.
    unsafe { call2_noreturn::<{ n::FINISH }>(ptr(data.as_ptr()), data.len() as u64) }
}

/// Ends the call with status `reverted` and `data` as revert data; every effect
/// of the call is discarded (`revert`, 0x23).
pub fn revert_bytes(data: &[u8]) -> ! {
    // SAFETY: `data` is readable for `data.len()` bytes; `revert` does not return.
    unsafe { call2_noreturn::<{ n::REVERT }>(ptr(data.as_ptr()), data.len() as u64) }
}

/// Reverts with a UTF-8 message (the revert data of `docs/abi.md`).
pub fn revert(message: &str) -> ! {
    revert_bytes(message.as_bytes())
}

/// Reverts with `message` unless `condition` holds.
#[inline]
pub fn require(condition: bool, message: &str) {
    if !condition {
        revert(message);
    }
}

/// Appends bytes to the debug output (`debug`, 0x24). Debug output is not part
/// of the result; it costs gas like any copy.
pub fn debug_bytes(data: &[u8]) {
    // SAFETY: `data` is readable for `data.len()` bytes.
    unsafe {
        call2::<{ n::DEBUG }>(ptr(data.as_ptr()), data.len() as u64);
    }
}

/// Appends a message to the debug output. See also [`debug!`](crate::debug!).
pub fn debug(message: &str) {
    debug_bytes(message.as_bytes());
}

/// Gas remaining (`gas_left`, 0x27).
pub fn gas_left() -> u64 {
    // SAFETY: no arguments, no memory.
    unsafe { call0::<{ n::GAS_LEFT }>() }
}

/// Allocates `size` bytes aligned to `align` on the guest heap (`alloc`, 0x25);
/// null when the heap is exhausted. Prefer `alloc::` collections, which use
/// this through the SDK's global allocator.
///
/// # Safety
/// `align` must be a power of two no larger than 1 MiB (the VM traps
/// otherwise).
pub unsafe fn heap_alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: the caller guarantees a valid alignment; the service takes no pointers.
    unsafe { call2::<{ n::ALLOC }>(size as u64, align as u64) as *mut u8 }
}

/// Frees memory from [`heap_alloc`] (`free`, 0x26). Null is ignored.
///
/// # Safety
/// `p` must be null or a live allocation of [`heap_alloc`] that is not used
/// afterwards (the VM traps on pointers it did not hand out).
pub unsafe fn heap_free(p: *mut u8) {
    // SAFETY: the caller guarantees `p` is null or live and no longer used.
    unsafe {
        call1::<{ n::FREE }>(mut_ptr(p));
    }
}

// ------------------------------------------------------------------- storage

/// Reads the value stored under `key` (`storage_read`, 0x30); `None` when absent.
/// Keys are at most 256 bytes (`limits::MAX_KEY`), or the VM traps.
pub fn storage_read(key: &[u8]) -> Option<Vec<u8>> {
    let mut small = [0u8; 64];
    let len = storage_read_into(key, &mut small)?;
    if len <= small.len() {
        return Some(small[..len].to_vec());
    }
    let mut v = vec![0u8; len];
    let again = storage_read_into(key, &mut v)?;
    v.truncate(again);
    Some(v)
}

/// Reads the value under `key` into `buf` (copies `min(len, buf.len())` bytes);
/// the full length of the value, or `None` when absent.
pub fn storage_read_into(key: &[u8], buf: &mut [u8]) -> Option<usize> {
    // SAFETY: `key` is readable for its length, `buf` writable for `buf.len()`
    // bytes, the most the VM copies.
    let len = unsafe {
        call4::<{ n::STORAGE_READ }>(
            ptr(key.as_ptr()),
            key.len() as u64,
            mut_ptr(buf.as_mut_ptr()),
            buf.len() as u64,
        )
    };
    (len != u64::MAX).then_some(len as usize)
}

/// Stores `value` under `key` (`storage_write`, 0x31). Keys are at most 256
/// bytes, values at most 65536 (`limits`); writing in a read-only query traps.
pub fn storage_write(key: &[u8], value: &[u8]) {
    // SAFETY: both slices are readable for their lengths.
    unsafe {
        call4::<{ n::STORAGE_WRITE }>(
            ptr(key.as_ptr()),
            key.len() as u64,
            ptr(value.as_ptr()),
            value.len() as u64,
        );
    }
}

/// Removes `key` (`storage_remove`, 0x32); whether it existed.
pub fn storage_remove(key: &[u8]) -> bool {
    // SAFETY: `key` is readable for its length.
    unsafe { call2::<{ n::STORAGE_REMOVE }>(ptr(key.as_ptr()), key.len() as u64) == 1 }
}

// -------------------------------------------------------------------- events

/// Logs an event with a 32-byte topic and data (`emit_event`, 0x38). Typed
/// events (`#[event]`) compute the topic and data for you: see [`crate::Event`].
pub fn emit_event(topic: &[u8; 32], data: &[u8]) {
    // SAFETY: `topic` is 32 readable bytes, `data` readable for its length.
    unsafe {
        call3::<{ n::EMIT_EVENT }>(ptr(topic.as_ptr()), ptr(data.as_ptr()), data.len() as u64);
    }
}

// ------------------------------------------------------------------- context

fn address_from<const N: u8>() -> Address {
    let mut a = [0u8; 32];
    // SAFETY: every caller passes a service that writes exactly 32 bytes to its
    // one pointer argument, and `a` is 32 writable bytes.
    unsafe {
        call1::<N>(mut_ptr(a.as_mut_ptr()));
    }
    Address(a)
}

/// The immediate caller: an account, or the contract that made a nested call
/// (`caller`, 0x40).
pub fn caller() -> Address {
    address_from::<{ n::CALLER }>()
}

/// The account that sent the transaction (`origin`, 0x41).
pub fn origin() -> Address {
    address_from::<{ n::ORIGIN }>()
}

/// This contract's address (`self_address`, 0x42).
pub fn self_address() -> Address {
    address_from::<{ n::SELF_ADDRESS }>()
}

/// The value sent with this call (`value`, 0x43).
pub fn value() -> u128 {
    let mut v = [0u8; 16];
    // SAFETY: `value` writes 16 bytes to its pointer; `v` is 16 writable bytes.
    unsafe {
        call1::<{ n::VALUE }>(mut_ptr(v.as_mut_ptr()));
    }
    u128::from_le_bytes(v)
}

/// The current block number (`block_number`, 0x44).
pub fn block_number() -> u64 {
    // SAFETY: no arguments, no memory.
    unsafe { call0::<{ n::BLOCK_NUMBER }>() }
}

/// The current block's timestamp in seconds (`timestamp`, 0x45).
pub fn timestamp() -> u64 {
    // SAFETY: no arguments, no memory.
    unsafe { call0::<{ n::TIMESTAMP }>() }
}

/// The hash of block `number`, for one of the last 256 blocks (`block_hash`, 0x46).
pub fn block_hash(number: u64) -> Option<[u8; 32]> {
    let mut h = [0u8; 32];
    // SAFETY: `block_hash` writes at most 32 bytes to its second argument, and
    // `h` is 32 writable bytes.
    let known = unsafe { call2::<{ n::BLOCK_HASH }>(number, mut_ptr(h.as_mut_ptr())) };
    (known == 1).then_some(h)
}

/// The balance of `account` (`balance`, 0x47).
pub fn balance(account: &Address) -> u128 {
    let mut v = [0u8; 16];
    // SAFETY: `account` is 32 readable bytes; the VM writes 16 bytes to `v`.
    unsafe {
        call2::<{ n::BALANCE }>(ptr(account.0.as_ptr()), mut_ptr(v.as_mut_ptr()));
    }
    u128::from_le_bytes(v)
}

// --------------------------------------------------------- value and calls

/// The contract's balance is smaller than the amount of a [`transfer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsufficientBalance;

impl core::fmt::Display for InsufficientBalance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("insufficient balance")
    }
}

/// Sends `amount` of this contract's balance to `to` (`transfer`, 0x50).
/// Traps in a read-only query.
///
/// # Errors
/// [`InsufficientBalance`] when the contract holds less than `amount`.
pub fn transfer(to: &Address, amount: u128) -> Result<(), InsufficientBalance> {
    let a = amount.to_le_bytes();
    // SAFETY: `to` is 32 readable bytes, `a` 16 readable bytes.
    let status = unsafe { call2::<{ n::TRANSFER }>(ptr(to.0.as_ptr()), ptr(a.as_ptr())) };
    if status == 0 {
        Ok(())
    } else {
        Err(InsufficientBalance)
    }
}

/// How a nested [`call`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// The callee succeeded; its effects are kept.
    Success,
    /// The callee reverted; its effects were rolled back, its revert data is in
    /// [`CallResult::data`].
    Reverted,
    /// The callee failed (trap, out of gas, no such contract, depth limit); its
    /// effects were rolled back.
    Failed,
}

/// The outcome of a nested [`call`]: status and the callee's output (or
/// revert data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    /// How the callee ended.
    pub status: CallStatus,
    /// Its output on success, its revert data on revert.
    pub data: Vec<u8>,
}

impl CallResult {
    /// Whether the callee succeeded.
    pub fn is_success(&self) -> bool {
        self.status == CallStatus::Success
    }

    /// Decodes the callee's output as `T` (all bytes must be used).
    ///
    /// # Errors
    /// [`CallError::Status`] when the call did not succeed,
    /// [`CallError::Decode`] when its output does not decode.
    pub fn decode<T: crate::Decode>(&self) -> Result<T, CallError> {
        if !self.is_success() {
            return Err(CallError::Status(self.status));
        }
        T::from_bytes(&self.data).map_err(CallError::Decode)
    }

    /// The revert data as text (lossy), for error messages.
    pub fn message(&self) -> &str {
        core::str::from_utf8(&self.data).unwrap_or("<non-UTF-8 revert data>")
    }
}

/// Why a typed nested call gave no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The callee reverted or failed.
    Status(CallStatus),
    /// Its output did not decode as the expected type.
    Decode(crate::DecodeError),
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CallError::Status(CallStatus::Reverted) => f.write_str("call reverted"),
            CallError::Status(_) => f.write_str("call failed"),
            CallError::Decode(_) => f.write_str("call output does not decode"),
        }
    }
}

/// Calls another contract (`call`, 0x51) with `input` (selector and arguments,
/// see [`crate::encode_call`]), sending `value` (0 for none) and giving it at
/// most `gas_cap` gas (0 = all that is left). A reverted or failed callee never
/// stops this contract: its changes are rolled back and the status says so.
pub fn call(target: &Address, input: &[u8], value: u128, gas_cap: u64) -> CallResult {
    let v = value.to_le_bytes();
    let value_ptr = if value == 0 { 0 } else { ptr(v.as_ptr()) };
    // SAFETY: `target` is 32 readable bytes, `input` readable for its length,
    // `v` 16 readable bytes (or the pointer is 0 for no value).
    let status = unsafe {
        call5::<{ n::CALL }>(
            ptr(target.0.as_ptr()),
            ptr(input.as_ptr()),
            input.len() as u64,
            value_ptr,
            gas_cap,
        )
    };
    let status = match status {
        0 => CallStatus::Success,
        1 => CallStatus::Reverted,
        _ => CallStatus::Failed,
    };
    CallResult {
        status,
        data: return_data(),
    }
}

/// Length of the last nested call's output or revert data (`return_data_len`, 0x52).
pub fn return_data_len() -> usize {
    // SAFETY: no arguments, no memory.
    unsafe { call0::<{ n::RETURN_DATA_LEN }>() as usize }
}

/// Copies the last nested call's output from `offset` into `buf`; bytes copied
/// (`return_data_read`, 0x53).
pub fn return_data_read(buf: &mut [u8], offset: usize) -> usize {
    // SAFETY: `buf` is writable for `buf.len()` bytes, the most the VM copies.
    unsafe {
        call3::<{ n::RETURN_DATA_READ }>(mut_ptr(buf.as_mut_ptr()), offset as u64, buf.len() as u64)
            as usize
    }
}

/// The last nested call's whole output or revert data.
pub fn return_data() -> Vec<u8> {
    let len = return_data_len();
    if len == 0 {
        return Vec::new();
    }
    let mut v = vec![0u8; len];
    let got = return_data_read(&mut v, 0);
    v.truncate(got);
    v
}

// -------------------------------------------------------------------- crypto

/// SHA-256 of `data` (`sha256`, 0x60).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    // SAFETY: `data` is readable for its length, `h` is 32 writable bytes.
    unsafe {
        call3::<{ n::SHA256 }>(
            ptr(data.as_ptr()),
            data.len() as u64,
            mut_ptr(h.as_mut_ptr()),
        );
    }
    h
}

/// keccak256 of `data` (`keccak256`, 0x61). For constants, prefer the
/// compile-time [`keccak256!`](crate::keccak256!).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    // SAFETY: `data` is readable for its length, `h` is 32 writable bytes.
    unsafe {
        call3::<{ n::KECCAK256 }>(
            ptr(data.as_ptr()),
            data.len() as u64,
            mut_ptr(h.as_mut_ptr()),
        );
    }
    h
}

/// Recovers the uncompressed secp256k1 public key (x ‖ y) that signed `hash`
/// with `sig` = r ‖ s ‖ v, v ∈ {0, 1, 27, 28} (`secp256k1_recover`, 0x62);
/// `None` for an invalid signature.
pub fn secp256k1_recover(hash: &[u8; 32], sig: &[u8; 65]) -> Option<[u8; 64]> {
    let mut key = [0u8; 64];
    // SAFETY: `hash` is 32 and `sig` 65 readable bytes, `key` is 64 writable bytes.
    let status = unsafe {
        call3::<{ n::SECP256K1_RECOVER }>(
            ptr(hash.as_ptr()),
            ptr(sig.as_ptr()),
            mut_ptr(key.as_mut_ptr()),
        )
    };
    (status == 0).then_some(key)
}

/// Whether `sig` is a valid ed25519 signature of `message` by `public_key`
/// (`ed25519_verify`, 0x63).
pub fn ed25519_verify(public_key: &[u8; 32], sig: &[u8; 64], message: &[u8]) -> bool {
    // SAFETY: the key (32 bytes), signature (64 bytes) and message are readable.
    unsafe {
        call4::<{ n::ED25519_VERIFY }>(
            ptr(public_key.as_ptr()),
            ptr(sig.as_ptr()),
            ptr(message.as_ptr()),
            message.len() as u64,
        ) == 1
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec::Vec;

    /// Every documented service (x64vm-abi, itself checked against docs/abi.md)
    /// has a wrapper here that passes the documented number of arguments, and its
    /// doc names the service and number.
    #[test]
    fn every_service_has_a_wrapper_with_its_arguments() {
        let file = include_str!("host.rs");
        let src = &file[..file.rfind("#[cfg(test)]").unwrap()];
        // (constant, argument count) of every `int` issued in this file.
        let mut issued = Vec::new();
        for (i, _) in src.match_indices("::<{ n::") {
            let before = &src[..i];
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let args = match &before[start..] {
                "call0" => 0,
                "call1" | "address_from" => 1,
                "call2" | "call2_noreturn" => 2,
                "call3" => 3,
                "call4" => 4,
                "call5" => 5,
                other => panic!("unknown host-call helper {other}"),
            };
            let rest = &src[i + "::<{ n::".len()..];
            let constant = &rest[..rest.find(' ').unwrap()];
            issued.push((constant, args));
        }
        for s in x64vm_abi::CORE_SERVICES
            .iter()
            .chain(x64vm_abi::CHAIN_SERVICES)
        {
            let constant = s.name.to_uppercase();
            let uses: Vec<_> = issued.iter().filter(|(c, _)| *c == constant).collect();
            assert!(!uses.is_empty(), "no wrapper for {}", s.name);
            for (_, args) in uses {
                assert_eq!(*args, s.args.len(), "{}: argument count", s.name);
            }
            let doc = format!("(`{}`, {:#04x})", s.name, s.number);
            assert!(src.contains(&doc), "no doc line naming {doc}");
        }
    }
}
