//! Echo compatibility for x64vm (the "echo" profile): contracts built for the
//! original Echo x86-64 VM, in its packed `ECHO` format, run with its host calls
//! and its call lines.
//!
//! ```no_run
//! use x64vm_echo::{EchoContext, call, echo_config, load_echo};
//! let bytes = std::fs::read("fib.echo").unwrap();
//! let image = load_echo(&bytes).unwrap();
//! let out = call(&image, "fib(25)", &EchoContext::default(), &echo_config()).unwrap();
//! assert_eq!(out.error, "none");
//! assert_eq!(out.result.unwrap().to_string(), "75025");
//! ```
//!
//! The format, the services and the mapping of outcomes to the original error
//! names are documented in docs/format.md ("The Echo format").
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod callline;
pub mod format;
pub mod host;

use std::fmt;

use x64vm::interp::Tracer;
use x64vm::{Config, Image, Instance, LoadError, Status, Trap, TrapReport};

pub use callline::{CallLine, CallLineError, Param, parse_call_line};
pub use format::{EchoFile, load_echo, parse_echo};
pub use host::{EchoContext, EchoHost};

/// The value types of Echo parameters and return values (`k` in `int 0x40 + k`
/// and `int 0x50 + k`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoType {
    /// 0: string (`{ptr, len}`).
    String,
    /// 1: bool (one byte).
    Bool,
    /// 2: i8.
    I8,
    /// 3: i16.
    I16,
    /// 4: i32.
    I32,
    /// 5: i64.
    I64,
    /// 6: u8.
    U8,
    /// 7: u16.
    U16,
    /// 8: u32.
    U32,
    /// 9: u64.
    U64,
}

impl EchoType {
    /// The type numbered `k`.
    pub fn from_number(k: u8) -> Option<EchoType> {
        use EchoType::*;
        [String, Bool, I8, I16, I32, I64, U8, U16, U32, U64]
            .get(usize::from(k))
            .copied()
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            EchoType::String => "string",
            EchoType::Bool => "bool",
            EchoType::I8 => "i8",
            EchoType::I16 => "i16",
            EchoType::I32 => "i32",
            EchoType::I64 => "i64",
            EchoType::U8 => "u8",
            EchoType::U16 => "u16",
            EchoType::U32 => "u32",
            EchoType::U64 => "u64",
        }
    }
}

/// A typed value: a return value, or a parameter converted for the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EchoValue {
    /// A string (bytes as the contract gave them).
    String(Vec<u8>),
    /// A bool.
    Bool(bool),
    /// An i8.
    I8(i8),
    /// An i16.
    I16(i16),
    /// An i32.
    I32(i32),
    /// An i64.
    I64(i64),
    /// A u8.
    U8(u8),
    /// A u16.
    U16(u16),
    /// A u32.
    U32(u32),
    /// A u64.
    U64(u64),
}

impl EchoValue {
    /// An integer literal as type `ty`, if it fits (None for string and bool).
    pub fn from_int(ty: EchoType, v: i128) -> Option<EchoValue> {
        Some(match ty {
            EchoType::I8 => EchoValue::I8(v.try_into().ok()?),
            EchoType::I16 => EchoValue::I16(v.try_into().ok()?),
            EchoType::I32 => EchoValue::I32(v.try_into().ok()?),
            EchoType::I64 => EchoValue::I64(v.try_into().ok()?),
            EchoType::U8 => EchoValue::U8(v.try_into().ok()?),
            EchoType::U16 => EchoValue::U16(v.try_into().ok()?),
            EchoType::U32 => EchoValue::U32(v.try_into().ok()?),
            EchoType::U64 => EchoValue::U64(v.try_into().ok()?),
            EchoType::String | EchoType::Bool => return None,
        })
    }

    /// A non-string value from a register (the low bits of its width).
    pub fn from_register(ty: EchoType, r: u64) -> EchoValue {
        match ty {
            EchoType::String => EchoValue::String(Vec::new()),
            EchoType::Bool => EchoValue::Bool(r as u8 != 0),
            EchoType::I8 => EchoValue::I8(r as i8),
            EchoType::I16 => EchoValue::I16(r as i16),
            EchoType::I32 => EchoValue::I32(r as i32),
            EchoType::I64 => EchoValue::I64(r as i64),
            EchoType::U8 => EchoValue::U8(r as u8),
            EchoType::U16 => EchoValue::U16(r as u16),
            EchoType::U32 => EchoValue::U32(r as u32),
            EchoType::U64 => EchoValue::U64(r),
        }
    }

    /// Its type.
    pub fn ty(&self) -> EchoType {
        match self {
            EchoValue::String(_) => EchoType::String,
            EchoValue::Bool(_) => EchoType::Bool,
            EchoValue::I8(_) => EchoType::I8,
            EchoValue::I16(_) => EchoType::I16,
            EchoValue::I32(_) => EchoType::I32,
            EchoValue::I64(_) => EchoType::I64,
            EchoValue::U8(_) => EchoType::U8,
            EchoValue::U16(_) => EchoType::U16,
            EchoValue::U32(_) => EchoType::U32,
            EchoValue::U64(_) => EchoType::U64,
        }
    }

    /// The output bytes: a string's bytes, a bool as one byte, integers
    /// little-endian in their width.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            EchoValue::String(s) => s.clone(),
            EchoValue::Bool(b) => vec![u8::from(*b)],
            EchoValue::I8(v) => v.to_le_bytes().to_vec(),
            EchoValue::I16(v) => v.to_le_bytes().to_vec(),
            EchoValue::I32(v) => v.to_le_bytes().to_vec(),
            EchoValue::I64(v) => v.to_le_bytes().to_vec(),
            EchoValue::U8(v) => v.to_le_bytes().to_vec(),
            EchoValue::U16(v) => v.to_le_bytes().to_vec(),
            EchoValue::U32(v) => v.to_le_bytes().to_vec(),
            EchoValue::U64(v) => v.to_le_bytes().to_vec(),
        }
    }
}

impl fmt::Display for EchoValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EchoValue::String(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            EchoValue::Bool(b) => write!(f, "{b}"),
            EchoValue::I8(v) => write!(f, "{v}"),
            EchoValue::I16(v) => write!(f, "{v}"),
            EchoValue::I32(v) => write!(f, "{v}"),
            EchoValue::I64(v) => write!(f, "{v}"),
            EchoValue::U8(v) => write!(f, "{v}"),
            EchoValue::U16(v) => write!(f, "{v}"),
            EchoValue::U32(v) => write!(f, "{v}"),
            EchoValue::U64(v) => write!(f, "{v}"),
        }
    }
}

/// The result of an Echo call, as the original system reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoOutcome {
    /// The original error name: `none`, `out_of_gas`, `unsupported_instruction`,
    /// `division_by_zero`, `memory_invalid_access`, `incorrect_parameters`, or
    /// `aborted` (the contract called abort); see [`error_name`].
    pub error: &'static str,
    /// Details: the call-line error, the abort message or the trap.
    pub message: Option<String>,
    /// Gas consumed (0 when the call line was rejected before running).
    pub gas_used: u64,
    /// The return value the contract set, if any.
    pub result: Option<EchoValue>,
    /// The output bytes ([`EchoValue::encode`] of the result; empty without one).
    pub output: Vec<u8>,
    /// The trap, when the run ended with one.
    pub trap: Option<TrapReport>,
}

/// The original error name of a trap.
pub fn error_name(trap: &Trap) -> &'static str {
    match trap {
        Trap::OutOfGas => "out_of_gas",
        Trap::DivisionByZero | Trap::DivisionOverflow => "division_by_zero",
        Trap::MemoryOutOfBounds { .. }
        | Trap::WriteToReadOnly { .. }
        | Trap::ReadFromUnreadable { .. }
        | Trap::ExecuteNonExecutable { .. }
        | Trap::StackOverflow { .. }
        | Trap::MisalignedAccess { .. } => "memory_invalid_access",
        // A bad free is an invalid memory access in Echo's terms.
        Trap::InvalidHostCall { number, .. } if *number == host::service::FREE => {
            "memory_invalid_access"
        }
        Trap::LimitExceeded(_) => "memory_invalid_access",
        Trap::UnsupportedInstruction { .. }
        | Trap::InvalidOpcode
        | Trap::Halt
        | Trap::Breakpoint
        | Trap::SyscallNotAllowed
        | Trap::InvalidHostCall { .. }
        | Trap::GeneralProtection { .. }
        | Trap::SimdFloatException { .. }
        | Trap::FloatingPointException => "unsupported_instruction",
        other => other.kind(),
    }
}

/// The instance configuration of the echo profile: the VM defaults with a 64 MiB
/// stack (so deep recursion such as `fib(1000000)` runs out of gas before it
/// runs out of stack) and a gas limit of 10^9.
pub fn echo_config() -> Config {
    Config {
        gas_limit: 1_000_000_000,
        stack_size: 64 << 20,
        ..Config::default()
    }
}

/// Runs one call of an Echo contract: parses `call_line` (a malformed one ends
/// with `incorrect_parameters` before any code runs), then runs the entry
/// (`__apply`) with the Echo host.
///
/// # Errors
/// [`LoadError`] when the instance cannot be laid out (memory limit).
pub fn call(
    image: &Image,
    call_line: &str,
    ctx: &EchoContext,
    config: &Config,
) -> Result<EchoOutcome, LoadError> {
    call_with(image, call_line, ctx, config, &mut x64vm::interp::NoTrace)
}

/// [`call`] with a tracer observing every instruction.
///
/// # Errors
/// As [`call`].
pub fn call_with<T: Tracer>(
    image: &Image,
    call_line: &str,
    ctx: &EchoContext,
    config: &Config,
    tracer: &mut T,
) -> Result<EchoOutcome, LoadError> {
    let line = match parse_call_line(call_line) {
        Ok(l) => l,
        Err(e) => {
            return Ok(EchoOutcome {
                error: "incorrect_parameters",
                message: Some(e.to_string()),
                gas_used: 0,
                result: None,
                output: Vec::new(),
                trap: None,
            });
        }
    };
    let mut inst = Instance::new(image, config, &[])?;
    let mut host = EchoHost::new(line, ctx.clone(), &inst.layout);
    inst.prepare_call(image.entry, &[])
        .map_err(|t| LoadError::TooLarge(format!("cannot set up the stack: {t}")))?;
    let out = inst.run_with(&mut host, tracer);
    let result = host.take_result();
    let (error, message, trap) = match out.status {
        Status::Success => ("none", None, None),
        Status::Reverted => (
            "aborted",
            host.abort_message()
                .map(|m| String::from_utf8_lossy(m).into_owned()),
            None,
        ),
        Status::Trapped(report) => (
            error_name(&report.trap),
            Some(report.to_string()),
            Some(report),
        ),
    };
    // Only a completed call returns a value.
    let result = if error == "none" { result } else { None };
    Ok(EchoOutcome {
        error,
        message,
        gas_used: out.gas_used,
        output: result.as_ref().map(EchoValue::encode).unwrap_or_default(),
        result,
        trap,
    })
}
