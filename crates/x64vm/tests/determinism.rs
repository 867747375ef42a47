//! Determinism under stress: the same code and input must give the same status,
//! output, gas, registers and memory, whatever happens around the run.
//!
//! - The whole-program sources (tests/programs/*.c, built with gcc) and seeded
//!   random programs run many times in parallel threads, with random host
//!   allocations between runs (so the host addresses of every buffer differ),
//!   in fresh instances and in reused ones (`Instance::reset`).
//! - The same runs repeat in child processes started with other environment
//!   variables (including glibc's `MALLOC_PERTURB_`, which fills host memory
//!   with garbage) and, with address-space randomisation, other host layouts.
//!   Every digest must equal the parent's.
//! - A golden test pins the gas of the seed's fib contract (a prebuilt ELF
//!   checked in as tests/golden/fib.elf), so that a change of any cost is a
//!   deliberate act: update the number here and say why in docs/gas.md.
//!
//! A digest covers the status (with the trap and its address), output, debug
//! output, gas, instructions retired, every register (general, RIP, RFLAGS,
//! XMM, MXCSR, x87) and every readable page of guest memory.

mod vmkit;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

use iced_x86::code_asm::*;
use vmkit::{DATA, asm, program};
use x64vm::mem::{PAGE_SIZE, perm};
use x64vm::{Config, Image, Instance, NoHost, Outcome, load_elf};

/// A stable 64-bit hash (FNV-1a over 8-byte words, then mixed): the same in every
/// process, unlike a randomly keyed hasher.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(0x0000_0100_0000_01b3);
        self.0 ^= self.0 >> 29;
    }
    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        for c in b.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
    }
}

/// The digest of a finished run.
fn digest(inst: &Instance, out: &Outcome) -> u64 {
    let mut h = Fnv::new();
    h.bytes(format!("{:?}", out.status).as_bytes());
    h.bytes(&out.output);
    h.word(u64::from(out.output_set));
    h.bytes(&out.debug);
    h.word(out.gas_used);
    h.word(out.instructions);
    h.word(out.rax);
    let c = &inst.cpu;
    for &r in &c.gpr {
        h.word(r);
    }
    for w in [c.rip, c.rflags(), c.fs_base, c.gs_base, u64::from(c.mxcsr)] {
        h.word(w);
    }
    for &x in &c.xmm {
        h.word(x as u64);
        h.word((x >> 64) as u64);
    }
    h.bytes(format!("{:?}", c.x87).as_bytes());
    let mem = &inst.mem;
    let mut a = mem.base();
    while a < mem.end() {
        // Only what the guest can observe; other bits are the VM's bookkeeping.
        let p = mem.perms_at(a) & (perm::R | perm::W | perm::X | perm::GUARD);
        h.word(u64::from(p));
        if let Ok(page) = mem.slice(a, PAGE_SIZE)
            && page.iter().any(|&b| b != 0)
        {
            h.word(a);
            h.bytes(page);
        }
        a += PAGE_SIZE;
    }
    h.0
}

/// A program to run: image, entry, argument, input.
struct Job {
    name: String,
    image: Image,
    entry: u64,
    arg: Option<u64>,
    input: Vec<u8>,
    config: Config,
}

impl Job {
    fn run_fresh(&self) -> u64 {
        let mut inst = Instance::new(&self.image, &self.config, &self.input).unwrap();
        self.run_in(&mut inst)
    }

    fn run_in(&self, inst: &mut Instance) -> u64 {
        let args: Vec<u64> = self.arg.into_iter().collect();
        inst.prepare_call(self.entry, &args).unwrap();
        let out = inst.run(&mut NoHost);
        digest(inst, &out)
    }
}

/// (program, argument, input) as in tests/programs.rs.
const PROGRAMS: &[(&str, u64, &[u8])] = &[
    ("fib", 20, b""),
    ("sieve", 100_000, b""),
    ("quicksort", 0x1234_5678, b""),
    ("sha256", 3, b""),
    ("strings", 7, b""),
    ("int128", 99, b""),
    ("switch", 500, b""),
    ("callbacks", 42, b""),
    ("bits", 5, b""),
    ("structs", 77, b""),
    (
        "heap",
        5,
        b"the cat and the hat, the bat and the rat sat on the mat",
    ),
];

/// A directory of this process for the test `name` (tests run in parallel).
fn build_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("determinism")
        .join(format!("{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds every program of [`PROGRAMS`] at -O2 (in parallel) into `dir`.
fn build_programs(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/programs");
    thread::scope(|s| {
        let jobs: Vec<_> = PROGRAMS
            .iter()
            .map(|&(name, _, _)| {
                let src = src.join(format!("{name}.c"));
                let out = dir.join(format!("{name}.elf"));
                s.spawn(move || {
                    let r = Command::new("gcc")
                        .args(["-O2", "-std=gnu11", "-nostdlib", "-ffreestanding"])
                        .args(["-fno-stack-protector", "-fno-asynchronous-unwind-tables"])
                        .args(["-mgeneral-regs-only", "-static", "-fno-pie", "-no-pie"])
                        .arg("-o")
                        .arg(&out)
                        .arg(&src)
                        .arg("-lgcc")
                        .output()
                        .expect("gcc (apt-get install gcc)");
                    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
                })
            })
            .collect();
        for j in jobs {
            j.join().unwrap();
        }
    });
}

/// A seeded random program: registers pointed at the data segment, then a loop
/// around 64 random bytes (biased toward common opcodes and prefixes).
fn random_program(seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let common: &[u8] = &[
        0x48, 0x49, 0x4c, 0x66, 0xf2, 0xf3, 0x0f, 0x89, 0x8b, 0x01, 0x29, 0x31, 0xf7, 0xd3, 0xa4,
        0xaa, 0xab, 0x50, 0x58, 0x6f, 0x7f, 0xc7, 0x04, 0x24, 0x44, 0x05, 0x38, 0xb8, 0xc0, 0x99,
        0xd9, 0xdd, 0xdf, 0x58, 0x59, 0x5e, 0xaf, 0xbc, 0x1c,
    ];
    let setup = asm(|a| {
        a.mov(rax, DATA + (next() % 0x3000))?;
        a.mov(rbx, DATA + (next() % 0x3000))?;
        a.mov(rcx, next() % 200)?;
        a.mov(rdx, next())?;
        a.mov(rsi, DATA + 0x100)?;
        a.mov(rdi, DATA + 0x1000)?;
        a.mov(rbp, next())?;
        a.mov(r8, next())?;
        a.mov(r15, 40u64)?;
        Ok(())
    });
    let mut code = setup.bytes;
    let top = code.len();
    for _ in 0..64 {
        let r = next();
        code.push(if r % 3 == 0 {
            common[(r >> 8) as usize % common.len()]
        } else {
            (r >> 16) as u8
        });
    }
    // dec r15; jnz top; ret  (the random bytes may of course never get here)
    code.extend_from_slice(&[0x49, 0xff, 0xcf]);
    let back = top as i64 - (code.len() as i64 + 6);
    code.extend_from_slice(&[0x0f, 0x85]);
    code.extend_from_slice(&(back as i32).to_le_bytes());
    code.push(0xc3);
    code
}

const RANDOM_PROGRAMS: u64 = 48;

/// Limits of every run: the defaults, but a smaller heap and stack so that the
/// digest (which reads every readable page) stays cheap.
fn config(gas_limit: u64) -> Config {
    Config {
        gas_limit,
        heap_size: 2 << 20,
        stack_size: 256 << 10,
        max_input: 4096,
        ..Config::default()
    }
}

fn jobs(dir: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &(name, arg, input) in PROGRAMS {
        let elf = std::fs::read(dir.join(format!("{name}.elf"))).unwrap();
        let image = load_elf(&elf, true).unwrap();
        let entry = image.symbol("run").expect("run");
        jobs.push(Job {
            name: name.to_string(),
            image,
            entry,
            arg: Some(arg),
            input: input.to_vec(),
            config: config(Config::default().gas_limit),
        });
    }
    let data: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for seed in 0..RANDOM_PROGRAMS {
        let code = random_program(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) + 1);
        let image = load_elf(&program(&code, &data).bytes(), true).unwrap();
        let entry = image.entry;
        jobs.push(Job {
            name: format!("random-{seed}"),
            image,
            entry,
            arg: None,
            input: b"random program input".to_vec(),
            config: config(200_000),
        });
    }
    jobs
}

/// Host allocations of seeded random sizes and contents, kept alive across runs
/// so that the VM's own buffers land at different host addresses.
fn junk(seed: u64) -> Vec<Vec<u8>> {
    let mut s = seed | 1;
    (0..1 + seed % 17)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            vec![(s >> 56) as u8; (s >> 40) as usize % 200_000 + 1]
        })
        .collect()
}

/// The reference digests: one sequential fresh run of each job.
fn reference(jobs: &[Job]) -> Vec<u64> {
    jobs.iter().map(Job::run_fresh).collect()
}

#[test]
fn programs_agree_across_threads_reuse_and_host_heap_layouts() {
    let dir = build_dir("threads");
    build_programs(&dir);
    let jobs = jobs(&dir);
    let want = reference(&jobs);
    // Different programs must give different digests (the digest sees something).
    let mut distinct = want.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > jobs.len() / 2, "digests barely differ");

    const THREADS: u64 = 4;
    const ROUNDS: u64 = 2;
    let runs: u64 = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (jobs, want) = (&jobs, &want);
                s.spawn(move || {
                    let mut kept = Vec::new();
                    let mut runs = 0;
                    for round in 0..ROUNDS {
                        // Each thread walks the jobs in its own order.
                        let n = jobs.len() as u64;
                        for k in 0..n {
                            let i = ((k * (2 * t + 1) + round * 7 + t) % n) as usize;
                            kept.push(junk(t * 1000 + round * 100 + k));
                            if kept.len() > 8 {
                                kept.remove((k % 8) as usize);
                            }
                            let got = jobs[i].run_fresh();
                            assert_eq!(
                                got, want[i],
                                "{} (thread {t}, round {round})",
                                jobs[i].name
                            );
                            runs += 1;
                        }
                    }
                    // Reuse: one instance per job, reset between calls.
                    for (i, job) in jobs.iter().enumerate() {
                        let mut inst = Instance::new(&job.image, &job.config, &job.input).unwrap();
                        for call in 0..3 {
                            if call > 0 {
                                inst.reset(&job.input).unwrap();
                            }
                            let got = job.run_in(&mut inst);
                            assert_eq!(got, want[i], "{} reused, call {call}", job.name);
                            runs += 1;
                        }
                    }
                    runs
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    eprintln!(
        "{runs} runs of {} programs ({} random) in {THREADS} threads: all identical",
        jobs.len(),
        RANDOM_PROGRAMS
    );

    // Child processes: other environment variables and host memory layouts.
    let exe = std::env::current_exe().unwrap();
    let envs: [&[(&str, &str)]; 2] = [
        &[
            ("MALLOC_PERTURB_", "165"),
            ("LANG", "C"),
            ("TZ", "Asia/Kathmandu"),
            ("X64VM_DETERMINISM_JUNK", "1"),
        ],
        &[
            ("MALLOC_ARENA_MAX", "1"),
            ("MALLOC_TOP_PAD_", "12345678"),
            ("LC_ALL", "tr_TR.UTF-8"),
            ("RUST_MIN_STACK", "16777216"),
            ("X64VM_DETERMINISM_JUNK", "7"),
        ],
    ];
    for env in envs {
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--ignored",
            "--exact",
            "child_digests",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("X64VM_DETERMINISM_DIR", &dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let got: Vec<u64> = text
            .lines()
            .filter_map(|l| l.find("DIGEST ").map(|at| &l[at + 7..]))
            .map(|d| u64::from_str_radix(d.split(' ').nth(1).unwrap(), 16).unwrap())
            .collect();
        assert_eq!(got.len(), jobs.len(), "child output:\n{text}");
        for ((job, g), w) in jobs.iter().zip(&got).zip(&want) {
            assert_eq!(g, w, "{} in a child process with {env:?}", job.name);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Run by the test above in a child process (it does nothing on its own).
#[test]
#[ignore = "helper: started by programs_agree_across_threads_reuse_and_host_heap_layouts"]
fn child_digests() {
    let Some(dir) = std::env::var_os("X64VM_DETERMINISM_DIR") else {
        return;
    };
    let seed: u64 = std::env::var("X64VM_DETERMINISM_JUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _kept = junk(seed);
    for job in jobs(Path::new(&dir)) {
        let _more = junk(seed ^ job.image.entry);
        println!("DIGEST {} {:016x}", job.name, job.run_fresh());
    }
}

#[test]
fn self_modifying_code_and_reuse_agree_with_a_fresh_instance() {
    // With W^X off, code may patch itself. A reused instance restores the patched
    // page, and must not keep running code decoded from the patched bytes.
    // The patch happens only when there is input; either way control then goes
    // to the patched spot: `ret` with RAX = 1 when patched, RAX = 2 otherwise.
    let code = asm(|a| {
        let mut patch = a.create_label();
        let mut skip = a.create_label();
        a.mov(eax, 1)?;
        a.test(rsi, rsi)?;
        a.jz(skip)?;
        a.lea(rcx, ptr(patch))?;
        a.mov(byte_ptr(rcx), 0xc3)?;
        a.set_label(&mut skip)?;
        a.jmp(patch)?;
        a.set_label(&mut patch)?;
        a.nop()?;
        a.mov(eax, 2)?;
        a.ret()
    });
    let mut spec = program(&code.bytes, &[]);
    spec.phs[0].flags = vmkit::PF_R | vmkit::PF_W | vmkit::PF_X;
    let image = load_elf(&spec.bytes(), false).unwrap();
    let cfg = Config {
        enforce_wx: false,
        ..Config::default()
    };
    let fresh = |input: &[u8]| {
        let mut inst = Instance::new(&image, &cfg, input).unwrap();
        inst.prepare_call(image.entry, &[]).unwrap();
        let out = inst.run(&mut NoHost);
        (digest(&inst, &out), out)
    };
    assert_eq!(fresh(b"x").1.rax, 1);
    assert_eq!(fresh(b"").1.rax, 2);
    let mut inst = Instance::new(&image, &cfg, b"x").unwrap();
    for (call, input) in [&b"x"[..], b"", b"x", b"", b""].iter().enumerate() {
        if call > 0 {
            inst.reset(input).unwrap();
        }
        inst.prepare_call(image.entry, &[]).unwrap();
        let out = inst.run(&mut NoHost);
        let (want, want_out) = fresh(input);
        assert_eq!(
            (out.rax, digest(&inst, &out)),
            (want_out.rax, want),
            "call {call} (input {input:?}) of a reused instance"
        );
    }
}

#[test]
fn code_decoded_by_an_earlier_call_does_not_make_a_later_write_cost_more() {
    // With W^X off, a write to a page that code was decoded from costs
    // GAS_CODE_INVALIDATION. A call that runs code on the second page marks it;
    // a later call that only writes there must cost what it costs in a fresh
    // instance, which never decoded that page (the reused instance forgets the
    // decoded code and its marks on reset).
    let code = asm(|a| {
        let mut write = a.create_label();
        let mut far = a.create_label();
        let mut far_data = a.create_label();
        a.test(rsi, rsi)?;
        a.jz(write)?;
        a.call(far)?;
        a.ret()?;
        a.set_label(&mut write)?;
        a.lea(rcx, ptr(far_data))?;
        a.mov(byte_ptr(rcx), 1)?;
        a.mov(eax, 2)?;
        a.ret()?;
        // The far function starts a page of its own.
        a.db(&[0xcc; 4096])?;
        a.set_label(&mut far)?;
        a.mov(eax, 1)?;
        a.ret()?;
        a.set_label(&mut far_data)?;
        a.db(&[0])
    });
    let mut spec = program(&code.bytes, &[]);
    spec.phs[0].flags = vmkit::PF_R | vmkit::PF_W | vmkit::PF_X;
    let image = load_elf(&spec.bytes(), false).unwrap();
    let cfg = Config {
        enforce_wx: false,
        ..Config::default()
    };
    let fresh = |input: &[u8]| {
        let mut inst = Instance::new(&image, &cfg, input).unwrap();
        inst.prepare_call(image.entry, &[]).unwrap();
        let out = inst.run(&mut NoHost);
        (digest(&inst, &out), out)
    };
    assert_eq!(fresh(b"x").1.rax, 1);
    assert_eq!(fresh(b"").1.rax, 2);
    let mut inst = Instance::new(&image, &cfg, b"x").unwrap();
    for (call, input) in [&b"x"[..], b"", b"", b"x", b"x", b""].iter().enumerate() {
        if call > 0 {
            inst.reset(input).unwrap();
        }
        inst.prepare_call(image.entry, &[]).unwrap();
        let out = inst.run(&mut NoHost);
        let (want, want_out) = fresh(input);
        assert_eq!(
            (out.gas_used, out.rax, digest(&inst, &out)),
            (want_out.gas_used, want_out.rax, want),
            "call {call} (input {input:?}) of a reused instance"
        );
    }
}

/// The seed's fib contract, examples/fib/fib.c built with
/// `gcc -O2 -static -nostdlib -fno-pie -no-pie -ffreestanding -fno-stack-protector`
/// (gcc 12.2) and checked in, so that a compiler upgrade cannot move the number.
const GOLDEN_FIB: &[u8] = include_bytes!("../../../tests/golden/fib.elf");

/// Gas of `fib(n)` for the golden ELF. A change here is a change of the cost
/// schedule (docs/gas.md) or of what an instruction costs: make it deliberately.
const GOLDEN_FIB_GAS: &[(u64, u64, u64, u64)] = &[
    // (n, result, gas used, instructions retired)
    (0, 0, 5, 4),
    (1, 1, 5, 4),
    (10, 55, 1_025, 1_022),
    (25, 75_025, 1_694_443, 1_668_902),
];

#[test]
fn golden_gas_of_the_fib_contract() {
    let image = load_elf(GOLDEN_FIB, true).unwrap();
    let fib = image
        .symbol("fib")
        .expect("the golden ELF keeps its symbols");
    let mut got = Vec::new();
    for &(n, _, _, _) in GOLDEN_FIB_GAS {
        let mut inst = Instance::new(&image, &Config::default(), &[]).unwrap();
        inst.prepare_call(fib, &[n]).unwrap();
        let out = inst.run(&mut NoHost);
        got.push((n, out.rax, out.gas_used, out.instructions));
    }
    assert_eq!(
        got, GOLDEN_FIB_GAS,
        "the gas of fib changed: if deliberate, update GOLDEN_FIB_GAS and docs/gas.md"
    );
    // The ELF entry (no input) computes fib(25) too, for a little more.
    let mut inst = Instance::new(&image, &Config::default(), &[]).unwrap();
    inst.prepare_call(image.entry, &[]).unwrap();
    let out = inst.run(&mut NoHost);
    assert_eq!(out.rax, 75_025);
    assert!(out.gas_used > GOLDEN_FIB_GAS[3].2);
}

/// A tracer that only counts: switches the interpreter to its one-instruction-at-
/// a-time loop.
struct Counting(u64);

impl x64vm::interp::Tracer for Counting {
    const ENABLED: bool = true;
    fn before(&mut self, _: &x64vm::Cpu, _: &x64vm::Memory, _: &x64vm::ir::Inst) {
        self.0 += 1;
    }
    fn after(&mut self, _: &x64vm::Cpu, _: &x64vm::Memory, _: &x64vm::ir::Inst) {}
}

#[test]
fn threaded_and_traced_runs_agree_at_every_gas_limit() {
    // The normal loop runs threaded handlers and links blocks; the traced loop
    // steps one instruction at a time. Both must end in the same state, including
    // where and with how much gas an out-of-gas stop happens.
    let dir = build_dir("traced");
    build_programs(&dir);
    let jobs = jobs(&dir);
    for job in &jobs {
        let full = job.run_fresh();
        for limit in [None, Some(1), Some(37), Some(1000), Some(54_321)] {
            let mut config = job.config.clone();
            if let Some(l) = limit {
                config.gas_limit = l;
            }
            let args: Vec<u64> = job.arg.into_iter().collect();
            let mut a = Instance::new(&job.image, &config, &job.input).unwrap();
            a.prepare_call(job.entry, &args).unwrap();
            let out_a = a.run(&mut NoHost);
            let mut b = Instance::new(&job.image, &config, &job.input).unwrap();
            b.prepare_call(job.entry, &args).unwrap();
            let mut tracer = Counting(0);
            let out_b = b.run_with(&mut NoHost, &mut tracer);
            assert_eq!(
                digest(&a, &out_a),
                digest(&b, &out_b),
                "{} with gas limit {limit:?}: {:?} / {:?}",
                job.name,
                out_a.status,
                out_b.status
            );
            if limit.is_none() {
                assert_eq!(digest(&a, &out_a), full, "{}", job.name);
                // Retired counts whole blocks, so only a run that finished has
                // retired exactly what the tracer saw.
                if matches!(out_b.status, x64vm::Status::Success) {
                    assert_eq!(tracer.0, out_b.instructions, "{}", job.name);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The parts of a run's end state, for a readable difference.
fn state(inst: &Instance, out: &Outcome) -> Vec<(String, String)> {
    let c = &inst.cpu;
    let mut v = vec![
        ("status".into(), format!("{:?}", out.status)),
        ("gas_used".into(), out.gas_used.to_string()),
        ("instructions".into(), out.instructions.to_string()),
        ("output".into(), format!("{:?}", out.output)),
        ("rip".into(), format!("{:#x}", c.rip)),
        ("rflags".into(), format!("{:#x}", c.rflags())),
    ];
    for (r, val) in c.gpr.iter().enumerate() {
        v.push((format!("gpr{r}"), format!("{val:#x}")));
    }
    let mem = &inst.mem;
    let mut a = mem.base();
    while a < mem.end() {
        if mem.perms_at(a) & perm::R != 0 {
            let page = mem.read_bytes(a, PAGE_SIZE).unwrap();
            v.push((
                format!("page {a:#x}"),
                format!("{:x}", {
                    let mut h = Fnv::new();
                    h.bytes(&page);
                    h.0
                }),
            ));
        }
        a += PAGE_SIZE;
    }
    v
}

#[test]
fn compiled_and_interpreted_runs_agree_at_every_gas_limit() {
    // Blocks compiled at once (threshold 1) and never: the same end state,
    // including where and with how much gas an out-of-gas stop happens, at a
    // sweep of gas limits that stops runs in every part of their code.
    let dir = build_dir("jit");
    build_programs(&dir);
    let jobs = jobs(&dir);
    let mut compiled = 0u64;
    for job in &jobs {
        let full = job.run_fresh();
        let mut limits: Vec<Option<u64>> = vec![None];
        let used = {
            let mut i = Instance::new(&job.image, &job.config, &job.input).unwrap();
            let args: Vec<u64> = job.arg.into_iter().collect();
            i.prepare_call(job.entry, &args).unwrap();
            i.run(&mut NoHost).gas_used
        };
        let step = (used / 97).max(1);
        limits.extend((1..=used.min(400)).step_by(7).map(Some));
        limits.extend((1..98).map(|k| Some(k * step + k % 5)));
        for limit in limits {
            let mut config = job.config.clone();
            if let Some(l) = limit {
                config.gas_limit = l;
            }
            let args: Vec<u64> = job.arg.into_iter().collect();
            let mut run = |jit: Option<u32>| {
                let mut a = Instance::new(&job.image, &config, &job.input).unwrap();
                a.set_jit(jit);
                a.prepare_call(job.entry, &args).unwrap();
                let out = a.run(&mut NoHost);
                let stats = a.jit_stats();
                assert_eq!(
                    stats.errors, 0,
                    "{}: a template the assembler rejects",
                    job.name
                );
                compiled += stats.compiled;
                (digest(&a, &out), state(&a, &out))
            };
            let (da, sa) = run(Some(1));
            let (db, sb) = run(None);
            if da != db {
                let diff: Vec<_> = sa.iter().zip(&sb).filter(|(x, y)| x != y).take(8).collect();
                panic!(
                    "{} with gas limit {limit:?}: compiled / interpreted differ: {diff:?}",
                    job.name
                );
            }
            if limit.is_none() {
                assert_eq!(da, full, "{}", job.name);
            }
        }
    }
    // The comparison means something only if blocks were compiled.
    assert!(compiled > 1000, "only {compiled} blocks compiled");
    let _ = std::fs::remove_dir_all(&dir);
}
