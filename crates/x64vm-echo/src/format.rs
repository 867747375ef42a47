//! The original Echo system's packed contract format (magic `ECHO`), read off the
//! three real contracts in `shared/echo/contracts.json`; docs/format.md ("The Echo
//! format") describes it as implemented here.
//!
//! ```text
//! "ECHO"          magic
//! u32 version     1
//! u64 entry       the contract's __apply
//! u32 nsections
//!   u8 kind, u8 flags, u64 vaddr, u32 file_size, u32 mem_size, file_size bytes
//! u32 nsym, nsym x u64   symbol values of the original ELF (no names)
//! ```

use std::collections::BTreeMap;

use x64vm::loader::Segment;
use x64vm::mem::{PAGE_SIZE, page_down, page_up, perm};
use x64vm::{Image, LoadError};

/// The first four bytes of an Echo contract.
pub const MAGIC: [u8; 4] = *b"ECHO";
/// The only version seen (and accepted).
pub const VERSION: u32 = 1;
/// Most sections in a file.
pub const MAX_SECTIONS: u32 = 64;
/// Most symbol values in a file.
pub const MAX_SYMBOLS: u32 = 1 << 16;
/// Largest total of section bytes.
pub const MAX_SECTION_BYTES: u64 = 64 << 20;
/// Largest distance from the lowest section to the end of the image (`_end`).
pub const MAX_SPAN: u64 = 64 << 20;
/// Lowest address a section may start at.
pub const MIN_VADDR: u64 = 0x1000;
/// One past the highest address a section may reach.
pub const MAX_VADDR: u64 = 1 << 47;

/// Section kind of code.
pub const KIND_CODE: u8 = 1;
/// Section kind of writable data (seen in `wrong_contract`, holding vtables).
pub const KIND_DATA: u8 = 3;
/// ELF section flag: writable.
const SHF_WRITE: u8 = 0x1;
/// ELF section flag: executable.
const SHF_EXECINSTR: u8 = 0x4;

/// One section of an Echo file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoSection {
    /// The kind byte (1 code; 2, 3 and 6 seen for data).
    pub kind: u8,
    /// The flags byte (for most files the low byte of the ELF section flags).
    pub flags: u8,
    /// Guest address.
    pub vaddr: u64,
    /// Bytes in the file.
    pub data: Vec<u8>,
    /// Size in memory (at least `data.len()`; the rest is zero).
    pub mem_size: u64,
}

impl EchoSection {
    /// Memory permissions the section is mapped with: code is read + execute;
    /// kind 3 is read + write; any other kind is read-only unless its flags byte,
    /// read as ELF section flags, says writable and not executable.
    pub fn perms(&self) -> u8 {
        if self.kind == KIND_CODE {
            perm::RX
        } else if self.kind == KIND_DATA
            || (self.flags & SHF_WRITE != 0 && self.flags & SHF_EXECINSTR == 0)
        {
            perm::RW
        } else {
            perm::R
        }
    }
}

/// A parsed Echo file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoFile {
    /// Format version (1).
    pub version: u32,
    /// Entry point (`__apply`).
    pub entry: u64,
    /// Sections in file order.
    pub sections: Vec<EchoSection>,
    /// Symbol values of the original ELF file (no names).
    pub symbols: Vec<u64>,
}

fn malformed(m: impl Into<String>) -> LoadError {
    LoadError::Malformed(m.into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], LoadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                malformed(format!(
                    "truncated Echo file: {what} at offset {} needs {n} bytes, the file has {}",
                    self.pos,
                    self.bytes.len()
                ))
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, LoadError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, LoadError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, LoadError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(a))
    }
}

/// Parses an Echo file, checking its structure (not yet its memory layout).
///
/// # Errors
/// [`LoadError`] for a bad magic or version, truncation, counts over the limits,
/// a section whose file size exceeds its memory size, or trailing bytes.
pub fn parse_echo(bytes: &[u8]) -> Result<EchoFile, LoadError> {
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(malformed("not an Echo contract (bad magic)"));
    }
    let mut r = Reader { bytes, pos: 4 };
    let version = r.u32("version")?;
    if version != VERSION {
        return Err(LoadError::Unsupported(format!(
            "Echo format version {version} (only version {VERSION} is known)"
        )));
    }
    let entry = r.u64("entry point")?;
    let n = r.u32("section count")?;
    if n == 0 {
        return Err(malformed("no sections"));
    }
    if n > MAX_SECTIONS {
        return Err(LoadError::TooLarge(format!(
            "{n} sections, the limit is {MAX_SECTIONS}"
        )));
    }
    let mut sections = Vec::with_capacity(n as usize);
    let mut total = 0u64;
    for i in 0..n {
        let kind = r.u8("section kind")?;
        let flags = r.u8("section flags")?;
        let vaddr = r.u64("section address")?;
        let file_size = r.u32("section file size")?;
        let mem_size = u64::from(r.u32("section memory size")?);
        if u64::from(file_size) > mem_size {
            return Err(malformed(format!(
                "section {i} at {vaddr:#x}: file size {file_size} exceeds memory size {mem_size}"
            )));
        }
        total += u64::from(file_size);
        if total > MAX_SECTION_BYTES {
            return Err(LoadError::TooLarge(format!(
                "sections hold more than {MAX_SECTION_BYTES} bytes"
            )));
        }
        let data = r.take(file_size as usize, "section data")?.to_vec();
        sections.push(EchoSection {
            kind,
            flags,
            vaddr,
            data,
            mem_size,
        });
    }
    let nsym = r.u32("symbol count")?;
    if nsym > MAX_SYMBOLS {
        return Err(LoadError::TooLarge(format!(
            "{nsym} symbols, the limit is {MAX_SYMBOLS}"
        )));
    }
    // Check the length before reserving anything for the values.
    let need = nsym as usize * 8;
    if bytes.len() - r.pos != need {
        return Err(malformed(format!(
            "{nsym} symbol values need {need} bytes after offset {}, the file has {}",
            r.pos,
            bytes.len() - r.pos
        )));
    }
    let mut symbols = Vec::with_capacity(nsym as usize);
    for _ in 0..nsym {
        symbols.push(r.u64("symbol value")?);
    }
    Ok(EchoFile {
        version,
        entry,
        sections,
        symbols,
    })
}

impl EchoFile {
    /// The end of the image the contract expects: `_end`, taken as the highest
    /// symbol value at or above the end of the shipped sections and within
    /// [`MAX_SPAN`] of the lowest section (values beyond are not addresses of
    /// this image). Without such a value, the end of the sections.
    pub fn image_end(&self) -> u64 {
        let low = self.sections.iter().map(|s| s.vaddr).min().unwrap_or(0);
        let end = self.sections_end();
        self.symbols
            .iter()
            .copied()
            .filter(|&v| v >= end && v - low <= MAX_SPAN)
            .max()
            .unwrap_or(end)
    }

    /// One past the last byte of the highest section.
    pub fn sections_end(&self) -> u64 {
        self.sections
            .iter()
            .map(|s| s.vaddr.saturating_add(s.mem_size))
            .max()
            .unwrap_or(0)
    }
}

/// Loads an Echo contract into an [`Image`]: each section mapped with the
/// permissions of [`EchoSection::perms`], plus a zeroed read/write region from the
/// end of the sections up to `_end` ([`EchoFile::image_end`]) for the data and bss
/// the packer left out. The instance's heap and stack then lie above `_end`.
/// `Image::symbols` holds `__apply` (the entry).
///
/// # Errors
/// [`LoadError`] as [`parse_echo`], and for sections outside the user address
/// range, overlapping sections, a page both writable and executable, an image
/// span over [`MAX_SPAN`], or an entry point outside the code.
pub fn load_echo(bytes: &[u8]) -> Result<Image, LoadError> {
    let file = parse_echo(bytes)?;
    let mut segments: Vec<Segment> = Vec::new();
    for (i, s) in file.sections.iter().enumerate() {
        if s.vaddr < MIN_VADDR
            || s.vaddr
                .checked_add(s.mem_size)
                .is_none_or(|end| end > MAX_VADDR)
        {
            return Err(malformed(format!(
                "section {i} at {:#x} (+{:#x}) is outside the user address range",
                s.vaddr, s.mem_size
            )));
        }
        if s.mem_size == 0 {
            continue;
        }
        segments.push(Segment {
            vaddr: s.vaddr,
            data: s.data.clone(),
            mem_size: s.mem_size,
            perms: s.perms(),
        });
    }
    if segments.is_empty() {
        return Err(malformed("every section is empty"));
    }
    segments.sort_by_key(|s| s.vaddr);
    for w in segments.windows(2) {
        if w[0].vaddr + w[0].mem_size > w[1].vaddr {
            return Err(malformed(format!(
                "sections at {:#x} and {:#x} overlap",
                w[0].vaddr, w[1].vaddr
            )));
        }
    }
    let low = segments[0].vaddr;
    let end = file.sections_end();
    let image_end = file.image_end();
    if image_end > end {
        // Data and bss above the shipped sections. As in the ELF file they came
        // from, they start on a fresh page unless the last page is writable already
        // (a linker never puts read-only and writable data on one page).
        let last_page = page_down(end - 1);
        let shared_read_only = segments.iter().any(|s| {
            s.perms != perm::RW
                && page_down(s.vaddr) <= last_page
                && page_down(s.vaddr + s.mem_size - 1) >= last_page
        });
        let start = if shared_read_only { page_up(end) } else { end };
        if image_end > start {
            segments.push(Segment {
                vaddr: start,
                data: Vec::new(),
                mem_size: image_end - start,
                perms: perm::RW,
            });
        }
    }
    let high = segments
        .iter()
        .map(|s| s.vaddr + s.mem_size)
        .max()
        .unwrap_or(low);
    if high - low > MAX_SPAN {
        return Err(LoadError::TooLarge(format!(
            "sections span {} bytes, the limit is {MAX_SPAN}",
            high - low
        )));
    }
    // W^X per page, across every section on it (pages are mapped with the union).
    let mut pages: BTreeMap<u64, u8> = BTreeMap::new();
    for s in &segments {
        let mut a = page_down(s.vaddr);
        while a < s.vaddr + s.mem_size {
            let p = pages.entry(a).or_insert(0);
            *p |= s.perms;
            if *p & perm::W != 0 && *p & perm::X != 0 {
                return Err(LoadError::Unsupported(format!(
                    "page {a:#x} would be both writable and executable (W^X)"
                )));
            }
            a += PAGE_SIZE;
        }
    }
    let entry_ok = segments.iter().any(|s| {
        s.perms & perm::X != 0 && file.entry >= s.vaddr && file.entry - s.vaddr < s.mem_size
    });
    if !entry_ok {
        return Err(malformed(format!(
            "entry point {:#x} is not in a code section",
            file.entry
        )));
    }
    let mut symbols = x64vm::loader::Symbols::new();
    symbols.insert("__apply".to_string(), file.entry);
    Ok(Image {
        entry: file.entry,
        segments,
        symbols,
        file_size: bytes.len() as u64,
        ..Image::default()
    })
}
