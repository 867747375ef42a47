//! The raw `int imm8` boundary: the service number is the immediate, arguments go
//! in RDI, RSI, RDX, RCX, R8 (System V order) and the result comes back in RAX.
//! The VM preserves every other register and the flags (docs/abi.md).
//!
//! These functions only move registers; the safe wrappers in [`crate::host`] are
//! responsible for passing pointers that are valid for the service.

use core::arch::asm;

/// `int N` with no arguments.
///
/// # Safety
/// `N` must be a service that takes no arguments (or ignores them).
#[inline(always)]
pub(crate) unsafe fn call0<const N: u8>() -> u64 {
    let ret: u64;
    // SAFETY: the caller picks a service that needs no arguments; the VM only
    // writes RAX and leaves the stack and flags alone.
    unsafe {
        asm!("int {n}", n = const N, lateout("rax") ret, options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with one argument.
///
/// # Safety
/// The argument must be what service `N` expects (e.g. a pointer to writable
/// memory of the documented size).
#[inline(always)]
pub(crate) unsafe fn call1<const N: u8>(a: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the argument is valid for the service.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, lateout("rax") ret,
             options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with two arguments.
///
/// # Safety
/// As [`call1`].
#[inline(always)]
pub(crate) unsafe fn call2<const N: u8>(a: u64, b: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the arguments are valid for the service.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, in("rsi") b, lateout("rax") ret,
             options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with three arguments.
///
/// # Safety
/// As [`call1`].
#[inline(always)]
pub(crate) unsafe fn call3<const N: u8>(a: u64, b: u64, c: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the arguments are valid for the service.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, in("rsi") b, in("rdx") c, lateout("rax") ret,
             options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with four arguments.
///
/// # Safety
/// As [`call1`].
#[inline(always)]
pub(crate) unsafe fn call4<const N: u8>(a: u64, b: u64, c: u64, d: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the arguments are valid for the service.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, in("rsi") b, in("rdx") c, in("rcx") d,
             lateout("rax") ret, options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with five arguments.
///
/// # Safety
/// As [`call1`].
#[inline(always)]
pub(crate) unsafe fn call5<const N: u8>(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    let ret: u64;
    // SAFETY: the caller guarantees the arguments are valid for the service.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, in("rsi") b, in("rdx") c, in("rcx") d,
             in("r8") e, lateout("rax") ret, options(nostack, preserves_flags));
    }
    ret
}

/// `int N` with two arguments, for services that end the run (`revert`, `finish`).
///
/// # Safety
/// As [`call1`], and `N` must be a service that does not return.
#[inline(always)]
pub(crate) unsafe fn call2_noreturn<const N: u8>(a: u64, b: u64) -> ! {
    // SAFETY: the caller guarantees the arguments are valid and that the service
    // ends the run, so control never comes back here.
    unsafe {
        asm!("int {n}", n = const N, in("rdi") a, in("rsi") b, options(noreturn, nostack));
    }
}
