//! The chain limits of `x64vm_abi::limits`, each at its boundary and one past it,
//! through the runtime's contract host (`x64vm_runtime::TestChain`), with
//! hand-assembled contracts (no SDK involved): storage key and value size, event
//! data size and event count. (Call depth is tested by the runtime's own
//! `tests/nested.rs`.)

use iced_x86::code_asm::*;
use x64vm::loader::Segment;
use x64vm::loader::packed::Packed;
use x64vm::mem::{page_up, perm};
use x64vm_abi::{self as abi, limits};
use x64vm_runtime::{ReceiptStatus, TestChain, address_of_name};

const CODE: u64 = 0x40_1000;
const DATA: u64 = 0x42_0000;
const DATA_SIZE: u64 = 128 << 10;

/// A packed contract: `f`'s code at CODE, a zeroed RW data segment at DATA.
fn contract(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    f(&mut a).unwrap();
    let code = a.assemble(CODE).unwrap();
    Packed {
        entry: CODE,
        segments: vec![
            Segment {
                vaddr: CODE,
                mem_size: page_up(code.len() as u64),
                data: code,
                perms: perm::RX,
            },
            Segment {
                vaddr: DATA,
                data: vec![1],
                mem_size: DATA_SIZE,
                perms: perm::RW,
            },
        ],
        ..Packed::default()
    }
    .to_bytes()
    .unwrap()
}

fn call(code: &[u8]) -> ReceiptStatus {
    let mut chain = TestChain::new();
    let to = chain.deploy(code, "alice").unwrap();
    chain
        .call_raw(to, address_of_name("alice"), &[], 0, 1_000_000_000)
        .status
}

fn limit_kind(s: &ReceiptStatus, needle: &str) {
    match s {
        ReceiptStatus::Failed { kind, message } => {
            assert_eq!(kind, "limit_exceeded", "{message}");
            assert!(message.contains(needle), "{message}");
        }
        other => panic!("expected limit_exceeded ({needle}), got {other:?}"),
    }
}

fn storage_write(key_len: u64, val_len: u64) -> ReceiptStatus {
    call(&contract(|a| {
        a.mov(rdi, DATA)?;
        a.mov(rsi, key_len)?;
        a.mov(rdx, DATA)?;
        a.mov(rcx, val_len)?;
        a.int(u32::from(abi::STORAGE_WRITE))?;
        a.ret()
    }))
}

#[test]
fn storage_key_and_value_size() {
    assert_eq!(storage_write(limits::MAX_KEY, 1), ReceiptStatus::Success);
    limit_kind(&storage_write(limits::MAX_KEY + 1, 1), "storage key");
    assert_eq!(storage_write(1, limits::MAX_VALUE), ReceiptStatus::Success);
    limit_kind(&storage_write(1, limits::MAX_VALUE + 1), "storage value");
    // Reads and removes check the key the same way.
    for n in [abi::STORAGE_READ, abi::STORAGE_REMOVE] {
        let run = |len: u64| {
            call(&contract(|a| {
                a.mov(rdi, DATA)?;
                a.mov(rsi, len)?;
                a.mov(rdx, DATA + 4096)?;
                a.mov(ecx, 16)?;
                a.int(u32::from(n))?;
                a.ret()
            }))
        };
        assert_eq!(run(limits::MAX_KEY), ReceiptStatus::Success, "int {n:#x}");
        limit_kind(&run(limits::MAX_KEY + 1), "storage key");
    }
}

#[test]
fn event_data_size_and_count() {
    let emit = |len: u64, count: u32| {
        call(&contract(|a| {
            let mut top = a.create_label();
            a.mov(r12d, count)?;
            a.set_label(&mut top)?;
            a.mov(rdi, DATA)?;
            a.mov(rsi, DATA)?;
            a.mov(rdx, len)?;
            a.int(u32::from(abi::EMIT_EVENT))?;
            a.dec(r12d)?;
            a.jnz(top)?;
            a.ret()
        }))
    };
    assert_eq!(emit(limits::MAX_EVENT_DATA, 1), ReceiptStatus::Success);
    limit_kind(&emit(limits::MAX_EVENT_DATA + 1, 1), "event data");
    let max = limits::MAX_EVENTS as u32;
    assert_eq!(emit(0, max), ReceiptStatus::Success);
    limit_kind(&emit(0, max + 1), "event");
}
