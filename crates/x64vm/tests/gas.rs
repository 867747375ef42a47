//! Gas: charged per block on entry, exact, deterministic; the limit is exact.

mod vmkit;

use iced_x86::code_asm::*;
use vmkit::*;
use x64vm::host::GAS_HOST_CALL_BASE;
use x64vm::ir::Op;
use x64vm::{Config, NoHost, Outcome, Status, Trap};
use x64vm_abi as abi;

/// `mov ecx, n; top: add rax, rcx; dec ecx; jnz top; ret`
fn counted_loop(n: u32) -> Code {
    asm(|a| {
        a.xor(eax, eax)?;
        a.mov(ecx, n)?;
        let top = a.mark();
        a.add(rax, rcx)?;
        a.dec(ecx)?;
        a.jnz(top)?;
        a.ret()
    })
}

#[test]
fn a_loop_costs_exactly_a_linear_function_of_its_count() {
    // Block 1: xor, mov, add, dec, jnz. Each further iteration re-enters at `top`:
    // add, dec, jnz. Then the `ret` block.
    let per_iter = Op::Add.gas() + Op::Dec.gas() + Op::Jcc.gas();
    let fixed = Op::Xor.gas() + Op::Mov.gas() + Op::Ret.gas();
    for n in [1u32, 2, 3, 10, 1000, 100_000] {
        let out = run_code(&counted_loop(n));
        assert_eq!(out.status, Status::Success);
        assert_eq!(out.rax, u64::from(n) * u64::from(n + 1) / 2);
        assert_eq!(out.gas_used, fixed + u64::from(n) * per_iter, "n = {n}");
        assert_eq!(out.instructions, 3 + 3 * u64::from(n), "n = {n}");
    }
}

#[test]
fn straight_line_code_costs_the_sum_of_its_instructions() {
    let code = asm(|a| {
        a.mov(eax, 7)?;
        a.imul_3(rax, rax, 3)?;
        a.xor(edx, edx)?;
        a.mov(ecx, 2)?;
        a.div(rcx)?;
        a.push(rax)?;
        a.pop(rax)?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!(out.rax, 10);
    let want = Op::Mov.gas() * 2
        + Op::Imul2.gas()
        + Op::Xor.gas()
        + Op::Div.gas()
        + Op::Push.gas()
        + Op::Pop.gas()
        + Op::Ret.gas();
    assert_eq!(out.gas_used, want);
}

#[test]
fn host_calls_add_their_base_and_copy_costs() {
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.mov(esi, 64)?;
        a.int(abi::DEBUG as u32)?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!(out.status, Status::Success);
    let want = Op::Mov.gas() * 2 + Op::Int.gas() + GAS_HOST_CALL_BASE + 2 + Op::Ret.gas();
    assert_eq!(out.gas_used, want);
}

#[test]
fn a_block_is_charged_whole_on_entry() {
    // The fault is in the second instruction, yet the whole block was paid for.
    let code = asm(|a| {
        a.mov(eax, 1)?;
        a.mov(qword_ptr(0x10), rax)?;
        a.nop()?;
        a.nop()?;
        a.nop()?;
        a.ret()
    });
    let out = run_code(&code);
    assert_eq!(trap_of(&out).trap.kind(), "memory_out_of_bounds");
    assert_eq!(
        out.gas_used,
        2 * Op::Mov.gas() + 3 * Op::Nop.gas() + Op::Ret.gas()
    );

    // A limit that covers the first block but not the second stops at the second's
    // first instruction, with nothing of it executed.
    let code = asm(|a| {
        let mut second = a.create_label();
        a.mov(eax, 1)?;
        a.jmp(second)?;
        a.ud2()?;
        a.mark_label(&mut second);
        a.mov(eax, 2)?;
        a.ret()
    });
    let first = Op::Mov.gas() + Op::Jmp.gas();
    for limit in [first, first + 1] {
        let out = run_code_with(&code, &gas(limit), &[]);
        expect_trap(&out, Trap::OutOfGas, code.mark(0));
        assert_eq!(out.gas_used, limit);
        assert_eq!(out.rax, 1);
    }
    let enough = first + Op::Mov.gas() + Op::Ret.gas();
    let out = run_code_with(&code, &gas(enough), &[]);
    assert_eq!(
        (out.status, out.rax, out.gas_used),
        (Status::Success, 2, enough)
    );
}

fn programs() -> Vec<(&'static str, Code, Vec<u8>)> {
    let rep = asm(|a| {
        a.mov(rsi, DATA)?;
        a.mov(rdi, DATA + 0x1000)?;
        a.mov(ecx, 3000)?;
        a.rep().movsb()?;
        a.mov(ecx, 100)?;
        a.rep().stosq()?;
        a.ret()
    });
    let heap = asm(|a| {
        a.mov(edi, 100_000)?;
        a.xor(esi, esi)?;
        a.int(abi::ALLOC as u32)?;
        a.mov(rdi, rax)?;
        a.int(abi::FREE as u32)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 100)?;
        a.int(abi::DEBUG as u32)?;
        a.mov(rdi, DATA)?;
        a.mov(esi, 10)?;
        a.int(abi::OUTPUT as u32)?;
        a.ret()
    });
    let recursion = asm(|a| {
        let mut fib = a.create_label();
        let mut small = a.create_label();
        a.mov(edi, 15)?;
        a.call(fib)?;
        a.ret()?;
        a.set_label(&mut fib)?;
        a.mov(rax, rdi)?;
        a.cmp(rdi, 1)?;
        a.jbe(small)?;
        a.push(rdi)?;
        a.dec(rdi)?;
        a.call(fib)?;
        a.pop(rdi)?;
        a.push(rax)?;
        a.sub(rdi, 2)?;
        a.call(fib)?;
        a.pop(rcx)?;
        a.add(rax, rcx)?;
        a.set_label(&mut small)?;
        a.ret()
    });
    vec![
        ("loop", counted_loop(500), Vec::new()),
        ("rep", rep, Vec::new()),
        ("heap", heap, Vec::new()),
        ("recursion", recursion, Vec::new()),
    ]
}

fn run_prog(code: &Code, cfg: &Config) -> Outcome {
    run_code_with(code, cfg, &[])
}

#[test]
fn the_same_program_costs_the_same_every_run() {
    for (name, code, _) in programs() {
        let first = run_prog(&code, &Config::default());
        assert_eq!(first.status, Status::Success, "{name}");
        for _ in 0..3 {
            let again = run_prog(&code, &Config::default());
            assert_eq!(again, first, "{name}");
        }
        // Also on one instance called repeatedly (a warm code cache). The heap and
        // what was paid for its growth belong to the instance, so only the first
        // call pays for growth; the calls after it all cost the same.
        let elf = program(&code.bytes, &[]).bytes();
        let (image, mut inst) = instance(&elf, &Config::default(), &[]).unwrap();
        let mut warm = None;
        for k in 0..4 {
            inst.prepare_call(image.entry, &[]).unwrap();
            let out = inst.run(&mut NoHost);
            assert_eq!(out.status, first.status, "{name}");
            if k == 0 {
                assert_eq!(out, first, "{name}: a fresh instance's first call");
            } else {
                assert_eq!(*warm.get_or_insert(out.gas_used), out.gas_used, "{name}");
                if name != "heap" {
                    assert_eq!(out.gas_used, first.gas_used, "{name}");
                }
            }
        }
    }
}

#[test]
fn the_exact_limit_succeeds_and_one_less_runs_out() {
    for (name, code, _) in programs() {
        let need = run_prog(&code, &Config::default()).gas_used;
        let exact = run_prog(&code, &gas(need));
        assert_eq!(exact.status, Status::Success, "{name} with exactly {need}");
        assert_eq!(exact.gas_used, need);
        let short = run_prog(&code, &gas(need - 1));
        assert_eq!(
            trap_of(&short).trap,
            Trap::OutOfGas,
            "{name} with {}",
            need - 1
        );
        assert_eq!(short.gas_used, need - 1, "{name}: all gas consumed");
        assert!(short.output.is_empty());
        // Determinism of the failure too.
        assert_eq!(run_prog(&code, &gas(need - 1)), short, "{name}");
    }
}

#[test]
fn every_limit_below_the_need_fails_the_same_way() {
    // Sweep the limits: each either succeeds with the full need or runs out having
    // used exactly its limit; success starts exactly at the need.
    let code = &programs()[3].1;
    let need = run_prog(code, &Config::default()).gas_used;
    for limit in (0..need).step_by(97).chain(need - 5..need) {
        let out = run_prog(code, &gas(limit));
        assert_eq!(trap_of(&out).trap, Trap::OutOfGas, "limit {limit}");
        assert_eq!(out.gas_used, limit);
    }
}

#[test]
fn rep_costs_one_per_extra_iteration() {
    let rep = |op: &str, n: u64| {
        let code = asm(|a| {
            a.mov(rsi, DATA)?;
            a.mov(rdi, DATA + 0x1000)?;
            a.mov(rcx, n)?;
            match op {
                "movsb" => a.rep().movsb()?,
                "stosb" => a.rep().stosb()?,
                "lodsb" => a.rep().lodsb()?,
                "cmpsb" => a.repe().cmpsb()?, // zero memory compares equal throughout
                _ => a.repe().scasb()?,       // al = 0 matches the zeroed data
            }
            a.ret()
        });
        let out = run_code(&code);
        assert_eq!(out.status, Status::Success, "{op} x {n}");
        out.gas_used
    };
    for op in ["movsb", "stosb", "lodsb", "cmpsb", "scasb"] {
        let g0 = rep(op, 0);
        let g1 = rep(op, 1);
        assert_eq!(
            g0, g1,
            "{op}: the first iteration is in the instruction's own cost"
        );
        for n in [2u64, 10, 1000, 4000] {
            assert_eq!(rep(op, n), g1 + (n - 1), "{op} x {n}");
        }
    }
}

#[test]
fn repne_scasb_pays_only_for_the_iterations_it_runs() {
    // The strlen idiom: rcx = -1, scan for the NUL. It stops after 6 bytes and must
    // cost 6 iterations, not 2^64.
    let code = asm(|a| {
        a.mov(rdi, DATA)?;
        a.xor(eax, eax)?;
        a.mov(rcx, -1i64)?;
        a.repne().scasb()?;
        a.not(rcx)?;
        a.dec(rcx)?;
        a.mov(rax, rcx)?;
        a.ret()
    });
    let out = run_elf(
        &program(&code.bytes, b"hello\0").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, 5);
    let fixed = Op::Mov.gas() * 3
        + Op::Xor.gas()
        + Op::Scas.gas()
        + Op::Not.gas()
        + Op::Dec.gas()
        + Op::Ret.gas();
    assert_eq!(out.gas_used, fixed + 5);
    // repe cmpsb that stops at the first difference.
    let code = asm(|a| {
        a.mov(rsi, DATA)?;
        a.mov(rdi, DATA + 8)?;
        a.mov(rcx, 1u64 << 40)?;
        a.repe().cmpsb()?;
        a.mov(rax, rsi)?;
        a.ret()
    });
    let out = run_elf(
        &program(&code.bytes, b"abcXefghabcYefgh").bytes(),
        &Config::default(),
        &[],
    );
    assert_eq!(out.status, Status::Success);
    assert_eq!(out.rax, DATA + 4);
    let fixed = Op::Mov.gas() * 4 + Op::Cmps.gas() + Op::Ret.gas();
    assert_eq!(
        out.gas_used,
        fixed + 3,
        "four compares, three of them extra"
    );
}

#[test]
fn gas_of_a_gcc_loop_is_linear() {
    if !have_gcc() {
        eprintln!("gcc not found: skipped");
        return;
    }
    let elf = contract(
        "gas_loop",
        r#"
        uint64_t _start(const uint8_t *in, uint64_t len) {
            uint64_t n = len >= 4 ? *(const uint32_t *)in : 0, acc = 1;
            for (uint64_t i = 0; i < n; i++) {
                acc = acc * 6364136223846793005ull + i;
                asm volatile("" : "+r"(acc));
            }
            return acc;
        }
        "#,
    );
    let cost = |n: u32| {
        let out = run_elf(&elf, &Config::default(), &n.to_le_bytes());
        assert_eq!(out.status, Status::Success);
        out.gas_used
    };
    let (c1, c2) = (cost(1), cost(2));
    let step = c2 - c1;
    assert!(step > 0);
    for n in [3u32, 17, 100, 10_000] {
        assert_eq!(cost(n), c1 + u64::from(n - 1) * step, "n = {n}");
    }
    assert_eq!(cost(10_000), cost(10_000));
}

#[test]
fn entering_code_at_every_offset_keeps_the_cache_bounded_and_gas_exact() {
    // Call into a run of N nops at every offset: each offset starts a new block
    // chain. The decoded-block cache must stay bounded (it starts over when full),
    // and starting over must not change the gas.
    const N: u32 = 6144;
    let code = asm(|a| {
        let mut nops = a.create_label();
        a.lea(r12, ptr(nops))?;
        a.mov(r13d, N)?;
        let top = a.mark();
        a.call(r12)?;
        a.inc(r12)?;
        a.dec(r13d)?;
        a.jnz(top)?;
        a.ret()?;
        a.set_label(&mut nops)?;
        for _ in 0..N {
            a.nop()?;
        }
        a.ret()
    });
    let (_, mut inst) =
        instance(&program(&code.bytes, &[]).bytes(), &Config::default(), &[]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.status, Status::Success);
    let n = u64::from(N);
    let want = Op::Lea.gas()
        + Op::Mov.gas()
        + n * (Op::CallInd.gas() + Op::Inc.gas() + Op::Dec.gas() + Op::Jcc.gas() + Op::Ret.gas())
        + Op::Ret.gas()
        + Op::Nop.gas() * (n * (n + 1) / 2);
    assert_eq!(out.gas_used, want);
    // Without a bound this run decodes over 6000 distinct blocks, nearly all of
    // 256 instructions; a bounded cache holds about MAX_CACHED_INSTS / 256 of them.
    let blocks = inst.cached_blocks();
    let bound = x64vm::interp::MAX_CACHED_INSTS / x64vm::interp::MAX_BLOCK_INSTS + 300;
    eprintln!("{blocks} blocks cached (bound {bound})");
    assert!(blocks <= bound, "{blocks} blocks cached");
}
