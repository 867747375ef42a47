//! What a freestanding contract needs from its runtime: a global allocator over
//! the VM heap, a panic handler that reverts with the message, and the few libc
//! symbols the compiler emits calls to. Each is a cargo feature (all default).
//! None of this is compiled into the crate's own unit tests, which run on the
//! host with `std`.

/// The global allocator over the VM's `alloc`/`free` services (first-fit,
/// deterministic, bookkeeping outside guest memory). Installed by the
/// `allocator` feature; usable on its own otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostAllocator;

/// The largest alignment the `alloc` service accepts.
const MAX_ALIGN: usize = 1 << 20;

// SAFETY: the VM's allocator returns blocks of at least `size` bytes aligned to
// `align` that no other live allocation overlaps, or null; `free` takes exactly
// the pointers it handed out.
unsafe impl core::alloc::GlobalAlloc for HostAllocator {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.align() > MAX_ALIGN {
            return core::ptr::null_mut();
        }
        // SAFETY: `Layout` guarantees a power-of-two alignment, and it is at most 1 MiB.
        unsafe { crate::host::heap_alloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
        // SAFETY: `GlobalAlloc::dealloc`'s contract: `ptr` came from `alloc` above
        // and is not used afterwards.
        unsafe { crate::host::heap_free(ptr) }
    }
}

#[cfg(all(feature = "allocator", not(test)))]
#[global_allocator]
static ALLOCATOR: HostAllocator = HostAllocator;

/// A fixed buffer the panic message is formatted into (no allocation, so a
/// failed allocation can still report itself). Longer messages are cut at a
/// character boundary.
#[cfg(any(feature = "panic-handler", test))]
struct MessageBuf {
    bytes: [u8; 256],
    len: usize,
}

#[cfg(any(feature = "panic-handler", test))]
impl core::fmt::Write for MessageBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

#[cfg(all(feature = "panic-handler", not(test)))]
fn panic_message(info: &core::panic::PanicInfo<'_>, buf: &mut MessageBuf) {
    use core::fmt::Write;
    let _ = write!(buf, "{}", info.message());
    if buf.len == 0 {
        let _ = buf.write_str("panic");
    }
}

/// Reverts with the panic message (e.g. `attempt to add with overflow`,
/// `called `Option::unwrap()` on a `None` value`), at most 256 bytes.
#[cfg(all(feature = "panic-handler", not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::sync::atomic::{AtomicBool, Ordering};
    // A panic while formatting the message must not recurse forever.
    static PANICKING: AtomicBool = AtomicBool::new(false);
    if PANICKING.swap(true, Ordering::Relaxed) {
        crate::host::revert("panic while panicking");
    }
    let mut buf = MessageBuf {
        bytes: [0; 256],
        len: 0,
    };
    panic_message(info, &mut buf);
    crate::host::revert_bytes(&buf.bytes[..buf.len])
}

/// The precompiled `alloc` names the unwinding personality routine; with
/// `panic = "abort"` it is never called.
#[cfg(all(feature = "mem", not(test)))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// The precompiled `core`/`alloc` keep landing pads that resume unwinding;
/// with `panic = "abort"` no unwinding ever starts, so this is unreachable.
#[cfg(all(feature = "mem", not(test)))]
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    crate::host::revert("x64vm: unwinding is not supported")
}

// libc's memory functions, which the compiler calls for copies, moves, fills
// and comparisons. The copies use the string instructions, so the compiler
// cannot turn them back into calls to themselves.
#[cfg(all(feature = "mem", not(test)))]
mod mem {
    use core::arch::asm;

    /// # Safety
    /// As C's `memcpy`: `src` readable and `dst` writable for `n` bytes, no overlap.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees both ranges; DF is clear per the ABI.
        unsafe {
            asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _,
                 options(nostack, preserves_flags));
        }
        dst
    }

    /// # Safety
    /// As C's `memmove`: `src` readable and `dst` writable for `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        if (dst as usize).wrapping_sub(src as usize) >= n {
            // Forward copy is safe: `dst` is below `src` or past its end.
            // SAFETY: as `memcpy`, and forward order never reads a byte already written.
            return unsafe { memcpy(dst, src, n) };
        }
        if n > 0 {
            // SAFETY: the caller guarantees both ranges; copying backwards (DF set,
            // restored before returning) never reads a byte already written.
            unsafe {
                asm!("std", "rep movsb", "cld",
                     inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
                     inout("rcx") n => _, options(nostack));
            }
        }
        dst
    }

    /// # Safety
    /// As C's `memset`: `dst` writable for `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
        // SAFETY: the caller guarantees the range; DF is clear per the ABI.
        unsafe {
            asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") c as u8,
                 options(nostack, preserves_flags));
        }
        dst
    }

    /// # Safety
    /// As C's `memcmp`: both ranges readable for `n` bytes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        let (mut a, mut b, mut n) = (a, b, n);
        // `repe cmpsb` stops after the first differing byte (or after n bytes).
        if n == 0 {
            return 0;
        }
        let equal: u8;
        // SAFETY: the caller guarantees both ranges; DF is clear per the ABI.
        unsafe {
            asm!("repe cmpsb", "sete {eq}", eq = out(reg_byte) equal,
                 inout("rsi") a, inout("rdi") b, inout("rcx") n, options(nostack, readonly));
        }
        let _ = n;
        if equal == 1 {
            return 0;
        }
        // SAFETY: after a mismatch both pointers are one past the differing bytes,
        // which lie inside the ranges.
        unsafe {
            a = a.sub(1);
            b = b.sub(1);
            i32::from(*a) - i32::from(*b)
        }
    }

    /// # Safety
    /// As [`memcmp`].
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        // SAFETY: same contract.
        unsafe { memcmp(a, b, n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn messages_are_cut_at_char_boundaries() {
        let mut buf = MessageBuf {
            bytes: [0; 256],
            len: 0,
        };
        let long = "é".repeat(200); // 400 bytes
        assert!(buf.write_str(&long).is_err());
        assert_eq!(buf.len, 256);
        assert!(core::str::from_utf8(&buf.bytes[..buf.len]).is_ok());
        let mut buf = MessageBuf {
            bytes: [0; 256],
            len: 255,
        };
        assert!(buf.write_str("é").is_err());
        assert_eq!(buf.len, 255);
    }
}
