//! x64vm's packed contract format (magic `X64P`), specified in docs/format.md.
//!
//! A packed file keeps only what loading a contract needs: the loadable segments
//! (already relocated, trailing zero bytes folded into the memory size), the entry
//! point, the export table (global functions by name) and the ABI text. Everything
//! else of the ELF file (section headers, symbols, debug info, notes that lie
//! outside the segments, alignment padding) is dropped. [`pack`] is deterministic:
//! the same ELF file always gives the same bytes.
//!
//! [`load_packed`] checks every field before it trusts it: a malformed file is a
//! [`LoadError`], never a panic, and nothing is allocated before the header's
//! sizes have been checked against the limits below and the file's length.

use std::collections::BTreeMap;

use super::{Image, LoadError, Segment, elf};
use crate::mem::perm;

/// The first four bytes of a packed file.
pub const MAGIC: [u8; 4] = *b"X64P";
/// The format version this code reads and writes.
pub const VERSION: u16 = 1;
/// Size of the fixed header.
pub const HEADER_SIZE: usize = 40;
/// Size of one segment-table entry.
pub const SEGMENT_ENTRY_SIZE: usize = 24;
/// Most segments in a file.
pub const MAX_SEGMENTS: u32 = 16;
/// Most exported functions in a file.
pub const MAX_EXPORTS: u32 = 16384;
/// Longest export name in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Largest export table in bytes.
pub const MAX_EXPORTS_SIZE: u32 = 4 << 20;
/// Largest ABI text in bytes.
pub const MAX_ABI_SIZE: u32 = 1 << 20;
/// Largest total of segment file bytes.
pub const MAX_DATA_SIZE: u32 = 64 << 20;
/// Lowest address a segment may start at (page 0 stays unmapped).
pub const MIN_VADDR: u64 = 0x1000;
/// One past the highest address a segment may reach (user half of x86-64).
pub const MAX_VADDR: u64 = 1 << 47;

/// The formats [`load_any`] tells apart by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An ELF file (`\x7fELF`).
    Elf,
    /// x64vm's packed format (`X64P`).
    Packed,
    /// The original Echo system's packed format (`ECHO`), served by the echo profile.
    Echo,
    /// Anything else.
    Unknown,
}

impl Format {
    /// Recognises a file by its magic bytes.
    pub fn detect(bytes: &[u8]) -> Format {
        match bytes.get(..4) {
            Some(b"\x7fELF") => Format::Elf,
            Some(m) if m == MAGIC => Format::Packed,
            Some(b"ECHO") => Format::Echo,
            _ => Format::Unknown,
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Packed => "x64vm packed",
            Format::Echo => "Echo packed",
            Format::Unknown => "unknown",
        }
    }
}

/// Loads a contract given as an ELF file or as a packed file, told apart by the
/// magic bytes. W^X is enforced (this is the contract loader; the Linux profile
/// loads ELF files with [`super::load_elf`]).
///
/// # Errors
/// [`LoadError`] from the format's loader, or for a file that is neither.
pub fn load_any(bytes: &[u8]) -> Result<Image, LoadError> {
    match Format::detect(bytes) {
        Format::Elf => elf::load_elf(bytes, true),
        Format::Packed => load_packed(bytes),
        Format::Echo => Err(LoadError::Unsupported(
            "an Echo contract (ECHO format): run it with the echo profile (`x64vm echo`)".into(),
        )),
        Format::Unknown => Err(LoadError::Malformed(
            "unknown format: neither an ELF file nor an x64vm packed contract (X64P)".into(),
        )),
    }
}

/// The contents of a packed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packed {
    /// Entry point.
    pub entry: u64,
    /// Segments, sorted by address; `data` may be shorter than `mem_size`.
    pub segments: Vec<Segment>,
    /// Exported functions: name -> address.
    pub exports: BTreeMap<String, u64>,
    /// ABI text (`.x64vm.abi`), possibly empty.
    pub abi: String,
}

impl Packed {
    /// The image instances are created from; `symbols` is the export table.
    pub fn into_image(self, file_size: u64) -> Image {
        Image {
            entry: self.entry,
            segments: self.segments,
            symbols: self.exports.into_iter().collect(),
            file_size,
            abi: self.abi,
            ..Image::default()
        }
    }

    /// Serialises, checking the limits (the result always parses back).
    ///
    /// # Errors
    /// [`LoadError::TooLarge`] when a count or size exceeds a limit.
    pub fn to_bytes(&self) -> Result<Vec<u8>, LoadError> {
        let too_large = |what: &str, n: usize, max: u64| {
            LoadError::TooLarge(format!("{what}: {n}, the limit is {max}"))
        };
        if self.segments.len() > MAX_SEGMENTS as usize {
            return Err(too_large(
                "segments",
                self.segments.len(),
                MAX_SEGMENTS.into(),
            ));
        }
        if self.exports.len() > MAX_EXPORTS as usize {
            return Err(too_large(
                "exported functions",
                self.exports.len(),
                MAX_EXPORTS.into(),
            ));
        }
        let mut exports = Vec::new();
        for (name, &addr) in &self.exports {
            if name.is_empty() || name.len() > MAX_NAME_LEN {
                return Err(too_large(
                    &format!("length of export name {name:?}"),
                    name.len(),
                    MAX_NAME_LEN as u64,
                ));
            }
            exports.extend_from_slice(&(name.len() as u16).to_le_bytes());
            exports.extend_from_slice(name.as_bytes());
            exports.extend_from_slice(&addr.to_le_bytes());
        }
        if exports.len() > MAX_EXPORTS_SIZE as usize {
            return Err(too_large(
                "export table bytes",
                exports.len(),
                MAX_EXPORTS_SIZE.into(),
            ));
        }
        if self.abi.len() > MAX_ABI_SIZE as usize {
            return Err(too_large(
                "ABI text bytes",
                self.abi.len(),
                MAX_ABI_SIZE.into(),
            ));
        }
        let data_size: usize = self.segments.iter().map(|s| s.data.len()).sum();
        if data_size > MAX_DATA_SIZE as usize {
            return Err(too_large("segment bytes", data_size, MAX_DATA_SIZE.into()));
        }
        let mut out = Vec::with_capacity(
            HEADER_SIZE
                + SEGMENT_ENTRY_SIZE * self.segments.len()
                + exports.len()
                + self.abi.len()
                + data_size,
        );
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.entry.to_le_bytes());
        for n in [
            self.segments.len(),
            self.exports.len(),
            exports.len(),
            self.abi.len(),
            data_size,
            0,
        ] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for s in &self.segments {
            out.extend_from_slice(&s.vaddr.to_le_bytes());
            out.extend_from_slice(&s.mem_size.to_le_bytes());
            out.extend_from_slice(&(s.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&[s.perms, 0, 0, 0]);
        }
        out.extend_from_slice(&exports);
        out.extend_from_slice(self.abi.as_bytes());
        for s in &self.segments {
            out.extend_from_slice(&s.data);
        }
        Ok(out)
    }
}

/// Packs a contract ELF file: loads it as the contract loader would (validated,
/// relocated, W^X enforced), then keeps the segments with their trailing zero
/// bytes folded into the memory size, the entry point, the exported functions and
/// the ABI text. The same input always gives the same bytes.
///
/// # Errors
/// [`LoadError`] when the ELF file does not load as a contract or the result would
/// exceed a limit of the format.
pub fn pack(elf_bytes: &[u8]) -> Result<Vec<u8>, LoadError> {
    let image = elf::load_elf(elf_bytes, true)?;
    let mut segments: Vec<Segment> = image
        .segments
        .iter()
        .filter(|s| s.mem_size > 0)
        .map(|s| {
            let used = s.data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            Segment {
                vaddr: s.vaddr,
                data: s.data[..used].to_vec(),
                mem_size: s.mem_size,
                perms: s.perms,
            }
        })
        .collect();
    segments.sort_by_key(|s| s.vaddr);
    // Exports must point at code; anything else (an ifunc resolver's odd value,
    // a symbol of a discarded section) is left out rather than failing the pack.
    let exports = elf::global_functions(elf_bytes, image.bias)
        .into_iter()
        .filter(|(name, addr)| name.len() <= MAX_NAME_LEN && image.is_executable(*addr))
        .collect();
    let packed = Packed {
        entry: image.entry,
        segments,
        exports,
        abi: image.abi,
    };
    let bytes = packed.to_bytes()?;
    // Never write a file the loader would refuse.
    parse_packed(&bytes)?;
    Ok(bytes)
}

/// Parses and validates a packed file into an [`Image`].
///
/// # Errors
/// [`LoadError::Malformed`] for anything inconsistent (truncation, bad magic,
/// overlapping segments, entry or exports outside code, bad UTF-8...),
/// [`LoadError::Unsupported`] for another version or W+X memory,
/// [`LoadError::TooLarge`] for counts and sizes over the limits.
pub fn load_packed(bytes: &[u8]) -> Result<Image, LoadError> {
    Ok(parse_packed(bytes)?.into_image(bytes.len() as u64))
}

fn malformed(m: impl Into<String>) -> LoadError {
    LoadError::Malformed(m.into())
}

/// A cursor over the file that never reads past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], LoadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                malformed(format!(
                    "truncated: {what} at offset {} needs {n} bytes, the file has {}",
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

    fn u16(&mut self, what: &str) -> Result<u16, LoadError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, LoadError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, LoadError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

fn limit(what: &str, n: u32, max: u32) -> Result<usize, LoadError> {
    if n > max {
        return Err(LoadError::TooLarge(format!(
            "{what} is {n}, the limit is {max}"
        )));
    }
    Ok(n as usize)
}

/// Parses and validates a packed file, keeping its parts apart (for tools such as
/// `x64vm inspect`); [`load_packed`] turns the result into an [`Image`].
///
/// # Errors
/// As [`load_packed`].
pub fn parse_packed(bytes: &[u8]) -> Result<Packed, LoadError> {
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(malformed("not an x64vm packed file (bad magic)"));
    }
    let mut r = Reader { bytes, pos: 4 };
    let version = r.u16("version")?;
    if version != VERSION {
        return Err(LoadError::Unsupported(format!(
            "packed format version {version} (this loader reads version {VERSION})"
        )));
    }
    let flags = r.u16("header flags")?;
    if flags != 0 {
        return Err(LoadError::Unsupported(format!(
            "header flags {flags:#x} (none are defined)"
        )));
    }
    let entry = r.u64("entry point")?;
    let nseg = limit("segment count", r.u32("segment count")?, MAX_SEGMENTS)?;
    let nexp = limit("export count", r.u32("export count")?, MAX_EXPORTS)?;
    let exports_size = limit(
        "export table size",
        r.u32("export table size")?,
        MAX_EXPORTS_SIZE,
    )?;
    let abi_size = limit("ABI text size", r.u32("ABI text size")?, MAX_ABI_SIZE)?;
    let data_size = limit(
        "segment data size",
        r.u32("segment data size")?,
        MAX_DATA_SIZE,
    )?;
    if r.u32("reserved header field")? != 0 {
        return Err(malformed("reserved header field is not zero"));
    }
    if nseg == 0 {
        return Err(malformed("no segments"));
    }
    // All sizes are bounded above, so this cannot overflow.
    let expected = HEADER_SIZE + nseg * SEGMENT_ENTRY_SIZE + exports_size + abi_size + data_size;
    if bytes.len() != expected {
        return Err(malformed(format!(
            "the file is {} bytes, its header describes {expected}",
            bytes.len()
        )));
    }

    // Segment table.
    let mut table: Vec<(Segment, usize)> = Vec::with_capacity(nseg);
    let mut total = 0usize;
    for i in 0..nseg {
        let vaddr = r.u64("segment address")?;
        let mem_size = r.u64("segment memory size")?;
        let file_size = r.u32("segment file size")? as usize;
        let perms = r.u8("segment permissions")?;
        if r.take(3, "segment reserved bytes")? != [0, 0, 0] {
            return Err(malformed(format!(
                "segment {i}: reserved bytes are not zero"
            )));
        }
        if perms & !(perm::R | perm::W | perm::X) != 0 {
            return Err(malformed(format!(
                "segment {i}: unknown permission bits {perms:#x}"
            )));
        }
        if perms & perm::W != 0 && perms & perm::X != 0 {
            return Err(LoadError::Unsupported(format!(
                "segment {i} at {vaddr:#x} is both writable and executable (W^X)"
            )));
        }
        if mem_size == 0 {
            return Err(malformed(format!("segment {i} at {vaddr:#x} is empty")));
        }
        if file_size as u64 > mem_size {
            return Err(malformed(format!(
                "segment {i} at {vaddr:#x}: file size {file_size} exceeds memory size {mem_size}"
            )));
        }
        if vaddr < MIN_VADDR
            || vaddr
                .checked_add(mem_size)
                .is_none_or(|end| end > MAX_VADDR)
        {
            return Err(malformed(format!(
                "segment {i} at {vaddr:#x} (+{mem_size:#x}) is outside the user address range"
            )));
        }
        if mem_size > elf::MAX_IMAGE_SPAN {
            return Err(LoadError::TooLarge(format!(
                "segment {i} at {vaddr:#x} is {mem_size} bytes"
            )));
        }
        if let Some((prev, _)) = table.last()
            && vaddr <= prev.vaddr
        {
            return Err(malformed(format!(
                "segment {i} at {vaddr:#x} is not above segment {} at {:#x} (segments are sorted by address)",
                i - 1,
                prev.vaddr
            )));
        }
        total += file_size;
        if total > data_size {
            return Err(malformed(format!(
                "segment file sizes exceed the {data_size} data bytes the header declares"
            )));
        }
        table.push((
            Segment {
                vaddr,
                data: Vec::new(),
                mem_size,
                perms,
            },
            file_size,
        ));
    }
    if total != data_size {
        return Err(malformed(format!(
            "segment file sizes add up to {total}, the header declares {data_size}"
        )));
    }
    let mut segments: Vec<Segment> = table.iter().map(|(s, _)| s.clone()).collect();
    // Overlaps, W^X across shared pages, and the total span (the ELF loader's rules).
    elf::check_layout(&mut segments, true)?;

    // Export table.
    let exports_start = r.pos;
    let mut exports = BTreeMap::new();
    let mut last: Option<&[u8]> = None;
    for i in 0..nexp {
        let len = r.u16("export name length")? as usize;
        if len == 0 || len > MAX_NAME_LEN {
            return Err(malformed(format!(
                "export {i}: name length {len} is not in 1..={MAX_NAME_LEN}"
            )));
        }
        if r.pos + len + 8 > exports_start + exports_size {
            return Err(malformed(format!(
                "export {i} runs past the end of the export table ({exports_size} bytes)"
            )));
        }
        let raw = r.take(len, "export name")?;
        let name = std::str::from_utf8(raw).map_err(|e| {
            malformed(format!(
                "export {i}: name is not UTF-8 (at byte {})",
                e.valid_up_to()
            ))
        })?;
        let addr = r.u64("export address")?;
        if last.is_some_and(|prev| prev >= raw) {
            return Err(malformed(format!(
                "export {i} ({name:?}) is out of order or repeated (names are sorted and unique)"
            )));
        }
        last = Some(raw);
        if !is_executable(&segments, addr) {
            return Err(malformed(format!(
                "export {name:?} at {addr:#x} is not in executable memory"
            )));
        }
        exports.insert(name.to_string(), addr);
    }
    if r.pos != exports_start + exports_size {
        return Err(malformed(format!(
            "the export table is {} bytes, the header declares {exports_size}",
            r.pos - exports_start
        )));
    }

    // ABI text.
    let abi = r.take(abi_size, "ABI text")?;
    let abi = std::str::from_utf8(abi)
        .map_err(|e| {
            malformed(format!(
                "ABI text is not UTF-8 (at byte {})",
                e.valid_up_to()
            ))
        })?
        .to_string();

    // Segment data, in table order (which is address order).
    for (seg, (_, file_size)) in segments.iter_mut().zip(&table) {
        seg.data = r.take(*file_size, "segment data")?.to_vec();
    }
    if !is_executable(&segments, entry) {
        return Err(malformed(format!(
            "entry point {entry:#x} is not in executable memory"
        )));
    }
    Ok(Packed {
        entry,
        segments,
        exports,
        abi,
    })
}

fn is_executable(segments: &[Segment], addr: u64) -> bool {
    segments
        .iter()
        .any(|s| s.perms & perm::X != 0 && addr >= s.vaddr && addr - s.vaddr < s.mem_size)
}
