//! Guest memory: one contiguous arena with per-page permissions.
//!
//! Every guest address is translated as `addr - base`; anything outside
//! `[base, base + len)` (including non-canonical and wrapping addresses, which
//! land far outside) is a trap, so the guest can never reach host memory. The
//! arena is allocated zeroed, which the host OS backs lazily: an instance costs
//! the pages it touches, not its limit.

use crate::trap::{Access, Trap};

/// Page size used for permissions.
pub const PAGE_SIZE: u64 = 4096;
const PAGE_SHIFT: u32 = 12;

/// Page permission bits.
pub mod perm {
    /// Readable.
    pub const R: u8 = 1;
    /// Writable.
    pub const W: u8 = 2;
    /// Executable.
    pub const X: u8 = 4;
    /// A stack guard page: never accessible; faults report stack overflow.
    pub const GUARD: u8 = 8;
    /// Code was decoded from this writable page: a write to it must drop the
    /// decoded blocks (see [`super::Memory::take_code_dirty`]).
    pub const DECODED: u8 = 16;
    /// Not written since dirty tracking started (see [`super::Memory::track_writes`]):
    /// the first write records the page so that [`super::Memory::restore`] can undo it.
    pub const CLEAN: u8 = 32;
    /// Read + write.
    pub const RW: u8 = R | W;
    /// Read + execute.
    pub const RX: u8 = R | X;
}

/// Rounds `v` up to a page boundary (saturating).
pub fn page_up(v: u64) -> u64 {
    v.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Rounds `v` down to a page boundary.
pub fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

/// An access of `N` bytes that a probe (`Memory::probe_read` and co.) found to be
/// inside one page with the right permissions: the offset into the arena. Made
/// only by the probes, so holding one proves the access is in bounds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<const N: usize>(usize);

/// The guest address space.
#[derive(Clone)]
pub struct Memory {
    base: u64,
    data: crate::arena::Arena,
    perms: Vec<u8>,
    /// Set when a page holding decoded code was written.
    code_dirty: bool,
    /// Pages written since tracking started (their CLEAN bit is cleared).
    dirty: Vec<u32>,
    /// The tracked pages that held data when tracking started, ascending (see
    /// [`Memory::track_writes`]); every other tracked page goes back to zeros.
    saved_pages: Vec<u32>,
    /// What the pages of `saved_pages` go back to: their bytes when tracking
    /// started, `PAGE_SIZE` each, in the same order.
    pristine: Vec<u8>,
    /// Pages restored at least once, one bit each (allocated on first use): a
    /// restored page stays resident, so this measures what reuse keeps.
    touched: Vec<u64>,
    touched_count: usize,
    /// Whether [`Memory::mark_decoded`] marked a page since the last restore.
    decoded_marks: bool,
}

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memory")
            .field("base", &self.base)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Memory {
    /// An arena of `size` bytes (rounded up to pages) at `base` (rounded down), all
    /// pages inaccessible until [`Memory::protect`] opens them.
    ///
    /// # Errors
    /// Fails when the range wraps or is empty.
    pub fn new(base: u64, size: u64) -> Result<Self, String> {
        let base = page_down(base);
        let size = page_up(size.max(PAGE_SIZE));
        if base.checked_add(size).is_none() || size > (1u64 << 40) {
            return Err(format!(
                "memory arena {base:#x}+{size:#x} is not addressable"
            ));
        }
        let len = usize::try_from(size).map_err(|_| "arena too large".to_string())?;
        Ok(Memory {
            base,
            data: crate::arena::Arena::zeroed(len)?,
            perms: vec![0; len >> PAGE_SHIFT],
            code_dirty: false,
            dirty: Vec::new(),
            saved_pages: Vec::new(),
            pristine: Vec::new(),
            touched: Vec::new(),
            touched_count: 0,
            decoded_marks: false,
        })
    }

    /// Lowest guest address of the arena.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// One past the highest guest address of the arena.
    pub fn end(&self) -> u64 {
        self.base + self.data.len() as u64
    }

    /// Sets the permissions of every page overlapping `[addr, addr + len)`.
    ///
    /// # Errors
    /// Fails when the range is not inside the arena.
    pub fn protect(&mut self, addr: u64, len: u64, perms: u8) -> Result<(), String> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or("range wraps")?;
        if addr < self.base || end > self.end() {
            return Err(format!("range {addr:#x}..{end:#x} outside the arena"));
        }
        let first = ((addr - self.base) >> PAGE_SHIFT) as usize;
        let last = ((page_up(end) - self.base) >> PAGE_SHIFT) as usize;
        // Changing a page that code was decoded from invalidates that code.
        if self.perms[first..last]
            .iter()
            .any(|p| p & (perm::DECODED | perm::X) != 0)
        {
            self.code_dirty = true;
        }
        self.perms[first..last].fill(perms);
        Ok(())
    }

    /// What compiled code needs to reach guest memory (see `jit`): the arena's
    /// first byte, the per-page permission bytes, the page count and the guest
    /// base address.
    pub(crate) fn jit_view(&mut self) -> (*mut u8, *const u8, u64, u64) {
        (
            self.data.as_mut_ptr(),
            self.perms.as_ptr(),
            self.perms.len() as u64,
            self.base,
        )
    }

    /// Permission bits of the page holding `addr` (0 outside the arena).
    pub fn perms_at(&self, addr: u64) -> u8 {
        let off = addr.wrapping_sub(self.base);
        if off >= self.data.len() as u64 {
            return 0;
        }
        self.perms[(off >> PAGE_SHIFT) as usize]
    }

    /// Cold path: classify a failed access into the right trap.
    #[cold]
    #[inline(never)]
    fn fault(&self, addr: u64, size: u64, access: Access) -> Trap {
        // Find the first byte of the access that is not allowed.
        for i in 0..size {
            let a = addr.wrapping_add(i);
            let off = a.wrapping_sub(self.base);
            if off >= self.data.len() as u64 {
                return Trap::MemoryOutOfBounds { addr, size, access };
            }
            let p = self.perms[(off >> PAGE_SHIFT) as usize];
            let ok = match access {
                Access::Read => p & perm::R != 0,
                Access::Write => p & perm::W != 0,
                Access::Execute => p & perm::X != 0,
            };
            if ok {
                continue;
            }
            return if p & perm::GUARD != 0 {
                Trap::StackOverflow { addr: a }
            } else if p == 0 {
                Trap::MemoryOutOfBounds { addr, size, access }
            } else {
                match access {
                    Access::Read => Trap::ReadFromUnreadable { addr },
                    Access::Write => Trap::WriteToReadOnly { addr },
                    Access::Execute => Trap::ExecuteNonExecutable { addr },
                }
            };
        }
        Trap::MemoryOutOfBounds { addr, size, access }
    }

    /// Translates an access of `size` bytes needing permission `need` into an arena offset.
    #[inline(always)]
    fn check(&self, addr: u64, size: u64, need: u8, access: Access) -> Result<usize, Trap> {
        let off = addr.wrapping_sub(self.base);
        let len = self.data.len() as u64;
        if size == 0 || off >= len || len - off < size {
            return Err(self.fault(addr, size.max(1), access));
        }
        let first = (off >> PAGE_SHIFT) as usize;
        let last = ((off + size - 1) >> PAGE_SHIFT) as usize;
        if self.perms[first] & need == 0 || (last != first && !self.range_has(first, last, need)) {
            return Err(self.fault(addr, size, access));
        }
        Ok(off as usize)
    }

    fn range_has(&self, first: usize, last: usize, need: u8) -> bool {
        self.perms[first..=last].iter().all(|p| p & need != 0)
    }

    /// The fast path of a fixed-size access: the offset of `addr` when the access
    /// lies within one page whose permission bits, masked with `mask`, equal `want`.
    /// Anything else (page-crossing, outside the arena, wrong permissions, decoded
    /// code) returns `None` and takes the general path.
    #[inline(always)]
    fn fast_offset<const N: usize>(&self, addr: u64, mask: u8, want: u8) -> Option<usize> {
        let off = addr.wrapping_sub(self.base) as usize;
        // perms has exactly one entry per page of data, so a page index inside
        // perms means the whole page is inside data.
        let p = *self.perms.get(off >> PAGE_SHIFT)?;
        (p & mask == want && (off & (PAGE_SIZE as usize - 1)) <= PAGE_SIZE as usize - N)
            .then_some(off)
    }

    /// Copies `N` bytes out of the arena at an offset from [`Memory::fast_offset`].
    #[inline(always)]
    #[allow(unsafe_code)]
    fn load_at<const N: usize>(&self, off: usize) -> [u8; N] {
        debug_assert!(off + N <= self.data.len());
        let mut b = [0u8; N];
        // SAFETY: `off` comes from `fast_offset::<N>`: its page index is below
        // `perms.len()`, `perms.len() * PAGE_SIZE == data.len()` (set in `new`, never
        // changed), and the access does not cross the page, so `off + N <= data.len()`.
        // Measured: removing this bounds check saves ~6% of host instructions on
        // memory-heavy guest code (callgrind, fib and sieve benches).
        b.copy_from_slice(unsafe { self.data.get_unchecked(off..off + N) });
        b
    }

    /// Where a read of `N` bytes at `addr` can be done without further checks (see
    /// [`Memory::load_probed`]), or `None` when it needs the general path, which may fault.
    /// For handlers whose fast path must not call out (`isa::hot`).
    #[inline(always)]
    pub(crate) fn probe_read<const N: usize>(&self, addr: u64) -> Option<At<N>> {
        self.fast_offset::<N>(addr, perm::R, perm::R).map(At)
    }

    /// As [`Memory::probe_read`], for a write (see [`Memory::store_probed`]).
    #[inline(always)]
    pub(crate) fn probe_write<const N: usize>(&self, addr: u64) -> Option<At<N>> {
        self.fast_offset::<N>(addr, perm::W | perm::DECODED | perm::CLEAN, perm::W)
            .map(At)
    }

    /// As [`Memory::probe_read`], for a read and then a write of the same bytes.
    #[inline(always)]
    pub(crate) fn probe_modify<const N: usize>(&self, addr: u64) -> Option<At<N>> {
        let all = perm::R | perm::W;
        self.fast_offset::<N>(addr, all | perm::DECODED | perm::CLEAN, all)
            .map(At)
    }

    /// Reads the `N` bytes that [`Memory::probe_read`] or
    /// [`Memory::probe_modify`] found.
    #[inline(always)]
    pub(crate) fn load_probed<const N: usize>(&self, at: At<N>) -> [u8; N] {
        self.load_at(at.0)
    }

    /// Writes the `N` bytes that [`Memory::probe_write`] or
    /// [`Memory::probe_modify`] found.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) fn store_probed<const N: usize>(&mut self, at: At<N>, b: [u8; N]) {
        debug_assert!(at.0 + N <= self.data.len());
        // SAFETY: an `At<N>` is made only by the probes, from `fast_offset::<N>`,
        // which guarantees `off + N <= data.len()`; `data` never changes length.
        unsafe { self.data.get_unchecked_mut(at.0..at.0 + N) }.copy_from_slice(&b);
    }

    /// Reads `N` bytes.
    #[inline(always)]
    fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], Trap> {
        if let Some(off) = self.fast_offset::<N>(addr, perm::R, perm::R) {
            return Ok(self.load_at(off));
        }
        self.read_slow(addr)
    }

    /// Page-crossing or faulting reads. Out of line so that the fast path in
    /// every handler stays small (fewer saved registers, no stack frame).
    #[cold]
    #[inline(never)]
    fn read_slow<const N: usize>(&self, addr: u64) -> Result<[u8; N], Trap> {
        let off = self.check(addr, N as u64, perm::R, Access::Read)?;
        let mut b = [0u8; N];
        b.copy_from_slice(&self.data[off..off + N]);
        Ok(b)
    }

    /// Translates a write, noticing writes to pages that code was decoded from.
    #[inline(always)]
    fn check_write(&mut self, addr: u64, size: u64) -> Result<usize, Trap> {
        let off = addr.wrapping_sub(self.base);
        let len = self.data.len() as u64;
        if size != 0 && off < len && len - off >= size {
            let first = (off >> PAGE_SHIFT) as usize;
            let last = ((off + size - 1) >> PAGE_SHIFT) as usize;
            // Fast path: one writable page without decoded code on it.
            if first == last
                && self.perms[first] & (perm::W | perm::DECODED | perm::CLEAN) == perm::W
            {
                return Ok(off as usize);
            }
        }
        self.check_write_slow(addr, size)
    }

    #[cold]
    #[inline(never)]
    fn check_write_slow(&mut self, addr: u64, size: u64) -> Result<usize, Trap> {
        let off = self.check(addr, size, perm::W, Access::Write)?;
        let first = off >> PAGE_SHIFT;
        let last = (off + size.max(1) as usize - 1) >> PAGE_SHIFT;
        for (page, p) in self.perms[first..=last].iter_mut().enumerate() {
            if *p & perm::DECODED != 0 {
                *p &= !perm::DECODED;
                self.code_dirty = true;
            }
            if *p & perm::CLEAN != 0 {
                *p &= !perm::CLEAN;
                self.dirty.push((first + page) as u32);
            }
        }
        Ok(off)
    }

    /// Starts recording which pages get written, so that [`Memory::restore`] can
    /// bring memory back to its present state. Only writable pages can change, so
    /// only they are tracked. Of those, the pages overlapping a range of `keep`
    /// (`(start, end)` pairs: the bytes the loader wrote) are saved as they are
    /// now; every other writable page must be zero now, and restores by
    /// zero-filling. So a large zero `.bss` costs nothing here, and read-only code
    /// is never copied. Costs one slow write per page touched afterwards, nothing
    /// on later writes.
    pub fn track_writes(&mut self, keep: &[(u64, u64)]) {
        self.dirty.clear();
        for p in &mut self.perms {
            if *p & perm::W != 0 {
                *p |= perm::CLEAN;
            }
        }
        let mut pages: Vec<u32> = Vec::new();
        for &(start, end) in keep {
            let lo = start.clamp(self.base, self.end());
            let hi = end.clamp(lo, self.end());
            // `end()` is page-aligned, so the last page is inside the arena.
            let first = ((lo - self.base) >> PAGE_SHIFT) as usize;
            let last = ((page_up(hi) - self.base) >> PAGE_SHIFT) as usize;
            pages.extend(
                (first..last)
                    .filter(|&pg| self.perms[pg] & perm::W != 0)
                    .map(|pg| pg as u32),
            );
        }
        pages.sort_unstable();
        pages.dedup();
        let page = PAGE_SIZE as usize;
        let mut pristine = Vec::with_capacity(pages.len() * page);
        for &pg in &pages {
            let at = pg as usize * page;
            pristine.extend_from_slice(&self.data[at..at + page]);
        }
        self.saved_pages = pages;
        self.pristine = pristine;
    }

    /// Number of pages written since tracking started.
    pub fn dirty_pages(&self) -> usize {
        self.dirty.len()
    }

    /// Host memory that dirty tracking keeps beyond the image, in bytes: the saved
    /// pages, and every page written since tracking started (restoring a page
    /// leaves it resident). What a reused instance holds on to between calls.
    pub fn retained_bytes(&self) -> u64 {
        let unrestored = self
            .dirty
            .iter()
            .filter(|&&pg| !self.was_touched(pg as usize))
            .count();
        (self.pristine.len() + (self.touched_count + unrestored) * PAGE_SIZE as usize) as u64
    }

    fn was_touched(&self, page: usize) -> bool {
        self.touched
            .get(page / 64)
            .is_some_and(|w| w & (1 << (page % 64)) != 0)
    }

    /// Undoes every guest write since [`Memory::track_writes`]: written pages get their
    /// saved contents (or zeros) back. Work is proportional to the pages written.
    /// Restoring an executable page sets the code-dirty flag, and so does any page
    /// marked as holding decoded code: the caller must then drop all decoded code
    /// (see [`Memory::take_code_dirty`]), and every such mark is cleared, so that
    /// afterwards memory, marks and (empty) code match a fresh start exactly.
    pub fn restore(&mut self) {
        let page = PAGE_SIZE as usize;
        if self.touched.is_empty() && !self.dirty.is_empty() {
            self.touched = vec![0; self.perms.len().div_ceil(64)];
        }
        let dirty = std::mem::take(&mut self.dirty);
        for &pg in &dirty {
            let pg = pg as usize;
            let start = pg * page;
            let chunk = &mut self.data[start..start + page];
            match self.saved_pages.binary_search(&(pg as u32)) {
                Ok(i) => chunk.copy_from_slice(&self.pristine[i * page..(i + 1) * page]),
                Err(_) => chunk.fill(0),
            }
            // Code may have been decoded from the old contents of a writable and
            // executable page: the caller must drop it (see `take_code_dirty`).
            if self.perms[pg] & (perm::X | perm::DECODED) != 0 {
                self.code_dirty = true;
            }
            self.perms[pg] |= perm::CLEAN;
            let (w, bit) = (pg / 64, 1u64 << (pg % 64));
            if self.touched[w] & bit == 0 {
                self.touched[w] |= bit;
                self.touched_count += 1;
            }
        }
        self.dirty = dirty;
        self.dirty.clear();
        // Code decoded from writable pages (W^X off): a fresh start has neither the
        // code nor the marks, and a stale mark would make the next write to its
        // page charge for invalidating code that the fresh start never decoded.
        if std::mem::take(&mut self.decoded_marks) {
            self.code_dirty = true;
            for p in &mut self.perms {
                *p &= !perm::DECODED;
            }
        }
    }

    /// Marks the pages of `[addr, addr + len)` that are writable as holding
    /// decoded code, so that writing them later invalidates it.
    pub fn mark_decoded(&mut self, addr: u64, len: u64) {
        let off = addr.wrapping_sub(self.base);
        if len == 0 || off >= self.data.len() as u64 {
            return;
        }
        let end = (off + len - 1).min(self.data.len() as u64 - 1);
        for p in &mut self.perms[(off >> PAGE_SHIFT) as usize..=(end >> PAGE_SHIFT) as usize] {
            if *p & perm::W != 0 {
                *p |= perm::DECODED;
                self.decoded_marks = true;
            }
        }
    }

    /// Whether a page that code was decoded from has been written since the mark
    /// was last taken (see [`Memory::take_code_dirty`]).
    #[inline(always)]
    pub fn code_dirty(&self) -> bool {
        self.code_dirty
    }

    /// Whether code was written (as [`Memory::code_dirty`]), clearing the mark.
    pub fn take_code_dirty(&mut self) -> bool {
        std::mem::take(&mut self.code_dirty)
    }

    /// Writes `N` bytes.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn write_array<const N: usize>(&mut self, addr: u64, b: [u8; N]) -> Result<(), Trap> {
        if let Some(off) =
            self.fast_offset::<N>(addr, perm::W | perm::DECODED | perm::CLEAN, perm::W)
        {
            debug_assert!(off + N <= self.data.len());
            // SAFETY: as in `load_at`: `fast_offset::<N>` guarantees
            // `off + N <= data.len()`.
            unsafe { self.data.get_unchecked_mut(off..off + N) }.copy_from_slice(&b);
            return Ok(());
        }
        self.write_slow(addr, b)
    }

    /// Page-crossing, first-touch, code-page or faulting writes (out of line, as
    /// `read_slow`).
    #[cold]
    #[inline(never)]
    fn write_slow<const N: usize>(&mut self, addr: u64, b: [u8; N]) -> Result<(), Trap> {
        let off = self.check_write_slow(addr, N as u64)?;
        self.data[off..off + N].copy_from_slice(&b);
        Ok(())
    }

    /// Reads a byte.
    #[inline]
    pub fn read_u8(&self, addr: u64) -> Result<u8, Trap> {
        Ok(self.read_array::<1>(addr)?[0])
    }
    /// Reads a little-endian u16.
    #[inline]
    pub fn read_u16(&self, addr: u64) -> Result<u16, Trap> {
        Ok(u16::from_le_bytes(self.read_array(addr)?))
    }
    /// Reads a little-endian u32.
    #[inline]
    pub fn read_u32(&self, addr: u64) -> Result<u32, Trap> {
        Ok(u32::from_le_bytes(self.read_array(addr)?))
    }
    /// Reads a little-endian u64.
    #[inline]
    pub fn read_u64(&self, addr: u64) -> Result<u64, Trap> {
        Ok(u64::from_le_bytes(self.read_array(addr)?))
    }
    /// Reads a little-endian u128.
    #[inline]
    pub fn read_u128(&self, addr: u64) -> Result<u128, Trap> {
        Ok(u128::from_le_bytes(self.read_array(addr)?))
    }
    /// Writes a byte.
    #[inline]
    pub fn write_u8(&mut self, addr: u64, v: u8) -> Result<(), Trap> {
        self.write_array(addr, [v])
    }
    /// Writes a little-endian u16.
    #[inline]
    pub fn write_u16(&mut self, addr: u64, v: u16) -> Result<(), Trap> {
        self.write_array(addr, v.to_le_bytes())
    }
    /// Writes a little-endian u32.
    #[inline]
    pub fn write_u32(&mut self, addr: u64, v: u32) -> Result<(), Trap> {
        self.write_array(addr, v.to_le_bytes())
    }
    /// Writes a little-endian u64.
    #[inline]
    pub fn write_u64(&mut self, addr: u64, v: u64) -> Result<(), Trap> {
        self.write_array(addr, v.to_le_bytes())
    }
    /// Writes a little-endian u128.
    #[inline]
    pub fn write_u128(&mut self, addr: u64, v: u128) -> Result<(), Trap> {
        self.write_array(addr, v.to_le_bytes())
    }

    /// Reads a value of `size` bytes (1, 2, 4 or 8), zero-extended.
    #[inline(always)]
    pub fn read_sized(&self, addr: u64, size: u8) -> Result<u64, Trap> {
        match size {
            1 => self.read_u8(addr).map(u64::from),
            2 => self.read_u16(addr).map(u64::from),
            4 => self.read_u32(addr).map(u64::from),
            _ => self.read_u64(addr),
        }
    }

    /// Writes the low `size` bytes (1, 2, 4 or 8) of `v`.
    #[inline(always)]
    pub fn write_sized(&mut self, addr: u64, size: u8, v: u64) -> Result<(), Trap> {
        match size {
            1 => self.write_u8(addr, v as u8),
            2 => self.write_u16(addr, v as u16),
            4 => self.write_u32(addr, v as u32),
            _ => self.write_u64(addr, v),
        }
    }

    /// Borrows `len` readable bytes at `addr`.
    ///
    /// # Errors
    /// A trap when any byte is not readable.
    pub fn slice(&self, addr: u64, len: u64) -> Result<&[u8], Trap> {
        if len == 0 {
            return Ok(&[]);
        }
        let off = self.check(addr, len, perm::R, Access::Read)?;
        Ok(&self.data[off..off + len as usize])
    }

    /// Borrows `len` executable bytes at `addr`, clipped at the end of the executable run.
    ///
    /// # Errors
    /// A trap when `addr` itself is not executable.
    pub fn fetch_window(&self, addr: u64, max: u64) -> Result<&[u8], Trap> {
        let off = self.check(addr, 1, perm::X, Access::Execute)?;
        let mut end = off as u64;
        let len = self.data.len() as u64;
        while end < len && end - (off as u64) < max {
            let p = self.perms[(end >> PAGE_SHIFT) as usize];
            if p & perm::X == 0 {
                break;
            }
            end = (page_down(end) + PAGE_SIZE).min(len).min(off as u64 + max);
        }
        Ok(&self.data[off..end as usize])
    }

    /// Copies guest bytes out.
    ///
    /// # Errors
    /// A trap when any byte is not readable.
    pub fn read_bytes(&self, addr: u64, len: u64) -> Result<Vec<u8>, Trap> {
        self.slice(addr, len).map(<[u8]>::to_vec)
    }

    /// Copies bytes into guest memory, honouring write permission.
    ///
    /// # Errors
    /// A trap when any byte is not writable.
    pub fn write_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        if bytes.is_empty() {
            return Ok(());
        }
        let off = self.check_write(addr, bytes.len() as u64)?;
        self.data[off..off + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Fills `len` bytes at `addr` with a repeated little-endian `pattern` of
    /// `width` bytes (the bulk form of `rep stos`).
    ///
    /// # Errors
    /// A trap when any byte is not writable; nothing is written then.
    pub fn fill_pattern(
        &mut self,
        addr: u64,
        len: u64,
        pattern: u64,
        width: u8,
    ) -> Result<(), Trap> {
        if len == 0 {
            return Ok(());
        }
        let off = self.check_write(addr, len)?;
        let p = pattern.to_le_bytes();
        let w = width.clamp(1, 8) as usize;
        let dst = &mut self.data[off..off + len as usize];
        if p[..w].iter().all(|&b| b == p[0]) {
            dst.fill(p[0]);
        } else {
            // `len` is a multiple of the width for `rep stos`; any tail is partial.
            let mut chunks = dst.chunks_exact_mut(w);
            for c in &mut chunks {
                c.copy_from_slice(&p[..w]);
            }
            let tail = chunks.into_remainder();
            let n = tail.len();
            tail.copy_from_slice(&p[..n]);
        }
        Ok(())
    }

    /// Copies `len` bytes from `src` to `dst` as `memmove` does (the bulk form of
    /// `rep movs` when the ranges do not overlap in a replicating way).
    ///
    /// # Errors
    /// A trap when the source is not readable or the destination not writable;
    /// nothing is written then.
    pub fn copy(&mut self, dst: u64, src: u64, len: u64) -> Result<(), Trap> {
        if len == 0 {
            return Ok(());
        }
        let s = self.check(src, len, perm::R, Access::Read)?;
        let d = self.check_write(dst, len)?;
        self.data.copy_within(s..s + len as usize, d);
        Ok(())
    }

    /// Host-side initialisation write that ignores permissions (loading the image,
    /// placing the input). Bounds are still checked.
    ///
    /// # Errors
    /// Fails when the range is outside the arena.
    pub fn load(&mut self, addr: u64, bytes: &[u8]) -> Result<(), String> {
        let off = addr.wrapping_sub(self.base);
        let n = bytes.len() as u64;
        if off > self.data.len() as u64 || self.data.len() as u64 - off < n {
            return Err(format!("load of {n} bytes at {addr:#x} outside the arena"));
        }
        let off = off as usize;
        self.data[off..off + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Host-side fill that ignores permissions.
    ///
    /// # Errors
    /// Fails when the range is outside the arena.
    pub fn fill(&mut self, addr: u64, len: u64, byte: u8) -> Result<(), String> {
        let off = addr.wrapping_sub(self.base);
        if off > self.data.len() as u64 || self.data.len() as u64 - off < len {
            return Err(format!(
                "fill of {len} bytes at {addr:#x} outside the arena"
            ));
        }
        let off = off as usize;
        self.data[off..off + len as usize].fill(byte);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> Memory {
        let mut m = Memory::new(0x10000, 4 * PAGE_SIZE).unwrap();
        m.protect(0x10000, PAGE_SIZE, perm::RX).unwrap();
        m.protect(0x11000, PAGE_SIZE, perm::GUARD).unwrap();
        m.protect(0x12000, 2 * PAGE_SIZE, perm::RW).unwrap();
        m
    }

    #[test]
    fn read_write_roundtrip_and_cross_page() {
        let mut m = mem();
        m.write_u64(0x12ffc, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(m.read_u64(0x12ffc).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(m.read_u16(0x12ffe).unwrap(), 0x5566);
    }

    #[test]
    fn faults_name_address_and_kind() {
        let mut m = mem();
        assert_eq!(
            m.write_u8(0x10000, 1),
            Err(Trap::WriteToReadOnly { addr: 0x10000 })
        );
        assert_eq!(
            m.read_u8(0x11008),
            Err(Trap::StackOverflow { addr: 0x11008 })
        );
        assert_eq!(
            m.read_u64(0x13ffc),
            Err(Trap::MemoryOutOfBounds {
                addr: 0x13ffc,
                size: 8,
                access: Access::Read
            })
        );
        assert!(matches!(
            m.read_u64(u64::MAX - 3),
            Err(Trap::MemoryOutOfBounds { .. })
        ));
        assert!(matches!(
            m.read_u8(0x8000_0000_0000_0000),
            Err(Trap::MemoryOutOfBounds { .. })
        ));
        assert!(matches!(
            m.read_u8(0xffff),
            Err(Trap::MemoryOutOfBounds { .. })
        ));
        // A write straddling writable and guard pages fails on the guard byte.
        assert!(m.write_u32(0x11ffe, 0).is_err());
    }

    #[test]
    fn fast_path_edges_of_the_arena_and_pages() {
        // The unchecked fast path must only ever see in-bounds, single-page accesses.
        let mut m = mem();
        let end = 0x14000u64;
        for (n, read) in [(1u64, 0u8), (2, 1), (4, 2), (8, 3)] {
            let last = end - n;
            let v = match read {
                0 => m
                    .write_u8(last, 0x5a)
                    .map(|_| m.read_u8(last).unwrap() as u64),
                1 => m
                    .write_u16(last, 0x5a5a)
                    .map(|_| m.read_u16(last).unwrap() as u64),
                2 => m
                    .write_u32(last, 7)
                    .map(|_| m.read_u32(last).unwrap() as u64),
                _ => m.write_u64(last, 9).map(|_| m.read_u64(last).unwrap()),
            };
            assert!(v.is_ok(), "last {n} bytes of the arena are accessible");
            assert!(
                m.read_sized(last + 1, n as u8).is_err(),
                "one past the end faults"
            );
            assert!(m.write_sized(last + 1, n as u8, 0).is_err());
        }
        // Page-crossing accesses between two writable pages go through the slow path
        // and still work; crossing into a guard page faults.
        m.write_u64(0x12ffd, u64::MAX).unwrap();
        assert_eq!(m.read_u64(0x12ffd).unwrap(), u64::MAX);
        assert!(m.read_u64(0x11ffd).is_err());
        // Addresses below the base wrap to huge offsets and fault.
        assert!(m.read_u64(0x0fff8).is_err());
        assert!(m.write_u8(u64::MAX, 0).is_err());
    }

    #[test]
    fn fetch_window_stops_at_non_executable_page() {
        let m = mem();
        assert_eq!(m.fetch_window(0x10ff0, 64).unwrap().len(), 16);
        assert!(matches!(
            m.fetch_window(0x12000, 16),
            Err(Trap::ExecuteNonExecutable { .. })
        ));
    }
}
