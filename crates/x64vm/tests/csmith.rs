//! csmith-generated C programs (Debian package `csmith`), compiled static against
//! musl at -O1 and -O2: the VM's output (the checksum csmith prints) must equal the
//! native run's. A fixed list of seeds runs every time, plus a few fresh random
//! ones (their seeds are printed, so a failure can be replayed with
//! `X64VM_CSMITH_SEEDS=<seed>`). The long sweep is `#[ignore]`d; CI runs it in release.
//! Every program runs twice in the VM: with every block compiled to host code at
//! once (`Instance::set_jit(Some(1))`) and in the interpreter alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use x64vm::linux::{LinuxConfig, spawn};
use x64vm::{Config, Status, load_elf};

/// Seeds that run in every test run.
const FIXED_SEEDS: std::ops::RangeInclusive<u64> = 1..=16;
/// Fresh seeds per run.
const FRESH: u64 = 4;
/// Seeds of the long sweep.
const SWEEP_SEEDS: std::ops::RangeInclusive<u64> = 1000..=1299;
/// Programs that run longer than this natively are skipped (csmith can emit
/// very long loops; the VM would take minutes).
const NATIVE_TIMEOUT: Duration = Duration::from_millis(500);

fn work_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("csmith");
    std::fs::create_dir_all(&d).expect("create work dir");
    d
}

fn include_dir() -> &'static str {
    [
        "/usr/include/csmith",
        "/usr/local/include/csmith",
        "/usr/include/csmith-2.3.0",
    ]
    .into_iter()
    .find(|d| Path::new(d).join("csmith.h").exists())
    .expect("csmith headers not found: install the csmith package")
}

/// What became of one seed.
#[derive(Debug, PartialEq)]
enum Verdict {
    Match,
    SkippedSlow,
    Mismatch(String),
}

fn run_native(exe: &Path) -> Option<Vec<u8>> {
    let mut child = Command::new(exe)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn native");
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return Some(out.stdout);
        }
        if start.elapsed() > NATIVE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_vm(exe: &Path) -> Result<Vec<u8>, String> {
    let image = load_elf(&std::fs::read(exe).map_err(|e| e.to_string())?, false)
        .map_err(|e| e.to_string())?;
    let config = Config {
        gas_limit: 20_000_000_000,
        memory_limit: 1 << 30,
        stack_size: 8 << 20,
        ..Config::default()
    };
    // Twice: every block compiled to host code at once, and the interpreter
    // alone. Both must print what the native build prints (and so agree).
    let mut outputs = Vec::new();
    for jit in [Some(1), None] {
        let (mut inst, mut host) =
            spawn(&image, &config, &LinuxConfig::default()).map_err(|e| e.to_string())?;
        inst.set_jit(jit);
        let out = inst.run(&mut host);
        if inst.jit_stats().errors != 0 {
            return Err("the block compiler rejected a template".into());
        }
        match out.status {
            Status::Success => outputs.push(host.stdout),
            s => return Err(format!("{s:?} (jit {jit:?})")),
        }
    }
    if outputs[0] != outputs[1] {
        return Err("compiled and interpreted runs printed different output".into());
    }
    Ok(outputs.swap_remove(0))
}

fn check_seed(seed: u64) -> Vec<(String, Verdict)> {
    let dir = work_dir();
    let src = dir.join(format!("s{seed}.c"));
    // csmith writes a platform.info file into its working directory.
    let generated = Command::new("csmith")
        .current_dir(&dir)
        .args(["--seed", &seed.to_string(), "-o"])
        .arg(&src)
        .output()
        .expect("run csmith (install the csmith package)");
    assert!(generated.status.success(), "csmith failed for seed {seed}");
    let mut results = Vec::new();
    for opt in ["-O1", "-O2"] {
        let exe = dir.join(format!("s{seed}{opt}"));
        let cc = Command::new("musl-gcc")
            .args([opt, "-static", "-w", "-I", include_dir(), "-o"])
            .arg(&exe)
            .arg(&src)
            .output()
            .expect("run musl-gcc (install musl-tools)");
        assert!(
            cc.status.success(),
            "musl-gcc failed for seed {seed}: {}",
            String::from_utf8_lossy(&cc.stderr)
        );
        let label = format!("seed {seed} {opt}");
        let verdict = match run_native(&exe) {
            None => Verdict::SkippedSlow,
            Some(native) => match run_vm(&exe) {
                Ok(vm) if vm == native => Verdict::Match,
                Ok(vm) => Verdict::Mismatch(format!(
                    "native {:?} vm {:?}",
                    String::from_utf8_lossy(&native),
                    String::from_utf8_lossy(&vm)
                )),
                Err(e) => Verdict::Mismatch(format!("vm failed: {e}")),
            },
        };
        let _ = std::fs::remove_file(&exe);
        results.push((label, verdict));
    }
    let _ = std::fs::remove_file(&src);
    results
}

/// Runs the seeds on two threads and fails listing every mismatch.
fn sweep(seeds: Vec<u64>) {
    let chunks: Vec<Vec<u64>> = seeds
        .chunks(seeds.len().div_ceil(2).max(1))
        .map(<[u64]>::to_vec)
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|c| std::thread::spawn(move || c.into_iter().flat_map(check_seed).collect::<Vec<_>>()))
        .collect();
    let results: Vec<(String, Verdict)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let matched = results.iter().filter(|r| r.1 == Verdict::Match).count();
    let skipped = results
        .iter()
        .filter(|r| r.1 == Verdict::SkippedSlow)
        .count();
    let bad: Vec<String> = results
        .iter()
        .filter_map(|(l, v)| match v {
            Verdict::Mismatch(m) => Some(format!("{l}: {m}")),
            _ => None,
        })
        .collect();
    eprintln!(
        "csmith: {matched} matched, {skipped} skipped (slow natively), {} mismatched of {}",
        bad.len(),
        results.len()
    );
    assert!(bad.is_empty(), "csmith mismatches:\n{}", bad.join("\n"));
    assert!(matched > 0, "no csmith program ran");
}

fn env_seeds() -> Option<Vec<u64>> {
    let v = std::env::var("X64VM_CSMITH_SEEDS").ok()?;
    Some(v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

#[test]
fn csmith_fixed_and_fresh_seeds() {
    let mut seeds: Vec<u64> = env_seeds().unwrap_or_else(|| FIXED_SEEDS.collect());
    if env_seeds().is_none() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let fresh: Vec<u64> = (0..FRESH)
            .map(|k| {
                1_000_000
                    + (t.wrapping_mul(6364136223846793005).wrapping_add(k * 7919)) % 1_000_000_000
            })
            .collect();
        eprintln!("csmith fresh seeds this run: {fresh:?}");
        seeds.extend(fresh);
    }
    sweep(seeds);
}

#[test]
#[ignore = "long sweep (300 seeds x 2 opt levels); run with --ignored in release"]
fn csmith_sweep() {
    sweep(SWEEP_SEEDS.collect());
}
