//! The packed contract format (docs/format.md): gcc-built contracts packed and run
//! side by side with their ELF files (same results, same gas), determinism of
//! `pack`, the size reduction, and hostile packed files (every truncation, crafted
//! inconsistencies, thousands of fixed-seed mutants) that must give a clear
//! `LoadError`, never a panic.

mod vmkit;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use vmkit::*;
use x64vm::loader::Segment;
use x64vm::loader::packed::{
    HEADER_SIZE, MAGIC, MAX_ABI_SIZE, MAX_DATA_SIZE, MAX_EXPORTS, MAX_EXPORTS_SIZE, MAX_NAME_LEN,
    MAX_SEGMENTS, Packed, SEGMENT_ENTRY_SIZE, VERSION, parse_packed,
};
use x64vm::mem::perm;
use x64vm::{
    Config, Format, Image, Instance, LoadError, NoHost, Outcome, load_any, load_elf, load_packed,
    pack,
};

/// The seed's fib contract (examples/fib/fib.c).
const FIB_C: &str = include_str!("../../../examples/fib/fib.c");

/// A contract with rodata, data, bss, an input-driven loop and an ABI section.
const MIXED_C: &str = r#"
#include <stdint.h>
__attribute__((used, section(".x64vm.abi")))
static const char abi[] = "fn mix(u64 x) -> u64\nfn _start(bytes input) -> u64\n";
static const uint64_t primes[] = { 2, 3, 5, 7, 11, 13, 17, 19 };
uint64_t counter = 3;
uint64_t scratch[512];
__attribute__((noinline)) uint64_t mix(uint64_t x) { return x * 31 + primes[x & 7]; }
uint64_t _start(const uint8_t *in, uint64_t len) {
    uint64_t acc = counter;
    for (uint64_t i = 0; i < len; i++) {
        acc = mix(acc ^ in[i]);
        scratch[i & 511] += acc;
    }
    return acc + scratch[0];
}
"#;

/// A static PIE whose data holds pointers (relocated at load time).
const PIE_C: &str = r#"
#include <stdint.h>
static uint64_t table[4] = { 10, 20, 30, 40 };
uint64_t *ptrs[4] = { &table[0], &table[1], &table[2], &table[3] };
uint64_t sum(uint64_t n) { uint64_t s = 0; for (uint64_t i = 0; i < n && i < 4; i++) s += *ptrs[i]; return s; }
uint64_t _start(const uint8_t *in, uint64_t len) { return sum(len ? in[0] : 4); }
"#;

const PIE_FLAGS: &[&str] = &[
    "-O2",
    "-static-pie",
    "-nostdlib",
    "-ffreestanding",
    "-fPIE",
    "-fno-stack-protector",
];

struct Built {
    name: &'static str,
    elf: Vec<u8>,
    /// (entry symbol or None for the ELF entry, integer args, input)
    calls: Vec<(Option<&'static str>, Vec<u64>, Vec<u8>)>,
}

/// The contracts, built once with gcc (the tests that need them say so when gcc
/// is missing and check the hand-made program instead).
fn built() -> &'static [Built] {
    static B: OnceLock<Vec<Built>> = OnceLock::new();
    B.get_or_init(|| {
        if !have_gcc() {
            eprintln!("gcc not found: packing only the hand-assembled program");
            return vec![Built {
                name: "handmade",
                elf: program(&[0x48, 0x31, 0xc0, 0xc3], &[1, 2, 3]).bytes(),
                calls: vec![(None, vec![], vec![])],
            }];
        }
        let g = |name, src, flags: &[&str]| {
            gcc(name, src, flags).unwrap_or_else(|e| panic!("gcc {name}: {e}"))
        };
        let mut debug_flags = CONTRACT_FLAGS.to_vec();
        debug_flags.push("-g");
        vec![
            Built {
                name: "fib",
                elf: g("packed_fib", FIB_C, CONTRACT_FLAGS),
                calls: vec![
                    (Some("fib"), vec![25], vec![]),
                    (Some("fib"), vec![1], vec![]),
                    (None, vec![], vec![20]),
                ],
            },
            Built {
                name: "fib -g",
                elf: g("packed_fib_g", FIB_C, &debug_flags),
                calls: vec![(Some("fib"), vec![22], vec![])],
            },
            Built {
                name: "mixed",
                elf: g("packed_mixed", MIXED_C, CONTRACT_FLAGS),
                calls: vec![
                    (None, vec![], b"hello packed world".to_vec()),
                    (None, vec![], vec![]),
                    (Some("mix"), vec![12345], vec![]),
                ],
            },
            Built {
                name: "pie",
                elf: g("packed_pie", PIE_C, PIE_FLAGS),
                calls: vec![(None, vec![], vec![4]), (Some("sum"), vec![3], vec![])],
            },
        ]
    })
}

fn run(image: &Image, entry: Option<&str>, args: &[u64], input: &[u8]) -> Outcome {
    let config = Config {
        gas_limit: 100_000_000,
        ..Config::default()
    };
    let mut inst = Instance::new(image, &config, input).expect("instance");
    let at = entry.map_or(image.entry, |e| image.symbol(e).expect("exported entry"));
    inst.prepare_call(at, args).expect("prepare");
    inst.run(&mut NoHost)
}

/// The bytes an image maps, segment by segment (file bytes padded with zeros).
fn memory_of(image: &Image) -> Vec<(u64, u8, Vec<u8>)> {
    let mut v: Vec<_> = image
        .segments
        .iter()
        .filter(|s| s.mem_size > 0)
        .map(|s| {
            let mut d = s.data.clone();
            d.resize(s.mem_size as usize, 0);
            (s.vaddr, s.perms, d)
        })
        .collect();
    v.sort_by_key(|s| s.0);
    v
}

#[test]
fn packed_contracts_run_exactly_like_their_elf_files() {
    for b in built() {
        let elf_image = load_elf(&b.elf, true).unwrap();
        let packed = pack(&b.elf).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        let image = load_packed(&packed).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert_eq!(Format::detect(&packed), Format::Packed);
        assert_eq!(load_any(&packed).unwrap(), image);
        assert_eq!(load_any(&b.elf).unwrap(), elf_image);
        // Same memory, same entry; exports are the global functions.
        assert_eq!(image.entry, elf_image.entry, "{}", b.name);
        assert_eq!(memory_of(&image), memory_of(&elf_image), "{}", b.name);
        for (name, addr) in &image.symbols {
            assert_eq!(
                elf_image.symbols.get(name),
                Some(addr),
                "{}: {name}",
                b.name
            );
            assert!(image.is_executable(*addr));
        }
        assert_eq!(image.abi, elf_image.abi, "{}", b.name);
        for (entry, args, input) in &b.calls {
            let a = run(&elf_image, *entry, args, input);
            let p = run(&image, *entry, args, input);
            assert_eq!(a, p, "{} {entry:?} {args:?}: ELF and packed differ", b.name);
            assert_eq!(a.status.name(), "success", "{} {entry:?}: {a:?}", b.name);
        }
    }
}

#[test]
fn packed_results_are_the_expected_values() {
    if !have_gcc() {
        return;
    }
    let by_name: BTreeMap<_, _> = built().iter().map(|b| (b.name, b)).collect();
    let fib = load_packed(&pack(&by_name["fib"].elf).unwrap()).unwrap();
    assert_eq!(run(&fib, Some("fib"), &[25], &[]).rax, 75025);
    assert_eq!(
        fib.symbols.keys().collect::<Vec<_>>(),
        ["_start", "fib"],
        "exports of fib"
    );
    let pie = load_packed(&pack(&by_name["pie"].elf).unwrap()).unwrap();
    assert_eq!(run(&pie, None, &[], &[4]).rax, 100, "relocated pointers");
    let mixed = load_packed(&pack(&by_name["mixed"].elf).unwrap()).unwrap();
    assert_eq!(
        mixed.abi.trim_end_matches('\0'),
        "fn mix(u64 x) -> u64\nfn _start(bytes input) -> u64\n"
    );
}

#[test]
fn pack_is_deterministic_and_canonical() {
    for b in built() {
        let one = pack(&b.elf).unwrap();
        let two = pack(&b.elf).unwrap();
        assert_eq!(one, two, "{}: two packs differ", b.name);
        // A fresh copy of the input (another allocation) packs the same too.
        let copy = b.elf.clone();
        assert_eq!(pack(&copy).unwrap(), one);
        // Serialising the parsed file gives back the same bytes.
        assert_eq!(parse_packed(&one).unwrap().to_bytes().unwrap(), one);
        // Packing is not an ELF operation: a packed file does not pack again.
        assert!(pack(&one).is_err());
    }
}

#[test]
fn packing_shrinks_contracts() {
    for b in built() {
        let packed = pack(&b.elf).unwrap();
        eprintln!(
            "{:>10}: ELF {:>6} bytes -> packed {:>5} bytes ({:.1}%)",
            b.name,
            b.elf.len(),
            packed.len(),
            packed.len() as f64 * 100.0 / b.elf.len() as f64
        );
        assert!(packed.len() < b.elf.len(), "{}", b.name);
        // Trailing zero bytes never reach the file.
        let p = parse_packed(&packed).unwrap();
        for s in &p.segments {
            assert_ne!(
                s.data.last(),
                Some(&0),
                "{}: segment {:#x}",
                b.name,
                s.vaddr
            );
        }
    }
    if have_gcc() {
        let b = &built()[0];
        let packed = pack(&b.elf).unwrap();
        assert!(
            packed.len() * 4 < b.elf.len(),
            "fib: {} -> {}",
            b.elf.len(),
            packed.len()
        );
        // Debug info is dropped: the -g build packs to the same size.
        let g = pack(&built()[1].elf).unwrap();
        assert_eq!(g.len(), packed.len());
    }
}

#[test]
fn load_any_tells_the_formats_apart() {
    assert!(matches!(load_any(b""), Err(LoadError::Malformed(_))));
    assert!(matches!(
        load_any(b"MZ\x90\x00"),
        Err(LoadError::Malformed(_))
    ));
    match load_any(b"ECHO\x01\x00\x00\x00") {
        Err(LoadError::Unsupported(m)) => assert!(m.contains("echo"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(Format::detect(b"\x7fELF...."), Format::Elf);
    assert_eq!(Format::detect(b"X64P"), Format::Packed);
    assert_eq!(Format::detect(b"ECHO"), Format::Echo);
    assert_eq!(Format::detect(b"X6"), Format::Unknown);
}

#[test]
fn format_md_states_the_layout_and_limits() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let magic = String::from_utf8_lossy(&MAGIC);
    for line in [
        format!("0       4     magic \"{magic}\""),
        format!("4       2     version = {VERSION}"),
        format!(
            "{HEADER_SIZE}            segment table: nsegments entries of {SEGMENT_ENTRY_SIZE} bytes"
        ),
        format!(
            "`{HEADER_SIZE} + {SEGMENT_ENTRY_SIZE} * nsegments + exports_size + abi_size + data_size`"
        ),
        format!("| segments | 1 to {MAX_SEGMENTS} |"),
        format!("| exports | at most {MAX_EXPORTS} |"),
        format!("| export name length | 1 to {MAX_NAME_LEN} bytes |"),
        format!("| export table | at most {} MiB |", MAX_EXPORTS_SIZE >> 20),
        format!("| ABI text | at most {} MiB |", MAX_ABI_SIZE >> 20),
        format!(
            "| segment data (sum of file sizes) | at most {} MiB |",
            MAX_DATA_SIZE >> 20
        ),
    ] {
        assert!(doc.contains(&line), "docs/format.md lacks {line:?}");
    }
}

// ---------------------------------------------------------------------------
// Hostile packed files.

const CODE_AT: u64 = 0x40_1000;
const DATA_AT: u64 = 0x60_0000;

/// A valid packed file built by hand: code (returns 42), data, two exports, ABI.
fn sample() -> Packed {
    let mut exports = BTreeMap::new();
    exports.insert("main".to_string(), CODE_AT);
    exports.insert("other".to_string(), CODE_AT + 6);
    Packed {
        entry: CODE_AT,
        segments: vec![
            Segment {
                vaddr: CODE_AT,
                // mov eax, 42; ret; xor eax, eax; ret
                data: vec![0xb8, 42, 0, 0, 0, 0xc3, 0x31, 0xc0, 0xc3],
                mem_size: 0x100,
                perms: perm::RX,
            },
            Segment {
                vaddr: DATA_AT,
                data: vec![1, 2, 3, 4],
                mem_size: 0x2000,
                perms: perm::RW,
            },
        ],
        exports,
        abi: "fn main() -> u64\n".into(),
    }
}

fn bytes_of(p: &Packed) -> Vec<u8> {
    p.to_bytes().unwrap()
}

fn load_err(bytes: &[u8]) -> LoadError {
    match load_packed(bytes) {
        Ok(_) => panic!("accepted a bad file"),
        Err(e) => e,
    }
}

fn expect_malformed(bytes: &[u8], needle: &str) {
    match load_err(bytes) {
        LoadError::Malformed(m) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        e => panic!("expected Malformed({needle}), got {e:?}"),
    }
}

fn patch(mut b: Vec<u8>, at: usize, v: &[u8]) -> Vec<u8> {
    b[at..at + v.len()].copy_from_slice(v);
    b
}

#[test]
fn the_sample_loads_and_runs() {
    let b = bytes_of(&sample());
    let image = load_packed(&b).unwrap();
    assert_eq!(run(&image, None, &[], &[]).rax, 42);
    assert_eq!(run(&image, Some("other"), &[], &[]).rax, 0);
    assert_eq!(image.abi, "fn main() -> u64\n");
    assert_eq!(image.file_size, b.len() as u64);
}

#[test]
fn every_truncation_and_extension_is_rejected() {
    let mut files = vec![bytes_of(&sample())];
    for b in built() {
        files.push(pack(&b.elf).unwrap());
    }
    for f in &files {
        for len in 0..f.len() {
            assert!(
                matches!(load_packed(&f[..len]), Err(LoadError::Malformed(_))),
                "cut at {len} of {}",
                f.len()
            );
        }
        let mut longer = f.clone();
        longer.push(0);
        expect_malformed(&longer, "header describes");
    }
}

#[test]
fn crafted_bad_headers() {
    let good = bytes_of(&sample());
    expect_malformed(&patch(good.clone(), 0, b"X64Q"), "bad magic");
    assert!(matches!(
        load_err(&patch(good.clone(), 4, &2u16.to_le_bytes())),
        LoadError::Unsupported(m) if m.contains("version 2")
    ));
    assert!(matches!(
        load_err(&patch(good.clone(), 6, &1u16.to_le_bytes())),
        LoadError::Unsupported(m) if m.contains("flags")
    ));
    // Huge counts and sizes are refused before anything is allocated.
    for (at, what) in [
        (16, "segment count"),
        (20, "export count"),
        (24, "export table size"),
        (28, "ABI text size"),
        (32, "segment data size"),
    ] {
        assert!(
            matches!(
                load_err(&patch(good.clone(), at, &u32::MAX.to_le_bytes())),
                LoadError::TooLarge(m) if m.contains(what)
            ),
            "{what}"
        );
    }
    assert!(matches!(
        load_err(&patch(good.clone(), 16, &(MAX_SEGMENTS + 1).to_le_bytes())),
        LoadError::TooLarge(_)
    ));
    assert!(matches!(
        load_err(&patch(good.clone(), 20, &(MAX_EXPORTS + 1).to_le_bytes())),
        LoadError::TooLarge(_)
    ));
    expect_malformed(&patch(good.clone(), 16, &0u32.to_le_bytes()), "no segments");
    expect_malformed(&patch(good.clone(), 36, &1u32.to_le_bytes()), "reserved");
    // A count that disagrees with the sizes.
    expect_malformed(
        &patch(good.clone(), 16, &3u32.to_le_bytes()),
        "header describes",
    );
}

#[test]
fn crafted_bad_segments() {
    let seg0 = HEADER_SIZE;
    let seg1 = HEADER_SIZE + SEGMENT_ENTRY_SIZE;
    let good = bytes_of(&sample());
    // Perms: W+X, unknown bits.
    assert!(matches!(
        load_err(&patch(good.clone(), seg0 + 20, &[perm::R | perm::W | perm::X])),
        LoadError::Unsupported(m) if m.contains("W^X")
    ));
    expect_malformed(&patch(good.clone(), seg0 + 20, &[0x81]), "permission bits");
    expect_malformed(&patch(good.clone(), seg0 + 21, &[1]), "reserved");
    // Sizes and addresses.
    expect_malformed(&patch(good.clone(), seg0 + 8, &0u64.to_le_bytes()), "empty");
    expect_malformed(
        &patch(good.clone(), seg0 + 8, &4u64.to_le_bytes()),
        "exceeds memory size",
    );
    expect_malformed(
        &patch(good.clone(), seg0, &0u64.to_le_bytes()),
        "user address range",
    );
    expect_malformed(
        &patch(good.clone(), seg1, &(u64::MAX - 0x100).to_le_bytes()),
        "user address range",
    );
    expect_malformed(
        &patch(good.clone(), seg1 + 8, &(1u64 << 47).to_le_bytes()),
        "user address range",
    );
    // Order and overlap.
    expect_malformed(&patch(good.clone(), seg1, &CODE_AT.to_le_bytes()), "sorted");
    expect_malformed(
        &patch(good.clone(), seg1, &(CODE_AT + 0x80).to_le_bytes()),
        "overlap",
    );
    // File sizes that disagree with the data size.
    expect_malformed(
        &patch(good.clone(), seg1 + 16, &3u32.to_le_bytes()),
        "add up",
    );
    expect_malformed(
        &patch(good.clone(), seg0 + 16, &0x100u32.to_le_bytes()),
        "exceed",
    );
    // W^X through a shared page: a writable segment on the code's page.
    let mut p = sample();
    p.segments[1].vaddr = CODE_AT + 0x100;
    assert!(matches!(
        load_err(&bytes_of(&p)),
        LoadError::Unsupported(m) if m.contains("W^X")
    ));
    // A span over the limit.
    let mut p = sample();
    p.segments[1].vaddr = 1 << 40;
    assert!(matches!(load_err(&bytes_of(&p)), LoadError::TooLarge(_)));
}

#[test]
fn crafted_bad_entries_and_exports() {
    let mut p = sample();
    p.entry = DATA_AT;
    expect_malformed(&bytes_of(&p), "entry point");
    let mut p = sample();
    p.entry = CODE_AT + 0x100;
    expect_malformed(&bytes_of(&p), "entry point");
    let mut p = sample();
    p.exports.insert("data".into(), DATA_AT);
    expect_malformed(&bytes_of(&p), "not in executable memory");

    let good = bytes_of(&sample());
    let exports = HEADER_SIZE + 2 * SEGMENT_ENTRY_SIZE;
    // "main" then "other": make the first name bad UTF-8, out of order, empty, huge.
    expect_malformed(&patch(good.clone(), exports + 2, &[0xff]), "UTF-8");
    expect_malformed(&patch(good.clone(), exports + 2, b"zzzz"), "out of order");
    let other = exports + 2 + 4 + 8;
    expect_malformed(&patch(good.clone(), other + 2, b"aaaaa"), "out of order");
    expect_malformed(
        &patch(good.clone(), exports, &0u16.to_le_bytes()),
        "name length",
    );
    expect_malformed(
        &patch(good.clone(), exports, &u16::MAX.to_le_bytes()),
        "name length",
    );
    expect_malformed(
        &patch(good.clone(), exports, &40u16.to_le_bytes()),
        "runs past",
    );
    // ABI text that is not UTF-8.
    let abi = other + 2 + 5 + 8;
    expect_malformed(
        &patch(good.clone(), abi, &[0xc3, 0x28]),
        "ABI text is not UTF-8",
    );
}

/// xorshift64*: the fixed-seed generator of the mutation sweep.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut e = base.to_vec();
    let tables = (HEADER_SIZE + 2 * SEGMENT_ENTRY_SIZE + 64).min(e.len());
    for _ in 0..1 + rng.below(4) {
        if e.is_empty() {
            break;
        }
        let pos = if rng.below(3) == 0 {
            rng.below(e.len())
        } else {
            rng.below(tables.min(e.len()))
        };
        match rng.below(6) {
            0 => e[pos] ^= 1 << rng.below(8),
            1 => e[pos] = rng.next() as u8,
            2 => e[pos] = [0u8, 0xff, 0x7f, 0x80, 1, 7][rng.below(6)],
            3 => {
                let v: u64 = [0, u64::MAX, 1 << 63, 1 << 32, 0x1000, rng.next()][rng.below(6)];
                let n = [2usize, 4, 8][rng.below(3)];
                let end = (pos + n).min(e.len());
                e[pos..end].copy_from_slice(&v.to_le_bytes()[..end - pos]);
            }
            4 => e.truncate(rng.below(e.len())),
            _ => {
                let extra = rng.below(16);
                e.extend((0..extra).map(|_| rng.next() as u8));
            }
        }
    }
    e
}

#[test]
fn mutated_packed_files_never_panic() {
    let mut bases = vec![bytes_of(&sample())];
    for b in built() {
        bases.push(pack(&b.elf).unwrap());
    }
    let config = Config {
        gas_limit: 20_000,
        memory_limit: 64 << 20,
        heap_size: 1 << 20,
        ..Config::default()
    };
    let mut rng = Rng(0x0bad_f11e_5eed);
    let rounds = 8000;
    let (mut loaded, mut ran) = (0usize, 0usize);
    for round in 0..rounds {
        let bytes = mutate(&mut rng, &bases[round % bases.len()]);
        let result = std::panic::catch_unwind(|| {
            let Ok(image) = load_packed(&bytes) else {
                return (false, false);
            };
            // What loads re-serialises to the same bytes (the format is canonical).
            let again = parse_packed(&bytes).unwrap().to_bytes().unwrap();
            assert_eq!(again, bytes);
            let Ok(mut inst) = Instance::new(&image, &config, b"in") else {
                return (true, false);
            };
            if inst.prepare_call(image.entry, &[]).is_err() {
                return (true, false);
            }
            let out = inst.run(&mut NoHost);
            assert!(out.gas_used <= config.gas_limit);
            (true, true)
        });
        match result {
            Ok((l, r)) => {
                loaded += usize::from(l);
                ran += usize::from(r);
            }
            Err(_) => {
                let path = scratch("packed_fuzz").join(format!("crash-{round}.x64p"));
                std::fs::write(&path, &bytes).unwrap();
                panic!("panic on mutant {round}; saved to {}", path.display());
            }
        }
    }
    eprintln!("{rounds} packed mutants: {loaded} loaded, {ran} ran");
    assert!(loaded > 200, "only {loaded} mutants loaded");
    assert!(ran > 200, "only {ran} mutants ran");
}
