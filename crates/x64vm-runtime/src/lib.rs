//! The x64vm contract runtime: chain services behind the VM's [`x64vm::Host`]
//! trait, the call ABI (selectors, Borsh, the embedded ABI text, call lines),
//! a journaled state, and [`TestChain`], an in-memory chain for tests.
//!
//! The VM serves the core host calls (input, output, revert, debug, heap, gas)
//! itself; this crate serves the chain services of `docs/abi.md` (storage,
//! events, context, transfer, nested calls, cryptography). Gas costs of those
//! services are in `docs/gas.md`, "Chain services".
//!
//! # Testing a contract
//!
//! ```no_run
//! use x64vm_runtime::{ReceiptStatus, TestChain, address_of_name};
//!
//! let elf = std::fs::read("token.elf").unwrap();
//! let mut chain = TestChain::new(); // alice, bob, carol, dave, eve hold 10^24 each
//! // Deploy and run a constructor (any exported function) in one transaction.
//! let (token, _receipt) = chain.deploy_with(&elf, "alice", "init(1000)").unwrap();
//!
//! // A transaction: commits only on success. Names in call lines are accounts.
//! let r = chain.call(token, "alice", r#"transfer("bob", 100)"#, 0, 10_000_000);
//! assert_eq!(r.status, ReceiptStatus::Success);
//! assert_eq!(r.decoded_output.as_deref(), Some("true"));
//! let ev = &r.events[0];
//! assert_eq!(ev.address, token);
//! println!("{}", ev.decoded.as_deref().unwrap_or("?")); // Transfer(from: 0x…, to: 0x…, amount: 100)
//!
//! // A read-only query: a write attempt fails it, nothing changes.
//! let q = chain.query(token, r#"balance_of("bob")"#);
//! assert_eq!(q.decoded_output.as_deref(), Some("100"));
//!
//! // Contracts without an embedded ABI: give the signature (and return type) in the line.
//! let q = chain.query(token, r#"balance_of(address) -> u128 ("bob")"#);
//! assert_eq!(q.decoded_output.as_deref(), Some("100"));
//!
//! // Raw access.
//! let bob = address_of_name("bob");
//! let input = x64vm_runtime::abi::encode_call("balance_of(address)", &[x64vm_runtime::abi::Value::Address(bob)]);
//! let r = chain.call_raw(token, bob, &input, 0, 1_000_000);
//! assert!(r.status.is_success());
//! assert_eq!(chain.balance(&bob), 10u128.pow(24));
//! let _raw: Option<Vec<u8>> = chain.storage(&token, b"total_supply");
//! chain.advance_block(); // block number +1, timestamp +12 s
//!
//! // Also: `dry_run` (a transaction that keeps nothing), `call_as` (any sender
//! // address), `query_raw`, `set_balance`, `nonce`, `abi_of`, `state()`.
//! let _ = chain.dry_run(token, "bob", r#"transfer("carol", 1)"#, 0, 10_000_000);
//! ```
//!
//! # Receipts
//!
//! Every call gives a [`Receipt`]: `status` ([`ReceiptStatus::Success`],
//! `Reverted(message)` with the revert data as (lossy) UTF-8, or
//! `Failed { kind, message }` where `kind` is a trap kind such as `out_of_gas`,
//! `host_error`, `memory_out_of_bounds`, or one of the runtime's own kinds:
//! `bad_call` (the call line did not match the ABI; no code ran),
//! `no_contract`, `insufficient_balance`, `load_error`), `gas_used`,
//! `gas_limit`, `output` (raw bytes), `decoded_output` (the return value
//! rendered with the ABI, when the function has a return type and the output
//! decodes), `events` (address, topic, data, and `decoded` when some deployed
//! contract's ABI declares an event with that topic) and `debug` (bytes written
//! with the `debug` service, all frames).
//!
//! # Conventions
//!
//! - Addresses are 32 bytes. A named account is `keccak256("x64vm:account:" ‖ name)`
//!   ([`address_of_name`]).
//! - A deployed contract's address is `keccak256(deployer ‖ nonce)`, the nonce as
//!   u64 little-endian: the number of transactions (deploys and calls) the deployer
//!   sent before this one.
//! - A call's input is the 4-byte selector (`keccak256(signature)[..4]`) followed by
//!   the Borsh-encoded arguments; the contract's ELF entry point (the SDK
//!   dispatcher) receives it in RDI/RSI.
//! - A transaction keeps its storage writes, transfers and events only if it
//!   succeeds. The test chain charges no fees (there is no gas price): a failed
//!   transaction keeps only the sender's nonce increment.
//! - Queries run read-only with [`chain::DEFAULT_GAS`]; their caller and origin are
//!   the zero address.
//! - Blocks: the chain starts at block 1, timestamp 1_700_000_000, and each
//!   [`TestChain::advance_block`] adds 1 and 12 seconds. The hash of block `n` is
//!   `keccak256("x64vm:block:" ‖ n as u64 little-endian)`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod chain;
pub mod code;
pub mod crypto;
pub mod gas;
pub mod host;
pub mod receipt;
pub mod state;

pub use abi::{Abi, CallError, Type, Value};
pub use chain::{DeployError, TestChain};
pub use receipt::{EventLog, Receipt, ReceiptStatus};
pub use state::{Backend, ChangeSet, Journal, MemState, State};

/// A 32-byte account or contract address.
pub type Address = [u8; 32];

/// A 32-byte hash.
pub type Hash = [u8; 32];

/// The address of a named account: `keccak256("x64vm:account:" ‖ name)`.
pub fn address_of_name(name: &str) -> Address {
    crypto::keccak256_parts(&[b"x64vm:account:", name.as_bytes()])
}

/// Formats bytes as `0x` and lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}
