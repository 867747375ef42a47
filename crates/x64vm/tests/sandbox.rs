//! Sandbox boundaries beyond the single cases of `traps.rs`: systematic sweeps
//! that compare the VM with a model of the documented contract layout.
//!
//! - every access width, read / write / execute, at and across every edge of
//!   every region (image code and data, input, heap, stack, the stack guard and
//!   the unmapped gaps), against the layout of `vm.rs`;
//! - no partial writes when a store straddles an edge;
//! - writes to code through every kind of storing instruction, execution of
//!   every non-code region;
//! - wrap-around at 2^64 (and at 2^32 with the address-size prefix);
//! - all 256 `int` numbers: a documented service or `invalid_host_call`;
//! - every core service with pointers outside the guest and lengths that
//!   overflow: it succeeds only when the whole range is accessible;
//! - `syscall`, `sysenter` and `int 0x80` in contract mode.

mod vmkit;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::mem::{PAGE_SIZE, page_up, perm};
use x64vm::{Access, Config, Instance, Layout, NoHost, Outcome, Status, Trap, load_elf};
use x64vm_abi as abi;

const INPUT: &[u8] = b"sandbox input, 40 bytes long: 0123456789";

/// The documented contract layout, as permission bits per address.
struct Model {
    regions: Vec<(u64, u64, u8, &'static str)>,
}

impl Model {
    fn new(code_len: u64, layout: &Layout, input_len: u64) -> Model {
        let guard = layout.stack_low - layout.heap_end - PAGE_SIZE;
        Model {
            regions: vec![
                (CODE, CODE + page_up(code_len), perm::RX, "code"),
                (DATA, DATA + DATA_SIZE, perm::RW, "data"),
                (
                    layout.input,
                    layout.input + page_up(input_len.max(1)),
                    perm::R,
                    "input",
                ),
                (layout.heap_start, layout.heap_end, perm::RW, "heap"),
                (
                    layout.stack_low - guard,
                    layout.stack_low,
                    perm::GUARD,
                    "guard",
                ),
                (layout.stack_low, layout.stack_top, perm::RW, "stack"),
            ],
        }
    }

    fn perms(&self, a: u64) -> u8 {
        self.regions
            .iter()
            .find(|r| a >= r.0 && a < r.1)
            .map_or(0, |r| r.2)
    }

    /// Every region start and end, plus the first and last page of the arena.
    fn edges(&self) -> Vec<u64> {
        let mut e: Vec<u64> = self.regions.iter().flat_map(|r| [r.0, r.1]).collect();
        e.sort_unstable();
        e.dedup();
        e
    }

    /// What an access must do: `Ok` or the trap the first refused byte gives.
    fn expect(&self, addr: u64, size: u64, access: Access) -> Result<(), Trap> {
        let need = match access {
            Access::Read => perm::R,
            Access::Write => perm::W,
            Access::Execute => perm::X,
        };
        for i in 0..size {
            let a = addr.wrapping_add(i);
            // A wrapped byte is outside the arena, however the model's regions lie.
            let p = if a < addr { 0 } else { self.perms(a) };
            if p & need != 0 {
                continue;
            }
            return Err(if p & perm::GUARD != 0 {
                Trap::StackOverflow { addr: a }
            } else if p == 0 {
                Trap::MemoryOutOfBounds { addr, size, access }
            } else {
                match access {
                    Access::Read => Trap::ReadFromUnreadable { addr },
                    Access::Write => Trap::WriteToReadOnly { addr },
                    Access::Execute => Trap::ExecuteNonExecutable { addr },
                }
            });
        }
        Ok(())
    }
}

/// One probe program per access kind: the access at [RDI], then `ret`.
fn probe(width: u64, access: Access) -> Code {
    asm(|a| {
        a.mark();
        match (access, width) {
            (Access::Read, 1) => a.mov(al, byte_ptr(rdi))?,
            (Access::Read, 2) => a.mov(ax, word_ptr(rdi))?,
            (Access::Read, 4) => a.mov(eax, dword_ptr(rdi))?,
            (Access::Read, 8) => a.mov(rax, qword_ptr(rdi))?,
            (Access::Read, _) => a.movdqu(xmm0, xmmword_ptr(rdi))?,
            (Access::Write, 1) => a.mov(byte_ptr(rdi), al)?,
            (Access::Write, 2) => a.mov(word_ptr(rdi), ax)?,
            (Access::Write, 4) => a.mov(dword_ptr(rdi), eax)?,
            (Access::Write, 8) => a.mov(qword_ptr(rdi), rax)?,
            (Access::Write, _) => a.movdqu(xmmword_ptr(rdi), xmm0)?,
            (Access::Execute, _) => a.jmp(rdi)?,
        }
        a.ret()
    })
}

#[test]
fn every_access_at_and_across_every_region_edge_matches_the_layout() {
    let cfg = Config {
        heap_size: 64 << 10,
        stack_size: 64 << 10,
        ..Config::default()
    };
    let mut checked = 0;
    for access in [Access::Read, Access::Write, Access::Execute] {
        for width in [1u64, 2, 4, 8, 16] {
            if access == Access::Execute && width != 1 {
                continue;
            }
            let code = probe(width, access);
            let elf = program(&code.bytes, &[]).bytes();
            let image = load_elf(&elf, true).unwrap();
            let mut inst = Instance::new(&image, &cfg, INPUT).unwrap();
            let model = Model::new(code.bytes.len() as u64, &inst.layout, INPUT.len() as u64);
            let mut addrs: Vec<u64> = Vec::new();
            for e in model.edges() {
                for d in -17i64..=17 {
                    addrs.push(e.wrapping_add_signed(d));
                }
            }
            // The arena's outer edges and the ends of the address space.
            addrs.extend([
                inst.mem.base().wrapping_sub(1),
                inst.mem.end(),
                0,
                u64::MAX,
                u64::MAX - width + 1,
                u64::MAX - 2,
                1 << 47,
                (1 << 47) - 1,
                1 << 63,
            ]);
            for &addr in &addrs {
                let want = model.expect(addr, width, access);
                if access == Access::Execute && want.is_ok() {
                    continue; // jumping into the probe's own code runs it
                }
                inst.prepare_call(image.entry, &[]).unwrap();
                inst.cpu.gpr[7] = addr;
                let out = inst.run(&mut NoHost);
                let what = format!("{access} of {width} at {addr:#x}");
                match want {
                    Ok(()) => assert_eq!(out.status, Status::Success, "{what}"),
                    Err(t) => {
                        let r = trap_of(&out);
                        assert_eq!(r.trap, t, "{what}");
                        let rip = if access == Access::Execute {
                            addr
                        } else {
                            code.mark(0)
                        };
                        assert_eq!(r.rip, rip, "{what}");
                    }
                }
                checked += 1;
            }
        }
    }
    eprintln!("{checked} accesses checked against the layout model");
    assert!(checked > 4000);
}

#[test]
fn a_store_straddling_an_edge_writes_nothing() {
    let cfg = Config {
        heap_size: 64 << 10,
        stack_size: 64 << 10,
        ..Config::default()
    };
    // (name of the edge, a writable address 4 bytes before it)
    for width in [8u64, 16] {
        let code = probe(width, Access::Write);
        let elf = program(&code.bytes, &[]).bytes();
        let image = load_elf(&elf, true).unwrap();
        let mut inst = Instance::new(&image, &cfg, INPUT).unwrap();
        let l = inst.layout;
        for (edge, addr) in [
            ("data end", DATA + DATA_SIZE - 4),
            ("heap end", l.heap_end - 4),
            ("stack top", l.stack_top - 4),
            ("stack bottom", l.stack_low - 4),
        ] {
            let start = if edge == "stack bottom" {
                l.stack_low
            } else {
                addr
            };
            let before = inst.mem.read_bytes(start, 4).unwrap();
            inst.prepare_call(image.entry, &[]).unwrap();
            inst.cpu.gpr[7] = addr;
            inst.cpu.gpr[0] = u64::MAX;
            inst.cpu.xmm[0] = u128::MAX;
            let out = inst.run(&mut NoHost);
            assert!(matches!(out.status, Status::Trapped(_)), "{edge}");
            assert_eq!(inst.mem.read_bytes(start, 4).unwrap(), before, "{edge}");
        }
    }
}

#[test]
fn no_storing_instruction_can_write_code() {
    let target = CODE + 0x100;
    let writers: Vec<(&str, Code)> = vec![
        (
            "mov",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.mov(qword_ptr(rdi), rax)
            }),
        ),
        (
            "push",
            asm(|a| {
                a.mov(rsp, target + 8)?;
                a.mark();
                a.push(rax)
            }),
        ),
        (
            "call",
            asm(|a| {
                let mut l = a.create_label();
                a.mov(rsp, target + 8)?;
                a.mark();
                a.call(l)?;
                a.set_label(&mut l)?;
                a.ret()
            }),
        ),
        (
            "rep stosb",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mov(ecx, 64)?;
                a.mark();
                a.rep().stosb()
            }),
        ),
        (
            "rep movsq",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mov(rsi, DATA)?;
                a.mov(ecx, 8)?;
                a.mark();
                a.rep().movsq()
            }),
        ),
        (
            "xchg",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.xchg(qword_ptr(rdi), rax)
            }),
        ),
        (
            "lock xadd",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.lock().xadd(dword_ptr(rdi), eax)
            }),
        ),
        (
            "cmpxchg",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mov(eax, dword_ptr(rdi))?;
                a.mark();
                a.cmpxchg(dword_ptr(rdi), ecx)
            }),
        ),
        (
            "setcc",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.sete(byte_ptr(rdi))
            }),
        ),
        (
            "inc",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.inc(byte_ptr(rdi))
            }),
        ),
        (
            "movdqu",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.movdqu(xmmword_ptr(rdi), xmm1)
            }),
        ),
        (
            "movq",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.movq(qword_ptr(rdi), xmm1)
            }),
        ),
        (
            "fstp",
            asm(|a| {
                a.mov(rdi, target)?;
                a.fld1()?;
                a.mark();
                a.fstp(qword_ptr(rdi))
            }),
        ),
        (
            "fnstenv",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.fnstenv(ptr(rdi))
            }),
        ),
        (
            "bts",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.bts(qword_ptr(rdi), 3)
            }),
        ),
        (
            "shl",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mark();
                a.shl(dword_ptr(rdi), 1)
            }),
        ),
        (
            "cmpxchg16b",
            asm(|a| {
                a.mov(rdi, target)?;
                a.mov(rax, qword_ptr(rdi))?;
                a.mov(rdx, qword_ptr(rdi + 8))?;
                a.mark();
                a.cmpxchg16b(xmmword_ptr(rdi))
            }),
        ),
    ];
    for (name, code) in writers {
        let mut bytes = code.bytes.clone();
        bytes.resize(0x200, 0xcc);
        let elf = program(&bytes, &[]).bytes();
        let (_, mut inst) = instance(&elf, &Config::default(), &[]).unwrap();
        let before = inst.mem.read_bytes(CODE, 0x200).unwrap();
        let out = inst.run(&mut NoHost);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{name}: {t}");
        assert!(
            matches!(t.trap, Trap::WriteToReadOnly { addr } if addr >= target && addr < target + 16),
            "{name}: {t}"
        );
        assert_eq!(inst.mem.read_bytes(CODE, 0x200).unwrap(), before, "{name}");
    }
}

#[test]
fn no_control_transfer_can_execute_data() {
    // Targets in every non-code region; transfers of every kind.
    let cfg = Config::default();
    let elf0 = program(&[0xc3], &[]).bytes();
    let image = load_elf(&elf0, true).unwrap();
    let l = Instance::new(&image, &cfg, INPUT).unwrap().layout;
    let targets = [
        (DATA, "data"),
        (l.input, "input"),
        (l.heap_start + 64, "heap"),
        (l.stack_top - 64, "stack"),
        (l.stack_low - 8, "guard"),
        (l.heap_end + 8, "gap"),
        (CODE + 0x1000, "past code"),
        (0x1000, "page 1"),
    ];
    for (t, name) in targets {
        for kind in ["jmp", "call", "ret", "jmp mem", "call mem", "jcc", "loop"] {
            let code = asm(|a| {
                a.mov(rax, t)?;
                a.mov(qword_ptr(DATA + 0x100), rax)?;
                a.mov(ecx, 2)?;
                a.stc()?;
                match kind {
                    "jmp" => a.jmp(rax)?,
                    "call" => a.call(rax)?,
                    "ret" => {
                        a.push(rax)?;
                        a.ret()?
                    }
                    "jmp mem" => a.jmp(qword_ptr(DATA + 0x100))?,
                    "call mem" => a.call(qword_ptr(DATA + 0x100))?,
                    // Indirect only: rel32 branches cannot reach; use a trampoline.
                    "jcc" => {
                        let mut l2 = a.create_label();
                        a.jc(l2)?;
                        a.ret()?;
                        a.set_label(&mut l2)?;
                        a.jmp(rax)?
                    }
                    _ => {
                        let mut l2 = a.create_label();
                        a.loop_(l2)?;
                        a.ret()?;
                        a.set_label(&mut l2)?;
                        a.jmp(rax)?
                    }
                }
                a.ret()
            });
            let out = run_elf(&program(&code.bytes, &[0xc3; 16]).bytes(), &cfg, INPUT);
            let r = trap_of(&out);
            assert_eq!(r.rip, t, "{kind} to {name}: {r}");
            let ok = match r.trap {
                Trap::ExecuteNonExecutable { addr } => addr == t,
                Trap::StackOverflow { addr } => addr == t && name == "guard",
                Trap::MemoryOutOfBounds {
                    addr,
                    access: Access::Execute,
                    ..
                } => addr == t,
                _ => false,
            };
            assert!(ok, "{kind} to {name}: {r}");
        }
    }
}

#[test]
fn accesses_wrapping_at_2_pow_64_and_2_pow_32() {
    let cfg = Config::default();
    // The stack pointer at the bottom of the address space: push wraps below 0,
    // pop and ret read past 2^64.
    for (rsp_v, kind) in [
        (0u64, "push"),
        (4, "call"),
        (u64::MAX - 3, "pop"),
        (u64::MAX - 3, "ret"),
    ] {
        let code = asm(|a| {
            let mut l = a.create_label();
            a.mov(rsp, rsp_v)?;
            a.mark();
            match kind {
                "push" => a.push(rax)?,
                "call" => a.call(l)?,
                "pop" => a.pop(rax)?,
                _ => a.ret()?,
            }
            a.set_label(&mut l)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{kind}: {t}");
        assert!(
            matches!(t.trap, Trap::MemoryOutOfBounds { .. }),
            "{kind}: {t}"
        );
    }
    // rep movs / stos whose ranges would wrap around into the data segment.
    for op in ["stosb", "movsb", "stosq-backwards"] {
        let code = asm(|a| {
            if op == "stosq-backwards" {
                a.mov(rdi, 16u64)?;
                a.mov(rcx, u64::MAX / 8)?;
                a.std()?;
            } else {
                a.mov(rdi, u64::MAX - 7)?;
                a.mov(rcx, DATA + 0x108)?;
            }
            a.mov(rsi, DATA)?;
            a.mov(eax, 0x41)?;
            a.mark();
            match op {
                "stosb" => a.rep().stosb()?,
                "movsb" => a.rep().movsb()?,
                _ => a.rep().stosq()?,
            }
            a.ret()
        });
        let (_, mut inst) = instance(&program(&code.bytes, &[]).bytes(), &cfg, &[]).unwrap();
        let out = inst.run(&mut NoHost);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{op}: {t}");
        assert!(
            matches!(t.trap, Trap::MemoryOutOfBounds { .. } | Trap::OutOfGas),
            "{op}: {t}"
        );
        let data = inst.mem.read_bytes(DATA, 0x200).unwrap();
        assert!(data.iter().all(|&b| b == 0), "{op} wrapped into the data");
    }
    // With the address-size prefix, effective addresses wrap at 2^32, into the
    // low 4 GiB, never above it.
    let code = asm(|a| {
        a.mov(rdi, 0xffff_fff0u64)?;
        a.mov(rcx, 0x10 + DATA + 8)?;
        a.mov(qword_ptr(DATA + 8), 0x1234_5678)?;
        a.mark();
        a.mov(eax, dword_ptr(edi + ecx))?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!((out.status, out.rax), (Status::Success, 0x1234_5678));
}

fn run_int(n: u8, args: [u64; 3], cfg: &Config) -> (Outcome, Code) {
    let code = asm(|a| {
        a.mov(rdi, args[0])?;
        a.mov(rsi, args[1])?;
        a.mov(rdx, args[2])?;
        a.mark();
        a.db(&[0xcd, n])?;
        a.ret()
    });
    let out = run_elf_with(&program(&code.bytes, &[]).bytes(), cfg, INPUT, &mut NoHost);
    (out, code)
}

#[test]
fn all_256_int_numbers_are_a_service_or_invalid_host_call() {
    let mut served = 0;
    for n in 0..=255u8 {
        let (out, code) = run_int(n, [0, 0, 0], &Config::default());
        match abi::core_service(n) {
            Some(s) => {
                let want = if n == abi::REVERT {
                    Status::Reverted
                } else {
                    Status::Success
                };
                assert_eq!(out.status, want, "int {n:#x} ({})", s.name);
                served += 1;
            }
            None => {
                let t = trap_of(&out);
                assert_eq!(t.rip, code.mark(0), "int {n:#x}");
                match &t.trap {
                    Trap::InvalidHostCall { number, reason } => {
                        assert_eq!(*number, n);
                        assert_eq!(reason, "no such service");
                    }
                    other => panic!("int {n:#x}: {other}"),
                }
                // Chain services are documented but need a chain host.
                if abi::service(n).is_some() {
                    assert!((0x30..0x70).contains(&n));
                }
            }
        }
    }
    assert_eq!(served, abi::CORE_SERVICES.len());
    // The one-byte forms: int3 is a breakpoint, int1 and into are not host calls.
    for (bytes, kind) in [(&[0xccu8][..], "breakpoint"), (&[0xf1], ""), (&[0xce], "")] {
        let code = asm(|a| {
            a.db(bytes)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = trap_of(&out);
        assert_eq!(t.rip, CODE, "{bytes:02x?}: {t}");
        if !kind.is_empty() {
            assert_eq!(t.trap.kind(), kind);
        } else {
            assert!(!matches!(t.trap, Trap::InvalidHostCall { .. }), "{t}");
        }
    }
}

#[test]
fn syscall_sysenter_and_int_0x80_are_refused_in_contract_mode() {
    for (bytes, kind) in [
        (&[0x0fu8, 0x05][..], "syscall_not_allowed"),
        (&[0x0f, 0x34], ""),
        (&[0x0f, 0x07], ""),
        (&[0xcd, 0x80], "invalid_host_call"),
    ] {
        let code = asm(|a| {
            a.mov(eax, 60)?;
            a.xor(edi, edi)?;
            a.mark();
            a.db(bytes)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{bytes:02x?}: {t}");
        if kind.is_empty() {
            assert!(
                matches!(
                    t.trap,
                    Trap::UnsupportedInstruction { .. } | Trap::InvalidOpcode
                ),
                "{bytes:02x?}: {t}"
            );
        } else {
            assert_eq!(t.trap.kind(), kind, "{bytes:02x?}");
        }
    }
}

/// Pointers at and outside every region, and lengths that overflow.
fn hostile_pointers(l: &Layout) -> Vec<u64> {
    vec![
        0,
        8,
        0x1000,
        CODE,
        DATA,
        DATA + DATA_SIZE - 8,
        DATA + DATA_SIZE,
        l.input,
        l.input + INPUT.len() as u64 - 4,
        l.heap_start,
        l.heap_end - 8,
        l.heap_end,
        l.stack_low - 8,
        l.stack_low,
        l.stack_top - 8,
        l.stack_top,
        1 << 47,
        1 << 63,
        u64::MAX - 7,
        u64::MAX,
    ]
}

fn hostile_lengths(ptr: u64) -> Vec<u64> {
    vec![
        0,
        1,
        8,
        9,
        4096,
        1 << 32,
        1 << 63,
        u64::MAX,
        u64::MAX - ptr,
        (u64::MAX - ptr).wrapping_add(1),
        (u64::MAX - ptr).wrapping_add(2),
    ]
}

#[test]
fn core_services_touch_only_accessible_ranges() {
    let cfg = Config {
        heap_size: 64 << 10,
        stack_size: 64 << 10,
        ..Config::default()
    };
    let elf0 = program(&[0xc3], &[]).bytes();
    let image0 = load_elf(&elf0, true).unwrap();
    let layout = Instance::new(&image0, &cfg, INPUT).unwrap().layout;
    let mut cases = 0;
    // Services reading guest memory (ptr, len) and input_read writing it (dst, len).
    for n in [
        abi::OUTPUT,
        abi::FINISH,
        abi::REVERT,
        abi::DEBUG,
        abi::INPUT_READ,
    ] {
        let code = asm(|a| {
            a.mark();
            a.db(&[0xcd, n])?;
            a.ret()
        });
        let elf = program(&code.bytes, &[]).bytes();
        let image = load_elf(&elf, true).unwrap();
        let mut inst = Instance::new(&image, &cfg, INPUT).unwrap();
        let model = Model::new(code.bytes.len() as u64, &inst.layout, INPUT.len() as u64);
        for ptr in hostile_pointers(&layout) {
            for len in hostile_lengths(ptr) {
                inst.prepare_call(image.entry, &[]).unwrap();
                let (access, args) = if n == abi::INPUT_READ {
                    (Access::Write, [ptr, 0, len])
                } else {
                    (Access::Read, [ptr, len, 0])
                };
                inst.cpu.gpr[7] = args[0];
                inst.cpu.gpr[6] = args[1];
                inst.cpu.gpr[2] = args[2];
                let out = inst.run(&mut NoHost);
                let what = format!("int {n:#x}({:#x}, {:#x}, {:#x})", args[0], args[1], args[2]);
                // input_read copies at most what the input has.
                let touched = if n == abi::INPUT_READ {
                    len.min(INPUT.len() as u64)
                } else {
                    len
                };
                let legal = touched == 0
                    || (ptr.checked_add(touched).is_some()
                        && touched <= 1 << 20
                        && model.expect(ptr, touched, access).is_ok());
                let top = inst.layout.stack_top;
                if access == Access::Write
                    && legal
                    && touched > 0
                    && ptr < top
                    && ptr + touched > top - 8
                {
                    // A legal copy over the return address: the `ret` after it fails.
                    assert!(matches!(out.status, Status::Trapped(_)), "{what}");
                    cases += 1;
                    continue;
                }
                match &out.status {
                    Status::Success | Status::Reverted => {
                        assert!(legal, "{what} succeeded on an inaccessible range");
                        let got = match n {
                            abi::DEBUG => out.debug.len() as u64,
                            abi::INPUT_READ => out.rax,
                            _ => out.output.len() as u64,
                        };
                        assert_eq!(got, touched, "{what}");
                    }
                    Status::Trapped(t) => {
                        assert_eq!(t.rip, code.mark(0), "{what}: {t}");
                        assert!(
                            matches!(
                                t.trap,
                                Trap::MemoryOutOfBounds { .. }
                                    | Trap::WriteToReadOnly { .. }
                                    | Trap::ReadFromUnreadable { .. }
                                    | Trap::StackOverflow { .. }
                                    | Trap::LimitExceeded(_)
                                    | Trap::OutOfGas
                            ),
                            "{what}: {t}"
                        );
                        if legal {
                            // Legal ranges only fail on a limit or gas.
                            assert!(
                                matches!(t.trap, Trap::LimitExceeded(_) | Trap::OutOfGas),
                                "{what}: {t}"
                            );
                        }
                    }
                }
                cases += 1;
            }
        }
    }
    // alloc: any (size, align) gives a pointer inside the heap, 0, or a refusal.
    let heap = cfg.heap_size;
    for size in [
        0u64,
        1,
        15,
        16,
        heap - 16,
        heap,
        heap + 1,
        1 << 40,
        1 << 63,
        u64::MAX,
    ] {
        for align in [
            0u64,
            1,
            2,
            3,
            16,
            4096,
            1 << 20,
            (1 << 20) + 1,
            1 << 21,
            1 << 63,
            u64::MAX,
        ] {
            let (out, _) = run_int(abi::ALLOC, [size, align, 0], &cfg);
            let what = format!("alloc({size:#x}, {align:#x})");
            match &out.status {
                Status::Success if out.rax == 0 => {}
                Status::Success => {
                    let p = out.rax;
                    let a = if align == 0 { 16 } else { align.max(16) };
                    assert_eq!(p % a, 0, "{what}");
                    assert!(p >= layout.heap_start, "{what}");
                    assert!(p + size.max(1) <= layout.heap_end, "{what}");
                }
                Status::Trapped(t) => {
                    assert_eq!(t.trap.kind(), "invalid_host_call", "{what}: {t}");
                    assert!(!align.is_power_of_two() || align > 1 << 20, "{what}");
                }
                other => panic!("{what}: {other:?}"),
            }
            cases += 1;
        }
    }
    // free: only live allocations (and 0).
    for ptr in hostile_pointers(&layout) {
        let (out, _) = run_int(abi::FREE, [ptr, 0, 0], &cfg);
        if ptr == 0 {
            assert_eq!(out.status, Status::Success);
        } else {
            assert_eq!(
                trap_of(&out).trap.kind(),
                "invalid_host_call",
                "free({ptr:#x})"
            );
        }
        cases += 1;
    }
    eprintln!("{cases} hostile core-service calls checked");
}
