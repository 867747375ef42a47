//! Traps: every way a run can end other than success, as plain values.

use std::fmt;

/// The kind of memory access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Execute,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Execute => "execute",
        })
    }
}

/// Why a run stopped abnormally. Never a panic: every guest-caused failure is one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trap {
    /// The gas limit was reached; all gas given is consumed.
    OutOfGas,
    /// An access outside every mapped region (or a non-canonical / wrapping address).
    MemoryOutOfBounds {
        /// First byte of the access.
        addr: u64,
        /// Access width in bytes.
        size: u64,
        /// What kind of access it was.
        access: Access,
    },
    /// A write to a mapped page that is not writable (code, read-only data, input).
    WriteToReadOnly {
        /// First byte of the access.
        addr: u64,
    },
    /// A read from a mapped page that is not readable.
    ReadFromUnreadable {
        /// First byte of the access.
        addr: u64,
    },
    /// Control reached a page that is not executable.
    ExecuteNonExecutable {
        /// The target address.
        addr: u64,
    },
    /// The stack grew into the guard page below it.
    StackOverflow {
        /// The faulting address.
        addr: u64,
    },
    /// An instruction the VM does not implement (or the decoder rejects).
    UnsupportedInstruction {
        /// The instruction's bytes (up to 15).
        bytes: Vec<u8>,
    },
    /// `ud2` or an undefined opcode.
    InvalidOpcode,
    /// `hlt`.
    Halt,
    /// `int3`.
    Breakpoint,
    /// `div`/`idiv` by zero.
    DivisionByZero,
    /// `div`/`idiv` whose quotient does not fit (#DE).
    DivisionOverflow,
    /// An SSE access that x86 requires to be aligned was not.
    MisalignedAccess {
        /// The faulting address.
        addr: u64,
    },
    /// An SSE floating-point exception whose MXCSR mask bit is clear (#XM);
    /// the destination is not written.
    SimdFloatException {
        /// The exception flags the instruction raised (MXCSR bits 0..5).
        flags: u32,
    },
    /// A general-protection fault (#GP) other than alignment, e.g. `ldmxcsr`
    /// of a value with reserved bits set.
    GeneralProtection {
        /// What the instruction attempted.
        reason: &'static str,
    },
    /// `int N` for a service nobody serves, or a service given bad arguments.
    InvalidHostCall {
        /// The interrupt number.
        number: u8,
        /// What was wrong.
        reason: String,
    },
    /// The host failed while serving a call.
    HostError(String),
    /// `syscall` outside the Linux profile.
    SyscallNotAllowed,
    /// Output, debug output or allocation exceeded a configured limit.
    LimitExceeded(String),
    /// An unmasked x87 floating-point exception was pending when a waiting x87
    /// instruction ran (#MF; natively SIGFPE).
    FloatingPointException,
}

impl Trap {
    /// A short stable name, as used in receipts and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Trap::OutOfGas => "out_of_gas",
            Trap::MemoryOutOfBounds { .. } => "memory_out_of_bounds",
            Trap::WriteToReadOnly { .. } => "write_to_readonly",
            Trap::ReadFromUnreadable { .. } => "read_from_unreadable",
            Trap::ExecuteNonExecutable { .. } => "execute_non_executable",
            Trap::StackOverflow { .. } => "stack_overflow",
            Trap::UnsupportedInstruction { .. } => "unsupported_instruction",
            Trap::InvalidOpcode => "invalid_opcode",
            Trap::Halt => "halt",
            Trap::Breakpoint => "breakpoint",
            Trap::DivisionByZero => "division_by_zero",
            Trap::DivisionOverflow => "division_overflow",
            Trap::MisalignedAccess { .. } => "misaligned_access",
            Trap::SimdFloatException { .. } => "simd_float_exception",
            Trap::GeneralProtection { .. } => "general_protection",
            Trap::InvalidHostCall { .. } => "invalid_host_call",
            Trap::HostError(_) => "host_error",
            Trap::SyscallNotAllowed => "syscall_not_allowed",
            Trap::LimitExceeded(_) => "limit_exceeded",
            Trap::FloatingPointException => "floating_point_exception",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trap::MemoryOutOfBounds { addr, size, access } => {
                write!(
                    f,
                    "memory_out_of_bounds: {access} of {size} bytes at {addr:#x}"
                )
            }
            Trap::WriteToReadOnly { addr }
            | Trap::ReadFromUnreadable { addr }
            | Trap::ExecuteNonExecutable { addr }
            | Trap::StackOverflow { addr }
            | Trap::MisalignedAccess { addr } => write!(f, "{} at {addr:#x}", self.kind()),
            Trap::UnsupportedInstruction { bytes } => {
                write!(f, "unsupported_instruction: bytes")?;
                for b in bytes {
                    write!(f, " {b:02x}")?;
                }
                Ok(())
            }
            Trap::InvalidHostCall { number, reason } => {
                write!(f, "invalid_host_call: int {number:#x}: {reason}")
            }
            Trap::SimdFloatException { flags } => {
                write!(f, "simd_float_exception: unmasked MXCSR flags {flags:#x}")
            }
            Trap::GeneralProtection { reason } => write!(f, "general_protection: {reason}"),
            Trap::HostError(m) => write!(f, "host_error: {m}"),
            Trap::LimitExceeded(m) => write!(f, "limit_exceeded: {m}"),
            _ => f.write_str(self.kind()),
        }
    }
}

/// A trap together with where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapReport {
    /// What went wrong.
    pub trap: Trap,
    /// Address of the instruction that trapped (0 when not tied to one).
    pub rip: u64,
    /// That instruction, disassembled (empty when it could not be fetched).
    pub instruction: String,
}

impl fmt::Display for TrapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at rip {:#x}", self.trap, self.rip)?;
        if !self.instruction.is_empty() {
            write!(f, " ({})", self.instruction)?;
        }
        Ok(())
    }
}

impl std::error::Error for TrapReport {}
