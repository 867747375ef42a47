// The Rust guest of the whole-program tests: `#![no_std]`, `alloc` on top of the
// VM's alloc/free host calls, built by the test with the host rustc. The work
// itself is in rust_compute.rs, which the test also runs natively.
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::arch::asm;

mod compute {
    include!("rust_compute.rs");
}

struct HostAlloc;

unsafe impl GlobalAlloc for HostAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr: *mut u8;
        asm!("int 0x25", in("rdi") layout.size(), in("rsi") layout.align(), lateout("rax") ptr,
             options(nostack));
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        asm!("int 0x26", in("rdi") ptr, lateout("rax") _, options(nostack));
    }
}

#[global_allocator]
static ALLOCATOR: HostAlloc = HostAlloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe { asm!("ud2", options(noreturn)) }
}

/// The precompiled `alloc` still names the unwinding personality routine; with
/// panic=abort it is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

#[no_mangle]
pub extern "C" fn run(seed: u64) -> u64 {
    let (h, report) = compute::run(seed);
    unsafe {
        asm!("int 0x22", in("rdi") report.as_ptr(), in("rsi") report.len(), lateout("rax") _,
             options(nostack));
    }
    h
}

/// The ELF entry. Calling `run` through an opaque pointer keeps it (and its
/// symbol) in the binary even when the linker collects unreferenced sections.
#[no_mangle]
pub extern "C" fn _start() -> u64 {
    let entry: extern "C" fn(u64) -> u64 = core::hint::black_box(run);
    entry(0)
}

// libc symbols the compiler and `core` call. String instructions, so they cannot be
// compiled back into calls to themselves.

#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _,
         options(nostack, preserves_flags));
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") c as u8,
         options(nostack, preserves_flags));
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        return memcpy(dst, src, n);
    }
    if n > 0 {
        asm!("std", "rep movsb", "cld", inout("rdi") dst.add(n - 1) => _,
             inout("rsi") src.add(n - 1) => _, inout("rcx") n => _, options(nostack));
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}
