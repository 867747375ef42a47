//! The host-call boundary: the core services the VM serves itself, custom hosts,
//! and the configured limits at and one past their boundary.

mod vmkit;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::host::{GAS_HOST_CALL_BASE, GAS_PER_HEAP_PAGE};
use x64vm::ir::Op;
use x64vm::{Config, Env, Flow, Host, LoadError, NoHost, Status, Trap};
use x64vm_abi as abi;

const INPUT: &[u8] = b"0123456789abcdef";
/// Where scripts keep the results of their calls.
const RESULTS: u64 = DATA + 0x2000;

/// One host call: service number and RDI, RSI, RDX.
type Call = (u8, u64, u64, u64);

/// A program making `calls` in order, storing each RAX at RESULTS + 8k, then
/// setting the output to those results and returning.
fn script(calls: &[Call]) -> Code {
    asm(|a| {
        for (k, &(n, x, y, z)) in calls.iter().enumerate() {
            a.mov(rdi, x)?;
            a.mov(rsi, y)?;
            a.mov(rdx, z)?;
            a.int(n as u32)?;
            a.mov(rcx, RESULTS + 8 * k as u64)?;
            a.mov(qword_ptr(rcx), rax)?;
        }
        a.mov(rdi, RESULTS)?;
        a.mov(rsi, 8 * calls.len() as u64)?;
        a.int(abi::OUTPUT as u32)?;
        a.ret()
    })
}

fn results(out: &x64vm::Outcome) -> Vec<u64> {
    assert_eq!(out.status, Status::Success, "{:?}", out.status);
    out.output
        .chunks(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn run_script(calls: &[Call], data: &[u8], config: &Config, input: &[u8]) -> x64vm::Outcome {
    let code = script(calls);
    run_elf(&program(&code.bytes, data).bytes(), config, input)
}

#[test]
fn input_len_and_input_read_with_offsets_past_the_end() {
    let d = DATA + 0x100;
    let calls = [
        (abi::INPUT_LEN, 0, 0, 0),
        (abi::INPUT_READ, d, 4, 8),
        (abi::INPUT_READ, d + 0x40, 12, 8), // clipped to 4
        (abi::INPUT_READ, d + 0x80, 16, 8), // at the end: 0
        (abi::INPUT_READ, d + 0x80, 17, 8), // past the end: 0
        (abi::INPUT_READ, d + 0x80, u64::MAX, u64::MAX),
        (abi::INPUT_READ, d + 0x80, 3, 0),        // nothing asked
        (abi::INPUT_READ, d + 0xc0, 3, u64::MAX), // all that is left
        (abi::INPUT_READ, u64::MAX, 16, 1),       // nothing to copy: dst is not touched
    ];
    let out = run_script(&calls, &[], &Config::default(), INPUT);
    assert_eq!(results(&out), [16, 8, 4, 0, 0, 0, 0, 13, 0]);

    // The copies landed where asked.
    let code = asm(|a| {
        for &(n, x, y, z) in &calls[1..3] {
            a.mov(rdi, x)?;
            a.mov(rsi, y)?;
            a.mov(rdx, z)?;
            a.int(n as u32)?;
        }
        a.mov(rdi, d)?;
        a.mov(esi, 0x48)?;
        a.int(abi::OUTPUT as u32)?;
        a.ret()
    });
    let out = run_code_with(&code, &Config::default(), INPUT);
    assert_eq!(&out.output[..8], b"456789ab");
    assert_eq!(&out.output[0x40..0x44], b"cdef");
    assert_eq!(&out.output[0x44..], [0; 4], "nothing copied past the input");

    // Empty input.
    let out = run_script(&calls[..2], &[], &Config::default(), &[]);
    assert_eq!(results(&out), [0, 0]);
}

#[test]
fn output_replaces_and_defaults_to_rax() {
    let data = b"hello, world";
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 5)?;
        a.int(abi::OUTPUT as u32)?;
        a.mov(rdi, DATA + 7)?;
        a.mov(esi, 5)?;
        a.int(abi::OUTPUT as u32)?;
        a.mov(eax, 99)?;
        a.ret()
    });
    let out = run_elf(&program(&code.bytes, data).bytes(), &Config::default(), &[]);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.output, b"world");
    assert!(out.output_set);
    assert_eq!(out.rax, 99);

    // Empty output is still "set".
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.xor(esi, esi)?;
        a.int(abi::OUTPUT as u32)?;
        a.ret()
    });
    let out = run_code(&code);
    assert!(out.output_set && out.output.is_empty());

    // No output: RAX, little-endian.
    let code = asm(|a| {
        a.mov(rax, 0x0102_0304_0506_0708u64)?;
        a.ret()
    });
    let out = run_code(&code);
    assert!(!out.output_set);
    assert_eq!(out.output, 0x0102_0304_0506_0708u64.to_le_bytes());
}

#[test]
fn finish_stops_at_once() {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 3)?;
        a.int(abi::FINISH as u32)?;
        a.ud2()?;
        a.ret()
    });
    let out = run_elf(
        &program(&code.bytes, b"abc").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.output, b"abc");
    assert!(out.output_set);
    // finish deep in a call chain, with the stack far from its top.
    let code = asm(|a| {
        let mut f = a.create_label();
        a.call(f)?;
        a.ud2()?;
        a.set_label(&mut f)?;
        a.push(rbx)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 2)?;
        a.int(abi::FINISH as u32)?;
        a.ud2()
    });
    let out = run_elf(
        &program(&code.bytes, b"ok").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!((out.status, out.output), (Status::Success, b"ok".to_vec()));
}

#[test]
fn revert_reports_its_data() {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 2)?;
        a.int(abi::OUTPUT as u32)?; // replaced by the revert data
        a.mov(rdi, DATA + 2)?;
        a.mov(esi, 4)?;
        a.int(abi::REVERT as u32)?;
        a.ud2()?;
        a.ret()
    });
    let out = run_elf(
        &program(&code.bytes, b"okfail").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!(out.status, Status::Reverted);
    assert_eq!(out.status.name(), "reverted");
    assert_eq!(out.output, b"fail");
    assert!(out.output_set);
    assert!(out.gas_used > 0);
    // Empty revert data.
    let code = asm(|a| {
        a.xor(edi, edi)?;
        a.xor(esi, esi)?;
        a.int(abi::REVERT as u32)?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!(out.status, Status::Reverted);
    assert!(out.output.is_empty());
}

#[test]
fn debug_appends_and_survives_traps() {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 3)?;
        a.int(abi::DEBUG as u32)?;
        a.mov(rdi, DATA + 3)?;
        a.mov(esi, 3)?;
        a.int(abi::DEBUG as u32)?;
        a.xor(edi, edi)?;
        a.xor(esi, esi)?;
        a.int(abi::DEBUG as u32)?; // empty: a null pointer is fine
        a.ud2()
    });
    let out = run_elf(
        &program(&code.bytes, b"foobar").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!(trap_of(&out).trap, Trap::InvalidOpcode);
    assert_eq!(
        out.debug, b"foobar",
        "debug output is kept when the run traps"
    );
    assert!(out.output.is_empty());
}

#[test]
fn alloc_alignment_and_use() {
    let (_, inst) = instance(&program(&[0xc3], &[]).bytes(), &Config::default(), &[]).unwrap();
    let (heap_start, heap_end) = (inst.layout.heap_start, inst.layout.heap_end);
    let calls = [
        (abi::ALLOC, 10, 0, 0),
        (abi::ALLOC, 100, 64, 0),
        (abi::ALLOC, 1, 4096, 0),
        (abi::ALLOC, 0, 0, 0),
        (abi::ALLOC, 24, 1, 0),
        (abi::ALLOC, 8, 1 << 20, 0),
    ];
    let out = run_script(&calls, &[], &Config::default(), &[]);
    let ptrs = results(&out);
    let aligns = [16u64, 64, 4096, 16, 16, 1 << 20];
    for (p, align) in ptrs.iter().zip(aligns) {
        assert!(*p >= heap_start && *p < heap_end, "{p:#x} in the heap");
        assert_eq!(p % align, 0, "{p:#x} aligned to {align}");
    }
    let mut sorted = ptrs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ptrs.len(), "distinct allocations");

    // Allocated memory is writable and readable.
    let code = asm(|a| {
        a.mov(edi, 64)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(rbx, rax)?;
        a.mov(qword_ptr(rbx + 56), 0x1234)?;
        a.mov(rax, qword_ptr(rbx + 56))?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!((out.status, out.rax), (Status::Success, 0x1234));
}

#[test]
fn alloc_exhaustion_returns_zero() {
    let mib = 1u64 << 20;
    let cfg = Config {
        heap_size: 4 * mib,
        ..Config::default()
    };
    let mut calls = vec![(abi::ALLOC, mib, 0, 0); 5];
    calls.push((abi::ALLOC, 16, 0, 0)); // nothing left at all
    calls.push((abi::FREE, 0, 0, 0)); // free(0) is a no-op
    let out = run_script(&calls, &[], &cfg, &[]);
    let r = results(&out);
    assert!(r[..4].iter().all(|&p| p != 0), "{r:x?}");
    assert_eq!(r[4], 0, "the fifth MiB does not fit");
    assert_eq!(r[5], 0);
    assert_eq!(r[6], 0);

    // Sizes that cannot fit, with and without freed blocks around (first fit must
    // not wrap when it adds the size).
    let huge = [
        u64::MAX,
        u64::MAX - 20,
        u64::MAX - 4096,
        1 << 63,
        4 * mib + 1,
    ];
    let code = asm(|a| {
        a.mov(edi, 64)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(r12, rax)?;
        a.mov(edi, 64)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?; // keeps the first block below the top
        a.mov(rdi, r12)?;
        a.int(abi::FREE as u32)?;
        a.xor(r13, r13)?;
        for &size in &huge {
            for align in [0u64, 4096] {
                a.mov(rdi, size)?;
                a.mov(rsi, align)?;
                a.int(abi::ALLOC as u32)?;
                a.or(r13, rax)?;
            }
        }
        a.mov(rax, r13)?;
        a.ret()
    });
    let out = run_code_with(&code, &cfg, &[]);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 0, "every impossible allocation returned 0");
}

#[test]
fn free_reuses_and_double_free_traps() {
    let calls = [(abi::ALLOC, 256, 0, 0), (abi::ALLOC, 256, 0, 0)];
    let out = run_script(&calls, &[], &Config::default(), &[]);
    let first = results(&out)[0];

    let code = asm(|a| {
        a.mov(edi, 256)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(rbx, rax)?;
        a.mov(edi, 256)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(rdi, rbx)?;
        a.int(abi::FREE as u32)?;
        a.mov(edi, 128)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?; // reuses the freed block
        a.mov(r12, rax)?;
        a.mov(rdi, rax)?;
        a.int(abi::FREE as u32)?;
        a.mov(rdi, r12)?;
        a.mark();
        a.int(abi::FREE as u32)?; // double free
        a.ret()
    });
    let out = run_code(&code);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    match &t.trap {
        Trap::InvalidHostCall { number, reason } => {
            assert_eq!(*number, abi::FREE);
            assert!(reason.contains(&format!("{first:#x}")), "{reason}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(out.rax, 0, "free returned 0 before");

    // Interior and foreign pointers are refused the same way.
    for delta in [8u64, 16] {
        let code = asm(|a| {
            a.mov(edi, 256)?;
            a.xor(esi, esi)?;
            a.int(abi::ALLOC as u32)?;
            a.lea(rdi, qword_ptr(rax + delta as i32))?;
            a.int(abi::FREE as u32)?;
            a.ret()
        });
        assert_eq!(trap_of(&run_code(&code)).trap.kind(), "invalid_host_call");
    }
}

/// Gas of a program that allocates `sizes` (no frees), then returns.
fn alloc_gas(sizes: &[u64], free_between: bool, cfg: &Config) -> x64vm::Outcome {
    let code = asm(|a| {
        for &s in sizes {
            a.mov(rdi, s)?;
            a.xor(esi, esi)?;
            a.int(abi::ALLOC as u32)?;
            if free_between {
                a.mov(rdi, rax)?;
                a.int(abi::FREE as u32)?;
            } else {
                a.nop()?;
                a.nop()?;
                a.nop()?;
            }
        }
        a.ret()
    });
    run_code_with(&code, cfg, &[])
}

#[test]
fn heap_growth_costs_gas() {
    let cfg = Config::default();
    let small = alloc_gas(&[16], false, &cfg);
    let big = alloc_gas(&[1 << 20], false, &cfg);
    assert_eq!(small.status, Status::Success);
    assert_eq!(big.status, Status::Success);
    // 1 page versus 256 pages touched for the first time.
    assert_eq!(big.gas_used - small.gas_used, 255 * GAS_PER_HEAP_PAGE);
    // Allocating into pages already paid for costs no growth gas.
    let twice = alloc_gas(&[16, 16], false, &cfg);
    let once_more = twice.gas_used - small.gas_used;
    assert_eq!(
        once_more,
        small.gas_used - alloc_gas(&[], false, &cfg).gas_used - GAS_PER_HEAP_PAGE
    );
    // Freed and reallocated: the pages were paid for the first time only.
    let reuse = alloc_gas(&[1 << 20, 1 << 20], true, &cfg);
    let single = alloc_gas(&[1 << 20], true, &cfg);
    let per_call = single.gas_used - alloc_gas(&[], true, &cfg).gas_used;
    assert_eq!(
        reuse.gas_used - single.gas_used,
        per_call - 256 * GAS_PER_HEAP_PAGE
    );

    // Growth that cannot be paid for runs out of gas, consuming everything.
    let limit = big.gas_used - 1;
    let out = alloc_gas(&[1 << 20], false, &gas(limit));
    assert_eq!(trap_of(&out).trap, Trap::OutOfGas);
    assert_eq!(out.gas_used, limit);
    assert_eq!(
        alloc_gas(&[1 << 20], false, &gas(big.gas_used)).status,
        Status::Success
    );
}

#[test]
fn gas_left_decreases() {
    let code = asm(|a| {
        a.int(abi::GAS_LEFT as u32)?;
        a.mov(rbx, rax)?;
        a.nop()?;
        a.int(abi::GAS_LEFT as u32)?;
        a.sub(rbx, rax)?;
        a.mov(rcx, RESULTS)?;
        a.mov(qword_ptr(rcx), rbx)?;
        a.mov(qword_ptr(rcx + 8), rax)?;
        a.mov(rdi, rcx)?;
        a.mov(esi, 16)?;
        a.int(abi::OUTPUT as u32)?;
        a.ret()
    });
    let limit = 1_000_000;
    let out = run_code_with(&code, &gas(limit), &[]);
    let r = results(&out);
    let first_block = Op::Int.gas();
    let second_block = Op::Mov.gas() + Op::Nop.gas() + Op::Int.gas();
    let first = limit - first_block - GAS_HOST_CALL_BASE;
    assert_eq!(
        r[0],
        second_block + GAS_HOST_CALL_BASE,
        "the difference is exactly what ran"
    );
    assert_eq!(r[1], first - r[0]);
}

/// A host that records what it is asked and serves one extra service.
#[derive(Default)]
struct Recorder {
    calls: Vec<(u8, [u64; 6])>,
    syscalls: u32,
}

impl Host for Recorder {
    fn interrupt(&mut self, number: u8, env: &mut Env<'_>) -> Result<Flow, Trap> {
        self.calls
            .push((number, std::array::from_fn(|k| env.arg(k))));
        match number {
            // echo(src, len, dst): copy guest bytes, upper-cased.
            0x40 => {
                let bytes = env.read(env.arg(0), env.arg(1))?;
                let up: Vec<u8> = bytes.to_ascii_uppercase();
                env.write(env.arg(2), &up)?;
                env.set_result(up.len() as u64);
                Ok(Flow::Continue)
            }
            0x41 => Ok(Flow::Finish),
            0x42 => {
                env.set_revert(b"host says no".to_vec());
                Ok(Flow::Revert)
            }
            0x43 => Err(Trap::HostError("storage unavailable".into())),
            0x44 => {
                env.charge(u64::MAX)?;
                Ok(Flow::Continue)
            }
            _ => Err(Trap::InvalidHostCall {
                number,
                reason: "no such service".into(),
            }),
        }
    }

    fn syscall(&mut self, env: &mut Env<'_>) -> Result<Flow, Trap> {
        self.syscalls += 1;
        env.set_result(env.cpu.gpr[0] + 1000);
        Ok(Flow::Continue)
    }
}

#[test]
fn custom_host_receives_unknown_services_with_arguments() {
    let code = asm(|a| {
        a.mov(rdi, 1u64)?;
        a.mov(rsi, 2u64)?;
        a.mov(rdx, 3u64)?;
        a.mov(rcx, 4u64)?;
        a.mov(r8, 5u64)?;
        a.mov(r9, 6u64)?;
        a.int(0x99)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 5)?;
        a.mov(rdx, DATA + 0x100)?;
        a.int(0x40)?;
        a.mov(rbx, rax)?;
        a.mov(eax, 7)?;
        a.syscall()?;
        a.add(rbx, rax)?;
        a.int(abi::GAS_LEFT as u32)?; // served by the VM, never reaches the host
        a.mov(rdi, DATA + 0x100)?;
        a.mov(esi, 5)?;
        a.int(abi::OUTPUT as u32)?;
        a.mov(rax, rbx)?;
        a.ret()
    });
    let elf = program(&code.bytes, b"hello").bytes();
    let mut host = Recorder::default();
    let out = run_elf_with(&elf, &Config::default(), &[], &mut host);
    // 0x99 is refused by the recorder: the run traps there.
    assert_eq!(trap_of(&out).trap.kind(), "invalid_host_call");
    assert_eq!(host.calls, [(0x99, [1, 2, 3, 4, 5, 6])]);

    // Without the refused call the rest runs.
    let code2 = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 5)?;
        a.mov(rdx, DATA + 0x100)?;
        a.int(0x40)?;
        a.mov(rbx, rax)?;
        a.mov(eax, 7)?;
        a.syscall()?;
        a.add(rbx, rax)?;
        a.int(abi::GAS_LEFT as u32)?;
        a.mov(rdi, DATA + 0x100)?;
        a.mov(esi, 5)?;
        a.int(abi::OUTPUT as u32)?;
        a.mov(rax, rbx)?;
        a.ret()
    });
    let elf = program(&code2.bytes, b"hello").bytes();
    let mut host = Recorder::default();
    let out = run_elf_with(&elf, &Config::default(), &[], &mut host);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.output, b"HELLO");
    assert_eq!(out.rax, 5 + 1007);
    assert_eq!(
        host.calls.len(),
        1,
        "core services are not passed on: {:?}",
        host.calls
    );
    assert_eq!(host.calls[0].0, 0x40);
    assert_eq!(host.syscalls, 1);
}

#[test]
fn custom_host_flows_and_errors() {
    let one = |n: u32| {
        let code = asm(|a| {
            a.mov(eax, 3)?;
            a.mark();
            a.int(n)?;
            a.ud2()
        });
        let mut host = Recorder::default();
        let out = run_code_with_host(&code, &mut host);
        (code, out)
    };
    let (_, out) = one(0x41);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 3);
    let (_, out) = one(0x42);
    assert_eq!(out.status, Status::Reverted);
    assert_eq!(out.output, b"host says no");
    let (code, out) = one(0x43);
    let t = expect_trap(
        &out,
        Trap::HostError("storage unavailable".into()),
        code.mark(0),
    );
    assert!(
        t.to_string().contains("host_error: storage unavailable"),
        "{t}"
    );
    assert!(t.instruction.starts_with("int"));
    let (code, out) = one(0x44);
    expect_trap(&out, Trap::OutOfGas, code.mark(0));
    assert_eq!(out.gas_used, Config::default().gas_limit);
    // A host fault reading guest memory is reported at the int.
    let code = asm(|a| {
        a.mov(rdi, u64::MAX)?;
        a.mov(esi, 2)?;
        a.mark();
        a.int(0x40)?;
        a.ret()
    });
    let out = run_code_with_host(&code, &mut Recorder::default());
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert_eq!(t.trap.kind(), "memory_out_of_bounds");
}

fn run_code_with_host(code: &Code, host: &mut dyn Host) -> x64vm::Outcome {
    run_elf_with(
        &program(&code.bytes, &[]).bytes(),
        &Config::default(),
        &[],
        host,
    )
}

fn out_call(n: u8, len: u64, cfg: &Config) -> x64vm::Outcome {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(rsi, len)?;
        a.int(n as u32)?;
        a.ret()
    });
    run_code_with(&code, cfg, &[])
}

#[test]
fn max_output_at_and_past_the_boundary() {
    let cfg = Config {
        max_output: 100,
        ..Config::default()
    };
    for n in [abi::OUTPUT, abi::FINISH, abi::REVERT] {
        let out = out_call(n, 100, &cfg);
        assert!(
            matches!(out.status, Status::Success | Status::Reverted),
            "{:?}",
            out.status
        );
        assert_eq!(out.output.len(), 100);
        let out = out_call(n, 101, &cfg);
        let t = trap_of(&out);
        assert_eq!(t.trap.kind(), "limit_exceeded", "{t}");
        assert!(t.to_string().contains("101"), "{t}");
        assert!(out.output.is_empty());
    }
    let zero = Config {
        max_output: 0,
        ..Config::default()
    };
    assert_eq!(out_call(abi::OUTPUT, 0, &zero).status, Status::Success);
    assert_eq!(
        trap_of(&out_call(abi::OUTPUT, 1, &zero)).trap.kind(),
        "limit_exceeded"
    );
}

#[test]
fn max_debug_is_cumulative() {
    let cfg = Config {
        max_debug: 100,
        ..Config::default()
    };
    let run = |lens: &[u64]| {
        let code = asm(|a| {
            for &l in lens {
                a.mov(rdi, DATA)?;
                a.mov(rsi, l)?;
                a.int(abi::DEBUG as u32)?;
            }
            a.ret()
        });
        run_code_with(&code, &cfg, &[])
    };
    let out = run(&[100]);
    assert_eq!((out.status, out.debug.len()), (Status::Success, 100));
    let out = run(&[60, 40]);
    assert_eq!((out.status, out.debug.len()), (Status::Success, 100));
    let out = run(&[101]);
    assert_eq!(trap_of(&out).trap.kind(), "limit_exceeded");
    let out = run(&[60, 40, 1]);
    assert_eq!(trap_of(&out).trap.kind(), "limit_exceeded");
    assert_eq!(out.debug.len(), 100, "what was accepted is kept");
    let out = run(&[60, 40, 0]);
    assert_eq!(
        out.status,
        Status::Success,
        "an empty append at the limit is fine"
    );
}

#[test]
fn max_input_at_and_past_the_boundary() {
    let elf = program(&[0xc3], &[]).bytes();
    let image = x64vm::load_elf(&elf, true).unwrap();
    let cfg = Config {
        max_input: 64,
        ..Config::default()
    };
    assert!(x64vm::Instance::new(&image, &cfg, &[7; 64]).is_ok());
    match x64vm::Instance::new(&image, &cfg, &[7; 65]) {
        Err(LoadError::TooLarge(m)) => assert!(m.contains("65"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A large accepted input is fully readable through the service.
    let big = vec![0xabu8; 3 * 4096 + 5];
    let code = asm(|a| {
        a.int(abi::INPUT_LEN as u32)?;
        a.movzx(ecx, byte_ptr(rdi + (big.len() as i32 - 1)))?;
        a.add(rax, rcx)?;
        a.ret()
    });
    let out = run_code_with(&code, &Config::default(), &big);
    assert_eq!(out.rax, big.len() as u64 + 0xab);
}

#[test]
fn copies_across_the_boundary_cost_gas_per_32_bytes() {
    let with = |len: u64| out_call(abi::DEBUG, len, &Config::default()).gas_used;
    let base = with(0);
    assert_eq!(with(1) - base, 1);
    assert_eq!(with(32) - base, 1);
    assert_eq!(with(33) - base, 2);
    assert_eq!(with(4096) - base, 128);
}

#[test]
fn each_call_starts_clean() {
    // Output, revert data and debug output belong to one call, not the instance.
    let code = asm(|a| {
        let mut quiet = a.create_label();
        a.test(rdi, rdi)?;
        a.jz(quiet)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 3)?;
        a.int(abi::DEBUG as u32)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 3)?;
        a.int(abi::OUTPUT as u32)?;
        a.set_label(&mut quiet)?;
        a.mov(eax, 5)?;
        a.ret()
    });
    let elf = program(&code.bytes, b"abc").bytes();
    let image = x64vm::load_elf(&elf, true).unwrap();
    let mut inst = x64vm::Instance::new(&image, &Config::default(), &[]).unwrap();
    inst.prepare_call(image.entry, &[1]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(
        (out.output.as_slice(), out.debug.as_slice()),
        (&b"abc"[..], &b"abc"[..])
    );
    inst.prepare_call(image.entry, &[0]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.status, Status::Success);
    assert!(!out.output_set, "the second call set no output");
    assert_eq!(out.output, 5u64.to_le_bytes());
    assert!(out.debug.is_empty());
}

#[test]
fn a_fragmented_heap_makes_alloc_pay_for_its_search() {
    // Allocate `n` 16-byte blocks, free every other one (so none coalesce), then ask
    // for a block that fits none of the holes: first fit examines every hole, and
    // that work is paid for, so fragmentation cannot buy host time below cost.
    let frag = |n: u32, tries: u32| {
        let code = asm(|a| {
            let mut fill = a.create_label();
            let mut punch = a.create_label();
            let mut ask = a.create_label();
            a.mov(r12, RESULTS)?;
            a.mov(r13d, n)?;
            a.set_label(&mut fill)?;
            a.mov(edi, 16)?;
            a.xor(esi, esi)?;
            a.int(abi::ALLOC as u32)?;
            a.mov(qword_ptr(r12), rax)?;
            a.add(r12, 8)?;
            a.dec(r13d)?;
            a.jnz(fill)?;
            a.mov(r12, RESULTS)?;
            a.mov(r13d, n / 2)?;
            a.set_label(&mut punch)?;
            a.mov(rdi, qword_ptr(r12))?;
            a.int(abi::FREE as u32)?;
            a.add(r12, 16)?;
            a.dec(r13d)?;
            a.jnz(punch)?;
            a.mov(r13d, tries)?;
            a.set_label(&mut ask)?;
            a.mov(edi, 32)?;
            a.xor(esi, esi)?;
            a.int(abi::ALLOC as u32)?;
            a.dec(r13d)?;
            a.jnz(ask)?;
            a.ret()
        });
        let cfg = Config {
            heap_size: 16 << 20,
            ..Config::default()
        };
        let mut spec = program(&code.bytes, &[]);
        spec.phs[1].memsz = 0x20_0000; // room for the pointer list at RESULTS
        run_elf(&spec.bytes(), &cfg, &[])
    };
    let a = frag(2000, 1);
    let b = frag(2000, 11);
    assert_eq!(a.status, Status::Success);
    assert_eq!(b.status, Status::Success);
    // Each further request walked 1000 holes (the first 32-byte fit is past them)
    // and costs at least that much more than the fixed part of a call.
    let per_request = (b.gas_used - a.gas_used) / 10;
    assert!(
        per_request >= 1000,
        "a request over 1000 holes cost only {per_request}"
    );
    let c = frag(4000, 11);
    let d = frag(4000, 1);
    assert!((c.gas_used - d.gas_used) / 10 >= 2000);
}
