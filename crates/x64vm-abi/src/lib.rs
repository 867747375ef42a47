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

/// Looks up a core service by number.
pub fn core_service(number: u8) -> Option<&'static Service> {
    CORE_SERVICES.iter().find(|s| s.number == number)
}
