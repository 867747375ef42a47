//! Every limit of the VM, each at its boundary (accepted) and one past it
//! (refused with its own, named trap or load error):
//!
//! | limit | past it |
//! |---|---|
//! | gas | `out_of_gas`, all gas consumed |
//! | memory (`memory_limit`) | `LoadError::TooLarge` at instantiation; the heap returns 0 |
//! | stack depth (the guard region) | `stack_overflow` |
//! | output size (`max_output`) | `limit_exceeded: output ...` |
//! | debug size (`max_debug`, cumulative) | `limit_exceeded: debug output ...` |
//! | input size (`max_input`) | `LoadError::TooLarge` |
//! | code size at load (`max_code_size`) | `LoadError::TooLarge` |
//! | instructions per block (`MAX_BLOCK_INSTS`) | the block is split; gas stays exact |
//!
//! The chain limits (storage key and value size, event count and size, call depth)
//! belong to the runtime crate and are tested there.

mod vmkit;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::host::GAS_HOST_CALL_BASE;
use x64vm::interp::MAX_BLOCK_INSTS;
use x64vm::ir::Op;
use x64vm::loader::load_elf_with;
use x64vm::{Config, Instance, LoadError, NoHost, Status, Trap, load_elf};
use x64vm_abi as abi;

fn too_large(r: Result<impl std::fmt::Debug, LoadError>, needle: &str) {
    match r {
        Err(LoadError::TooLarge(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected TooLarge naming {needle:?}, got {other:?}"),
    }
}

fn limit_trap(out: &x64vm::Outcome, needle: &str) {
    let t = trap_of(out);
    match &t.trap {
        Trap::LimitExceeded(m) => assert!(m.contains(needle), "{t}"),
        other => panic!("expected limit_exceeded naming {needle:?}, got {other}"),
    }
}

#[test]
fn gas_exact_limit_and_one_less() {
    // mov, int gas_left (a host call: block cost plus the base charge), ret.
    let code = asm(|a| {
        a.mov(eax, 5)?;
        a.int(abi::GAS_LEFT as u32)?;
        a.ret()
    });
    let need = Op::Mov.gas() + Op::Int.gas() + GAS_HOST_CALL_BASE + Op::Ret.gas();
    let out = run_code_with(&code, &gas(need), &[]);
    assert_eq!((out.status, out.gas_used), (Status::Success, need));
    assert_eq!(out.rax, Op::Ret.gas(), "gas_left after the call's charges");
    // One short: the last block (the `ret`) cannot be paid for.
    let out = run_code_with(&code, &gas(need - 1), &[]);
    let t = trap_of(&out);
    assert_eq!(t.trap, Trap::OutOfGas);
    assert_eq!(out.gas_used, need - 1, "out of gas consumes everything");
    // Short by the host-call base: the `int` itself runs out.
    let short = Op::Mov.gas() + Op::Int.gas() + GAS_HOST_CALL_BASE - 1;
    let out = run_code_with(&code, &gas(short), &[]);
    assert_eq!(trap_of(&out).trap, Trap::OutOfGas);
    assert_eq!(trap_of(&out).instruction, "int 27h");
    assert_eq!(out.gas_used, short);
    // Zero gas: nothing runs.
    let out = run_code_with(&code, &gas(0), &[]);
    assert_eq!(
        (trap_of(&out).trap.clone(), out.gas_used),
        (Trap::OutOfGas, 0)
    );
}

/// The address space an instance of `elf` needs under `cfg`.
fn needed(elf: &[u8], cfg: &Config) -> u64 {
    let image = load_elf(elf, true).unwrap();
    let big = Config {
        memory_limit: u64::MAX,
        ..cfg.clone()
    };
    let inst = Instance::new(&image, &big, &[]).unwrap();
    inst.layout.stack_top - image.low()
}

#[test]
fn memory_limit_exact_and_one_page_less() {
    let elf = program(&[0xc3], &[]).bytes();
    let image = load_elf(&elf, true).unwrap();
    for (heap, stack) in [(64 << 10, 64 << 10), (16 << 20, 1 << 20), (0, 4096)] {
        let cfg = Config {
            heap_size: heap,
            stack_size: stack,
            ..Config::default()
        };
        let need = needed(&elf, &cfg);
        let at = Config {
            memory_limit: need,
            ..cfg.clone()
        };
        let mut inst = Instance::new(&image, &at, &[]).expect("exactly the limit");
        inst.prepare_call(image.entry, &[]).unwrap();
        assert_eq!(inst.run(&mut NoHost).status, Status::Success);
        let past = Config {
            memory_limit: need - 1,
            ..cfg
        };
        too_large(Instance::new(&image, &past, &[]), "limit");
    }
}

#[test]
fn heap_exact_size_and_one_byte_more() {
    let heap = 64u64 << 10;
    let cfg = Config {
        heap_size: heap,
        ..Config::default()
    };
    // alloc(size) -> rax; store a byte at its last address when non-zero.
    let alloc = |sizes: &[u64]| {
        let code = asm(|a| {
            for &s in sizes {
                a.mov(rdi, s)?;
                a.xor(esi, esi)?;
                a.int(abi::ALLOC as u32)?;
            }
            a.ret()
        });
        run_code_with(&code, &cfg, &[])
    };
    let out = alloc(&[heap]);
    assert_eq!(out.status, Status::Success);
    assert_ne!(out.rax, 0, "the whole heap in one block");
    assert_eq!(alloc(&[heap + 1]).rax, 0, "one byte more is refused with 0");
    assert_eq!(
        alloc(&[heap, 1]).rax,
        0,
        "nothing left after the whole heap"
    );
    assert_ne!(alloc(&[heap - 16, 16]).rax, 0, "the last granule fits");
    assert_eq!(alloc(&[u64::MAX]).rax, 0);
    // Writing the last heap byte works; the page after it is unmapped.
    let code = asm(|a| {
        a.mov(rdi, heap)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(rcx, heap - 1)?;
        a.mov(byte_ptr(rax + rcx), 1)?;
        a.mark();
        a.mov(byte_ptr(rax + rcx + 1), 1)?;
        a.ret()
    });
    let (_, mut inst) = instance(&program(&code.bytes, &[]).bytes(), &cfg, &[]).unwrap();
    let end = inst.layout.heap_end;
    let out = inst.run(&mut NoHost);
    let t = trap_of(&out);
    assert_eq!(t.rip, code.mark(0));
    assert!(
        matches!(t.trap, Trap::MemoryOutOfBounds { addr, .. } if addr == end),
        "{t}"
    );
}

/// `f(n)` recurses `n` levels deep, 16 bytes of stack per level.
fn recursion() -> Code {
    asm(|a| {
        let mut f = a.create_label();
        let mut done = a.create_label();
        a.call(f)?;
        a.ret()?;
        a.set_label(&mut f)?;
        a.dec(rdi)?;
        a.jz(done)?;
        a.push(rbx)?;
        a.call(f)?;
        a.pop(rbx)?;
        a.mark_label(&mut done);
        a.ret()
    })
}

#[test]
fn stack_depth_exact_and_one_frame_more() {
    let code = recursion();
    let elf = program(&code.bytes, &[]).bytes();
    for stack in [4096u64, 64 << 10, 1 << 20] {
        let cfg = Config {
            stack_size: stack,
            ..Config::default()
        };
        let image = load_elf(&elf, true).unwrap();
        let run = |n: u64| {
            let mut inst = Instance::new(&image, &cfg, &[]).unwrap();
            inst.prepare_call(image.entry, &[n]).unwrap();
            let low = inst.layout.stack_low;
            (inst.run(&mut NoHost), low)
        };
        // The deepest write of f(n) is the return address at stack_top - 16n; one
        // level more pushes RBX 8 bytes below the stack.
        let deepest = stack / 16;
        let (out, _) = run(deepest);
        assert_eq!(
            out.status,
            Status::Success,
            "depth {deepest} in {stack} bytes"
        );
        let (out, low) = run(deepest + 1);
        let t = trap_of(&out);
        assert_eq!(t.trap, Trap::StackOverflow { addr: low - 8 }, "{t}");
        assert_eq!(t.instruction, "push rbx");
    }
}

#[test]
fn the_whole_guard_region_reports_stack_overflow() {
    // Single writes at the edges of the guard region below the stack.
    let cfg = Config {
        stack_size: 64 << 10,
        ..Config::default()
    };
    let probe = |offset_below_low: u64| {
        let code = asm(|a| {
            a.mov(rax, rsp)?;
            a.mov(rcx, offset_below_low)?;
            a.mark();
            a.mov(byte_ptr(rdi + 0), 1)?;
            a.ret()
        });
        let (_, mut inst) = instance(&program(&code.bytes, &[]).bytes(), &cfg, &[]).unwrap();
        let target = inst.layout.stack_low.wrapping_sub(offset_below_low);
        inst.cpu.gpr[7] = target;
        (inst.run(&mut NoHost), inst.layout, target)
    };
    let (out, layout, _) = probe(0);
    assert_eq!(out.status, Status::Success, "stack_low itself is the stack");
    let guard = layout.stack_low - layout.heap_end - 4096;
    assert_eq!(guard, 64 << 10, "the guard is as large as the stack");
    for off in [1, 4096, guard] {
        let (out, _, target) = probe(off);
        assert_eq!(trap_of(&out).trap, Trap::StackOverflow { addr: target });
    }
    // Below the guard: the unmapped page above the heap.
    let (out, _, target) = probe(guard + 1);
    assert!(
        matches!(trap_of(&out).trap, Trap::MemoryOutOfBounds { addr, .. } if addr == target),
        "{}",
        trap_of(&out)
    );
}

fn out_call(n: u8, len: u64, cfg: &Config) -> x64vm::Outcome {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(rsi, len)?;
        a.int(u32::from(n))?;
        a.ret()
    });
    run_code_with(&code, cfg, &[])
}

#[test]
fn output_size_exact_and_one_byte_more() {
    for max in [0u64, 1, 100, DATA_SIZE] {
        let cfg = Config {
            max_output: max,
            ..Config::default()
        };
        for n in [abi::OUTPUT, abi::FINISH, abi::REVERT] {
            let out = out_call(n, max, &cfg);
            assert!(
                matches!(out.status, Status::Success | Status::Reverted),
                "{:?}",
                out.status
            );
            assert_eq!(out.output.len() as u64, max);
            let out = out_call(n, max + 1, &cfg);
            limit_trap(&out, "output");
            assert!(out.output.is_empty());
        }
    }
}

#[test]
fn debug_size_exact_and_one_byte_more() {
    let cfg = Config {
        max_debug: 1000,
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
    assert_eq!(run(&[1000]).debug.len(), 1000);
    assert_eq!(run(&[999, 1]).debug.len(), 1000);
    limit_trap(&run(&[1001]), "debug output");
    let out = run(&[999, 1, 1]);
    limit_trap(&out, "debug output");
    assert_eq!(out.debug.len(), 1000, "what fitted is kept");
}

#[test]
fn input_size_exact_and_one_byte_more() {
    let elf = program(&[0xc3], &[]).bytes();
    let image = load_elf(&elf, true).unwrap();
    for max in [0u64, 1, 4096, 1 << 20] {
        let cfg = Config {
            max_input: max,
            ..Config::default()
        };
        let input = vec![7u8; max as usize + 1];
        assert!(Instance::new(&image, &cfg, &input[..max as usize]).is_ok());
        too_large(Instance::new(&image, &cfg, &input), "input");
    }
}

#[test]
fn code_size_exact_and_one_byte_more() {
    let code = asm(|a| {
        a.mov(eax, 9)?;
        a.ret()
    });
    let elf = program(&code.bytes, &[]).bytes();
    let n = elf.len() as u64;
    let at = Config {
        max_code_size: n,
        ..Config::default()
    };
    let past = Config {
        max_code_size: n - 1,
        ..Config::default()
    };
    // The loader refuses before parsing.
    let image = load_elf_with(&elf, &at).expect("exactly the limit");
    too_large(load_elf_with(&elf, &past), "code size");
    too_large(load_elf_with(&vec![0u8; n as usize], &past), "code size");
    // Instances check the image's file size, whichever loader made it.
    let mut inst = Instance::new(&image, &at, &[]).unwrap();
    inst.prepare_call(image.entry, &[]).unwrap();
    assert_eq!(inst.run(&mut NoHost).rax, 9);
    too_large(Instance::new(&image, &past, &[]), "code size");
    let packed = x64vm::pack(&elf).unwrap();
    let image = x64vm::load_packed(&packed).unwrap();
    let p = packed.len() as u64;
    let cfg = |max| Config {
        max_code_size: max,
        ..Config::default()
    };
    assert!(Instance::new(&image, &cfg(p), &[]).is_ok());
    too_large(Instance::new(&image, &cfg(p - 1), &[]), "code size");
    // The default admits the largest contracts we build (and far more).
    assert_eq!(Config::default().max_code_size, 8 << 20);
}

#[test]
fn a_10k_instruction_block_is_split_and_charged_exactly() {
    const N: u64 = 10_000;
    let code = asm(|a| {
        for _ in 0..N {
            a.add(eax, 1)?;
        }
        a.ret()
    });
    let stride = (code.bytes.len() as u64 - 1) / N;
    let elf = program(&code.bytes, &[]).bytes();
    let add = Op::Add.gas();
    let total = N * add + Op::Ret.gas();
    let (_, mut inst) = instance(&elf, &Config::default(), &[]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.status, Status::Success);
    assert_eq!((out.rax, out.gas_used, out.instructions), (N, total, N + 1));
    let per = MAX_BLOCK_INSTS as u64;
    assert_eq!(
        inst.cached_blocks() as u64,
        (N + 1).div_ceil(per),
        "split every {per}"
    );
    // Gas for exactly k whole blocks (and a little of the next): the run stops at
    // the first instruction of block k + 1, with k blocks' work done and charged.
    for k in [1u64, 2, 20, 38] {
        for extra in [0, add * (per - 1)] {
            let limit = k * per * add + extra;
            let out = run_elf(&elf, &gas(limit), &[]);
            let t = trap_of(&out);
            assert_eq!(t.trap, Trap::OutOfGas);
            assert_eq!(t.rip, CODE + stride * k * per, "stops at a block boundary");
            assert_eq!(out.rax, k * per, "k blocks ran");
            assert_eq!(out.instructions, k * per);
            assert_eq!(out.gas_used, limit);
        }
    }
    // Exactly enough for everything, and one less.
    assert_eq!(run_elf(&elf, &gas(total), &[]).status, Status::Success);
    let out = run_elf(&elf, &gas(total - 1), &[]);
    assert_eq!(trap_of(&out).trap, Trap::OutOfGas);
    assert_eq!(
        out.rax,
        N - N % per,
        "the last block (16 adds and the ret) is charged whole, so none of it ran"
    );
}

#[test]
fn blocks_of_long_instructions_split_at_the_byte_window() {
    // 1000 ten-byte instructions: blocks end where a 4 KiB fetch window does.
    const N: u64 = 1000;
    let code = asm(|a| {
        for k in 0..N {
            a.mov(rax, 0x1_0000_0000u64 + k)?;
        }
        a.ret()
    });
    assert_eq!(code.bytes.len() as u64, 10 * N + 1);
    let elf = program(&code.bytes, &[]).bytes();
    let (_, mut inst) = instance(&elf, &Config::default(), &[]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 0x1_0000_0000 + N - 1);
    assert_eq!(out.gas_used, N * Op::Mov.gas() + Op::Ret.gas());
    assert!(inst.cached_blocks() >= 3, "{} blocks", inst.cached_blocks());
}

/// Runs `code` as a Linux-profile process; returns the outcome and RAX of the
/// program's own accounting (it leaves its result in RAX before `exit`).
fn linux_run(code: &Code, gas_limit: u64) -> (x64vm::Outcome, x64vm::linux::LinuxHost) {
    use x64vm::linux::{LinuxConfig, spawn};
    let image = load_elf(&program(&code.bytes, b"/f\0").bytes(), true).unwrap();
    let cfg = Config {
        gas_limit,
        memory_limit: 1 << 30,
        ..Config::default()
    };
    let (mut inst, mut host) = spawn(&image, &cfg, &LinuxConfig::default()).unwrap();
    let out = inst.run(&mut host);
    (out, host)
}

#[test]
fn linux_memory_work_is_metered() {
    // mmap 64 MiB and munmap it, `rounds` times: each round zeroes 16384 pages.
    // It used to cost ~150 gas a round, so a default gas limit bought hours of
    // host memset; now each page costs what heap growth does.
    let rounds = |n: i32| {
        asm(|a| {
            let mut top = a.create_label();
            a.xor(r12, r12)?;
            a.set_label(&mut top)?;
            a.mov(eax, 9)?; // mmap(0, 64 MiB, RW, PRIVATE|ANON, -1, 0)
            a.xor(edi, edi)?;
            a.mov(esi, 64 << 20)?;
            a.mov(edx, 3)?;
            a.mov(r10d, 0x22)?;
            a.mov(r8, -1i64)?;
            a.xor(r9, r9)?;
            a.syscall()?;
            a.mov(rdi, rax)?;
            a.mov(eax, 11)?; // munmap
            a.mov(esi, 64 << 20)?;
            a.syscall()?;
            a.inc(r12)?;
            a.cmp(r12, n)?;
            a.jb(top)?;
            a.xor(edi, edi)?;
            a.mov(eax, 60)?;
            a.syscall()
        })
    };
    let pages = (64u64 << 20) / 4096;
    let per_round = pages * x64vm::host::GAS_PER_HEAP_PAGE + pages;
    let (out, host) = linux_run(&rounds(3), 1 << 40);
    assert_eq!((out.status, host.exit_code), (Status::Success, Some(0)));
    assert!(out.gas_used > 3 * per_round, "{} gas", out.gas_used);
    assert!(out.gas_used < 3 * per_round + 1000, "{} gas", out.gas_used);
    // Under a gas limit the loop stops after the rounds it paid for.
    let start = std::time::Instant::now();
    let limit = 20 * per_round;
    let (out, _) = linux_run(&rounds(i32::MAX), limit);
    assert_eq!(trap_of(&out).trap, Trap::OutOfGas);
    assert_eq!(out.gas_used, limit);
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

#[test]
fn linux_file_system_is_bounded() {
    use x64vm::linux::{MAX_FILES, MAX_FS_BYTES};
    // open("/f", O_CREAT|O_WRONLY); lseek(fd, 1 GiB); write(fd, data, 1):
    // refused with ENOSPC instead of a 1 GiB host allocation.
    let code = asm(|a| {
        a.mov(eax, 2)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 0o101)?;
        a.syscall()?;
        a.mov(r12, rax)?;
        a.mov(eax, 8)?; // lseek(fd, 1 GiB, SEEK_SET)
        a.mov(rdi, r12)?;
        a.mov(esi, 1 << 30)?;
        a.xor(edx, edx)?;
        a.syscall()?;
        a.mov(eax, 1)?; // write(fd, DATA, 1)
        a.mov(rdi, r12)?;
        a.mov(rsi, DATA)?;
        a.mov(edx, 1)?;
        a.syscall()?;
        a.mov(rdi, rax)?;
        a.mov(eax, 60)?; // exit(result)
        a.syscall()
    });
    let (out, host) = linux_run(&code, 10_000_000);
    assert_eq!(out.status, Status::Success);
    assert_eq!(host.exit_code, Some(-28), "ENOSPC");
    assert_eq!(host.fs.get("/f").map(<[u8]>::len), Some(0));
    // At the limit exactly: a write that ends at MAX_FS_BYTES fits, one byte more not.
    let at = |end: u64| {
        asm(|a| {
            a.mov(eax, 2)?;
            a.mov(rdi, DATA)?;
            a.mov(esi, 0o101)?;
            a.syscall()?;
            a.mov(r12, rax)?;
            a.mov(eax, 8)?;
            a.mov(rdi, r12)?;
            a.mov(rsi, end - 1)?;
            a.xor(edx, edx)?;
            a.syscall()?;
            a.mov(eax, 1)?;
            a.mov(rdi, r12)?;
            a.mov(rsi, DATA)?;
            a.mov(edx, 1)?;
            a.syscall()?;
            a.mov(rdi, rax)?;
            a.mov(eax, 60)?;
            a.syscall()
        })
    };
    let (out, host) = linux_run(&at(MAX_FS_BYTES), 100_000_000);
    assert_eq!((out.status, host.exit_code), (Status::Success, Some(1)));
    // The growth was paid for: 64 gas per 4 KiB page.
    assert!(out.gas_used > MAX_FS_BYTES / 4096 * 64);
    let (_, host) = linux_run(&at(MAX_FS_BYTES + 1), 100_000_000);
    assert_eq!(host.exit_code, Some(-28));
    // Creating files: MAX_FILES succeed, the next is ENOSPC.
    let code = asm(|a| {
        let mut top = a.create_label();
        let mut done = a.create_label();
        a.xor(r12, r12)?;
        a.set_label(&mut top)?;
        for k in 0..4u32 {
            // Name "/f" + four letters 'a'..'p', one per nibble of the counter.
            a.mov(rax, r12)?;
            a.shr(rax, 4 * k)?;
            a.and(eax, 15)?;
            a.add(eax, i32::from(b'a'))?;
            a.mov(byte_ptr(DATA + 2 + u64::from(k)), al)?;
        }
        a.mov(eax, 2)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 0o101)?;
        a.syscall()?;
        a.test(rax, rax)?;
        a.js(done)?;
        a.mov(rdi, rax)?; // close it again
        a.mov(eax, 3)?;
        a.syscall()?;
        a.inc(r12)?;
        a.cmp(r12, (MAX_FILES + 10) as i32)?;
        a.jb(top)?;
        a.set_label(&mut done)?;
        a.mov(rdi, r12)?;
        a.mov(eax, 60)?;
        a.syscall()
    });
    let (out, host) = linux_run(&code, 100_000_000);
    assert_eq!(out.status, Status::Success);
    assert_eq!(host.exit_code, Some(MAX_FILES as i32));
}

#[test]
fn rewriting_own_code_in_a_loop_is_metered() {
    // With W^X off a loop may write to its own code page every iteration; each
    // write drops the decoded code, which costs GAS_CODE_INVALIDATION. Before it
    // was metered such a loop ran ~150 times slower per unit of gas than any
    // other code (a full cache clear and a decode per 3 gas).
    use x64vm::interp::GAS_CODE_INVALIDATION;
    const N: u32 = 1000;
    let code = asm(|a| {
        let mut top = a.create_label();
        let mut cell = a.create_label();
        a.lea(rbx, ptr(cell))?;
        a.mov(ecx, N)?;
        a.set_label(&mut top)?;
        a.mov(byte_ptr(rbx), 0x90)?;
        a.dec(ecx)?;
        a.jnz(top)?;
        a.set_label(&mut cell)?;
        a.nop()?;
        a.ret()
    });
    let mut spec = program(&code.bytes, &[]);
    spec.phs[0].flags = PF_R | PF_W | PF_X;
    let image = load_elf(&spec.bytes(), false).unwrap();
    let cfg = Config {
        enforce_wx: false,
        ..Config::default()
    };
    let mut inst = Instance::new(&image, &cfg, &[]).unwrap();
    inst.prepare_call(image.entry, &[]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.status, Status::Success);
    let block = Op::Mov.gas() + Op::Dec.gas() + Op::Jcc.gas();
    let want = Op::Lea.gas()
        + Op::Mov.gas()
        + u64::from(N) * (block + GAS_CODE_INVALIDATION)
        + Op::Nop.gas()
        + Op::Ret.gas();
    assert_eq!(out.gas_used, want);
}
