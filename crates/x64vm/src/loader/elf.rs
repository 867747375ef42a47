//! ELF64 x86-64 loading: ET_EXEC and static-PIE ET_DYN.

use std::collections::BTreeMap;

use object::LittleEndian as LE;
use object::elf::{self, FileHeader64, ProgramHeader64};
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, Sym};

use super::{Image, LoadError, Segment, Symbols};
use crate::mem::{page_down, page_up, perm};

/// Where a static PIE (ET_DYN) is placed: a fixed base, so runs are reproducible.
pub const PIE_BASE: u64 = 0x40_0000;
/// Upper bound on the total span of the loaded image.
pub const MAX_IMAGE_SPAN: u64 = 1 << 32;

fn malformed(m: impl Into<String>) -> LoadError {
    LoadError::Malformed(m.into())
}

/// Parses and validates an ELF executable.
///
/// # Errors
/// [`LoadError`] for anything that is not a loadable static x86-64 ELF64
/// program, or whose segments are inconsistent.
pub fn load_elf(data: &[u8], enforce_wx: bool) -> Result<Image, LoadError> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err(malformed("not an ELF file (bad magic)"));
    }
    if data.len() < 64 {
        return Err(malformed("truncated ELF header"));
    }
    if data[4] != elf::ELFCLASS64 {
        return Err(LoadError::Unsupported("not ELF64 (32-bit class)".into()));
    }
    if data[5] != elf::ELFDATA2LSB {
        return Err(LoadError::Unsupported("not little-endian".into()));
    }
    let hdr = FileHeader64::<LE>::parse(data).map_err(|e| malformed(e.to_string()))?;
    let e = LE;
    if hdr.e_machine(e) != elf::EM_X86_64 {
        return Err(LoadError::Unsupported(format!(
            "machine {} is not x86-64",
            hdr.e_machine(e)
        )));
    }
    let kind = hdr.e_type(e);
    if kind != elf::ET_EXEC && kind != elf::ET_DYN {
        return Err(LoadError::Unsupported(format!(
            "ELF type {kind} is not an executable"
        )));
    }
    let phdrs = hdr
        .program_headers(e, data)
        .map_err(|e| malformed(e.to_string()))?;
    if phdrs.is_empty() {
        return Err(malformed("no program headers"));
    }
    let mut low = u64::MAX;
    for ph in phdrs {
        match ph.p_type(e) {
            elf::PT_INTERP => {
                return Err(LoadError::Unsupported(
                    "dynamically linked (PT_INTERP): link the program statically".into(),
                ));
            }
            elf::PT_LOAD => low = low.min(ph.p_vaddr(e)),
            _ => {}
        }
    }
    if low == u64::MAX {
        return Err(malformed("no PT_LOAD segment"));
    }
    let bias = if kind == elf::ET_DYN {
        PIE_BASE.wrapping_sub(page_down(low))
    } else {
        0
    };

    let mut segments = Vec::new();
    let mut exec_stack = false;
    let mut phdr_addr = 0;
    for ph in phdrs {
        match ph.p_type(e) {
            elf::PT_LOAD => segments.push(segment(ph, data, bias, enforce_wx)?),
            elf::PT_GNU_STACK => exec_stack = ph.p_flags(e) & elf::PF_X != 0,
            elf::PT_PHDR => phdr_addr = ph.p_vaddr(e).wrapping_add(bias),
            _ => {}
        }
    }
    check_layout(&mut segments, enforce_wx)?;

    let mut image = Image {
        entry: hdr.e_entry(e).wrapping_add(bias),
        segments,
        bias,
        phnum: phdrs.len() as u64,
        exec_stack,
        file_size: data.len() as u64,
        ..Image::default()
    };
    if phdr_addr == 0 {
        // No PT_PHDR: the headers are mapped if the first segment covers file offset e_phoff.
        let phoff = hdr.e_phoff(e);
        phdr_addr = phdrs
            .iter()
            .find(|p| {
                p.p_type(e) == elf::PT_LOAD
                    && p.p_offset(e) <= phoff
                    && phoff < p.p_offset(e).saturating_add(p.p_filesz(e))
            })
            .map(|p| p.p_vaddr(e).wrapping_add(bias) + (phoff - p.p_offset(e)))
            .unwrap_or(0);
    }
    image.phdr = phdr_addr;
    if !image.is_executable(image.entry) {
        return Err(malformed(format!(
            "entry point {:#x} is not in executable memory",
            image.entry
        )));
    }
    for ph in phdrs {
        if let Some(dynamic) = ph.dynamic(e, data).map_err(|e| malformed(e.to_string()))? {
            relocate(&mut image, dynamic, bias)?;
        }
    }
    image.symbols = symbols(hdr, data, bias);
    image.abi = abi_text(hdr, data)?;
    Ok(image)
}

/// The `.x64vm.abi` section as text (empty when there is none).
fn abi_text(hdr: &FileHeader64<LE>, data: &[u8]) -> Result<String, LoadError> {
    let e = LE;
    let Ok(sections) = hdr.sections(e, data) else {
        return Ok(String::new());
    };
    let Some((_, section)) = sections.section_by_name(e, x64vm_abi::ABI_SECTION.as_bytes()) else {
        return Ok(String::new());
    };
    let bytes = section
        .data(e, data)
        .map_err(|_| malformed("the .x64vm.abi section lies outside the file"))?;
    if bytes.len() as u64 > u64::from(super::packed::MAX_ABI_SIZE) {
        return Err(LoadError::TooLarge(format!(
            "the .x64vm.abi section is {} bytes, the limit is {}",
            bytes.len(),
            super::packed::MAX_ABI_SIZE
        )));
    }
    String::from_utf8(bytes.to_vec()).map_err(|err| {
        malformed(format!(
            "the .x64vm.abi section is not UTF-8 (at byte {})",
            err.utf8_error().valid_up_to()
        ))
    })
}

/// The exported functions of an ELF file that [`load_elf`] accepted: defined
/// global (`STB_GLOBAL`) function symbols of `.symtab` and `.dynsym`, relocated by
/// `bias`. A missing or broken symbol table yields none.
pub(crate) fn global_functions(data: &[u8], bias: u64) -> BTreeMap<String, u64> {
    let e = LE;
    let mut out = Vec::new();
    let Ok(hdr) = FileHeader64::<LE>::parse(data) else {
        return BTreeMap::new();
    };
    let Ok(sections) = hdr.sections(e, data) else {
        return BTreeMap::new();
    };
    for kind in [elf::SHT_DYNSYM, elf::SHT_SYMTAB] {
        let Ok(table) = sections.symbols(e, data, kind) else {
            continue;
        };
        for sym in table.iter() {
            if sym.st_shndx(e) == elf::SHN_UNDEF
                || sym.st_type() != elf::STT_FUNC
                || sym.st_bind() != elf::STB_GLOBAL
            {
                continue;
            }
            let Ok(name) = sym.name(e, table.strings()) else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if !name.is_empty() {
                out.push((name, sym.st_value(e).wrapping_add(bias)));
            }
        }
    }
    last_wins_map(out)
}

/// The map that inserting `entries` one by one would give (of equal names, the
/// last one wins), with one sort and a linear bulk build rather than a tree
/// insertion per symbol (packing only; loading builds [`Symbols`]).
fn last_wins_map(mut entries: Vec<(&str, u64)>) -> BTreeMap<String, u64> {
    // Stable: equal names keep their order, so the last of each run wins.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut keep: Vec<(String, u64)> = Vec::with_capacity(entries.len());
    for (i, &(name, addr)) in entries.iter().enumerate() {
        if entries.get(i + 1).is_some_and(|next| next.0 == name) {
            continue;
        }
        keep.push((name.to_string(), addr));
    }
    // Already sorted and unique: `from_iter` finds one run and builds the tree
    // bottom-up in linear time.
    keep.into_iter().collect()
}

fn segment(
    ph: &ProgramHeader64<LE>,
    data: &[u8],
    bias: u64,
    wx: bool,
) -> Result<Segment, LoadError> {
    let e = LE;
    let (vaddr, memsz, filesz) = (ph.p_vaddr(e), ph.p_memsz(e), ph.p_filesz(e));
    if filesz > memsz {
        return Err(malformed(format!(
            "segment at {vaddr:#x}: file size exceeds memory size"
        )));
    }
    if memsz > MAX_IMAGE_SPAN {
        return Err(LoadError::TooLarge(format!(
            "segment at {vaddr:#x} is {memsz} bytes"
        )));
    }
    // A segment with nothing in the file (all bss) does not care where p_offset points.
    let bytes = if filesz == 0 {
        &[][..]
    } else {
        ph.data(e, data).map_err(|_| {
            malformed(format!(
                "segment at {vaddr:#x}: file range is outside the file"
            ))
        })?
    };
    let vaddr = vaddr.wrapping_add(bias);
    if vaddr.checked_add(memsz).is_none_or(|end| end > (1 << 47)) || vaddr < 0x1000 {
        return Err(malformed(format!(
            "segment at {vaddr:#x} is outside the user address range"
        )));
    }
    let f = ph.p_flags(e);
    let mut perms = 0;
    if f & elf::PF_R != 0 {
        perms |= perm::R;
    }
    if f & elf::PF_W != 0 {
        perms |= perm::W;
    }
    if f & elf::PF_X != 0 {
        perms |= perm::X | perm::R;
    }
    if wx && perms & perm::W != 0 && perms & perm::X != 0 {
        return Err(LoadError::Unsupported(format!(
            "segment at {vaddr:#x} is both writable and executable (W^X)"
        )));
    }
    Ok(Segment {
        vaddr,
        data: bytes.to_vec(),
        mem_size: memsz,
        perms,
    })
}

/// Rejects overlapping segments, W^X conflicts on shared pages and absurd spans.
pub(crate) fn check_layout(segments: &mut [Segment], wx: bool) -> Result<(), LoadError> {
    segments.sort_by_key(|s| s.vaddr);
    for w in segments.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.vaddr + a.mem_size > b.vaddr {
            return Err(malformed(format!(
                "segments at {:#x} and {:#x} overlap",
                a.vaddr, b.vaddr
            )));
        }
    }
    // A page shared by several segments gets the union of their permissions (see
    // `Instance::new`), so W^X is checked per page, across every segment on it,
    // not just between neighbours. Empty segments map nothing.
    let mut last: Option<(u64, u8, u64)> = None; // (page, union of perms, first segment on it)
    for s in segments.iter().filter(|s| s.mem_size > 0) {
        let first = page_down(s.vaddr);
        let (mut union, mut from) = (s.perms, s.vaddr);
        if let Some((page, p, at)) = last
            && page == first
        {
            union |= p;
            from = at;
        }
        if wx && union & perm::W != 0 && union & perm::X != 0 {
            return Err(LoadError::Unsupported(format!(
                "segments at {from:#x} and {:#x} share a page that would be writable and executable (W^X)",
                s.vaddr
            )));
        }
        let end_page = page_down(s.vaddr + s.mem_size - 1);
        last = Some(if end_page == first {
            (first, union, from)
        } else {
            (end_page, s.perms, s.vaddr)
        });
    }
    let (low, high) = match (segments.first(), segments.last()) {
        (Some(f), Some(l)) => (page_down(f.vaddr), page_up(l.vaddr + l.mem_size)),
        _ => return Err(malformed("no PT_LOAD segment")),
    };
    if high - low > MAX_IMAGE_SPAN {
        return Err(LoadError::TooLarge(format!(
            "segments span {} bytes",
            high - low
        )));
    }
    Ok(())
}

/// Applies the dynamic relocations of a static PIE. Only R_X86_64_RELATIVE (and
/// symbol-less R_X86_64_64) are meaningful without a dynamic linker; IRELATIVE is
/// left to the program's own start-up code; anything else means "needs ld.so".
fn relocate(image: &mut Image, dynamic: &[elf::Dyn64<LE>], bias: u64) -> Result<(), LoadError> {
    let e = LE;
    let (mut rela, mut relasz, mut relaent) = (None, 0u64, 24u64);
    for d in dynamic {
        match d.d_tag(e) as i64 {
            t if t == elf::DT_NEEDED as i64 => {
                return Err(LoadError::Unsupported(
                    "needs shared libraries (DT_NEEDED)".into(),
                ));
            }
            t if t == elf::DT_RELA as i64 => rela = Some(d.d_val(e)),
            t if t == elf::DT_RELASZ as i64 => relasz = d.d_val(e),
            t if t == elf::DT_RELAENT as i64 => relaent = d.d_val(e),
            t if t == elf::DT_JMPREL as i64 => {
                return Err(LoadError::Unsupported(
                    "needs lazy binding (DT_JMPREL)".into(),
                ));
            }
            t if t == elf::DT_REL as i64 => {
                return Err(LoadError::Unsupported(
                    "REL relocations are not supported".into(),
                ));
            }
            _ => {}
        }
    }
    let Some(rela) = rela else { return Ok(()) };
    if relaent != 24 || relasz % 24 != 0 {
        return Err(malformed("bad RELA table entry size"));
    }
    let table = read_image(image, rela.wrapping_add(bias), relasz)?;
    for chunk in table.chunks_exact(24) {
        let off = u64::from_le_bytes(chunk[0..8].try_into().unwrap_or_default());
        let info = u64::from_le_bytes(chunk[8..16].try_into().unwrap_or_default());
        let addend = u64::from_le_bytes(chunk[16..24].try_into().unwrap_or_default());
        let (sym, kind) = (info >> 32, info as u32);
        let value = match kind {
            elf::R_X86_64_RELATIVE => bias.wrapping_add(addend),
            elf::R_X86_64_64 if sym == 0 => bias.wrapping_add(addend),
            elf::R_X86_64_IRELATIVE | elf::R_X86_64_NONE => continue,
            _ => {
                return Err(LoadError::Unsupported(format!(
                    "relocation type {kind} needs a dynamic linker"
                )));
            }
        };
        write_image(image, off.wrapping_add(bias), &value.to_le_bytes())?;
    }
    Ok(())
}

fn read_image(image: &Image, addr: u64, len: u64) -> Result<Vec<u8>, LoadError> {
    for s in &image.segments {
        if addr >= s.vaddr && addr.saturating_add(len) <= s.vaddr + s.data.len() as u64 {
            let o = (addr - s.vaddr) as usize;
            return Ok(s.data[o..o + len as usize].to_vec());
        }
    }
    Err(malformed(format!(
        "relocation table at {addr:#x} is not in a loaded segment"
    )))
}

/// How far into a segment's bss a relocation may reach.
const MAX_BSS_RELOC_GROWTH: usize = 16 << 20;

fn write_image(image: &mut Image, addr: u64, bytes: &[u8]) -> Result<(), LoadError> {
    let len = bytes.len() as u64;
    for s in &mut image.segments {
        if addr >= s.vaddr && addr.saturating_add(len) <= s.vaddr + s.mem_size {
            let o = (addr - s.vaddr) as usize;
            if s.data.len() < o + bytes.len() {
                // A target in bss makes the bss before it initialised data: bounded,
                // so a tiny file cannot make the loader allocate gigabytes.
                if o + bytes.len() > s.data.len() + MAX_BSS_RELOC_GROWTH {
                    return Err(LoadError::TooLarge(format!(
                        "relocation target {addr:#x} lies {} bytes into bss",
                        o - s.data.len()
                    )));
                }
                s.data.resize(o + bytes.len(), 0);
            }
            s.data[o..o + bytes.len()].copy_from_slice(bytes);
            return Ok(());
        }
    }
    Err(malformed(format!(
        "relocation target {addr:#x} is not in a loaded segment"
    )))
}

/// Collects defined symbols; a missing or broken symbol table just yields none.
fn symbols(hdr: &FileHeader64<LE>, data: &[u8], bias: u64) -> Symbols {
    let e = LE;
    let mut out = Vec::new();
    let Ok(sections) = hdr.sections(e, data) else {
        return Symbols::new();
    };
    for kind in [elf::SHT_DYNSYM, elf::SHT_SYMTAB] {
        let Ok(table) = sections.symbols(e, data, kind) else {
            continue;
        };
        for sym in table.iter() {
            if sym.st_shndx(e) == elf::SHN_UNDEF
                || !matches!(
                    sym.st_type(),
                    elf::STT_FUNC | elf::STT_OBJECT | elf::STT_NOTYPE
                )
            {
                continue;
            }
            let Ok(name) = sym.name(e, table.strings()) else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            out.push((name, sym.st_value(e).wrapping_add(bias)));
        }
    }
    Symbols::from_definitions(&out)
}
