//! Host memory for generated code: mapped once, never writable and executable at
//! the same time (W^X on the host too). Code is appended in batches: the pages a
//! batch lands on are made writable, filled, and made executable again.

/// A fixed-size region of host code.
pub(crate) struct CodeMem {
    ptr: *mut u8,
    len: usize,
    used: usize,
}

const HOST_PAGE: usize = 4096;

/// Why code could not be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendError {
    /// Not enough room left; nothing changed.
    NoRoom,
    /// The OS refused a protection change: pages may be non-executable now.
    Os,
}

// SAFETY: a `CodeMem` owns its mapping exclusively (like `Arena`); moving it to
// another thread moves that ownership.
#[allow(unsafe_code)]
unsafe impl Send for CodeMem {}

impl CodeMem {
    /// Maps `len` bytes (rounded up to pages), readable and executable, empty.
    #[allow(unsafe_code)]
    pub(crate) fn new(len: usize) -> Option<CodeMem> {
        let len = len.div_ceil(HOST_PAGE) * HOST_PAGE;
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; the result is checked for MAP_FAILED below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED || p.is_null() {
            return None;
        }
        Some(CodeMem {
            ptr: p.cast(),
            len,
            used: 0,
        })
    }

    /// Host address the next appended byte will have.
    pub(crate) fn cursor(&self) -> u64 {
        self.ptr as u64 + self.used as u64
    }

    /// Bytes still free.
    pub(crate) fn free(&self) -> usize {
        self.len - self.used
    }

    /// Forgets everything after the first `keep` bytes (code there will be
    /// overwritten by later appends; nothing may jump there any more).
    pub(crate) fn truncate(&mut self, keep: usize) {
        self.used = self.used.min(keep);
    }

    /// Bytes in use.
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Appends `code`, which was assembled to run at [`CodeMem::cursor`].
    ///
    /// # Errors
    /// [`AppendError::NoRoom`] when it does not fit (nothing changed);
    /// [`AppendError::Os`] when the OS refused a protection change, after which
    /// no code here may run again.
    #[allow(unsafe_code)]
    pub(crate) fn append(&mut self, code: &[u8]) -> Result<(), AppendError> {
        if code.is_empty() {
            return Ok(());
        }
        if code.len() > self.free() {
            return Err(AppendError::NoRoom);
        }
        let first = self.used / HOST_PAGE * HOST_PAGE;
        let end = (self.used + code.len()).div_ceil(HOST_PAGE) * HOST_PAGE;
        // SAFETY: [first, end) lies inside the mapping (end <= len since
        // used + code.len() <= len and len is page-aligned). Nothing executes
        // this memory while it is writable: the VM is single-threaded per
        // instance and no generated code runs during compilation.
        unsafe {
            let at = self.ptr.add(first).cast();
            if libc::mprotect(at, end - first, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return Err(AppendError::Os);
            }
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.ptr.add(self.used), code.len());
            if libc::mprotect(at, end - first, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                return Err(AppendError::Os);
            }
        }
        self.used += code.len();
        Ok(())
    }
}

impl Drop for CodeMem {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

impl std::fmt::Debug for CodeMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMem")
            .field("len", &self.len)
            .field("used", &self.used)
            .finish()
    }
}
