//! The guest heap behind the `alloc`/`free` host calls: a deterministic
//! first-fit allocator over a fixed region, with its bookkeeping on the host side
//! (so the guest cannot corrupt it).

use std::collections::BTreeMap;

/// Smallest alignment and size granule of an allocation.
pub const GRANULE: u64 = 16;

/// Allocator state for one instance.
#[derive(Clone, Debug, Default)]
pub struct Heap {
    start: u64,
    end: u64,
    /// Everything at or above `top` has never been handed out.
    top: u64,
    /// Free blocks below `top`: address -> size.
    free: BTreeMap<u64, u64>,
    /// Live allocations: address -> size.
    used: BTreeMap<u64, u64>,
    /// Free blocks examined by the last `alloc` (its work beyond a constant).
    scanned: u64,
}

/// Why an allocator call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeapError {
    /// `free` of a pointer that is not a live allocation.
    NotAllocated(u64),
    /// Alignment that is not a power of two.
    BadAlignment(u64),
}

impl Heap {
    /// A heap over `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        Heap {
            start,
            end,
            top: start,
            free: BTreeMap::new(),
            used: BTreeMap::new(),
            scanned: 0,
        }
    }

    /// How many free blocks the last [`Heap::alloc`] examined. First fit walks the
    /// free list, which a guest can fragment at will, so callers charge for this.
    pub fn last_alloc_work(&self) -> u64 {
        self.scanned
    }

    /// Highest address ever handed out (the touched part of the heap).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Bytes currently allocated.
    pub fn in_use(&self) -> u64 {
        self.used.values().sum()
    }

    /// Allocates `size` bytes aligned to `align` (0 means the default 16).
    /// Returns `Ok(None)` when the heap is exhausted.
    ///
    /// # Errors
    /// [`HeapError::BadAlignment`] when `align` is not a power of two.
    pub fn alloc(&mut self, size: u64, align: u64) -> Result<Option<u64>, HeapError> {
        self.scanned = 0;
        let align = if align == 0 { GRANULE } else { align };
        if !align.is_power_of_two() || align > (1 << 20) {
            return Err(HeapError::BadAlignment(align));
        }
        let align = align.max(GRANULE);
        let Some(size) = size
            .max(1)
            .checked_add(GRANULE - 1)
            .map(|s| s & !(GRANULE - 1))
        else {
            return Ok(None);
        };
        // First fit among freed blocks, lowest address first.
        let mut found = None;
        for (&addr, &len) in &self.free {
            self.scanned += 1;
            let aligned = (addr + align - 1) & !(align - 1);
            // Checked: a guest-chosen size near 2^64 must not wrap into a fit.
            if aligned
                .checked_add(size)
                .is_some_and(|end| end <= addr + len)
            {
                found = Some((addr, len, aligned));
                break;
            }
        }
        if let Some((addr, len, aligned)) = found {
            self.free.remove(&addr);
            if aligned > addr {
                self.free.insert(addr, aligned - addr);
            }
            if aligned + size < addr + len {
                self.free
                    .insert(aligned + size, addr + len - aligned - size);
            }
            self.used.insert(aligned, size);
            return Ok(Some(aligned));
        }
        let aligned = (self.top + align - 1) & !(align - 1);
        match aligned.checked_add(size) {
            Some(end) if end <= self.end => {
                if aligned > self.top {
                    self.free.insert(self.top, aligned - self.top);
                }
                self.top = end;
                self.used.insert(aligned, size);
                Ok(Some(aligned))
            }
            _ => Ok(None),
        }
    }

    /// Frees an allocation; freeing 0 does nothing.
    ///
    /// # Errors
    /// [`HeapError::NotAllocated`] for a pointer that is not live (double free,
    /// interior or foreign pointer).
    pub fn free(&mut self, ptr: u64) -> Result<(), HeapError> {
        if ptr == 0 {
            return Ok(());
        }
        let size = self.used.remove(&ptr).ok_or(HeapError::NotAllocated(ptr))?;
        let (mut addr, mut len) = (ptr, size);
        // Merge with the free neighbours.
        if let Some((&prev, &plen)) = self.free.range(..addr).next_back()
            && prev + plen == addr
        {
            self.free.remove(&prev);
            addr = prev;
            len += plen;
        }
        if let Some(&nlen) = self.free.get(&(addr + len)) {
            self.free.remove(&(addr + len));
            len += nlen;
        }
        if addr + len == self.top {
            self.top = addr;
        } else {
            self.free.insert(addr, len);
        }
        debug_assert!(self.top >= self.start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_free_reuse_and_coalesce() {
        let mut h = Heap::new(0x1000, 0x2000);
        let a = h.alloc(10, 0).unwrap().unwrap();
        let b = h.alloc(100, 64).unwrap().unwrap();
        assert_eq!(a, 0x1000);
        assert_eq!(b % 64, 0);
        h.free(a).unwrap();
        assert_eq!(h.free(a), Err(HeapError::NotAllocated(a)));
        let c = h.alloc(8, 0).unwrap().unwrap();
        assert_eq!(c, a, "first fit reuses the freed block");
        h.free(c).unwrap();
        h.free(b).unwrap();
        assert_eq!(h.top(), 0x1000, "everything coalesces back to the start");
        assert_eq!(h.alloc(0x1001, 0).unwrap(), None);
        assert!(h.alloc(1, 3).is_err());
    }
}
