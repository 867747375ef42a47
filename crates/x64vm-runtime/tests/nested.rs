//! Nested calls: rollback of failed callees, value, gas caps, depth limit,
//! reentrancy, and determinism of whole transactions.

mod common;

use common::*;
use x64vm_runtime::abi::encode_call;
use x64vm_runtime::{Address, Receipt, ReceiptStatus, TestChain, Value, address_of_name};

const GAS: u64 = 200_000_000;

fn two(chain: &mut TestChain) -> (Address, Address) {
    let a = chain.deploy(svc(), "alice").unwrap();
    let b = chain.deploy(svc(), "alice").unwrap();
    assert_ne!(a, b);
    (a, b)
}

fn set_input(k: &[u8], v: &[u8]) -> Vec<u8> {
    encode_call(
        "set(bytes,bytes)",
        &[Value::Bytes(k.to_vec()), Value::Bytes(v.to_vec())],
    )
}

fn fail_input(how: u8) -> Vec<u8> {
    encode_call("fail(u8)", &[Value::Uint(8, how as u128)])
}

/// `call(to, input, value, gas)` on `from_contract`; returns (status, return data, receipt).
fn call_via(
    chain: &mut TestChain,
    from_contract: Address,
    to: Address,
    input: &[u8],
    value: u128,
    gas_cap: u64,
) -> (u8, Vec<u8>, Receipt) {
    let line = format!("call({}, {}, {value}, {gas_cap})", hx(&to), hx(input));
    let r = chain.call(from_contract, "alice", &line, 0, GAS);
    assert_eq!(r.status, ReceiptStatus::Success, "{r}");
    let o = out_bytes(&r.output);
    (o[0], o[1..].to_vec(), r)
}

#[test]
fn a_successful_callee_commits_with_the_caller() {
    let mut chain = TestChain::new();
    let (a, b) = two(&mut chain);
    let (st, data, r) = call_via(&mut chain, a, b, &set_input(b"k", b"v"), 0, 0);
    assert_eq!((st, data.as_slice()), (0, &[][..]));
    assert_eq!(chain.storage(&b, b"k"), Some(b"v".to_vec()));
    assert_eq!(chain.storage(&a, b"k"), None, "storage is per contract");
    // Output of the callee is the return data.
    let get = encode_call("get(bytes)", &[Value::Bytes(b"k".to_vec())]);
    let (st, data, _) = call_via(&mut chain, a, b, &get, 0, 0);
    assert_eq!(st, 0);
    assert_eq!(out_bytes(&data), b"v");
    assert!(r.gas_used > 0);
}

#[test]
fn a_failed_callee_rolls_back_only_its_own_frame() {
    let mut chain = TestChain::new();
    let (a, b) = two(&mut chain);
    for (how, status, data) in [
        (0u8, 1u8, "nope"),
        (1, 2, "invalid_opcode"),
        (2, 2, "out_of_gas"),
    ] {
        let (st, d, r) = call_via(&mut chain, a, b, &fail_input(how), 0, 1_000_000);
        assert_eq!(st, status, "fail({how})");
        assert!(String::from_utf8_lossy(&d).contains(data), "{d:?}");
        // The callee wrote "fail" and emitted Ping before failing: both gone.
        assert_eq!(chain.storage(&b, b"fail"), None);
        assert!(r.events.is_empty(), "{:?}", r.events);
    }
}

#[test]
fn a_reverting_caller_undoes_a_successful_callee() {
    let mut chain = TestChain::new();
    let (a, b) = two(&mut chain);
    let line = format!(
        "call_then_revert({}, {})",
        hx(&b),
        hx(&set_input(b"k", b"v"))
    );
    let r = chain.call(a, "alice", &line, 0, GAS);
    assert_eq!(
        r.status,
        ReceiptStatus::Reverted("caller reverts after the call".into())
    );
    assert_eq!(chain.storage(&b, b"k"), None);
}

#[test]
fn value_moves_with_a_call_and_back_on_failure() {
    let mut chain = TestChain::new();
    let (a, b) = two(&mut chain);
    // Fund a.
    assert!(
        chain
            .call(a, "alice", "context()", 1000, GAS)
            .status
            .is_success()
    );
    let ctx = encode_call("context()", &[]);
    let (st, data, _) = call_via(&mut chain, a, b, &ctx, 300, 0);
    assert_eq!(st, 0);
    let o = out_bytes(&data);
    assert_eq!(&o[0..32], &a, "the caller is the calling contract");
    assert_eq!(
        &o[32..64],
        &address_of_name("alice"),
        "the origin is the sender"
    );
    assert_eq!(u128::from_le_bytes(o[96..112].try_into().unwrap()), 300);
    assert_eq!((chain.balance(&a), chain.balance(&b)), (700, 300));
    // A failing callee returns the value.
    let (st, _, _) = call_via(&mut chain, a, b, &fail_input(0), 100, 0);
    assert_eq!(st, 1);
    assert_eq!((chain.balance(&a), chain.balance(&b)), (700, 300));
    // More than the caller has: status 2, nothing moves.
    let (st, d, _) = call_via(&mut chain, a, b, &ctx, 701, 0);
    assert_eq!(st, 2);
    assert!(String::from_utf8_lossy(&d).contains("cannot send"), "{d:?}");
    assert_eq!((chain.balance(&a), chain.balance(&b)), (700, 300));
}

#[test]
fn the_gas_cap_bounds_the_callee_and_its_use_is_charged() {
    let mut chain = TestChain::new();
    let (a, b) = two(&mut chain);
    let (st, _, capped) = call_via(&mut chain, a, b, &fail_input(2), 0, 50_000);
    assert_eq!(st, 2);
    let (st, _, small) = call_via(&mut chain, a, b, &fail_input(2), 0, 10_000);
    assert_eq!(st, 2);
    assert_eq!(
        capped.gas_used - small.gas_used,
        40_000,
        "the callee's gas is charged"
    );
}

#[test]
fn calling_an_account_without_code_fails_with_status_2() {
    let mut chain = TestChain::new();
    let (a, _) = two(&mut chain);
    let (st, d, _) = call_via(&mut chain, a, address_of_name("bob"), &[1, 2, 3, 4], 0, 0);
    assert_eq!(st, 2);
    assert!(String::from_utf8_lossy(&d).contains("no contract"));
}

#[test]
fn calls_nest_at_most_64_deep() {
    let mut chain = TestChain::new();
    let (a, _) = two(&mut chain);
    let r = chain.call(a, "alice", "deep()", 0, 5_000_000_000);
    assert_eq!(r.status, ReceiptStatus::Success, "{r}");
    assert_eq!(r.decoded_output.as_deref(), Some("64"));
}

#[test]
fn reentrancy_sees_the_outer_frames_writes() {
    let mut chain = TestChain::new();
    let (a, _) = two(&mut chain);
    let r = chain.call(a, "alice", "reenter(5)", 0, GAS);
    assert_eq!(r.status, ReceiptStatus::Success, "{r}");
    // Each frame increments the counter; the outermost sees all six increments.
    assert_eq!(r.decoded_output.as_deref(), Some("6"));
    assert_eq!(
        chain.storage(&a, b"counter"),
        Some(6u64.to_le_bytes().to_vec())
    );
}

#[test]
fn the_same_transactions_give_the_same_receipts() {
    let run = || {
        let mut chain = TestChain::new();
        let (a, b) = two(&mut chain);
        let mut receipts = vec![
            chain.call(a, "alice", "reenter(3)", 0, GAS),
            chain.call(a, "bob", "emit(0x0102)", 0, GAS),
            chain.call(a, "alice", "fail(2)", 0, 100_000),
            chain.call(a, "carol", "deep()", 0, 5_000_000_000),
        ];
        let line = format!("call({}, {}, 0, 0)", hx(&b), hx(&set_input(b"x", b"y")));
        receipts.push(chain.call(a, "dave", &line, 0, GAS));
        (a, b, receipts, chain.state().clone())
    };
    let first = run();
    let second = run();
    assert_eq!(first, second);
}
