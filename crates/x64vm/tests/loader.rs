//! Hostile ELF inputs: every one must give a clear `LoadError`, never a panic, and
//! whatever loads must run (with little gas) without panicking either.

mod vmkit;

use std::sync::OnceLock;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::{Config, Instance, LoadError, NoHost, Status, load_elf};

/// A small real program: static, freestanding, with code, rodata, data and bss.
const SMALL_C: &str = r#"
#include <stdint.h>
static const uint64_t primes[] = { 2, 3, 5, 7, 11, 13, 17, 19 };
uint64_t counter = 3;
uint64_t scratch[64];
__attribute__((noinline)) uint64_t mix(uint64_t x) { return x * 31 + primes[x & 7]; }
uint64_t _start(const uint8_t *in, uint64_t len) {
    uint64_t acc = counter;
    for (uint64_t i = 0; i < len; i++) {
        acc = mix(acc ^ in[i]);
        scratch[i & 63] += acc;
    }
    return acc + scratch[0];
}
"#;

/// The expected result of SMALL_C for `input`.
fn small_expected(input: &[u8]) -> u64 {
    let primes = [2u64, 3, 5, 7, 11, 13, 17, 19];
    let mut scratch = [0u64; 64];
    let mut acc = 3u64;
    for (i, &b) in input.iter().enumerate() {
        let x = acc ^ u64::from(b);
        acc = x.wrapping_mul(31).wrapping_add(primes[(x & 7) as usize]);
        scratch[i & 63] = scratch[i & 63].wrapping_add(acc);
    }
    acc.wrapping_add(scratch[0])
}

/// The gcc-built small program, or a hand-made one when gcc is missing.
fn small_elf() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| {
        if have_gcc() {
            gcc("loader_small", SMALL_C, CONTRACT_FLAGS).expect("gcc builds the small program")
        } else {
            eprintln!("gcc not found: using a hand-assembled program");
            handmade().bytes()
        }
    })
}

/// A hand-assembled program with a code and a data segment.
fn handmade() -> ElfSpec {
    let code = asm(|a| {
        a.mov(rax, DATA)?;
        a.mov(rax, qword_ptr(rax))?;
        a.add(rax, rsi)?;
        a.ret()
    });
    program(&code.bytes, &40u64.to_le_bytes())
}

fn err(bytes: &[u8]) -> LoadError {
    match load_elf(bytes, true) {
        Ok(img) => panic!(
            "expected a load error, loaded {} segments",
            img.segments.len()
        ),
        Err(e) => e,
    }
}

fn assert_malformed(bytes: &[u8], needle: &str) {
    match err(bytes) {
        LoadError::Malformed(m) => assert!(m.contains(needle), "{m:?} should mention {needle:?}"),
        other => panic!("expected Malformed({needle}), got {other:?}"),
    }
}

fn assert_unsupported(bytes: &[u8], needle: &str) {
    match err(bytes) {
        LoadError::Unsupported(m) => assert!(m.contains(needle), "{m:?} should mention {needle:?}"),
        other => panic!("expected Unsupported({needle}), got {other:?}"),
    }
}

fn assert_too_large(bytes: &[u8]) {
    match err(bytes) {
        LoadError::TooLarge(m) => assert!(!m.is_empty()),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

/// Reads (p_type, p_offset, p_filesz) of every program header of a valid file.
fn phdrs(elf: &[u8]) -> Vec<(u32, u64, u64)> {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
    let phoff = u64_at(32) as usize;
    (0..u16_at(56) as usize)
        .map(|k| {
            let b = phoff + 56 * k;
            (u32_at(b), u64_at(b + 8), u64_at(b + 32))
        })
        .collect()
}

#[test]
fn the_small_program_loads_and_runs() {
    let elf = small_elf();
    let image = load_elf(elf, true).expect("loads");
    assert!(!image.segments.is_empty());
    for input in [&b""[..], b"x", b"hello, contract", &[0xff; 200]] {
        let out = run_elf(elf, &Config::default(), input);
        assert_eq!(out.status, Status::Success);
        if have_gcc() {
            assert_eq!(out.rax, small_expected(input), "input {input:?}");
        }
    }
}

#[test]
fn empty_and_tiny_files() {
    assert_malformed(&[], "magic");
    assert_malformed(b"\x7f", "magic");
    assert_malformed(b"\x7fEL", "magic");
    assert_malformed(b"\x7fELF", "truncated");
    assert_malformed(&[0u8; 64], "magic");
    assert_malformed(b"#!/bin/sh\necho hi\n", "magic");
    assert_malformed(b"MZ\x90\x00", "magic");
}

#[test]
fn truncated_at_every_length() {
    let elf = small_elf();
    let end_of_segments = phdrs(elf)
        .iter()
        .filter(|p| p.0 == PT_LOAD)
        .map(|p| p.1 + p.2)
        .max()
        .unwrap();
    let mut loaded = 0;
    for len in 0..elf.len() {
        match load_elf(&elf[..len], true) {
            Err(e) => assert!(!e.to_string().is_empty()),
            Ok(image) => {
                // Only cuts in what follows the segments (section headers, symbols).
                assert!(len as u64 >= end_of_segments, "loaded when cut at {len}");
                loaded += 1;
                let mut inst = Instance::new(&image, &gas(100_000), b"abc").unwrap();
                inst.prepare_call(image.entry, &[]).unwrap();
                let _ = inst.run(&mut NoHost);
            }
        }
    }
    assert!(loaded < elf.len());
}

fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut elf = small_elf().to_vec();
    f(&mut elf);
    elf
}

#[test]
fn bad_identification() {
    assert_malformed(&patched(|e| e[0] = 0x7e), "magic");
    assert_malformed(&patched(|e| e[3] = b'f'), "magic");
    assert_unsupported(&patched(|e| e[4] = 1), "32");
    assert_unsupported(&patched(|e| e[4] = 0), "32");
    assert_unsupported(&patched(|e| e[5] = 2), "endian");
    assert_unsupported(&patched(|e| e[5] = 0), "endian");
    // A real 32-bit ELF header (ELFCLASS32 sizes) is refused by its class.
    let mut spec = handmade();
    spec.class = 1;
    assert_unsupported(&spec.bytes(), "32");
    let mut spec = handmade();
    spec.data = 2;
    assert_unsupported(&spec.bytes(), "endian");
}

#[test]
fn wrong_machine() {
    for machine in [
        0u16, 3,   /* i386 */
        40,  /* ARM */
        183, /* AArch64 */
        243, /* RISC-V */
        0xffff,
    ] {
        let bytes = patched(|e| e[18..20].copy_from_slice(&machine.to_le_bytes()));
        assert_unsupported(&bytes, "machine");
    }
}

#[test]
fn not_an_executable() {
    for (kind, name) in [
        (0u16, "none"),
        (1, "rel"),
        (4, "core"),
        (0xfe00, "os"),
        (0xffff, "proc"),
    ] {
        let bytes = patched(|e| e[16..18].copy_from_slice(&kind.to_le_bytes()));
        match err(&bytes) {
            LoadError::Unsupported(m) => assert!(m.contains("type"), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    if have_gcc() {
        // A real relocatable object.
        let dir = scratch("loader_obj");
        let c = dir.join("obj.c");
        std::fs::write(&c, "int f(int x) { return x + 1; }\n").unwrap();
        let o = dir.join("obj.o");
        let st = std::process::Command::new("gcc")
            .args(["-O2", "-c", "-o"])
            .arg(&o)
            .arg(&c)
            .status();
        assert!(st.unwrap().success());
        assert_unsupported(&std::fs::read(&o).unwrap(), "type");
    }
}

#[test]
fn dynamically_linked_program() {
    if !have_gcc() {
        eprintln!("gcc not found: skipped");
        return;
    }
    let src = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";
    let elf = gcc("loader_hosted", src, &["-O2"]).expect("gcc builds a hosted hello world");
    assert_unsupported(&elf, "PT_INTERP");
    let elf = gcc("loader_hosted_nopie", src, &["-O2", "-no-pie"]).expect("gcc -no-pie");
    assert_unsupported(&elf, "PT_INTERP");
}

#[test]
fn program_header_table_problems() {
    // No program headers.
    assert_malformed(
        &patched(|e| e[56..58].copy_from_slice(&0u16.to_le_bytes())),
        "program headers",
    );
    // The table past the end of the file.
    let at = small_elf().len() as u64 + 8;
    assert!(
        load_elf(
            &patched(|e| e[32..40].copy_from_slice(&at.to_le_bytes())),
            true
        )
        .is_err()
    );
    // A table offset that overflows.
    assert!(
        load_elf(
            &patched(|e| e[32..40].copy_from_slice(&u64::MAX.to_le_bytes())),
            true
        )
        .is_err()
    );
    // A wrong entry size.
    assert!(
        load_elf(
            &patched(|e| e[54..56].copy_from_slice(&32u16.to_le_bytes())),
            true
        )
        .is_err()
    );
    // More headers than the file holds.
    assert!(
        load_elf(
            &patched(|e| e[56..58].copy_from_slice(&0xffffu16.to_le_bytes())),
            true
        )
        .is_err()
    );
    // No PT_LOAD at all.
    let mut spec = handmade();
    for ph in &mut spec.phs {
        ph.p_type = 4; // PT_NOTE
    }
    assert_malformed(&spec.bytes(), "PT_LOAD");
}

#[test]
fn segment_file_size_exceeds_memory_size() {
    let mut spec = handmade();
    spec.phs[1].memsz = 4;
    assert_malformed(&spec.bytes(), "file size exceeds memory size");
}

#[test]
fn segment_file_range_outside_the_file() {
    let mut spec = handmade();
    spec.phs[1].offset = 0x10_0000;
    assert_malformed(&spec.bytes(), "outside the file");
    let mut spec = handmade();
    spec.phs[1].offset = u64::MAX - 4;
    assert_malformed(&spec.bytes(), "outside the file");
    let mut spec = handmade();
    spec.phs[0].filesz = 0x10_0000;
    spec.phs[0].memsz = 0x10_0000;
    assert_malformed(&spec.bytes(), "outside the file");
    // An offset past the end is fine when nothing is read from the file (bss).
    let mut spec = handmade();
    spec.phs[1].offset = 0x10_0000;
    spec.phs[1].filesz = 0;
    assert!(load_elf(&spec.bytes(), true).is_ok());
}

#[test]
fn overlapping_segments() {
    let mut spec = handmade();
    spec.phs[1].vaddr = CODE + 8; // inside the code segment
    assert_malformed(&spec.bytes(), "overlap");
    // The same segment twice.
    let mut spec = handmade();
    spec.phs.push(spec.phs[1]);
    assert_malformed(&spec.bytes(), "overlap");
    // One segment wholly inside a large one, listed first.
    let mut spec = handmade();
    spec.phs[1].memsz = 0x10_0000;
    let mut inner = spec.phs[1];
    inner.vaddr = DATA + 0x8000;
    inner.memsz = 16;
    inner.filesz = 0;
    spec.phs.insert(0, inner);
    assert_malformed(&spec.bytes(), "overlap");
}

#[test]
fn huge_and_out_of_range_segments() {
    for memsz in [1u64 << 40, u64::MAX, (1 << 32) + 1] {
        let mut spec = handmade();
        spec.phs[1].memsz = memsz;
        assert_too_large(&spec.bytes());
    }
    // Loadable as an image, but larger than an instance may be.
    let mut spec = handmade();
    spec.phs[1].memsz = 3 << 30;
    let image = load_elf(&spec.bytes(), true).expect("3 GiB of bss is a valid image");
    match Instance::new(&image, &Config::default(), &[]) {
        Err(LoadError::TooLarge(m)) => assert!(m.contains("limit"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Segments far apart: the span counts, not the sum.
    let mut spec = handmade();
    spec.phs[1].vaddr = CODE + (1 << 33);
    assert_too_large(&spec.bytes());
    // vaddr + memsz wrapping, beyond the user range, or at page zero.
    for (vaddr, memsz) in [
        (u64::MAX - 0xfff, 0x2000),
        (1 << 47, 0x1000),
        ((1 << 47) - 0x1000, 0x2000),
        (0, 0x1000),
    ] {
        let mut spec = handmade();
        spec.phs[1].vaddr = vaddr;
        spec.phs[1].memsz = memsz;
        spec.phs[1].filesz = 0;
        assert!(
            load_elf(&spec.bytes(), true).is_err(),
            "{vaddr:#x}+{memsz:#x}"
        );
    }
}

#[test]
fn entry_point_outside_executable_memory() {
    for entry in [
        0,
        DATA,
        DATA + 8,
        CODE - 1,
        CODE + 0x1000,
        u64::MAX,
        0x8000_0000_0000_0000,
    ] {
        let mut spec = handmade();
        spec.entry = entry;
        assert_malformed(&spec.bytes(), "entry point");
    }
    // The last code byte is fine.
    let mut spec = handmade();
    let len = spec.phs[0].memsz;
    spec.entry = CODE + len - 1;
    assert!(load_elf(&spec.bytes(), true).is_ok());
}

#[test]
fn writable_and_executable_segments_are_rejected() {
    let mut spec = handmade();
    spec.phs[0].flags = PF_R | PF_W | PF_X;
    assert_unsupported(&spec.bytes(), "W^X");
    let image = load_elf(&spec.bytes(), false).expect("allowed when W^X is not enforced");
    let lax = Config {
        enforce_wx: false,
        ..Config::default()
    };
    assert!(Instance::new(&image, &lax, &[]).is_ok());
    // An instance enforcing W^X refuses the image whoever built it.
    match Instance::new(&image, &Config::default(), &[]) {
        Err(LoadError::Unsupported(m)) => assert!(m.contains("W^X"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Write-only + execute.
    let mut spec = handmade();
    spec.phs[0].flags = PF_W | PF_X;
    assert_unsupported(&spec.bytes(), "W^X");
    // A writable segment sharing the code's page.
    let mut spec = handmade();
    spec.phs[1].vaddr = CODE + 0x800;
    spec.phs[1].memsz = 0x100;
    spec.phs[1].filesz = 8;
    assert_unsupported(&spec.bytes(), "W^X");
}

#[test]
fn writable_and_executable_through_a_page_shared_by_three_segments() {
    // RX, then R, then RW, all on one page: each neighbouring pair is fine, but the
    // page would end up writable and executable.
    let code = asm(|a| a.ret()).bytes;
    let mut spec = ElfSpec::exec(CODE);
    spec.phs
        .push(Ph::load(PF_R | PF_X, 0x1000, CODE, 0x100, 0x100));
    spec.phs
        .push(Ph::load(PF_R, 0x1100, CODE + 0x100, 0x100, 0x100));
    spec.phs
        .push(Ph::load(PF_R | PF_W, 0x1200, CODE + 0x200, 0x100, 0x100));
    spec.blobs.push((0x1000, code));
    spec.blobs.push((0x12ff, vec![0]));
    assert_unsupported(&spec.bytes(), "W^X");
    // A zero-sized writable segment in between occupies no page and is harmless.
    let mut spec2 = spec.clone();
    spec2.phs[2].vaddr = CODE + 0x3000;
    spec2
        .phs
        .insert(1, Ph::load(PF_R | PF_W, 0x1100, CODE + 0x100, 0, 0));
    spec2.phs[2].vaddr = CODE + 0x100;
    let image = load_elf(&spec2.bytes(), true).expect("loads");
    let inst = Instance::new(&image, &Config::default(), &[]).unwrap();
    assert_eq!(
        inst.mem.perms_at(CODE) & 2,
        0,
        "the code page stays read-only"
    );
}

#[test]
fn static_pie_is_relocated_to_the_fixed_base() {
    if !have_gcc() {
        eprintln!("gcc not found: skipped");
        return;
    }
    let src = r#"
    #include <stdint.h>
    static uint64_t one(uint64_t x) { return x + 1; }
    static uint64_t two(uint64_t x) { return x * 2; }
    static uint64_t three(uint64_t x) { return x * x; }
    uint64_t (*const table[])(uint64_t) = { one, two, three };
    static const char *names[] = { "one", "two", "three" };
    uint64_t counter = 5;
    uint64_t *pc = &counter;
    uint64_t _start(const uint8_t *in, uint64_t len) {
        uint64_t v = len;
        for (int i = 0; i < 3; i++) {
            v = table[i](v) + (uint8_t)names[i][0];
            asm volatile("" : "+r"(v));
        }
        *pc += v;
        return counter;
    }
    "#;
    let flags = [
        "-O2",
        "-static-pie",
        "-nostdlib",
        "-ffreestanding",
        "-fPIE",
        "-fno-stack-protector",
    ];
    let elf = gcc("loader_static_pie", src, &flags).expect("gcc -static-pie");
    assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), 3, "ET_DYN");
    // It has R_X86_64_RELATIVE relocations (type 8) to apply.
    let image = load_elf(&elf, true).expect("static PIE loads");
    assert_eq!(image.low(), 0x40_0000, "placed at the fixed base");
    assert_eq!(image.bias, 0x40_0000);
    assert_eq!(image.symbol("_start"), Some(image.entry));
    assert!(image.symbol("table").is_some_and(|t| t > 0x40_0000));
    let expect = |len: u64| {
        let mut v = len;
        for (k, name) in ["one", "two", "three"].iter().enumerate() {
            v = match k {
                0 => v + 1,
                1 => v * 2,
                _ => v.wrapping_mul(v),
            } + u64::from(name.as_bytes()[0]);
        }
        5 + v
    };
    for input in [&b""[..], b"ab", b"0123456789"] {
        let out = run_elf(&elf, &Config::default(), input);
        assert_eq!(out.status, Status::Success, "{input:?}");
        assert_eq!(out.rax, expect(input.len() as u64), "{input:?}");
    }
    // Loading twice gives the same image.
    assert_eq!(load_elf(&elf, true).unwrap(), image);
}

/// A static PIE written by hand with a RELA table, to aim relocations at bad places.
fn pie_with_relocs(
    relocs: &[(u64, u64, u64)],
    relasz: Option<u64>,
    extra_dyn: &[(u64, u64)],
) -> Vec<u8> {
    // Layout (link addresses, bias to 0x400000 at load):
    //   0x1000 RX: code   0x2000 RW: dynamic + rela + data
    let code = [0xc3u8];
    let mut dynamic = Vec::new();
    let rela_addr = 0x2200u64;
    let mut push = |tag: u64, val: u64| {
        dynamic.extend_from_slice(&tag.to_le_bytes());
        dynamic.extend_from_slice(&val.to_le_bytes());
    };
    push(7, rela_addr); // DT_RELA
    push(8, relasz.unwrap_or(24 * relocs.len() as u64)); // DT_RELASZ
    push(9, 24); // DT_RELAENT
    for &(t, v) in extra_dyn {
        push(t, v);
    }
    push(0, 0); // DT_NULL
    let mut rela = Vec::new();
    for &(off, info, addend) in relocs {
        rela.extend_from_slice(&off.to_le_bytes());
        rela.extend_from_slice(&info.to_le_bytes());
        rela.extend_from_slice(&addend.to_le_bytes());
    }
    let mut spec = ElfSpec::exec(0x1000);
    spec.e_type = 3;
    spec.phs.push(Ph::load(PF_R | PF_X, 0x1000, 0x1000, 1, 1));
    spec.phs
        .push(Ph::load(PF_R | PF_W, 0x2000, 0x2000, 0x400, 0x2000));
    spec.phs.push(Ph {
        p_type: PT_DYNAMIC,
        flags: PF_R | PF_W,
        offset: 0x2000,
        vaddr: 0x2000,
        filesz: dynamic.len() as u64,
        memsz: dynamic.len() as u64,
    });
    spec.blobs.push((0x1000, code.to_vec()));
    spec.blobs.push((0x2000, dynamic));
    spec.blobs.push((0x2200, rela));
    spec.blobs.push((0x23ff, vec![0]));
    spec.bytes()
}

#[test]
fn hand_made_relocations() {
    const RELATIVE: u64 = 8;
    // A good one: the word at 0x2300 becomes bias + 0x1000.
    // The lowest segment (link address 0x1000) lands at the fixed base.
    let elf = pie_with_relocs(&[(0x2300, RELATIVE, 0x1000)], None, &[]);
    let image = load_elf(&elf, true).expect("loads");
    let bias = image.bias;
    assert_eq!(bias + 0x1000, 0x40_0000);
    assert_eq!(image.entry, bias + 0x1000);
    let mut inst = Instance::new(&image, &Config::default(), &[]).unwrap();
    assert_eq!(inst.mem.read_u64(bias + 0x2300).unwrap(), bias + 0x1000);
    inst.prepare_call(image.entry, &[]).unwrap();
    assert_eq!(inst.run(&mut NoHost).status, Status::Success);
    // In the bss part of the segment.
    let elf = pie_with_relocs(&[(0x3000, RELATIVE, 0x10)], None, &[]);
    let image = load_elf(&elf, true).expect("loads");
    let inst = Instance::new(&image, &Config::default(), &[]).unwrap();
    assert_eq!(inst.mem.read_u64(bias + 0x3000).unwrap(), bias + 0x10);

    // Targets outside every segment, straddling a segment's end, or wrapping.
    for off in [0x8000u64, 0x3ffc, u64::MAX - 3, 0x1_0000_0000] {
        let elf = pie_with_relocs(&[(off, RELATIVE, 0)], None, &[]);
        assert_malformed(&elf, "relocation target");
    }
    // Unknown or symbol-based relocation types need a dynamic linker.
    for info in [1u64 << 32 | 1, 6, 7, 1000] {
        let elf = pie_with_relocs(&[(0x2300, info, 0)], None, &[]);
        assert_unsupported(&elf, "relocation type");
    }
    // Bad table sizes.
    let elf = pie_with_relocs(&[(0x2300, RELATIVE, 0)], Some(23), &[]);
    assert_malformed(&elf, "RELA");
    let elf = pie_with_relocs(&[(0x2300, RELATIVE, 0)], Some(u64::MAX - 7), &[]);
    assert!(load_elf(&elf, true).is_err());
    let elf = pie_with_relocs(&[(0x2300, RELATIVE, 0)], Some(24 << 20), &[]);
    assert_malformed(&elf, "relocation table");
    // Shared libraries and lazy binding are refused.
    let elf = pie_with_relocs(&[], None, &[(1, 1)]); // DT_NEEDED
    assert_unsupported(&elf, "DT_NEEDED");
    let elf = pie_with_relocs(&[], None, &[(23, 0x2200)]); // DT_JMPREL
    assert_unsupported(&elf, "DT_JMPREL");
}

/// xorshift64*: a tiny deterministic PRNG for the mutation loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutates `elf`: flips, interesting values, field-sized overwrites (biased toward
/// the headers, where the loader looks), truncation.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut e = base.to_vec();
    let headers = 64 + 56 * u16::from_le_bytes([base[56], base[57]]) as usize;
    for _ in 0..1 + rng.below(4) {
        let pos = if rng.below(4) == 0 {
            rng.below(e.len())
        } else {
            rng.below(headers.min(e.len()))
        };
        match rng.below(6) {
            0 => e[pos] ^= 1 << rng.below(8),
            1 => e[pos] = rng.next() as u8,
            2 => e[pos] = [0u8, 0xff, 0x7f, 0x80, 1, 0x10][rng.below(6)],
            3 => {
                let v: u64 = [0, u64::MAX, 1 << 63, 1 << 32, 0x1000, rng.next()][rng.below(6)];
                let n = [2usize, 4, 8][rng.below(3)];
                let end = (pos + n).min(e.len());
                let k = end - pos;
                e[pos..end].copy_from_slice(&v.to_le_bytes()[..k]);
            }
            4 => {
                let len = rng.below(e.len());
                e.truncate(len.max(1));
            }
            _ => {
                let delta = rng.below(3) as u8 + 1;
                e[pos] = if rng.below(2) == 0 {
                    e[pos].wrapping_add(delta)
                } else {
                    e[pos].wrapping_sub(delta)
                };
            }
        }
        if e.is_empty() {
            break;
        }
    }
    e
}

fn fuzz(seed: u64, rounds: usize, bases: &[Vec<u8>]) -> (usize, usize) {
    let mut rng = Rng(seed);
    let (mut loaded, mut ran) = (0, 0);
    let cfg = Config {
        gas_limit: 20_000,
        memory_limit: 64 << 20,
        heap_size: 1 << 20,
        ..Config::default()
    };
    for round in 0..rounds {
        let base = &bases[round % bases.len()];
        let bytes = mutate(&mut rng, base);
        let result = std::panic::catch_unwind(|| {
            let Ok(image) = load_elf(&bytes, true) else {
                return (false, false);
            };
            let Ok(mut inst) = Instance::new(&image, &cfg, b"fuzz input") else {
                return (true, false);
            };
            if inst.prepare_call(image.entry, &[]).is_err() {
                return (true, false);
            }
            let out = inst.run(&mut NoHost);
            assert!(out.gas_used <= cfg.gas_limit);
            (true, true)
        });
        match result {
            Ok((l, r)) => {
                loaded += l as usize;
                ran += r as usize;
            }
            Err(_) => {
                let path = scratch("loader_fuzz").join(format!("crash-{seed}-{round}.elf"));
                std::fs::write(&path, &bytes).unwrap();
                panic!(
                    "panic on mutation {round} of seed {seed}; input saved to {}",
                    path.display()
                );
            }
        }
    }
    (loaded, ran)
}

#[test]
fn mutated_elfs_never_panic() {
    let mut bases = vec![small_elf().to_vec(), handmade().bytes()];
    if have_gcc() {
        let pie = gcc(
            "loader_fuzz_pie",
            "unsigned long v = 7; unsigned long *p = &v; unsigned long _start(void) { return *p; }",
            &[
                "-O2",
                "-static-pie",
                "-nostdlib",
                "-ffreestanding",
                "-fPIE",
                "-fno-stack-protector",
            ],
        )
        .unwrap();
        bases.push(pie);
    }
    let (loaded, ran) = fuzz(0x5eed_0fe1f, 6000, &bases);
    eprintln!("6000 mutants: {loaded} loaded, {ran} ran");
    // The mutations must not all be rejected outright, or the loop tests little.
    assert!(loaded > 300, "only {loaded} mutants loaded");
    assert!(ran > 300, "only {ran} mutants ran");
}

#[test]
#[ignore = "slow: a longer mutation run"]
fn mutated_elfs_never_panic_long() {
    let mut bases = vec![small_elf().to_vec(), handmade().bytes()];
    bases.push(pie_with_relocs(&[(0x2300, 8, 0x1000)], None, &[]));
    for seed in 1..=8u64 {
        fuzz(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 50_000, &bases);
    }
}

#[test]
fn a_relocation_deep_in_bss_does_not_allocate_gigabytes() {
    // A 3 GiB bss with one relocation at its far end: the loader must not turn the
    // whole bss into initialised bytes to apply it.
    let big = 3u64 << 30;
    let mut elf = pie_with_relocs(&[(0x2000 + big - 8, 8, 0)], None, &[]);
    let memsz_at = 64 + 56 + 40;
    elf[memsz_at..memsz_at + 8].copy_from_slice(&big.to_le_bytes());
    let start = std::time::Instant::now();
    let res = load_elf(&elf, true);
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    match res {
        Err(LoadError::TooLarge(m)) => assert!(m.contains("relocation"), "{m}"),
        Ok(image) => {
            let held: usize = image.segments.iter().map(|s| s.data.len()).sum();
            assert!(held < 64 << 20, "the image holds {held} bytes");
        }
        Err(other) => panic!("{other:?}"),
    }
}
