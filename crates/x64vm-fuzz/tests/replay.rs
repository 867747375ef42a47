//! Replays the committed seed corpus (`fuzz/corpus/<target>/`) through every fuzz
//! target body. Crashes found by libFuzzer are added to the corpus, so this is
//! also the regression suite of every fuzzing finding.

use x64vm_fuzz::{TARGETS, corpus};

fn replay(name: &str) {
    let target = x64vm_fuzz::target(name).expect("known target");
    let files = corpus::load(name);
    assert!(
        files.len() >= 10,
        "fuzz/corpus/{name}/ holds {} files; the seed corpus is missing",
        files.len()
    );
    for (file, bytes) in &files {
        if std::panic::catch_unwind(|| target(bytes)).is_err() {
            panic!("fuzz target {name} panicked on fuzz/corpus/{name}/{file}");
        }
    }
    eprintln!("{name}: replayed {} corpus files", files.len());
}

#[test]
fn every_target_has_a_replay_test() {
    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "elf_load",
            "packed_load",
            "translate",
            "exec",
            "host_calls",
            "linux_syscalls",
            "call_line",
            "abi_text",
            "echo_load",
            "jit"
        ]
    );
    // Each libFuzzer binary calls the body of the same name.
    for n in names {
        let src = std::fs::read_to_string(corpus::root().join(format!("../fuzz_targets/{n}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{n}.rs: {e}"));
        assert!(src.contains(&format!("x64vm_fuzz::{n}(data)")), "{n}.rs");
    }
}

#[test]
fn replay_elf_load() {
    replay("elf_load");
}

#[test]
fn replay_packed_load() {
    replay("packed_load");
}

#[test]
fn replay_translate() {
    replay("translate");
}

#[test]
fn replay_exec() {
    replay("exec");
}

#[test]
fn replay_host_calls() {
    replay("host_calls");
}

#[test]
fn replay_linux_syscalls() {
    replay("linux_syscalls");
}

#[test]
fn replay_call_line() {
    replay("call_line");
}

#[test]
fn replay_abi_text() {
    replay("abi_text");
}

#[test]
fn replay_echo_load() {
    replay("echo_load");
}

#[test]
fn replay_jit() {
    replay("jit");
}
