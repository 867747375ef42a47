//! Fuzz target bodies for x64vm.
//!
//! Every target is a plain function over raw bytes, so the very same code runs
//!
//! - under libFuzzer (`fuzz/fuzz_targets/<name>.rs`, nightly, `scripts/fuzz-smoke.sh`);
//! - as ordinary tests on stable: `tests/replay.rs` runs every file of the committed
//!   corpus `fuzz/corpus/<name>/` through its target, and `tests/mini_fuzz.rs`
//!   mutates that corpus with a small deterministic PRNG ([`mini_fuzz`]).
//!
//! A target "fails" by panicking: the VM must never panic on hostile input, so any
//! panic (including the assertions below) is a finding. The assertions check the
//! properties of `docs/security.md`: a run ends with a status (never a panic or a
//! hang), never uses more gas than it was given, and two runs of the same thing
//! agree exactly (status, output, gas, registers, memory).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod corpus;
mod jit_gen;
mod targets;

pub use targets::{
    abi_text, call_line, echo_load, elf_load, exec, host_calls, jit, linux_syscalls, packed_load,
    translate,
};

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its libFuzzer binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("elf_load", elf_load),
    ("packed_load", packed_load),
    ("translate", translate),
    ("exec", exec),
    ("host_calls", host_calls),
    ("linux_syscalls", linux_syscalls),
    ("call_line", call_line),
    ("abi_text", abi_text),
    ("echo_load", echo_load),
    ("jit", jit),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t)
}

/// xorshift64*: a tiny deterministic PRNG for the mutation loops.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Values that sit on boundaries: zero, one, signs, powers of two, all ones.
const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x1000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 63,
    u64::MAX,
    u64::MAX - 7,
];

/// Mutates `base` (a corpus entry): bit flips, random and boundary bytes and
/// words, small arithmetic, chunk copies, insertions, deletions, truncation and
/// splicing with `other`. Output is at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, base: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut e = base.to_vec();
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        if e.is_empty() {
            e.push(rng.next_u64() as u8);
            continue;
        }
        let pos = rng.below(e.len());
        match rng.below(11) {
            0 => e[pos] ^= 1 << rng.below(8),
            1 => e[pos] = rng.next_u64() as u8,
            2 => e[pos] = INTERESTING[rng.below(INTERESTING.len())] as u8,
            3 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let n = [2usize, 4, 8][rng.below(3)];
                let end = (pos + n).min(e.len());
                let k = end - pos;
                e[pos..end].copy_from_slice(&v.to_le_bytes()[..k]);
            }
            4 => {
                let d = 1 + rng.below(16) as u8;
                e[pos] = if rng.below(2) == 0 {
                    e[pos].wrapping_add(d)
                } else {
                    e[pos].wrapping_sub(d)
                };
            }
            5 => {
                // Copy a chunk within the input.
                let len = 1 + rng.below(16.min(e.len()));
                let from = rng.below(e.len() - len + 1);
                let to = rng.below(e.len() - len + 1);
                let chunk = e[from..from + len].to_vec();
                e[to..to + len].copy_from_slice(&chunk);
            }
            6 => {
                // Insert random bytes.
                let n = 1 + rng.below(8);
                for _ in 0..n {
                    e.insert(pos, rng.next_u64() as u8);
                }
            }
            7 => {
                let n = 1 + rng.below(8.min(e.len() - pos));
                e.drain(pos..pos + n);
            }
            8 => e.truncate(pos.max(1)),
            9 if !other.is_empty() => {
                // Splice: keep a prefix of this input, continue with a part of another.
                let from = rng.below(other.len());
                e.truncate(pos);
                e.extend_from_slice(&other[from..]);
            }
            _ => {
                // Repeat a chunk (builds long runs, deep nesting, many records).
                let len = 1 + rng.below(8.min(e.len() - pos));
                let chunk = e[pos..pos + len].to_vec();
                for _ in 0..1 + rng.below(8) {
                    e.splice(pos..pos, chunk.iter().copied());
                }
            }
        }
        if e.len() > max_len {
            e.truncate(max_len);
        }
    }
    e
}

/// What a mini-fuzz run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FuzzStats {
    /// Inputs run through the target (corpus entries plus mutants).
    pub executions: u64,
    /// Mutants among them.
    pub mutants: u64,
}

/// Runs `target` on every corpus entry, then on `iterations` mutants of random
/// entries. A panic inside the target is caught, the input saved under
/// `crash_dir` and the panic re-raised with the file's name.
pub fn mini_fuzz(
    name: &str,
    target: Target,
    corpus: &[Vec<u8>],
    seed: u64,
    iterations: u64,
    max_len: usize,
    crash_dir: &std::path::Path,
) -> FuzzStats {
    let mut stats = FuzzStats::default();
    let empty = [Vec::new()];
    let corpus = if corpus.is_empty() {
        &empty[..]
    } else {
        corpus
    };
    let run = |input: &[u8], what: &str| {
        if std::panic::catch_unwind(|| target(input)).is_err() {
            let _ = std::fs::create_dir_all(crash_dir);
            let path = crash_dir.join(format!("crash-{name}-{seed:x}-{what}.bin"));
            let _ = std::fs::write(&path, input);
            panic!(
                "fuzz target {name} panicked on {what}; input saved to {}",
                path.display()
            );
        }
    };
    for (k, input) in corpus.iter().enumerate() {
        run(input, &format!("corpus{k}"));
        stats.executions += 1;
    }
    let mut rng = Rng::new(seed);
    for i in 0..iterations {
        let base = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base, other, max_len);
        run(&input, &format!("mutant{i}"));
        stats.executions += 1;
        stats.mutants += 1;
    }
    stats
}
