//! Regenerates the committed seed corpus `fuzz/corpus/<target>/`:
//!
//! ```text
//! X64VM_REGENERATE_CORPUS=1 cargo test -p x64vm-fuzz --test gen_corpus -- --ignored
//! ```
//!
//! (Without the variable the test does nothing, so that running every ignored
//! test does not rewrite committed files.) `X64VM_REGENERATE_CORPUS=jit` with
//! `--ignored regenerate_jit_corpus` rewrites only `fuzz/corpus/jit/`, from the
//! committed `exec` corpus and generated records (no gcc needed).
//!
//! Seeds are real programs (tests/programs/*.c and examples/fib built with gcc),
//! their packed forms, truncations and header corruptions, code snippets
//! assembled here, chunks of compiled code, and random record streams for the
//! host-call and syscall targets. Files already in the corpus that are not
//! generated here (crash regressions added by hand) are left alone. The output
//! depends on the installed gcc, so regenerate deliberately, not in CI.

#[allow(unused_imports)]
#[path = "../../x64vm/tests/vmkit/mod.rs"]
mod vmkit;

use std::path::{Path, PathBuf};
use std::process::Command;

use iced_x86::code_asm::*;
use vmkit::{Code, ElfSpec, PF_R, PF_W, PF_X, Ph, asm, program};
use x64vm_fuzz::{Rng, corpus};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus::dir(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds a guest program with gcc; `None` (and a note) when gcc fails.
fn build(src: &Path, out: &Path, flags: &[&str]) -> Option<Vec<u8>> {
    let status = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-lgcc")
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("gcc failed for {}", src.display());
        return None;
    }
    std::fs::read(out).ok()
}

const GUEST: &[&str] = &[
    "-std=gnu11",
    "-nostdlib",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-mgeneral-regs-only",
];

/// The real programs: (name, ELF bytes).
fn programs() -> Vec<(String, Vec<u8>)> {
    let dir = vmkit::scratch("gen_corpus");
    let mut out = Vec::new();
    let fib = workspace().join("examples/fib/fib.c");
    let contract = [
        "-O2",
        "-static",
        "-nostdlib",
        "-fno-pie",
        "-no-pie",
        "-ffreestanding",
        "-fno-stack-protector",
    ];
    if let Some(b) = build(&fib, &dir.join("fib.elf"), &contract) {
        out.push(("example-fib-O2.elf".to_string(), b));
    }
    let progs = [
        "fib",
        "sieve",
        "quicksort",
        "sha256",
        "strings",
        "int128",
        "switch",
        "callbacks",
        "bits",
        "structs",
        "heap",
    ];
    for (k, p) in progs.iter().enumerate() {
        let src = workspace().join(format!("tests/programs/{p}.c"));
        let mut flags = GUEST.to_vec();
        // Alternate optimisation levels, PIE and stripping across the programs.
        let opt = ["-O2", "-Os", "-O1", "-O3"][k % 4];
        flags.push(opt);
        let pie = k % 3 == 1;
        if pie {
            flags.extend(["-static-pie", "-fpie"]);
        } else {
            flags.extend(["-static", "-fno-pie", "-no-pie"]);
        }
        if k % 2 == 1 {
            flags.push("-s");
        }
        let name = format!("{p}{opt}{}.elf", if pie { "-pie" } else { "" });
        if let Some(b) = build(&src, &dir.join(&name), &flags) {
            out.push((name, b));
        }
    }
    out
}

/// Small hand-written ELF files and deliberate corruptions of a real one.
fn odd_elfs(real: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let tiny = asm(|a| {
        a.mov(eax, 42)?;
        a.ret()
    });
    out.push(("tiny.elf".into(), program(&tiny.bytes, b"data").bytes()));
    let mut spec = program(&tiny.bytes, &[]);
    spec.e_type = 3; // static PIE
    out.push(("tiny-pie.elf".into(), spec.bytes()));
    // W+X segment (refused with W^X, runs without).
    let mut spec = program(&tiny.bytes, &[]);
    spec.phs[0].flags = PF_R | PF_W | PF_X;
    out.push(("wx-segment.elf".into(), spec.bytes()));
    // Segments sharing a page, an empty segment, a huge bss.
    let mut spec = program(&tiny.bytes, &[]);
    spec.phs.push(Ph::load(PF_R, 0x3000, 0x60_4000, 0, 0));
    spec.phs
        .push(Ph::load(PF_R | PF_W, 0x3000, 0x70_0000, 0, 1 << 30));
    out.push(("empty-and-huge-bss.elf".into(), spec.bytes()));
    let mut spec = ElfSpec::exec(0x40_1000);
    spec.phs
        .push(Ph::load(PF_R | PF_X, 0x1000, 0x40_1000, 2, 2));
    spec.phs.push(Ph::load(PF_R, 0x1000, 0x40_1800, 16, 16));
    spec.blobs.push((0x1000, vec![0x90, 0xc3]));
    out.push(("shared-page.elf".into(), spec.bytes()));
    // Truncations of a real program.
    for len in [4usize, 52, 64, 100, 120, 176, 400, 4096] {
        if len < real.len() {
            out.push((format!("truncated-{len}.elf"), real[..len].to_vec()));
        }
    }
    // Header corruptions of a real program.
    let patch = |at: usize, v: &[u8]| {
        let mut e = real.to_vec();
        e[at..at + v.len()].copy_from_slice(v);
        e
    };
    out.push(("phnum-ffff.elf".into(), patch(56, &[0xff, 0xff])));
    out.push(("phoff-huge.elf".into(), patch(32, &u64::MAX.to_le_bytes())));
    out.push(("entry-zero.elf".into(), patch(24, &[0; 8])));
    out.push(("class32.elf".into(), patch(4, &[1])));
    out.push(("machine-arm.elf".into(), patch(18, &[0xb7, 0])));
    out.push((
        "shoff-past-end.elf".into(),
        patch(40, &u64::MAX.to_le_bytes()),
    ));
    // First program header: memsz 2^63, filesz past the file.
    out.push((
        "memsz-huge.elf".into(),
        patch(64 + 40, &(1u64 << 63).to_le_bytes()),
    ));
    out.push((
        "filesz-huge.elf".into(),
        patch(64 + 32, &(1u64 << 40).to_le_bytes()),
    ));
    out
}

/// A header of 8 seed bytes followed by code, for the `translate` target.
fn translate_input(seed: u64, code: &[u8]) -> Vec<u8> {
    let mut v = seed.to_le_bytes().to_vec();
    v.extend_from_slice(code);
    v
}

/// An `exec` input: mode, 16 register selectors, code.
fn exec_input(mode: u8, sel: [u8; 16], code: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(&sel);
    v.extend_from_slice(code);
    v
}

/// Register selectors: data pointers in RSI/RDI/RBX, small counts elsewhere.
const PTRS: [u8; 16] = [
    0x08, 0x24, 0x00, 0x40, 0, 0x02, 0x80, 0x88, 0x14, 0x2c, 0x05, 0x0d, 0x01, 0x03, 0x06, 0x07,
];
/// Register selectors with edge values: ends of regions, non-canonical, all ones.
const EDGES: [u8; 16] = [
    0xfe, 0x0e, 0x05, 0x1e, 0, 0x0a, 0xf8, 0xf9, 0x16, 0x1d, 0x3e, 0x07, 0x02, 0x12, 0x0b, 0xff,
];

/// Code snippets exercising every family and every trap.
fn snippets() -> Vec<(&'static str, u8, Code)> {
    let mut v: Vec<(&'static str, u8, Code)> = Vec::new();
    let mut add = |name, mode, c: Code| v.push((name, mode, c));
    add(
        "loop",
        0,
        asm(|a| {
            let mut l = a.create_label();
            a.mov(ecx, 100)?;
            a.set_label(&mut l)?;
            a.add(rax, rcx)?;
            a.imul_3(rdx, rax, 7)?;
            a.dec(ecx)?;
            a.jnz(l)?;
            a.ret()
        }),
    );
    add(
        "rep-movsb",
        0,
        asm(|a| {
            a.mov(ecx, 300)?;
            a.rep().movsb()?;
            a.ret()
        }),
    );
    add(
        "rep-stosq-backwards",
        2,
        asm(|a| {
            a.mov(ecx, 40)?;
            a.rep().stosq()?;
            a.ret()
        }),
    );
    add(
        "repne-scasb",
        0,
        asm(|a| {
            a.xor(eax, eax)?;
            a.mov(rcx, -1i64)?;
            a.repne().scasb()?;
            a.not(rcx)?;
            a.mov(rax, rcx)?;
            a.ret()
        }),
    );
    add(
        "repe-cmpsq",
        0,
        asm(|a| {
            a.mov(ecx, 64)?;
            a.repe().cmpsq()?;
            a.setne(al)?;
            a.ret()
        }),
    );
    add(
        "calls",
        0,
        asm(|a| {
            let mut f = a.create_label();
            a.call(f)?;
            a.call(f)?;
            a.ret()?;
            a.set_label(&mut f)?;
            a.push(rbx)?;
            a.push(rbp)?;
            a.lea(rbp, ptr(rsp + 8))?;
            a.pop(rbp)?;
            a.pop(rbx)?;
            a.ret()
        }),
    );
    add(
        "recursion",
        4,
        asm(|a| {
            let mut f = a.create_label();
            a.set_label(&mut f)?;
            a.sub(rsp, 0x400)?;
            a.mov(qword_ptr(rsp), rax)?;
            a.call(f)?;
            a.ret()
        }),
    );
    add(
        "div-zero",
        0,
        asm(|a| {
            a.xor(ecx, ecx)?;
            a.div(rcx)?;
            a.ret()
        }),
    );
    add(
        "idiv-overflow",
        0,
        asm(|a| {
            a.mov(rax, 1u64 << 63)?;
            a.cqo()?;
            a.mov(rcx, -1i64)?;
            a.idiv(rcx)?;
            a.ret()
        }),
    );
    add(
        "sse",
        0,
        asm(|a| {
            a.movdqu(xmm0, xmmword_ptr(rsi))?;
            a.paddd(xmm0, xmm1)?;
            a.pshufd(xmm2, xmm0, 0x1b)?;
            a.pcmpeqb(xmm2, xmm0)?;
            a.pmovmskb(eax, xmm2)?;
            a.cvtsi2sd(xmm3, rax)?;
            a.sqrtsd(xmm3, xmm3)?;
            a.divsd(xmm3, xmm4)?;
            a.cvttsd2si(rdx, xmm3)?;
            a.movdqu(xmmword_ptr(rdi), xmm0)?;
            a.ret()
        }),
    );
    add(
        "sse-misaligned",
        0,
        asm(|a| {
            a.lea(rax, ptr(rdi + 1))?;
            a.movdqa(xmm0, xmmword_ptr(rax))?;
            a.ret()
        }),
    );
    add(
        "x87",
        0,
        asm(|a| {
            a.fld1()?;
            a.fldpi()?;
            a.fmulp(st1, st0)?;
            a.fsqrt()?;
            a.fsin()?;
            a.fstp(qword_ptr(rdi))?;
            a.fild(dword_ptr(rsi))?;
            a.fistp(qword_ptr(rdi + 8))?;
            a.ret()
        }),
    );
    add(
        "self-modifying",
        1,
        asm(|a| {
            let mut patch = a.create_label();
            a.lea(rax, ptr(patch))?;
            a.mov(byte_ptr(rax), 0xc3)?;
            a.set_label(&mut patch)?;
            a.nop()?;
            a.mov(eax, 1)?;
            a.ret()
        }),
    );
    add(
        "write-code",
        0,
        asm(|a| {
            let mut here = a.create_label();
            a.set_label(&mut here)?;
            a.lea(rax, ptr(here))?;
            a.mov(byte_ptr(rax), 0x90)?;
            a.ret()
        }),
    );
    add(
        "host-calls",
        0,
        asm(|a| {
            a.mov(edi, 64)?;
            a.mov(esi, 16)?;
            a.int(0x25)?;
            a.mov(rdi, rax)?;
            a.mov(esi, 8)?;
            a.int(0x24)?;
            a.int(0x22)?;
            a.int(0x20)?;
            a.int(0x27)?;
            a.ret()
        }),
    );
    add(
        "bad-int",
        0,
        asm(|a| {
            a.int(0x99)?;
            a.ret()
        }),
    );
    add(
        "syscall",
        0,
        asm(|a| {
            a.mov(eax, 60)?;
            a.syscall()?;
            a.ret()
        }),
    );
    add(
        "jump-to-data",
        0,
        asm(|a| {
            a.jmp(rsi)?;
            a.ret()
        }),
    );
    add(
        "jump-to-zero",
        0,
        asm(|a| {
            a.xor(eax, eax)?;
            a.call(rax)?;
            a.ret()
        }),
    );
    add(
        "bits",
        0,
        asm(|a| {
            a.bsf(rax, rdi)?;
            a.bsr(rcx, rdx)?;
            a.popcnt(rdx, rsi)?;
            a.lzcnt(r8, rsi)?;
            a.bt(rax, 3)?;
            a.btc(rcx, rax)?;
            a.crc32(rax, rdx)?;
            a.bswap(rax)?;
            a.ret()
        }),
    );
    add(
        "flags",
        0,
        asm(|a| {
            a.add(rax, rdx)?;
            a.adc(rcx, rsi)?;
            a.sbb(rdx, rdi)?;
            a.pushfq()?;
            a.pop(r8)?;
            a.lahf()?;
            a.cmc()?;
            a.setc(r9b)?;
            a.cmovo(r10, r8)?;
            a.shld(rax, rdx, cl)?;
            a.rcr(rcx, 5)?;
            a.sar(rdx, cl)?;
            a.ret()
        }),
    );
    add(
        "atomics",
        0,
        asm(|a| {
            a.lock().xadd(qword_ptr(rdi), rax)?;
            a.lock().cmpxchg(qword_ptr(rdi + 8), rcx)?;
            a.xchg(qword_ptr(rsi), rdx)?;
            a.cmpxchg16b(xmmword_ptr(rdi))?;
            a.ret()
        }),
    );
    add(
        "system",
        0,
        asm(|a| {
            a.cpuid()?;
            a.rdtsc()?;
            a.mov(rax, qword_ptr(0).fs())?;
            a.ret()
        }),
    );
    add(
        "traps",
        0,
        asm(|a| {
            a.int3()?;
            a.hlt()?;
            a.ud2()
        }),
    );
    add(
        "straight-line",
        0,
        asm(|a| {
            for k in 0..300 {
                a.add(eax, k)?;
            }
            a.ret()
        }),
    );
    add(
        "addr32",
        0,
        asm(|a| {
            a.mov(eax, dword_ptr(edi + 4))?;
            a.lea(ecx, ptr(eax + edx * 8))?;
            a.ret()
        }),
    );
    v
}

/// Random record streams for the `host_calls` and `linux_syscalls` targets (any
/// bytes decode into records, so random bytes are valid seeds).
fn random_blobs(target: &str, seed: u64, count: usize) {
    let mut rng = Rng::new(seed);
    for k in 0..count {
        let len = 8 + rng.below(40 + 40 * k);
        let blob: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        write(target, &format!("random-{k:02}.bin"), &blob);
    }
}

/// One `jit` record (13 bytes, see `x64vm_fuzz`'s `jit_gen`) of kind `kind`:
/// its memory operand based on a register the `PTRS` selectors make a data
/// pointer, small indexes and displacements, writes mostly to registers that
/// hold plain values.
fn jit_record(rng: &mut Rng, kind: u8) -> Vec<u8> {
    const BASES: [u8; 5] = [0, 2, 3, 6, 7];
    const INDEXES: [u8; 3] = [1, 8, 9];
    const DATA: [u8; 6] = [10, 11, 14, 10, 11, 5];
    let pick = |rng: &mut Rng, s: &[u8]| s[rng.below(s.len())];
    let size = rng.below(4) as u8;
    let x = (size << 6) | (rng.next_u64() as u8 & 0x3f);
    let d = pick(rng, &DATA);
    let s = rng.below(16) as u8;
    let m0 = pick(rng, &BASES) | (pick(rng, &INDEXES) << 4);
    // Scale, sometimes an index, now and then GS (base 0) or 32-bit addresses.
    let mut m1 = (rng.below(4) as u8) | if rng.below(3) == 0 { 4 } else { 0 };
    match rng.below(12) {
        0 => m1 |= 0xb0,
        1 => m1 |= 0x38,
        _ => {}
    }
    let mut v = vec![
        kind,
        x,
        d | (s << 4),
        m0,
        m1,
        rng.below(0x60) as u8,
        0,
        0,
        0,
    ];
    v.extend_from_slice(&(rng.next_u64() as u32).to_le_bytes());
    v
}

/// The `jit` seeds: every committed `exec` seed as raw code run three times
/// (its mode's trace bit, which `jit` reads as "records", cleared), and record
/// streams of every kind.
fn jit_seeds() {
    for (name, bytes) in corpus::load("exec") {
        let mut v = bytes.clone();
        if let Some(m) = v.first_mut() {
            *m = (*m & 0x07) | (2 << 5);
        }
        write("jit", &format!("raw-{name}"), &v);
    }
    let mut rng = Rng::new(0x004a_4954);
    for k in 0..24u64 {
        let mode =
            8 | ((k as u8 % 8) << 5) | if k % 3 == 0 { 16 } else { 0 } | u8::from(k % 7 == 6);
        let mut v = exec_input(mode, PTRS, &[]);
        for _ in 0..8 + rng.below(32) {
            // Kinds 0-15; ALU shapes most often.
            let kind = match rng.below(20) {
                n @ 0..=15 => n as u8,
                _ => rng.below(5) as u8,
            };
            v.extend(jit_record(&mut rng, kind));
        }
        write("jit", &format!("records-{k:02}.bin"), &v);
    }
}

#[test]
#[ignore = "regenerates fuzz/corpus/jit; run deliberately"]
fn regenerate_jit_corpus() {
    if std::env::var("X64VM_REGENERATE_CORPUS").as_deref() != Ok("jit") {
        eprintln!("set X64VM_REGENERATE_CORPUS=jit to rewrite fuzz/corpus/jit");
        return;
    }
    jit_seeds();
}

#[test]
#[ignore = "regenerates fuzz/corpus (needs gcc); run deliberately"]
fn regenerate_seed_corpus() {
    if std::env::var_os("X64VM_REGENERATE_CORPUS").is_none() {
        eprintln!("set X64VM_REGENERATE_CORPUS=1 to rewrite fuzz/corpus");
        return;
    }
    let progs = programs();
    assert!(!progs.is_empty(), "gcc built nothing");
    let real = progs[0].1.clone();

    // elf_load: the programs, odd and corrupted files.
    for (name, b) in &progs {
        write("elf_load", name, b);
    }
    for (name, b) in odd_elfs(&real) {
        write("elf_load", &name, &b);
    }

    // packed_load: packed forms of the programs, a few ELF files (to pack),
    // truncations and corruptions of a packed file.
    let mut packed_any = None;
    for (name, b) in &progs {
        if let Ok(p) = x64vm::pack(b) {
            write("packed_load", &format!("{name}.x64p"), &p);
            packed_any.get_or_insert(p);
        }
    }
    for (name, b) in progs.iter().take(4) {
        write("packed_load", name, b);
    }
    if let Some(p) = packed_any {
        for len in [4usize, 8, 39, 40, 64, 100] {
            write(
                "packed_load",
                &format!("truncated-{len}.x64p"),
                &p[..len.min(p.len())],
            );
        }
        let patch = |at: usize, v: &[u8]| {
            let mut e = p.clone();
            e[at..at + v.len()].copy_from_slice(v);
            e
        };
        write("packed_load", "bad-version.x64p", &patch(4, &[2, 0]));
        write("packed_load", "nseg-huge.x64p", &patch(16, &[0xff; 4]));
        write("packed_load", "entry-zero.x64p", &patch(8, &[0; 8]));
        write("packed_load", "seg-perms-wx.x64p", &patch(40 + 20, &[7]));
    }

    // translate and exec: snippets and chunks of compiled code.
    for (k, (name, mode, code)) in snippets().into_iter().enumerate() {
        write(
            "translate",
            &format!("{name}.bin"),
            &translate_input(0x5eed + k as u64, &code.bytes),
        );
        let sel = if k % 3 == 2 { EDGES } else { PTRS };
        write(
            "exec",
            &format!("{name}.bin"),
            &exec_input(mode, sel, &code.bytes),
        );
    }
    for (k, (name, b)) in progs.iter().enumerate().take(8) {
        let Ok(image) = x64vm::load_elf(b, true) else {
            continue;
        };
        let Some(text) = image
            .segments
            .iter()
            .find(|s| s.perms & x64vm::mem::perm::X != 0)
        else {
            continue;
        };
        let start = (image.entry - text.vaddr) as usize;
        let chunk = &text.data[start.min(text.data.len())..];
        let chunk = &chunk[..chunk.len().min(512)];
        let stem = name.trim_end_matches(".elf");
        write(
            "translate",
            &format!("{stem}-text.bin"),
            &translate_input(k as u64, chunk),
        );
        write(
            "exec",
            &format!("{stem}-text.bin"),
            &exec_input(8, PTRS, chunk),
        );
    }

    // jit: the exec seeds as raw code in a loop, and instruction records.
    jit_seeds();

    // host_calls and linux_syscalls: random record streams.
    random_blobs("host_calls", 0x4c41_4c4c, 24);
    random_blobs("linux_syscalls", 0x5359_5343, 24);

    // abi_text and call_line: ABI descriptions and call lines, with and without an ABI.
    for (k, text) in ABIS.iter().enumerate() {
        write("abi_text", &format!("abi-{k:02}.txt"), text.as_bytes());
    }
    for (k, (abi, line)) in CALL_LINES.iter().enumerate() {
        let mut v = Vec::new();
        if let Some(a) = abi {
            v.extend_from_slice(ABIS[*a].as_bytes());
            v.push(0xff);
        }
        v.extend_from_slice(line.as_bytes());
        write("call_line", &format!("line-{k:02}.txt"), &v);
    }
}

/// ABI descriptions: the examples' shapes, every type, separators, comments,
/// repeated lines and a few malformed ones.
const ABIS: &[&str] = &[
    "fn transfer(address to, u128 amount) -> bool\nfn balance_of(address owner) -> u128 view\n\
     event Transfer(address from, address to, u128 amount)\n",
    "fn fib(u64 n) -> u64 view\nfn reset()\n",
    "fn init(u128 supply)\nfn name() -> string view\nfn symbol() -> string view\n",
    "fn set_flags(bool a, i8 b, i128 c, bytes d, u16 e)\nfn get() -> bytes view\n",
    "fn a()\0fn b(u8, u16 x) -> i64 view\n\n  # comment\r\nevent E()\nevent F(string s, bytes)\nfn a()\n",
    "fn all(u8 a, u16 b, u32 c, u64 d, u128 e, i8 f, i16 g, i32 h, i64 i, i128 j, bool k, \
     bytes l, string m, address n) -> i128\n",
    "fn f(u8 x) -> u8\nfn f(u16 x, u16 y) -> u16\nfn f(string s) -> string\n",
    "event Ping(bytes data)\nfn emit(bytes data)\nfn emit_many(u32 n)\n",
    "# only a comment\n\n\n",
    "fn f(u8 x,)",
    "fn f(uint x)",
    "fn u8()",
    "fn f() view -> u8",
    "fn ok()\nfn ok(u8)\nfn ok() -> u8\n",
];

/// (index of an ABI above, call line).
const CALL_LINES: &[(Option<usize>, &str)] = &[
    (Some(0), "transfer(\"bob\", 100)"),
    (Some(0), "balance_of(\"alice\")"),
    (
        Some(0),
        "transfer(0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff, \
         340282366920938463463374607431768211455)",
    ),
    (
        Some(0),
        "transfer(\"bob\", 340282366920938463463374607431768211456)",
    ),
    (Some(0), "transfer(\"bob\", -1)"),
    (Some(1), "fib(25)"),
    (Some(1), "fib(0x19)"),
    (Some(1), "fib(1_000_000)"),
    (Some(1), "reset()"),
    (Some(2), "init(1000)"),
    (
        Some(3),
        "set_flags(true, -128, -170141183460469231731687303715884105728, 0xdeadbeef, 65535)",
    ),
    (
        Some(3),
        "set_flags(false, 127, 0x7fffffffffffffffffffffffffffffff, 0x, 0)",
    ),
    (
        Some(5),
        "all(255, 65535, 4294967295, 18446744073709551615, 0, -128, -32768, -2147483648, \
         -9223372036854775808, 1, true, 0x00ff, \"h\\u{e9}llo \\\"x\\\"\\n\\x41\\0\", \"carol\")",
    ),
    (Some(6), "f(7)"),
    (Some(6), "f(1, 2)"),
    (Some(6), "f(\"s\")"),
    (Some(7), "emit(0x0102)"),
    (None, "fib(u64) -> u64 (25)"),
    (None, "balance_of(address) -> u128 (\"bob\")"),
    (None, "transfer(address,u128)->bool(\"bob\",1)"),
    (
        None,
        "f(string, bytes, bool) (\"\\xff\\u{10ffff}\", 0xAbCd, false)",
    ),
    (None, "fib(25)"),
    (None, "f(u8) (256)"),
    (None, "f(u8 (1)"),
    (None, "f(\"unterminated)"),
    (None, ""),
    (None, "f((((((((((((((((((((()"),
];
