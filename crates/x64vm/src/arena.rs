//! The byte array behind guest memory, mapped directly from the OS.
//!
//! A guest arena is large (tens of MiB of address space) but a call touches a few
//! pages. `vec![0; n]` goes through malloc, whose dynamic mmap threshold rises after
//! the first large free: later arenas then come from the heap and are memset in
//! full (measured: ~200 µs per instance for a 22 MiB arena). An anonymous private
//! mapping is zero-filled lazily by the kernel, so an instance costs the pages it
//! touches (measured: ~20 µs), and freeing it returns everything at once.

use std::ops::{Deref, DerefMut};

/// A zero-initialised, fixed-size byte array.
pub struct Arena {
    #[cfg(unix)]
    ptr: std::ptr::NonNull<u8>,
    #[cfg(not(unix))]
    vec: Vec<u8>,
    len: usize,
}

// SAFETY: `Arena` owns its mapping exclusively (like a `Vec<u8>`); nothing else
// aliases it, so moving it to or sharing `&Arena` across threads is sound.
#[allow(unsafe_code)]
unsafe impl Send for Arena {}
// SAFETY: shared access only hands out `&[u8]`, as `Vec<u8>` does.
#[allow(unsafe_code)]
unsafe impl Sync for Arena {}

impl Arena {
    /// `len` zero bytes.
    ///
    /// # Errors
    /// When the OS refuses the mapping.
    #[cfg(unix)]
    #[allow(unsafe_code)]
    pub fn zeroed(len: usize) -> Result<Self, String> {
        if len == 0 {
            return Ok(Arena {
                ptr: std::ptr::NonNull::dangling(),
                len: 0,
            });
        }
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; the result is checked for MAP_FAILED below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!("cannot map {len} bytes for guest memory"));
        }
        let ptr = std::ptr::NonNull::new(p.cast::<u8>()).ok_or("mmap returned null")?;
        Ok(Arena { ptr, len })
    }

    /// `len` zero bytes.
    ///
    /// # Errors
    /// Never on this platform (allocation failure aborts as for any `Vec`).
    #[cfg(not(unix))]
    pub fn zeroed(len: usize) -> Result<Self, String> {
        Ok(Arena {
            vec: vec![0; len],
            len,
        })
    }
}

impl Deref for Arena {
    type Target = [u8];
    #[cfg(unix)]
    #[allow(unsafe_code)]
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` readable bytes mapped in `zeroed` (or is
        // dangling with len 0), alive until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
    #[cfg(not(unix))]
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        &self.vec
    }
}

impl DerefMut for Arena {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
    #[cfg(not(unix))]
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.vec
    }
}

#[cfg(unix)]
impl Drop for Arena {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmapping exactly the mapping created in `zeroed`, once.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.len);
            }
        }
    }
}

impl Clone for Arena {
    fn clone(&self) -> Self {
        // Cloning a guest memory is rare (snapshots in tests); copy everything.
        let mut a = Arena::zeroed(self.len).unwrap_or_else(|e| panic!("{e}"));
        a.copy_from_slice(self);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_writable_clonable_and_large_lazily() {
        let mut a = Arena::zeroed(1 << 30).expect("1 GiB of address space");
        assert_eq!(a[12345], 0);
        a[(1 << 30) - 1] = 7;
        a[0] = 1;
        let small = Arena::zeroed(8192).expect("map");
        let mut c = small.clone();
        c[8191] = 3;
        assert_eq!((small[8191], c[8191]), (0, 3));
        assert_eq!(a.len(), 1 << 30);
        assert!(Arena::zeroed(0).expect("empty").is_empty());
    }
}
