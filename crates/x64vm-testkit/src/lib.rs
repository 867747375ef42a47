//! Differential testing of x64vm against the host CPU.
//!
//! A [`Case`] is a code snippet plus an initial register, flag and data-memory
//! state. [`NativeRunner`] runs batches of cases on the real CPU in a child
//! process (`x64vm-native-runner`) with the code and data mapped at the same
//! fixed addresses the VM uses ([`CODE_BASE`], [`DATA_BASE`]), so pointers in
//! registers mean the same thing on both sides. [`VmHarness`] runs the same case
//! in the interpreter, and [`compare`] reports every difference in GPRs, defined
//! flags, RIP, faults and data memory.
//!
//! The snippet ends where its bytes end: the VM sees a `hlt` there, the native
//! runner a jump back into its state-saving code. A fault (SIGSEGV, SIGFPE, ...)
//! inside the snippet is caught natively, with the register state at the faulting
//! instruction, and must match the VM's trap.

pub mod flags;
pub mod native;
pub mod proto;
pub mod rng;
pub mod vm;

pub use flags::{reads_undefined_flag, undefined_flags};
pub use native::NativeRunner;
pub use proto::{CODE_BASE, CODE_SIZE, Case, DATA_BASE, DATA_SIZE, End, Outcome, STACK_TOP};
pub use rng::Rng;
pub use vm::VmHarness;

use x64vm::cpu::{flag, reg};
use x64vm::trap::Trap;

/// What kind of end a run had, comparable across native and VM runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndClass {
    /// Reached the end of the snippet.
    Completed,
    /// Divide error (#DE): SIGFPE natively, `DivisionByZero`/`DivisionOverflow` in the VM.
    Divide,
    /// A memory fault: SIGSEGV/SIGBUS natively, a memory trap in the VM.
    Memory,
    /// An invalid or unsupported instruction.
    Invalid,
    /// Anything else (timeouts, unexpected stops).
    Other,
}

impl End {
    /// The comparable class of this end.
    pub fn class(&self) -> EndClass {
        match self {
            End::Completed => EndClass::Completed,
            End::Signal(s) => match *s {
                libc::SIGFPE => EndClass::Divide,
                libc::SIGSEGV | libc::SIGBUS => EndClass::Memory,
                libc::SIGILL => EndClass::Invalid,
                _ => EndClass::Other,
            },
            End::Trap(t) => match t {
                Trap::DivisionByZero | Trap::DivisionOverflow => EndClass::Divide,
                Trap::MemoryOutOfBounds { .. }
                | Trap::WriteToReadOnly { .. }
                | Trap::ReadFromUnreadable { .. }
                | Trap::ExecuteNonExecutable { .. }
                | Trap::StackOverflow { .. }
                | Trap::MisalignedAccess { .. } => EndClass::Memory,
                Trap::InvalidOpcode | Trap::UnsupportedInstruction { .. } => EndClass::Invalid,
                _ => EndClass::Other,
            },
            End::Other(_) => EndClass::Other,
        }
    }
}

/// Flags compared at all: the six status flags and DF.
pub const COMPARED_FLAGS: u64 = flag::STATUS | flag::DF;

/// Compares a native and a VM outcome of `case`. `Err` carries a readable report
/// of every difference.
pub fn compare(case: &Case, native: &Outcome, vm: &Outcome) -> Result<(), String> {
    let mut diffs = Vec::new();
    if native.end.class() != vm.end.class() {
        diffs.push(format!("end: native {:?}, vm {:?}", native.end, vm.end));
    }
    if native.rip != vm.rip {
        diffs.push(format!("rip: native {:#x}, vm {:#x}", native.rip, vm.rip));
    }
    for r in 0..16 {
        if case.ignore_regs & (1 << r) != 0 {
            continue;
        }
        if native.gpr[r] != vm.gpr[r] {
            diffs.push(format!(
                "{}: native {:#018x}, vm {:#018x}",
                reg::NAMES[r],
                native.gpr[r],
                vm.gpr[r]
            ));
        }
    }
    let mask = COMPARED_FLAGS & !undefined_flags(&case.code, native.rip) & !case.ignore_flags;
    if (native.rflags ^ vm.rflags) & mask != 0 {
        diffs.push(format!(
            "rflags: native {} vm {} (compared: {})",
            flags::describe(native.rflags & mask),
            flags::describe(vm.rflags & mask),
            flags::describe(mask)
        ));
    }
    let mut shown = 0;
    for (k, (a, b)) in native.data.iter().zip(&vm.data).enumerate() {
        if a != b {
            if shown < 8 {
                diffs.push(format!(
                    "data[{:#x}] (addr {:#x}): native {a:#04x}, vm {b:#04x}",
                    k,
                    DATA_BASE + k as u64
                ));
            }
            shown += 1;
        }
    }
    if shown > 8 {
        diffs.push(format!("... {} differing data bytes in all", shown));
    }
    if diffs.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n  differences:\n    {}",
        case.describe(),
        diffs.join("\n    ")
    ))
}

/// Flags in which `native` and `vm` differ among those [`compare`] skips as
/// undefined (by the SDM or by `case.ignore_flags`): where the VM's documented
/// choice for an undefined flag differs from this host.
pub fn undefined_flag_differences(case: &Case, native: &Outcome, vm: &Outcome) -> u64 {
    let skipped = (undefined_flags(&case.code, native.rip) | case.ignore_flags) & COMPARED_FLAGS;
    (native.rflags ^ vm.rflags) & skipped
}
