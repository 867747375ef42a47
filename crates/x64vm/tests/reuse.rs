//! Reusing an instance (`Instance::reset`) must be indistinguishable from a fresh
//! `Instance::new`: same outputs, same gas, no trace of earlier calls in globals,
//! heap, stack or input.

use std::path::Path;
use std::process::Command;

use x64vm::{Config, Instance, NoHost, Outcome, load_elf};

fn build() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reuse");
    std::fs::create_dir_all(&dir).expect("dir");
    let exe = dir.join("state.elf");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reuse/state.c");
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

#[test]
fn reset_equals_fresh_instance() {
    let elf = build();
    let image = load_elf(&elf, true).expect("load");
    let config = Config::default();
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"hello".to_vec(),
        vec![0xff; 5000],
        b"x".to_vec(),
        (0..=255).collect(),
        vec![],
    ];
    let fresh: Vec<Outcome> = inputs
        .iter()
        .map(|input| {
            let mut inst = Instance::new(&image, &config, input).expect("instance");
            inst.prepare_call(image.entry, &[]).expect("call");
            inst.run(&mut NoHost)
        })
        .collect();
    let mut reused = Instance::new(&image, &config, &[]).expect("instance");
    for (input, expect) in inputs.iter().zip(&fresh) {
        reused.reset(input).expect("reset");
        reused.prepare_call(image.entry, &[]).expect("call");
        let got = reused.run(&mut NoHost);
        assert_eq!(&got, expect, "input of {} bytes", input.len());
        assert!(reused.mem.dirty_pages() > 0, "the call wrote memory");
    }
    // Different inputs really give different results (the test can fail).
    assert_ne!(fresh[1].output, fresh[2].output);
}
