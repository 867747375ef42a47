//! Every trap kind of `trap.rs`, each produced by a tiny program, with checks that
//! the report names the faulting instruction (rip and disassembly).

mod vmkit;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::{Access, Config, NoHost, Status, Trap, TrapReport};

const INPUT: &[u8] = b"0123456789abcdef";

fn report_names(t: &TrapReport, mnemonic: &str) {
    assert!(
        t.instruction.starts_with(mnemonic),
        "disassembly {:?} should name {mnemonic} ({t})",
        t.instruction
    );
    let shown = t.to_string();
    assert!(shown.contains(&format!("{:#x}", t.rip)), "{shown}");
    assert!(shown.contains(t.trap.kind()), "{shown}");
}

#[test]
fn out_of_gas_is_deterministic() {
    let code = asm(|a| {
        a.xor(eax, eax)?;
        let top = a.mark();
        a.add(rax, 1)?;
        a.add(rax, 2)?;
        a.jmp(top)
    });
    let mut seen = None;
    for limit in [1000u64, 1001, 12_345] {
        for _ in 0..3 {
            let out = run_code_with(&code, &gas(limit), &[]);
            let t = trap_of(&out).clone();
            assert_eq!(t.trap, Trap::OutOfGas);
            assert_eq!(out.gas_used, limit, "out of gas consumes everything");
            assert!(out.output.is_empty());
            if limit == 1000 {
                let here = (t.rip, out.rax, out.instructions);
                assert_eq!(*seen.get_or_insert(here), here, "same place every run");
                // Out of gas is detected on entering a block: the loop head.
                assert_eq!(t.rip, code.mark(0));
                assert!(t.instruction.starts_with("add"), "{t}");
            }
        }
    }
}

#[test]
fn out_of_gas_on_the_very_first_block() {
    let code = asm(|a| {
        a.nop()?;
        a.ret()
    });
    let out = run_code_with(&code, &gas(0), &[]);
    expect_trap(&out, Trap::OutOfGas, CODE);
    assert_eq!(out.gas_used, 0);
    let out = run_code_with(&code, &gas(1), &[]);
    expect_trap(&out, Trap::OutOfGas, CODE);
    assert_eq!(out.gas_used, 1);
}

#[test]
fn memory_out_of_bounds_read_and_write() {
    let far = 0x1000_0000_0000u64;
    let code = asm(|a| {
        a.mov(rax, far)?;
        a.nop()?;
        a.mark();
        a.mov(rbx, qword_ptr(rax + 0x10))?;
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: far + 0x10,
            size: 8,
            access: Access::Read,
        },
        code.mark(0),
    );
    report_names(t, "mov");
    assert!(
        t.to_string().contains("read of 8 bytes at 0x100000000010"),
        "{t}"
    );

    let code = asm(|a| {
        a.mov(rax, far)?;
        a.mark();
        a.mov(dword_ptr(rax), ecx)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: far,
            size: 4,
            access: Access::Write,
        },
        code.mark(0),
    );
    report_names(t, "mov");
    assert!(t.to_string().contains("write of 4 bytes"), "{t}");
}

#[test]
fn null_pointer_accesses_trap() {
    let code = asm(|a| {
        a.xor(eax, eax)?;
        a.mark();
        a.mov(rcx, qword_ptr(rax + 8))?;
        a.ret()
    });
    let out = run_code(&code);
    expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: 8,
            size: 8,
            access: Access::Read,
        },
        code.mark(0),
    );
}

#[test]
fn access_straddling_the_end_of_a_region_traps_whole() {
    // The last 4 bytes of the data segment are fine; 8 bytes from there are not.
    let last = DATA + DATA_SIZE - 4;
    let code = asm(|a| {
        a.mov(rax, last)?;
        a.mov(dword_ptr(rax), 7)?;
        a.mark();
        a.mov(qword_ptr(rax), rcx)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert_eq!(
        t.trap,
        Trap::MemoryOutOfBounds {
            addr: last,
            size: 8,
            access: Access::Write
        }
    );
}

#[test]
fn non_canonical_addresses_trap() {
    for addr in [
        0x8000_0000_0000_0000u64,
        0x0000_8000_0000_0000,
        0xffff_8000_0000_0000,
    ] {
        let code = asm(|a| {
            a.mov(rax, addr)?;
            a.mark();
            a.mov(ecx, dword_ptr(rax))?;
            a.ret()
        });
        let out = run_code(&code);
        expect_trap(
            &out,
            Trap::MemoryOutOfBounds {
                addr,
                size: 4,
                access: Access::Read,
            },
            code.mark(0),
        );
        // And as a jump target.
        let code = asm(|a| {
            a.mov(rax, addr)?;
            a.jmp(rax)
        });
        let out = run_code(&code);
        expect_trap(
            &out,
            Trap::MemoryOutOfBounds {
                addr,
                size: 1,
                access: Access::Execute,
            },
            addr,
        );
    }
}

#[test]
fn wrap_around_at_2_pow_64_traps() {
    // An 8-byte access at 2^64 - 4 would wrap to address 3.
    let code = asm(|a| {
        a.mov(rax, -4i64)?;
        a.mark();
        a.mov(rcx, qword_ptr(rax))?;
        a.ret()
    });
    let out = run_code(&code);
    expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: u64::MAX - 3,
            size: 8,
            access: Access::Read,
        },
        code.mark(0),
    );
    // A 16-byte SSE store at 2^64 - 8.
    let code = asm(|a| {
        a.mov(rax, -8i64)?;
        a.mark();
        a.movdqu(xmmword_ptr(rax), xmm0)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert!(
        matches!(t.trap, Trap::MemoryOutOfBounds { addr, access: Access::Write, .. } if addr == u64::MAX - 7),
        "{t}"
    );
    // rep stosb whose destination range wraps.
    let code = asm(|a| {
        a.mov(rdi, -2i64)?;
        a.mov(ecx, 16)?;
        a.mark();
        a.rep().stosb()?;
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert!(matches!(t.trap, Trap::MemoryOutOfBounds { .. }), "{t}");
}

#[test]
fn write_to_readonly_code_and_input() {
    let code = asm(|a| {
        a.mark();
        a.lea(rax, ptr(CODE))?;
        a.mark();
        a.mov(byte_ptr(rax), 0x90)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(&out, Trap::WriteToReadOnly { addr: CODE }, code.mark(1));
    report_names(t, "mov");

    // The call input is read-only too (RDI points at it).
    let code = asm(|a| {
        a.movzx(eax, byte_ptr(rdi + 3))?;
        a.mark();
        a.mov(byte_ptr(rdi + 3), al)?;
        a.ret()
    });
    let (_, mut inst) = instance(
        &program(&code.bytes, &[]).bytes(),
        &Config::default(),
        INPUT,
    )
    .expect("loads");
    let input_addr = inst.layout.input;
    let out = inst.run(&mut NoHost);
    expect_trap(
        &out,
        Trap::WriteToReadOnly {
            addr: input_addr + 3,
        },
        code.mark(0),
    );
    assert_eq!(out.rax, u64::from(b'3'), "reading the input was fine");
}

#[test]
fn execute_non_executable_stack_data_heap() {
    // Jump into the stack.
    let code = asm(|a| {
        a.mov(rax, rsp)?;
        a.jmp(rax)
    });
    let (_, mut inst) =
        instance(&program(&code.bytes, &[]).bytes(), &Config::default(), &[]).expect("loads");
    let top_sp = inst.layout.stack_top - 8;
    let out = inst.run(&mut NoHost);
    expect_trap(&out, Trap::ExecuteNonExecutable { addr: top_sp }, top_sp);

    // Call into the data segment (which holds a valid `ret`).
    let code = asm(|a| {
        a.mov(rax, DATA)?;
        a.call(rax)?;
        a.ret()
    });
    let out = run_elf(
        &program(&code.bytes, &[0xc3]).bytes(),
        &Config::default(),
        &[],
    );
    let t = expect_trap(&out, Trap::ExecuteNonExecutable { addr: DATA }, DATA);
    assert_eq!(t.instruction, "ret", "the bytes there are still shown");

    // Jump into the heap and the input.
    for target in ["heap", "input"] {
        let code = asm(|a| {
            if target == "input" {
                a.jmp(rdi)
            } else {
                a.mov(edi, 64)?;
                a.xor(esi, esi)?;
                a.int(0x25)?; // alloc
                a.jmp(rax)
            }
        });
        let (_, mut inst) = instance(
            &program(&code.bytes, &[]).bytes(),
            &Config::default(),
            INPUT,
        )
        .unwrap();
        let addr = if target == "input" {
            inst.layout.input
        } else {
            inst.layout.heap_start
        };
        let out = inst.run(&mut NoHost);
        expect_trap(&out, Trap::ExecuteNonExecutable { addr }, addr);
    }
}

#[test]
fn running_off_the_end_of_code_traps() {
    // The code segment is one page; an instruction straddling its end cannot be fetched.
    let mut bytes = asm(|a| {
        a.mov(eax, (CODE + 0x1000 - 2) as u32)?;
        a.jmp(rax)
    })
    .bytes;
    bytes.resize(0x1000 - 2, 0x90);
    bytes.extend_from_slice(&[0x48, 0xb8]); // the start of a 10-byte mov rax, imm64
    let out = run_elf(&program(&bytes, &[]).bytes(), &Config::default(), &[]);
    let t = trap_of(&out);
    assert_eq!(t.rip, CODE + 0x1000 - 2);
    assert!(matches!(t.trap, Trap::ExecuteNonExecutable { .. }), "{t}");
}

#[test]
fn stack_overflow_hits_the_guard_page() {
    let code = asm(|a| {
        let f = a.mark();
        a.push(rbp)?;
        a.mark();
        a.call(f)?;
        a.ret()
    });
    let (_, mut inst) =
        instance(&program(&code.bytes, &[]).bytes(), &Config::default(), &[]).unwrap();
    let low = inst.layout.stack_low;
    let out = inst.run(&mut NoHost);
    let t = trap_of(&out);
    match t.trap {
        Trap::StackOverflow { addr } => {
            assert!(
                addr < low && addr >= low - 4096,
                "{addr:#x} in the guard page below {low:#x}"
            )
        }
        ref other => panic!("expected stack_overflow, got {other}"),
    }
    assert!(t.rip == code.mark(0) || t.rip == code.mark(1), "{t}");
    assert!(t.to_string().starts_with("stack_overflow at 0x"), "{t}");
}

#[test]
fn stack_overflow_in_c_recursion() {
    if !have_gcc() {
        eprintln!("gcc not found: skipped");
        return;
    }
    let elf = contract(
        "overflow",
        r#"
        __attribute__((noinline)) uint64_t down(volatile uint64_t n) {
            volatile uint64_t pad[8];
            pad[n & 7] = n;
            return down(n + 1) + pad[0];
        }
        uint64_t _start(void) { return down(0); }
        "#,
    );
    let out = run_elf(&elf, &Config::default(), &[]);
    assert_eq!(trap_of(&out).trap.kind(), "stack_overflow");
}

#[test]
fn unsupported_instruction_names_its_bytes() {
    let code = asm(|a| {
        a.nop()?;
        a.mark();
        a.db(&[0xc5, 0xf4, 0x58, 0xc2])?; // vaddps ymm0, ymm1, ymm2
        a.ret()
    });
    let enc = {
        let at = (code.mark(0) - CODE) as usize;
        code.bytes[at..at + 4].to_vec()
    };
    assert_eq!(enc, [0xc5, 0xf4, 0x58, 0xc2]);
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0), "{t}");
    match &t.trap {
        // The report carries the instruction's bytes (at least up to its opcode).
        Trap::UnsupportedInstruction { bytes } => {
            assert!(
                !bytes.is_empty() && enc.starts_with(&bytes[..bytes.len().min(4)]),
                "{t}"
            )
        }
        other => panic!("{other}"),
    }
    assert!(
        t.to_string().contains("unsupported_instruction: bytes c5"),
        "{t}"
    );
    // Disassembled by name, or shown as bytes when the decoder leaves VEX out.
    assert!(
        t.instruction.starts_with("vaddps") || t.instruction.contains("c5 f4 58 c2"),
        "{t}"
    );
}

#[test]
fn undecodable_bytes_trap_without_panicking() {
    // 0x06 (push es) does not exist in 64-bit mode; 0f 0b is ud2; 0f ff is ud0.
    for bytes in [
        &[0x06u8][..],
        &[0x0f, 0x0b],
        &[0xf0, 0x90],
        &[0x0f, 0xff, 0xc0],
        &[0x62],
    ] {
        let mut code = bytes.to_vec();
        code.push(0xc3);
        let out = run_elf(&program(&code, &[]).bytes(), &Config::default(), &[]);
        let t = trap_of(&out);
        assert_eq!(t.rip, CODE, "{t}");
        assert!(
            matches!(
                t.trap,
                Trap::UnsupportedInstruction { .. } | Trap::InvalidOpcode
            ),
            "{bytes:02x?}: {t}"
        );
    }
}

/// Emits one instruction.
type Emit = fn(&mut Asm) -> Result<(), IcedError>;

#[test]
fn ud2_hlt_int3() {
    let cases: [(&str, &str, Trap, Emit); 3] = [
        ("ud2", "invalid_opcode", Trap::InvalidOpcode, |a| a.ud2()),
        ("hlt", "halt", Trap::Halt, |a| a.hlt()),
        ("int3", "breakpoint", Trap::Breakpoint, |a| a.int3()),
    ];
    for (name, kind, trap, f) in cases {
        let code = asm(|a| {
            a.mov(eax, 1)?;
            a.mark();
            f(a)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = expect_trap(&out, trap, code.mark(0));
        assert_eq!(t.instruction, name);
        assert_eq!(t.trap.kind(), kind);
        assert!(out.output.is_empty());
    }
}

#[test]
fn division_by_zero_and_overflow() {
    let by_zero = asm(|a| {
        a.mov(eax, 10)?;
        a.xor(ecx, ecx)?;
        a.mark();
        a.div(rcx)?;
        a.ret()
    });
    let t = expect_trap(&run_code(&by_zero), Trap::DivisionByZero, by_zero.mark(0)).clone();
    report_names(&t, "div");

    let idiv_zero = asm(|a| {
        a.mov(eax, 10)?;
        a.xor(ecx, ecx)?;
        a.mark();
        a.idiv(ecx)?;
        a.ret()
    });
    expect_trap(
        &run_code(&idiv_zero),
        Trap::DivisionByZero,
        idiv_zero.mark(0),
    );

    // INT64_MIN / -1 does not fit.
    let min = asm(|a| {
        a.mov(rax, i64::MIN)?;
        a.cqo()?;
        a.mov(rcx, -1i64)?;
        a.mark();
        a.idiv(rcx)?;
        a.ret()
    });
    let t = expect_trap(&run_code(&min), Trap::DivisionOverflow, min.mark(0)).clone();
    report_names(&t, "idiv");

    // The same at 32 and 8 bits.
    let min32 = asm(|a| {
        a.mov(eax, i32::MIN)?;
        a.cdq()?;
        a.mov(ecx, -1)?;
        a.mark();
        a.idiv(ecx)?;
        a.ret()
    });
    expect_trap(&run_code(&min32), Trap::DivisionOverflow, min32.mark(0));
    let min8 = asm(|a| {
        a.mov(eax, -128)?;
        a.mov(cl, -1)?;
        a.mark();
        a.idiv(cl)?;
        a.ret()
    });
    expect_trap(&run_code(&min8), Trap::DivisionOverflow, min8.mark(0));

    // Unsigned: a quotient wider than 64 bits.
    let wide = asm(|a| {
        a.mov(edx, 1)?;
        a.xor(eax, eax)?;
        a.mov(ecx, 1)?;
        a.mark();
        a.div(rcx)?;
        a.ret()
    });
    expect_trap(&run_code(&wide), Trap::DivisionOverflow, wide.mark(0));

    // Division by a zero in memory.
    let mem = asm(|a| {
        a.mov(rax, DATA)?;
        a.mov(rcx, rax)?;
        a.mark();
        a.div(qword_ptr(rcx))?;
        a.ret()
    });
    expect_trap(&run_code(&mem), Trap::DivisionByZero, mem.mark(0));
}

#[test]
fn misaligned_movdqa_and_cmpxchg16b() {
    let aligned = asm(|a| {
        a.mov(rax, DATA + 16)?;
        a.movdqa(xmm0, xmmword_ptr(rax))?;
        a.movdqa(xmmword_ptr(rax + 16), xmm0)?;
        a.xor(eax, eax)?;
        a.ret()
    });
    assert_eq!(run_code(&aligned).status, Status::Success);

    let load = asm(|a| {
        a.mov(rax, DATA + 8)?;
        a.mark();
        a.movdqa(xmm0, xmmword_ptr(rax))?;
        a.ret()
    });
    let t = expect_trap(
        &run_code(&load),
        Trap::MisalignedAccess { addr: DATA + 8 },
        load.mark(0),
    )
    .clone();
    report_names(&t, "movdqa");

    let store = asm(|a| {
        a.mov(rax, DATA + 1)?;
        a.mark();
        a.movaps(xmmword_ptr(rax), xmm3)?;
        a.ret()
    });
    expect_trap(
        &run_code(&store),
        Trap::MisalignedAccess { addr: DATA + 1 },
        store.mark(0),
    );

    let cas = asm(|a| {
        a.mov(rsi, DATA + 8)?;
        a.mark();
        a.cmpxchg16b(xmmword_ptr(rsi))?;
        a.ret()
    });
    let t = expect_trap(
        &run_code(&cas),
        Trap::MisalignedAccess { addr: DATA + 8 },
        cas.mark(0),
    )
    .clone();
    report_names(&t, "cmpxchg16b");

    // Aligned cmpxchg16b works.
    let ok = asm(|a| {
        a.mov(rsi, DATA + 16)?;
        a.xor(eax, eax)?;
        a.xor(edx, edx)?;
        a.mov(ebx, 5)?;
        a.mov(ecx, 6)?;
        a.cmpxchg16b(xmmword_ptr(rsi))?;
        a.mov(rax, qword_ptr(rsi + 8))?;
        a.ret()
    });
    let out = run_code(&ok);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 6);
}

#[test]
fn invalid_host_call_numbers() {
    for n in [0x00u32, 0x03, 0x1f, 0x29, 0x80, 0xff] {
        let code = asm(|a| {
            a.mov(edi, 1)?;
            a.mark();
            a.int(n)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{t}");
        match &t.trap {
            Trap::InvalidHostCall { number, .. } => assert_eq!(*number as u32, n),
            other => panic!("int {n:#x}: {other}"),
        }
        report_names(t, "int");
    }
}

#[test]
fn syscall_is_refused_in_contract_mode() {
    let code = asm(|a| {
        a.mov(eax, 60)?;
        a.xor(edi, edi)?;
        a.mark();
        a.syscall()?;
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(&out, Trap::SyscallNotAllowed, code.mark(0));
    assert_eq!(t.instruction, "syscall");
}

#[test]
fn huge_rep_counts_run_out_of_gas_instead_of_hanging() {
    let start = std::time::Instant::now();
    for count in [u64::MAX, 1 << 40, 1 << 33] {
        for op in ["movsb", "stosq", "lodsb", "scasb", "cmpsb"] {
            let code = asm(|a| {
                a.mov(rsi, DATA)?;
                a.mov(rdi, DATA + 0x100)?;
                a.mov(rcx, count)?;
                a.mark();
                match op {
                    "movsb" => a.rep().movsb()?,
                    "stosq" => a.rep().stosq()?,
                    "lodsb" => a.rep().lodsb()?,
                    "scasb" => a.repe().scasb()?,
                    _ => a.repe().cmpsb()?,
                }
                a.ret()
            });
            // Small enough that even the per-iteration forms (repe over zeroed
            // data) run out before they reach the end of the data segment.
            let limit = 5_000;
            let out = run_code_with(&code, &gas(limit), &[]);
            let t = expect_trap(&out, Trap::OutOfGas, code.mark(0));
            assert!(t.instruction.starts_with("rep"), "{t}");
            assert_eq!(out.gas_used, limit);
        }
    }
    // With plenty of gas a huge count stops at the end of the writable memory.
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(rcx, 1u64 << 30)?;
        a.mark();
        a.rep().stosb()?;
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert!(matches!(t.trap, Trap::MemoryOutOfBounds { .. }), "{t}");
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

#[test]
fn host_call_arguments_outside_the_guest() {
    let near_top = u64::MAX - 7;
    // (service, rdi, rsi, rdx, expected kind)
    let cases: &[(u32, u64, u64, u64, &str)] = &[
        (0x24, near_top, 100, 0, "memory_out_of_bounds"), // debug
        (0x24, near_top, u64::MAX, 0, "limit_exceeded"),
        (0x24, DATA, u64::MAX - DATA + 1, 0, "limit_exceeded"), // ptr + len overflows
        (0x24, DATA, DATA_SIZE + 1, 0, "memory_out_of_bounds"), // runs off the data
        (0x22, near_top, 16, 0, "memory_out_of_bounds"),        // output
        (0x22, near_top, 1 << 63, 0, "limit_exceeded"),
        (0x22, 0x8000_0000_0000_0000, 8, 0, "memory_out_of_bounds"),
        (0x28, 0, 1, 0, "memory_out_of_bounds"), // finish
        (0x23, near_top, 9, 0, "memory_out_of_bounds"), // revert
        (0x21, near_top, 0, 16, "memory_out_of_bounds"), // input_read into nowhere
        (0x21, CODE, 0, 16, "write_to_readonly"), // input_read into code
        (0x26, DATA, 0, 0, "invalid_host_call"), // free of a foreign pointer
        (0x25, 16, 3, 0, "invalid_host_call"),   // alloc with a bad alignment
        (0x25, 16, 1 << 40, 0, "invalid_host_call"),
    ];
    for &(n, rdi_v, rsi_v, rdx_v, kind) in cases {
        let code = asm(|a| {
            a.mov(rdi, rdi_v)?;
            a.mov(rsi, rsi_v)?;
            a.mov(rdx, rdx_v)?;
            a.mark();
            a.int(n)?;
            a.ret()
        });
        let out = run_code_with(&code, &Config::default(), INPUT);
        let t = trap_of(&out);
        assert_eq!(
            t.trap.kind(),
            kind,
            "int {n:#x}({rdi_v:#x}, {rsi_v:#x}, {rdx_v:#x}): {t}"
        );
        assert_eq!(t.rip, code.mark(0), "{t}");
        assert!(out.debug.is_empty() && out.output.is_empty());
    }
}

#[test]
fn host_call_lengths_without_limits_do_not_allocate_or_panic() {
    // An embedder that lifts the limits still gets traps, not huge allocations.
    let cfg = Config {
        max_output: u64::MAX,
        max_debug: u64::MAX,
        gas_limit: u64::MAX,
        ..Config::default()
    };
    for (n, p, len) in [
        (0x22u32, DATA, u64::MAX),
        (0x24, DATA, 1u64 << 62),
        (0x24, u64::MAX, u64::MAX),
        (0x23, DATA + 8, u64::MAX - 8),
    ] {
        let code = asm(|a| {
            a.mov(rdi, p)?;
            a.mov(rsi, len)?;
            a.int(n)?;
            a.ret()
        });
        let out = run_code_with(&code, &cfg, &[]);
        let t = trap_of(&out);
        assert!(
            matches!(t.trap, Trap::MemoryOutOfBounds { .. } | Trap::OutOfGas),
            "int {n:#x}({p:#x}, {len:#x}): {t}"
        );
    }
}

#[test]
fn traps_mid_block_name_the_faulting_instruction() {
    let code = asm(|a| {
        a.mov(eax, 1)?;
        a.add(eax, 2)?;
        a.nop()?;
        a.mark();
        a.mov(qword_ptr(0x10), rax)?;
        a.add(eax, 3)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: 0x10,
            size: 8,
            access: Access::Write,
        },
        code.mark(0),
    );
    report_names(t, "mov");
    assert_eq!(out.rax, 3, "instructions before the fault ran, none after");
    // A faulting `ret` (the last instruction of its block).
    let code = asm(|a| {
        a.mov(rsp, 0x20u64)?;
        a.mark();
        a.ret()
    });
    let out = run_code(&code);
    let t = expect_trap(
        &out,
        Trap::MemoryOutOfBounds {
            addr: 0x20,
            size: 8,
            access: Access::Read,
        },
        code.mark(0),
    );
    assert_eq!(t.instruction, "ret");
}

#[test]
fn calling_a_null_function_pointer_is_not_success() {
    // Address 0 is the return sentinel of the entry call; reaching it any other way
    // (a null function pointer, a jump) must not count as a successful return.
    let code = asm(|a| {
        a.mov(eax, 42)?;
        a.xor(ecx, ecx)?;
        a.call(rcx)?;
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, 0);
    assert!(
        matches!(
            t.trap,
            Trap::MemoryOutOfBounds {
                addr: 0,
                access: Access::Execute,
                ..
            }
        ),
        "{t}"
    );
    let code = asm(|a| {
        a.push(rax)?;
        a.xor(ecx, ecx)?;
        a.jmp(rcx)
    });
    assert!(matches!(run_code(&code).status, Status::Trapped(_)));
    // A plain return is still success.
    let code = asm(|a| {
        a.mov(eax, 42)?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 42);
}

/// Random instruction streams: whatever the bytes, a run ends in a status, never
/// a panic, and never uses more gas than it was given.
#[test]
fn random_code_never_panics() {
    let mut state = 0x0bad_c0de_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    // Prefixes and opcodes that make the decoder and the memory paths work.
    let common: &[u8] = &[
        0x48, 0x49, 0x4c, 0x66, 0x67, 0xf2, 0xf3, 0x0f, 0x89, 0x8b, 0x01, 0x29, 0x31, 0xff, 0xf7,
        0xa4, 0xa5, 0xaa, 0xab, 0xae, 0xa6, 0xcd, 0xc3, 0xe8, 0xe9, 0x74, 0x75, 0x50, 0x58, 0x6f,
        0x7f, 0xc7, 0x04, 0x24, 0x44, 0x05, 0x25, 0x38, 0xb8, 0xb9, 0xc0, 0xd3, 0x99, 0x9c, 0x9d,
    ];
    let (mut traps, mut ok) = (0, 0);
    let rounds: usize = std::env::var("X64VM_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    for round in 0..rounds {
        let mut code = Vec::with_capacity(96);
        // Point a few registers at interesting places first.
        let regs = asm(|a| {
            a.mov(rax, DATA + (next() % 0x3000))?;
            a.mov(rbx, next() % 3 * (DATA / 2))?;
            a.mov(rcx, next() % 300)?;
            a.mov(rdx, next())?;
            a.mov(rsi, DATA + 0x100)?;
            a.mov(rdi, DATA + 0x1000)?;
            Ok(())
        });
        code.extend_from_slice(&regs.bytes);
        for _ in 0..64 {
            let r = next();
            code.push(if r % 3 == 0 {
                common[(r >> 8) as usize % common.len()]
            } else {
                (r >> 16) as u8
            });
        }
        let limit = 5_000;
        let elf = program(&code, &[]).bytes();
        let out = std::panic::catch_unwind(|| run_elf(&elf, &gas(limit), b"input"));
        match out {
            Ok(out) => {
                assert!(out.gas_used <= limit);
                match out.status {
                    Status::Trapped(_) => traps += 1,
                    _ => ok += 1,
                }
            }
            Err(_) => {
                let path = scratch("random_code").join(format!("crash-{round}.bin"));
                std::fs::write(&path, &code).unwrap();
                panic!(
                    "panic on random program {round}; code saved to {}",
                    path.display()
                );
            }
        }
    }
    assert!(traps > 0 && traps + ok == rounds);
}

#[test]
fn big_stack_frames_cannot_jump_the_guard_into_the_heap() {
    // Deep recursion of a function with a 20 KiB frame that touches the bottom of
    // its frame first: the overflow must fault, not land in the heap below.
    let code = asm(|a| {
        // A heap block, filled with a marker the overflow must not reach.
        a.mov(edi, 4096)?;
        a.xor(esi, esi)?;
        a.int(0x25)?;
        a.mov(r12, rax)?;
        let f = a.mark();
        a.sub(rsp, 20 * 1024)?;
        a.mov(qword_ptr(rsp), rsp)?;
        a.call(f)?;
        a.ret()
    });
    let cfg = Config {
        heap_size: 64 << 10,
        ..Config::default()
    };
    let (_, mut inst) = instance(&program(&code.bytes, &[]).bytes(), &cfg, &[]).unwrap();
    let (heap_end, low) = (inst.layout.heap_end, inst.layout.stack_low);
    let out = inst.run(&mut NoHost);
    let t = trap_of(&out);
    match t.trap {
        Trap::StackOverflow { addr } => assert!(addr < low && addr >= heap_end, "{t}"),
        ref other => panic!("expected stack_overflow, got {other} (heap end {heap_end:#x})"),
    }
    // Nothing in the heap was written.
    let heap = inst
        .mem
        .read_bytes(inst.layout.heap_start, heap_end - inst.layout.heap_start);
    assert!(heap.unwrap().iter().all(|&b| b == 0));
}

#[test]
fn read_from_a_write_only_segment() {
    // PF_W without PF_R maps a page that can be written but not read.
    let code = asm(|a| {
        a.mov(rax, DATA)?;
        a.mov(qword_ptr(rax), rax)?;
        a.mark();
        a.mov(rcx, qword_ptr(rax + 8))?;
        a.ret()
    });
    let mut spec = program(&code.bytes, &[]);
    spec.phs[1].flags = PF_W;
    let out = run_elf(&spec.bytes(), &Config::default(), &[]);
    let t = expect_trap(
        &out,
        Trap::ReadFromUnreadable { addr: DATA + 8 },
        code.mark(0),
    );
    report_names(t, "mov");
    // And through a host call reading it.
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 4)?;
        a.mark();
        a.int(0x24)?;
        a.ret()
    });
    let mut spec = program(&code.bytes, &[]);
    spec.phs[1].flags = PF_W;
    let out = run_elf(&spec.bytes(), &Config::default(), &[]);
    expect_trap(&out, Trap::ReadFromUnreadable { addr: DATA }, code.mark(0));
}

#[test]
fn host_call_traps_point_at_prefixed_int_and_syscall() {
    // `int` and `syscall` with (meaningless) prefixes are longer than two bytes; the
    // report must still start at the instruction, not inside it.
    for bytes in [
        &[0x48u8, 0xcd, 0x99][..],
        &[0x66, 0x48, 0xcd, 0x99],
        &[0x48, 0x0f, 0x05],
    ] {
        let code = asm(|a| {
            a.nop()?;
            a.mark();
            a.db(bytes)?;
            a.ret()
        });
        let out = run_code(&code);
        let t = trap_of(&out);
        assert_eq!(t.rip, code.mark(0), "{bytes:02x?}: {t}");
        assert!(
            matches!(
                t.trap,
                Trap::InvalidHostCall { number: 0x99, .. } | Trap::SyscallNotAllowed
            ),
            "{t}"
        );
    }
}
