//! Reusing an instance (`Instance::reset`) must be indistinguishable from a fresh
//! `Instance::new`: same outputs, same gas, no trace of earlier calls in globals,
//! heap, stack or input.

use std::path::Path;
use std::process::Command;

use x64vm::{Config, Image, Instance, NoHost, Outcome, load_elf};

/// Builds `tests/reuse/NAME.c`.
fn build(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reuse");
    std::fs::create_dir_all(&dir).expect("dir");
    let exe = dir.join(format!("{name}.elf"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/reuse")
        .join(format!("{name}.c"));
    let out = Command::new("gcc")
        .args([
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-pie",
            "-no-pie",
        ])
        .args(["-fno-stack-protector", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("gcc (install it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&exe).expect("read")
}

/// Runs `inputs` in fresh instances and in one reused instance; the outcomes
/// must be equal. Returns them, and the reused instance.
fn fresh_and_reused(image: &Image, inputs: &[Vec<u8>]) -> (Vec<Outcome>, Instance) {
    let config = Config::default();
    let fresh: Vec<Outcome> = inputs
        .iter()
        .map(|input| {
            let mut inst = Instance::new(image, &config, input).expect("instance");
            inst.prepare_call(image.entry, &[]).expect("call");
            inst.run(&mut NoHost)
        })
        .collect();
    let mut reused = Instance::new(image, &config, &[]).expect("instance");
    for (input, expect) in inputs.iter().zip(&fresh) {
        reused.reset(input).expect("reset");
        reused.prepare_call(image.entry, &[]).expect("call");
        let got = reused.run(&mut NoHost);
        assert_eq!(&got, expect, "input of {} bytes", input.len());
        assert!(reused.mem.dirty_pages() > 0, "the call wrote memory");
    }
    (fresh, reused)
}

fn inputs() -> Vec<Vec<u8>> {
    vec![
        vec![],
        b"hello".to_vec(),
        vec![0xff; 5000],
        b"x".to_vec(),
        (0..=255).collect(),
        vec![],
    ]
}

#[test]
fn reset_equals_fresh_instance() {
    let elf = build("state");
    let image = load_elf(&elf, true).expect("load");
    let (fresh, _) = fresh_and_reused(&image, &inputs());
    // Different inputs really give different results (the test can fail).
    assert_ne!(fresh[1].output, fresh[2].output);
}

#[test]
fn a_large_bss_is_neither_copied_nor_left_dirty() {
    let elf = build("bigbss");
    let image = load_elf(&elf, true).expect("load");
    let bss: u64 = image
        .segments
        .iter()
        .map(|s| s.mem_size - s.data.len() as u64)
        .sum();
    assert!(
        bss >= 4 << 20,
        "the program has its 4 MiB .bss ({bss} bytes)"
    );
    // Dirty tracking saved the initialised data only, not the zero .bss (nor the
    // read-only code): an instance costs what it touches.
    let inst = Instance::new(&image, &Config::default(), &[]).expect("instance");
    let saved = inst.mem.retained_bytes();
    assert!(saved > 0 && saved <= 4 * 4096, "saved {saved} bytes");
    drop(inst);
    // Every call sees the initial .data and an all-zero .bss, reused or not.
    let (fresh, reused) = fresh_and_reused(&image, &inputs());
    assert_ne!(fresh[1].output, fresh[2].output);
    assert_eq!(fresh[0].output, fresh[5].output);
    // Reading the whole .bss dirties nothing: a short call writes a few pages
    // (stack, .data, a .bss page or two), and its reset restores only those.
    let mut inst = reused;
    inst.reset(b"x").expect("reset");
    inst.prepare_call(image.entry, &[]).expect("call");
    assert_eq!(inst.run(&mut NoHost), fresh[3]);
    assert!(
        inst.mem.dirty_pages() <= 8,
        "{} pages",
        inst.mem.dirty_pages()
    );
}
