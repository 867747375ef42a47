//! Shared helpers for the boundary tests (loader, traps, host calls, gas): a tiny
//! ELF writer, an assembler front end over iced-x86's `code_asm`, gcc builds of
//! small C programs, and one-call runners.
#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::process::Command;

use iced_x86::BlockEncoderOptions;
use iced_x86::code_asm::{CodeAssembler, CodeLabel, IcedError};
use x64vm::{Config, Host, Image, Instance, LoadError, NoHost, Outcome, Status, Trap, load_elf};

/// Where hand-assembled code is placed (read + execute).
pub const CODE: u64 = 0x40_1000;
/// Where the data segment of hand-assembled programs starts (read + write).
pub const DATA: u64 = 0x60_0000;
/// Size of that data segment in memory (the first page from the file, the rest bss).
pub const DATA_SIZE: u64 = 0x4000;

/// ELF program header flags.
pub const PF_X: u32 = 1;
/// Writable.
pub const PF_W: u32 = 2;
/// Readable.
pub const PF_R: u32 = 4;
/// Program header types.
pub const PT_LOAD: u32 = 1;
/// Dynamic section.
pub const PT_DYNAMIC: u32 = 2;
/// Interpreter.
pub const PT_INTERP: u32 = 3;

/// One program header, written as given (no consistency checks: tests lie on purpose).
#[derive(Clone, Copy, Debug)]
pub struct Ph {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

impl Ph {
    /// A PT_LOAD header.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
        }
    }
}

/// An ELF64 file to write: header fields, program headers, and bytes placed at
/// file offsets.
#[derive(Clone, Debug)]
pub struct ElfSpec {
    pub class: u8,
    pub data: u8,
    pub e_type: u16,
    pub machine: u16,
    pub entry: u64,
    pub phs: Vec<Ph>,
    pub blobs: Vec<(u64, Vec<u8>)>,
}

impl ElfSpec {
    /// An ET_EXEC x86-64 file with no segments yet.
    pub fn exec(entry: u64) -> ElfSpec {
        ElfSpec {
            class: 2,
            data: 1,
            e_type: 2,
            machine: 62,
            entry,
            phs: Vec::new(),
            blobs: Vec::new(),
        }
    }

    /// Serialises the file: header, program headers right after it, then the blobs.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; 64 + 56 * self.phs.len()];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = self.class;
        out[5] = self.data;
        out[6] = 1; // EI_VERSION
        let put16 =
            |o: &mut Vec<u8>, at: usize, v: u16| o[at..at + 2].copy_from_slice(&v.to_le_bytes());
        let put32 =
            |o: &mut Vec<u8>, at: usize, v: u32| o[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let put64 =
            |o: &mut Vec<u8>, at: usize, v: u64| o[at..at + 8].copy_from_slice(&v.to_le_bytes());
        put16(&mut out, 16, self.e_type);
        put16(&mut out, 18, self.machine);
        put32(&mut out, 20, 1);
        put64(&mut out, 24, self.entry);
        put64(&mut out, 32, 64); // e_phoff
        put64(&mut out, 40, 0); // e_shoff
        put16(&mut out, 52, 64); // e_ehsize
        put16(&mut out, 54, 56); // e_phentsize
        put16(&mut out, 56, self.phs.len() as u16);
        put16(&mut out, 58, 64); // e_shentsize
        for (k, ph) in self.phs.iter().enumerate() {
            let b = 64 + 56 * k;
            put32(&mut out, b, ph.p_type);
            put32(&mut out, b + 4, ph.flags);
            put64(&mut out, b + 8, ph.offset);
            put64(&mut out, b + 16, ph.vaddr);
            put64(&mut out, b + 24, ph.vaddr);
            put64(&mut out, b + 32, ph.filesz);
            put64(&mut out, b + 40, ph.memsz);
            put64(&mut out, b + 48, 0x1000);
        }
        for (off, blob) in &self.blobs {
            let end = *off as usize + blob.len();
            if out.len() < end {
                out.resize(end, 0);
            }
            out[*off as usize..end].copy_from_slice(blob);
        }
        out
    }
}

/// The standard layout for hand-assembled programs: `code` at [`CODE`] (R+X,
/// file offset 0x1000) and `data` at [`DATA`] (R+W, file offset after the code,
/// [`DATA_SIZE`] bytes in memory). The entry is the first code byte.
pub fn program(code: &[u8], data: &[u8]) -> ElfSpec {
    assert!(data.len() as u64 <= DATA_SIZE);
    let code_off = 0x1000u64;
    let data_off = code_off + (code.len() as u64).div_ceil(0x1000).max(1) * 0x1000;
    let mut spec = ElfSpec::exec(CODE);
    spec.phs.push(Ph::load(
        PF_R | PF_X,
        code_off,
        CODE,
        code.len() as u64,
        code.len() as u64,
    ));
    spec.phs.push(Ph::load(
        PF_R | PF_W,
        data_off,
        DATA,
        data.len() as u64,
        DATA_SIZE,
    ));
    spec.blobs.push((code_off, code.to_vec()));
    spec.blobs.push((data_off, data.to_vec()));
    spec
}

/// A code assembler that also records marked instruction addresses.
pub struct Asm {
    a: CodeAssembler,
    marks: Vec<CodeLabel>,
}

impl Deref for Asm {
    type Target = CodeAssembler;
    fn deref(&self) -> &CodeAssembler {
        &self.a
    }
}

impl DerefMut for Asm {
    fn deref_mut(&mut self) -> &mut CodeAssembler {
        &mut self.a
    }
}

impl Asm {
    /// Marks the next instruction; its address is `Code::marks[n]` for the n-th mark.
    /// The returned label can also be a branch target.
    pub fn mark(&mut self) -> CodeLabel {
        let mut l = self.a.create_label();
        self.a.set_label(&mut l).unwrap();
        self.marks.push(l);
        l
    }

    /// Binds a label created earlier (a forward branch target) here and marks it.
    pub fn mark_label(&mut self, l: &mut CodeLabel) {
        self.a.set_label(l).unwrap();
        self.marks.push(*l);
    }
}

/// Assembled code and the addresses of its marks.
#[derive(Clone, Debug)]
pub struct Code {
    pub bytes: Vec<u8>,
    pub marks: Vec<u64>,
}

impl Code {
    /// The address of mark `n`.
    pub fn mark(&self, n: usize) -> u64 {
        self.marks[n]
    }
}

/// Assembles `f`'s instructions at [`CODE`].
pub fn asm(f: impl FnOnce(&mut Asm) -> Result<(), IcedError>) -> Code {
    let mut a = Asm {
        a: CodeAssembler::new(64).unwrap(),
        marks: Vec::new(),
    };
    f(&mut a).expect("assembling the test program");
    let r =
        a.a.assemble_options(CODE, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)
            .unwrap();
    let marks = a.marks.iter().map(|l| r.label_ip(l).unwrap()).collect();
    Code {
        bytes: r.inner.code_buffer,
        marks,
    }
}

/// Loads an ELF file and creates an instance ready to call its entry with `input`.
pub fn instance(elf: &[u8], config: &Config, input: &[u8]) -> Result<(Image, Instance), LoadError> {
    let image = load_elf(elf, true)?;
    let mut inst = Instance::new(&image, config, input)?;
    inst.prepare_call(image.entry, &[]).expect("prepare_call");
    Ok((image, inst))
}

/// Runs an ELF's entry with `input` under `config` and `host`.
pub fn run_elf_with(elf: &[u8], config: &Config, input: &[u8], host: &mut dyn Host) -> Outcome {
    let (_, mut inst) = instance(elf, config, input).expect("program loads");
    inst.run(host)
}

/// Runs an ELF's entry with `input` under `config`.
pub fn run_elf(elf: &[u8], config: &Config, input: &[u8]) -> Outcome {
    run_elf_with(elf, config, input, &mut NoHost)
}

/// Runs assembled code (standard layout, zeroed data) with the default config.
pub fn run_code(code: &Code) -> Outcome {
    run_elf(&program(&code.bytes, &[]).bytes(), &Config::default(), &[])
}

/// Runs assembled code with `config` and `input`.
pub fn run_code_with(code: &Code, config: &Config, input: &[u8]) -> Outcome {
    run_elf(&program(&code.bytes, &[]).bytes(), config, input)
}

/// A config with the given gas limit.
pub fn gas(limit: u64) -> Config {
    Config {
        gas_limit: limit,
        ..Config::default()
    }
}

/// The trap of an outcome, failing the test when the run did not trap.
pub fn trap_of(out: &Outcome) -> &x64vm::TrapReport {
    match &out.status {
        Status::Trapped(t) => t,
        other => panic!("expected a trap, got {other:?} (output {:?})", out.output),
    }
}

/// Asserts the run trapped with `trap` at `rip` and returns the report.
pub fn expect_trap(out: &Outcome, trap: Trap, rip: u64) -> &x64vm::TrapReport {
    let t = trap_of(out);
    assert_eq!(t.trap, trap, "trap kind ({t})");
    assert_eq!(t.rip, rip, "trap rip ({t})");
    t
}

/// A fresh scratch directory for one test's build products.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("x64vm-boundary")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether gcc is available (tests that need it are skipped with a note otherwise).
pub fn have_gcc() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Compiles `src` with gcc and `flags`; the error is gcc's message.
pub fn gcc(name: &str, src: &str, flags: &[&str]) -> Result<Vec<u8>, String> {
    let dir = scratch(name);
    let c = dir.join(format!("{name}.c"));
    let out = dir.join(format!("{name}.elf"));
    std::fs::write(&c, src).unwrap();
    let res = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .output()
        .map_err(|e| format!("running gcc: {e}"))?;
    if !res.status.success() {
        return Err(String::from_utf8_lossy(&res.stderr).into_owned());
    }
    Ok(std::fs::read(&out).unwrap())
}

/// The flags contracts are built with.
pub const CONTRACT_FLAGS: &[&str] = &[
    "-O2",
    "-static",
    "-nostdlib",
    "-fno-pie",
    "-no-pie",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
];

/// Host-call helpers for C contracts (`int N` with System V argument registers).
pub const C_PRELUDE: &str = r#"
#include <stdint.h>
#define HC3(n, a, b, c) ({ uint64_t r_; register uint64_t d_ asm("rdx") = (uint64_t)(c); \
    asm volatile("int %1" : "=a"(r_) : "i"(n), "D"((uint64_t)(a)), "S"((uint64_t)(b)), "r"(d_) : "memory"); r_; })
#define HC2(n, a, b) HC3(n, a, b, 0)
#define HC1(n, a) HC3(n, a, 0, 0)
#define HC0(n) HC3(n, 0, 0, 0)
#define input_len() HC0(0x20)
#define input_read(dst, off, len) HC3(0x21, dst, off, len)
#define output(p, n) HC2(0x22, p, n)
#define revert(p, n) HC2(0x23, p, n)
#define debug(p, n) HC2(0x24, p, n)
#define alloc(size, align) HC2(0x25, size, align)
#define free_(p) HC1(0x26, p)
#define gas_left() HC0(0x27)
#define finish(p, n) HC2(0x28, p, n)
"#;

/// Builds a contract from C source (prelude included); panics with gcc's message on failure.
pub fn contract(name: &str, src: &str) -> Vec<u8> {
    let full = format!("{C_PRELUDE}\n{src}");
    gcc(name, &full, CONTRACT_FLAGS).unwrap_or_else(|e| panic!("gcc failed for {name}:\n{e}"))
}

/// `jcc` to `l` by x86 condition number (o, no, b, ae, e, ne, be, a, s, ns, p,
/// np, l, ge, le, g).
pub fn jcc(a: &mut CodeAssembler, cc: u8, l: CodeLabel) -> Result<(), IcedError> {
    match cc & 15 {
        0 => a.jo(l),
        1 => a.jno(l),
        2 => a.jb(l),
        3 => a.jae(l),
        4 => a.je(l),
        5 => a.jne(l),
        6 => a.jbe(l),
        7 => a.ja(l),
        8 => a.js(l),
        9 => a.jns(l),
        10 => a.jp(l),
        11 => a.jnp(l),
        12 => a.jl(l),
        13 => a.jge(l),
        14 => a.jle(l),
        _ => a.jg(l),
    }
}
