//! Memory management calls: `brk`, `mmap`, `munmap`, `mremap`, `mprotect`,
//! all inside the process arena. Addresses are handed out deterministically
//! (lowest fit first), so runs are reproducible.

use crate::heap::Heap;
use crate::host::GAS_PER_HEAP_PAGE;
use crate::mem::{Memory, PAGE_SIZE, page_up, perm};

/// Gas per page whose permissions a call changes without touching its bytes
/// (`munmap`, `mprotect`). Pages that are zeroed or copied cost
/// [`GAS_PER_HEAP_PAGE`], as heap growth does.
pub(crate) const GAS_PER_PROTECTED_PAGE: u64 = 1;

/// Protection bits of `mmap`/`mprotect`.
pub(crate) const PROT_READ: u64 = 1;
pub(crate) const PROT_WRITE: u64 = 2;
pub(crate) const PROT_EXEC: u64 = 4;

/// The program break and the mmap area.
#[derive(Debug)]
pub(crate) struct Mm {
    brk_start: u64,
    brk: u64,
    brk_end: u64,
    maps: Heap,
    mmap_start: u64,
    mmap_end: u64,
    /// Gas for the work done since the last [`Mm::take_gas`]: the calls zero,
    /// copy and re-protect memory in proportion to guest-chosen lengths, so the
    /// dispatcher charges for it after each call.
    gas: u64,
}

pub(crate) fn prot_to_perms(prot: u64) -> u8 {
    let mut p = 0;
    if prot & PROT_READ != 0 {
        p |= perm::R;
    }
    if prot & PROT_WRITE != 0 {
        p |= perm::W | perm::R;
    }
    if prot & PROT_EXEC != 0 {
        p |= perm::X | perm::R;
    }
    p
}

impl Mm {
    pub(crate) fn new(brk_start: u64, brk_end: u64, mmap_start: u64, mmap_end: u64) -> Self {
        Mm {
            brk_start,
            brk: brk_start,
            brk_end,
            maps: Heap::new(mmap_start, mmap_end),
            mmap_start,
            mmap_end,
            gas: 0,
        }
    }

    /// Gas owed for the memory work of the calls since the last take.
    pub(crate) fn take_gas(&mut self) -> u64 {
        std::mem::take(&mut self.gas)
    }

    fn zeroed(&mut self, bytes: u64) {
        let pages = page_up(bytes) / PAGE_SIZE;
        self.gas = self
            .gas
            .saturating_add(pages.saturating_mul(GAS_PER_HEAP_PAGE));
    }

    fn protected(&mut self, bytes: u64) {
        let pages = page_up(bytes) / PAGE_SIZE;
        self.gas = self
            .gas
            .saturating_add(pages.saturating_mul(GAS_PER_PROTECTED_PAGE));
    }

    /// `brk(addr)`: moves the break within its area; returns the (new) break.
    pub(crate) fn brk(&mut self, mem: &mut Memory, addr: u64) -> u64 {
        if addr < self.brk_start || addr > self.brk_end {
            return self.brk;
        }
        let old = page_up(self.brk);
        let new = page_up(addr);
        if new > old {
            let _ = mem.fill(old, new - old, 0);
            let _ = mem.protect(old, new - old, perm::RW);
            self.zeroed(new - old);
        } else if new < old {
            let _ = mem.protect(new, old - new, 0);
            self.protected(old - new);
        }
        self.brk = addr;
        addr
    }

    /// Anonymous `mmap`; returns the address or a negative errno.
    pub(crate) fn mmap(
        &mut self,
        mem: &mut Memory,
        addr: u64,
        len: u64,
        prot: u64,
        fixed: bool,
    ) -> i64 {
        if len == 0 {
            return -super::syscalls::EINVAL;
        }
        let len = page_up(len);
        if fixed {
            // MAP_FIXED inside the mmap area or the break area: just (re)map the pages.
            let inside =
                |lo: u64, hi: u64| addr >= lo && addr.checked_add(len).is_some_and(|e| e <= hi);
            if !addr.is_multiple_of(PAGE_SIZE)
                || !(inside(self.mmap_start, self.mmap_end) || inside(self.brk_start, self.brk_end))
            {
                return -super::syscalls::ENOMEM;
            }
            let _ = mem.fill(addr, len, 0);
            let _ = mem.protect(addr, len, prot_to_perms(prot));
            self.zeroed(len);
            return addr as i64;
        }
        match self.maps.alloc(len, PAGE_SIZE) {
            Ok(Some(a)) => {
                let _ = mem.fill(a, len, 0);
                let _ = mem.protect(a, len, prot_to_perms(prot));
                self.zeroed(len);
                a as i64
            }
            _ => -super::syscalls::ENOMEM,
        }
    }

    /// `munmap`: whole mappings are returned to the allocator; partial unmaps
    /// only revoke access (the address range is not reused).
    pub(crate) fn munmap(&mut self, mem: &mut Memory, addr: u64, len: u64) -> i64 {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return -super::syscalls::EINVAL;
        }
        let len = page_up(len);
        if addr < self.mmap_start || addr.saturating_add(len) > self.mmap_end {
            return 0;
        }
        let _ = mem.protect(addr, len, 0);
        self.protected(len);
        let _ = self.maps.free(addr);
        0
    }

    /// `mprotect` within the arena.
    pub(crate) fn mprotect(&mut self, mem: &mut Memory, addr: u64, len: u64, prot: u64) -> i64 {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return -super::syscalls::EINVAL;
        }
        match mem.protect(addr, page_up(len), prot_to_perms(prot)) {
            Ok(()) => {
                self.protected(len);
                0
            }
            Err(_) => -super::syscalls::ENOMEM,
        }
    }

    /// `mremap`: always moves (MREMAP_MAYMOVE semantics): new mapping, copy, unmap.
    pub(crate) fn mremap(
        &mut self,
        mem: &mut Memory,
        old: u64,
        old_len: u64,
        new_len: u64,
        may_move: bool,
    ) -> i64 {
        if !may_move {
            return -super::syscalls::ENOMEM;
        }
        let prot = PROT_READ | PROT_WRITE;
        let new = self.mmap(mem, 0, new_len, prot, false);
        if new < 0 {
            return new;
        }
        let n = old_len.min(new_len);
        if let Ok(bytes) = mem.read_bytes(old, n) {
            let _ = mem.load(new as u64, &bytes);
            self.zeroed(n);
        }
        self.munmap(mem, old, old_len);
        new
    }
}
