//! The x64vm local chain: one engine for tests, the `x64vm` command and the
//! JSON-RPC node.
//!
//! ```no_run
//! use x64vm_chain::{Chain, TxOptions};
//!
//! let chain = Chain::open_or_init(".x64vm/state.redb".as_ref()).unwrap().0;
//! let elf = std::fs::read("token.elf").unwrap();
//! let alice = TxOptions::from_name("alice");
//! let r = chain.deploy(&elf, Some("init(1000)"), Some("token"), &alice).unwrap();
//! let token = r.to;
//! let r = chain.call(&token, r#"transfer("bob", 100)"#, &alice).unwrap();
//! assert!(r.is_success());
//! println!("{r}"); // status, gas, output, decoded events
//! let q = chain.query(&token, r#"balance_of("bob")"#).unwrap();
//! assert_eq!(q.decoded_output.as_deref(), Some("100"));
//! ```
//!
//! # The state file: why redb
//!
//! State lives in one file of [redb](https://www.redb.org), an embedded
//! key-value store written in pure Rust. It was chosen over SQLite (through
//! rusqlite with the bundled C library) because:
//! - its commits are ACID and crash-safe by construction: pages are written
//!   copy-on-write, and a commit becomes visible by atomically switching a
//!   checksummed root, so a process killed at any point leaves the last
//!   committed state (tested with SIGKILL in the middle of a long call);
//! - it is pure Rust: no C compiler or system library at build time, no
//!   `unsafe` FFI boundary in our process, the same behaviour on every host;
//! - it has exactly the model a chain needs — ordered byte-keyed tables, one
//!   writer at a time, any number of readers on consistent snapshots (MVCC) —
//!   and nothing a chain does not need (SQL, a query planner);
//! - it takes a file lock, so two processes never write one state file.
//!
//! The file holds the tables `meta` (identity `x64vm-chain`, format version,
//! chain parameters, head block, counters), `accounts` (balance and nonce),
//! `code` (bytes by content hash: deployed once however many contracts share
//! it), `contracts` (address → code hash), `contract_info` (alias, deployer,
//! deploy receipt), `aliases`, `storage` (contract ‖ key → value), `receipts`,
//! `blocks`, and the undo log with `snapshots`. A file that is not a redb
//! database, a redb database without the identity, a damaged file, or a file
//! of another [`FORMAT_VERSION`](store::FORMAT_VERSION) is refused with an
//! error that says which; nothing is ever overwritten silently. `x64vm dump`
//! writes a versioned JSON document of the whole state and `x64vm load`
//! builds a state file from one.
//!
//! # Transactions
//!
//! A deploy or call is a transaction. It runs on the runtime's journal
//! (`x64vm-runtime`: chain services, nested calls that roll back only their own
//! frame, the call-depth limit, reentrancy as docs/abi.md describes) inside one
//! database write transaction; its changes, its receipt and its block are
//! committed together, or nothing is.
//!
//! - **Gas costs money.** Before running, the sender must hold
//!   `value + gas_limit × gas_price` (else the transaction is rejected and
//!   nothing happens, no receipt). Afterwards `gas_used × gas_price` is taken
//!   from the sender and burned. The gas price is a chain parameter (default 1;
//!   the dev accounts hold 10^24).
//! - **A failed transaction** (reverted, trapped, out of gas) keeps nothing but
//!   the fee and the sender's nonce increment; it still gets a receipt and a block.
//! - **Deploy**: code is stored by content hash; the contract's address is
//!   `keccak256(deployer ‖ nonce as u64 LE)`; an optional constructor (any
//!   exported function, as a call line) runs in the same transaction, and if it
//!   fails nothing is deployed. The contract gets an alias (e.g. the file stem;
//!   `-2`, `-3`, … when taken) usable wherever an address is.
//! - **Dry runs** run exactly like the transaction would, in the pending block,
//!   and return the full receipt; nothing is committed or recorded.
//! - **Queries** are read-only calls: writes, transfers, value and events fail
//!   them (`host_error`); no fee, nothing recorded.
//!
//! # Blocks
//!
//! Block 0 (genesis) has timestamp `genesis_timestamp` (1_700_000_000) and hash
//! `keccak256("x64vm:genesis" ‖ genesis_timestamp as u64 LE)`. Every
//! transaction is mined at once in its own block (automine); [`Chain::mine`]
//! adds empty blocks. Block `n` has timestamp `genesis_timestamp + 12 × n`
//! and hash `keccak256(parent hash ‖ digest of each receipt)`, where a
//! receipt's digest ([`Receipt::digest`]) covers its id, kind, sender,
//! contract, nonce, code hash, input, value, status, gas, fee, output and
//! events. The `block_hash` host service returns these hashes.
//!
//! # Snapshots and history
//!
//! Every commit also writes an undo record (the previous value of each key it
//! changed). [`Chain::snapshot`] notes the position in that log;
//! [`Chain::revert`] replays the log backwards to it, restoring accounts,
//! code, storage, receipts, blocks and aliases. The same log gives the state
//! any past transaction saw, so [`Chain::replay`] re-runs it under an
//! instruction tracer (`x64vm trace -v`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod chain;
pub mod dump;
pub mod error;
pub mod names;
pub mod node;
pub mod receipt;
pub mod store;

pub use chain::{AccountEntry, Chain, DEFAULT_STATE, LogEntry, LogFilter, Params, TxOptions};
pub use error::ChainError;
pub use receipt::{Block, CallFrame, ContractInfo, Event, Receipt, TxError, TxKind};
