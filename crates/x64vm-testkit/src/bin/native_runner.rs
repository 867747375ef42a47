//! Runs x64vm-testkit cases on the host CPU.
//!
//! Reads a whole batch from stdin, runs every case and writes the results to
//! stdout (format: `x64vm_testkit::proto`). Code is mapped at `CODE_BASE` (writable
//! while a case is loaded, read-execute while it runs) and data read-write at
//! `DATA_BASE`, both with `MAP_FIXED_NOREPLACE`. A snippet is entered with all sixteen GPRs and the
//! flags loaded from the case; it leaves through a stub appended after it
//! (`jmp [rip+0]` to the state-saving code), so no snippet register is needed to
//! get out. Faults and timeouts inside a snippet are caught by a signal handler
//! running on an alternate stack, which records the register state at the fault
//! and resumes the runner.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod imp {
    use std::arch::global_asm;
    use std::io::{BufWriter, Read, Write};
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering, compiler_fence};

    use x64vm::cpu::flag;
    use x64vm_testkit::proto::{CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, Reader, STUB_LEN};

    /// Register state handed to and taken from a snippet.
    #[derive(Clone, Copy)]
    #[repr(C)]
    struct Frame {
        gpr: [u64; 16],
        rflags: u64,
        rip: u64,
    }

    /// The one frame in use: read by `x64vm_native_enter`, written by
    /// `x64vm_native_exit` or the signal handler. Only the main thread touches it.
    static mut FRAME: Frame = Frame {
        gpr: [0; 16],
        rflags: 0,
        rip: 0,
    };
    /// The runner's stack pointer while a snippet runs.
    static mut HOST_RSP: u64 = 0;
    /// Snippet entry point, read by the trampoline through memory so that no
    /// register is needed for the jump.
    static ENTRY: u64 = CODE_BASE;
    /// Set while a snippet (or the trampoline around it) runs.
    static IN_SNIPPET: AtomicBool = AtomicBool::new(false);
    /// Signal that stopped the current snippet, 0 if none.
    static SIGNAL: AtomicI32 = AtomicI32::new(0);

    // Offsets into `Frame`: gpr[i] at 8*i, rflags at 128.
    global_asm!(
        ".pushsection .text.x64vm_native,\"ax\",@progbits",
        ".p2align 4",
        ".globl x64vm_native_enter",
        "x64vm_native_enter:",
        "push rbx",
        "push rbp",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov [rip + {host_rsp}], rsp",
        "push qword ptr [rip + {frame} + 128]",
        "popfq",
        "mov rax, [rip + {frame} + 0]",
        "mov rcx, [rip + {frame} + 8]",
        "mov rdx, [rip + {frame} + 16]",
        "mov rbx, [rip + {frame} + 24]",
        "mov rbp, [rip + {frame} + 40]",
        "mov rsi, [rip + {frame} + 48]",
        "mov rdi, [rip + {frame} + 56]",
        "mov r8, [rip + {frame} + 64]",
        "mov r9, [rip + {frame} + 72]",
        "mov r10, [rip + {frame} + 80]",
        "mov r11, [rip + {frame} + 88]",
        "mov r12, [rip + {frame} + 96]",
        "mov r13, [rip + {frame} + 104]",
        "mov r14, [rip + {frame} + 112]",
        "mov r15, [rip + {frame} + 120]",
        "mov rsp, [rip + {frame} + 32]",
        "jmp qword ptr [rip + {entry}]",
        ".globl x64vm_native_exit",
        "x64vm_native_exit:",
        "mov [rip + {frame} + 0], rax",
        "mov [rip + {frame} + 8], rcx",
        "mov [rip + {frame} + 16], rdx",
        "mov [rip + {frame} + 24], rbx",
        "mov [rip + {frame} + 32], rsp",
        "mov [rip + {frame} + 40], rbp",
        "mov [rip + {frame} + 48], rsi",
        "mov [rip + {frame} + 56], rdi",
        "mov [rip + {frame} + 64], r8",
        "mov [rip + {frame} + 72], r9",
        "mov [rip + {frame} + 80], r10",
        "mov [rip + {frame} + 88], r11",
        "mov [rip + {frame} + 96], r12",
        "mov [rip + {frame} + 104], r13",
        "mov [rip + {frame} + 112], r14",
        "mov [rip + {frame} + 120], r15",
        "mov rsp, [rip + {host_rsp}]",
        "pushfq",
        "pop qword ptr [rip + {frame} + 128]",
        "cld",
        ".globl x64vm_native_resume",
        "x64vm_native_resume:",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "ret",
        ".popsection",
        frame = sym FRAME,
        host_rsp = sym HOST_RSP,
        entry = sym ENTRY,
    );

    // SAFETY: these are the labels of the global_asm block above.
    unsafe extern "C" {
        /// Loads FRAME and jumps to the snippet; returns once it has left through
        /// `x64vm_native_exit` or the signal handler resumed at `x64vm_native_resume`.
        fn x64vm_native_enter();
        /// Saves all GPRs and RFLAGS into FRAME (jumped to, never called).
        fn x64vm_native_exit();
        /// Restores the runner's callee-saved registers and returns from enter.
        fn x64vm_native_resume();
    }

    extern "C" fn on_signal(sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        if !IN_SNIPPET.load(Ordering::SeqCst) {
            if sig != libc::SIGALRM {
                // A fault in the runner itself: die of it (the instruction re-executes
                // with the default action).
                // SAFETY: resetting a disposition is async-signal-safe.
                unsafe { libc::signal(sig, libc::SIG_DFL) };
            }
            return;
        }
        // SAFETY: with SA_SIGINFO the kernel passes a valid ucontext_t as `ctx`. The
        // interrupted code is the snippet, which does not touch FRAME or HOST_RSP,
        // and the main thread waits inside x64vm_native_enter, so this handler has
        // exclusive use of both.
        unsafe {
            let uc = &mut *(ctx as *mut libc::ucontext_t);
            let g = &mut uc.uc_mcontext.gregs;
            let order = [
                libc::REG_RAX,
                libc::REG_RCX,
                libc::REG_RDX,
                libc::REG_RBX,
                libc::REG_RSP,
                libc::REG_RBP,
                libc::REG_RSI,
                libc::REG_RDI,
                libc::REG_R8,
                libc::REG_R9,
                libc::REG_R10,
                libc::REG_R11,
                libc::REG_R12,
                libc::REG_R13,
                libc::REG_R14,
                libc::REG_R15,
            ];
            let frame = &raw mut FRAME;
            for (k, r) in order.iter().enumerate() {
                (*frame).gpr[k] = g[*r as usize] as u64;
            }
            (*frame).rflags = g[libc::REG_EFL as usize] as u64;
            (*frame).rip = g[libc::REG_RIP as usize] as u64;
            g[libc::REG_RIP as usize] = x64vm_native_resume as *const () as usize as i64;
            g[libc::REG_RSP as usize] = (&raw const HOST_RSP).read() as i64;
            // The runner expects DF clear (ABI); never resume with TF set.
            g[libc::REG_EFL as usize] &= !((flag::DF | 0x100) as i64);
        }
        SIGNAL.store(sig, Ordering::SeqCst);
        IN_SNIPPET.store(false, Ordering::SeqCst);
    }

    fn fail(msg: &str) -> ! {
        eprintln!("x64vm-native-runner: {msg}");
        std::process::exit(2);
    }

    fn map(addr: u64, len: u64, prot: libc::c_int) {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; the result
        // is checked before the range is used.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len as usize,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p as u64 != addr {
            fail(&format!("cannot map {len:#x} bytes at {addr:#x}"));
        }
    }

    fn protect_code(prot: libc::c_int) {
        // SAFETY: the code region is our own mapping; changing its protection
        // affects nothing else.
        if unsafe { libc::mprotect(CODE_BASE as *mut libc::c_void, CODE_SIZE as usize, prot) } != 0
        {
            fail("mprotect failed");
        }
    }

    fn install_handlers() {
        let stack: &'static mut [u8] = vec![0u8; 1 << 16].leak();
        let ss = libc::stack_t {
            ss_sp: stack.as_mut_ptr() as *mut libc::c_void,
            ss_flags: 0,
            ss_size: stack.len(),
        };
        // SAFETY: the alternate stack is leaked, so it lives as long as the process;
        // the sigaction struct is fully initialised (zeroed, then filled in).
        unsafe {
            if libc::sigaltstack(&ss, std::ptr::null_mut()) != 0 {
                fail("sigaltstack failed");
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            for sig in [
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGFPE,
                libc::SIGILL,
                libc::SIGTRAP,
                libc::SIGALRM,
            ] {
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    fail("sigaction failed");
                }
            }
        }
    }

    const STUB_TARGET_OFFSET: usize = 6;

    fn truncated<T>() -> T {
        fail("truncated input")
    }

    pub fn main() {
        let mut input = Vec::new();
        if std::io::stdin().read_to_end(&mut input).is_err() {
            fail("cannot read stdin");
        }
        map(
            CODE_BASE,
            CODE_SIZE,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        );
        map(DATA_BASE, DATA_SIZE, libc::PROT_READ | libc::PROT_WRITE);
        install_handlers();

        // jmp qword ptr [rip+0]; dq x64vm_native_exit
        let mut stub = [0u8; STUB_LEN];
        stub[..STUB_TARGET_OFFSET].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
        stub[STUB_TARGET_OFFSET..]
            .copy_from_slice(&(x64vm_native_exit as *const () as u64).to_le_bytes());

        let mut r = Reader::new(&input);
        let n = r.u32().unwrap_or_else(truncated);
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        for _ in 0..n {
            let code_len = r.u32().unwrap_or_else(truncated) as usize;
            let code = r.bytes(code_len).unwrap_or_else(truncated);
            let data_len = r.u32().unwrap_or_else(truncated) as usize;
            let data = r.bytes(data_len).unwrap_or_else(truncated);
            let mut gpr = [0u64; 16];
            for g in &mut gpr {
                *g = r.u64().unwrap_or_else(truncated);
            }
            let rflags = r.u64().unwrap_or_else(truncated);
            if code_len + STUB_LEN > CODE_SIZE as usize || data_len > DATA_SIZE as usize {
                fail("case does not fit the regions");
            }
            protect_code(libc::PROT_READ | libc::PROT_WRITE);
            // SAFETY: both regions were mapped above, are writable, and nothing else
            // refers to them while no snippet runs.
            unsafe {
                let c = std::slice::from_raw_parts_mut(CODE_BASE as *mut u8, CODE_SIZE as usize);
                c.fill(0xcc);
                c[..code_len].copy_from_slice(code);
                c[code_len..code_len + STUB_LEN].copy_from_slice(&stub);
                let d = std::slice::from_raw_parts_mut(DATA_BASE as *mut u8, DATA_SIZE as usize);
                d.fill(0);
                d[..data_len].copy_from_slice(data);
                let frame = &raw mut FRAME;
                (*frame).gpr = gpr;
                // Only status flags and DF: TF would trap, AC could raise #AC.
                (*frame).rflags = (rflags & (flag::STATUS | flag::DF)) | 2;
                (*frame).rip = 0;
            }
            // Code is read-execute while it runs, as in the VM.
            protect_code(libc::PROT_READ | libc::PROT_EXEC);
            SIGNAL.store(0, Ordering::SeqCst);
            IN_SNIPPET.store(true, Ordering::SeqCst);
            compiler_fence(Ordering::SeqCst);
            // SAFETY: alarm only arms a timer. The trampoline preserves every
            // callee-saved register and the stack pointer, and the snippet can only
            // touch the two fixed regions (anything else faults and is caught).
            unsafe {
                libc::alarm(2);
                x64vm_native_enter();
                libc::alarm(0);
            }
            compiler_fence(Ordering::SeqCst);
            IN_SNIPPET.store(false, Ordering::SeqCst);
            let sig = SIGNAL.load(Ordering::SeqCst);
            // SAFETY: FRAME is no longer used by the snippet or the handler, and the
            // data region is mapped and readable.
            let (frame, data) = unsafe {
                let f = (&raw const FRAME).read();
                let d = std::slice::from_raw_parts(DATA_BASE as *const u8, DATA_SIZE as usize);
                ((f.gpr, f.rflags, f.rip), d)
            };
            let rip = if sig == 0 {
                CODE_BASE + code_len as u64
            } else {
                frame.2
            };
            let mut rec = Vec::with_capacity(4 + 8 + 17 * 8);
            rec.extend_from_slice(&(sig as u32).to_le_bytes());
            rec.extend_from_slice(&rip.to_le_bytes());
            for g in frame.0 {
                rec.extend_from_slice(&g.to_le_bytes());
            }
            rec.extend_from_slice(&frame.1.to_le_bytes());
            if out
                .write_all(&rec)
                .and_then(|()| out.write_all(data))
                .is_err()
            {
                fail("cannot write results");
            }
        }
        if out.flush().is_err() {
            fail("cannot write results");
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn main() {
    imp::main();
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn main() {
    eprintln!("x64vm-native-runner: only x86-64 Linux hosts can run guest code natively");
    std::process::exit(2);
}
