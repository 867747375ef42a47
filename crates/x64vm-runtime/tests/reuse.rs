//! Instance reuse (the code cache's idle instances, see `x64vm_runtime::code`)
//! must be invisible: the same transactions give the same receipts (status,
//! output, gas, events, debug output) and the same state whether every frame
//! gets a new instance or a reset one, through reverts, traps, out-of-gas,
//! re-entrant calls, read-only queries and changes of the VM configuration.

mod common;

use common::*;
use x64vm_runtime::code::PoolLimits;
use x64vm_runtime::{Address, MemState, Receipt, TestChain, address_of_name};

const GLOBALS_ABI: &str = "\
fn bump(u64 n) -> u64
fn heap(u64 n) -> u64
fn recurse(u64 n) -> u64
fn fail(u64 how) -> u64
fn peek() -> u64 view
";

fn globals() -> &'static [u8] {
    static ELF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ELF.get_or_init(|| build_c("globals", GLOBALS_ABI))
}

const GAS: u64 = 500_000_000;

/// Everything one run of the scenario produced.
#[derive(Debug, PartialEq)]
struct Run {
    receipts: Vec<Receipt>,
    state: MemState,
    addresses: Vec<Address>,
}

/// The scenario: several contracts (two with the same code), every way a frame
/// can end, nested and re-entrant calls, gas limits that run out at different
/// points, queries, dry runs, and a configuration change in the middle.
fn scenario(limits: PoolLimits) -> (Run, x64vm_runtime::code::PoolStats) {
    let mut chain = TestChain::new();
    chain.set_instance_pool(limits);
    let mut receipts = Vec::new();
    let (g1, r) = chain.deploy_with(globals(), "alice", "bump(1)").unwrap();
    receipts.push(r);
    let (g2, r) = chain.deploy_with(globals(), "bob", "heap(100)").unwrap();
    receipts.push(r);
    let s = chain.deploy(svc(), "carol").unwrap();
    let mut calls: Vec<(Address, &str, String, u64)> = Vec::new();
    for round in 0..3u64 {
        for g in [g1, g2] {
            calls.push((g, "alice", format!("bump({})", 5 + round), GAS));
            calls.push((g, "bob", "peek()".into(), GAS));
            calls.push((g, "carol", format!("heap({})", 70_000 + round * 5000), GAS));
            calls.push((g, "dave", format!("recurse({})", 3 + round), GAS));
            for how in 0..5 {
                calls.push((g, "eve", format!("fail({how})"), 2_000_000));
                calls.push((g, "alice", "peek()".into(), GAS));
            }
            // Out of gas at different points of the same call.
            for gas in [300, 3_000, 30_000, 300_000] {
                calls.push((g, "bob", format!("bump({gas})"), gas));
                calls.push((g, "bob", format!("recurse({})", 2 + round), gas * 10));
            }
            calls.push((g, "bob", "fail(5)".into(), GAS));
        }
        // The svc contract: re-entrancy through storage, nesting to the depth
        // limit, callees that fail, events.
        calls.push((s, "alice", "reenter(4)".into(), GAS));
        calls.push((s, "alice", "deep()".into(), 5_000_000_000));
        calls.push((s, "bob", "fail(1)".into(), GAS));
        calls.push((s, "bob", "emit(0x0102)".into(), GAS));
        let peek = x64vm_runtime::abi::encode_call("peek()", &[]);
        calls.push((
            s,
            "carol",
            format!("call({}, {}, 0, 0)", hx(&g1), hx(&peek)),
            GAS,
        ));
        let recurse =
            x64vm_runtime::abi::encode_call("recurse(u64)", &[x64vm_runtime::Value::Uint(64, 2)]);
        calls.push((
            s,
            "carol",
            format!("call({}, {}, 0, 50000)", hx(&g2), hx(&recurse)),
            GAS,
        ));
    }
    fn run(chain: &mut TestChain, calls: &[(Address, &str, String, u64)], out: &mut Vec<Receipt>) {
        for (to, from, line, gas) in calls {
            out.push(chain.call(*to, from, line, 0, *gas));
            out.push(chain.query(*to, "peek()"));
        }
    }
    run(&mut chain, &calls, &mut receipts);
    receipts.push(chain.dry_run(g1, "alice", "recurse(2)", 0, GAS));
    // A read-only query that writes: host_error.
    receipts.push(chain.query(g2, "bump(1)"));
    // Another layout (a smaller stack and heap): instances of the old one must
    // not serve these calls, and the old ones must still work afterwards.
    let old = chain.config.clone();
    chain.config.stack_size = 64 << 10;
    chain.config.heap_size = 1 << 20;
    run(&mut chain, &calls[..12], &mut receipts);
    chain.config = old;
    run(&mut chain, &calls[..12], &mut receipts);
    // Values and a block change.
    chain.advance_block();
    receipts.push(chain.call(g1, "alice", "bump(9)", 77, GAS));
    let stats = chain.pool_stats();
    let run = Run {
        receipts,
        state: chain.state().clone(),
        addresses: vec![g1, g2, s],
    };
    (run, stats)
}

#[test]
fn reused_instances_give_the_same_receipts_and_state_as_new_ones() {
    let (fresh, fresh_stats) = scenario(PoolLimits {
        max_instances: 0,
        ..PoolLimits::default()
    });
    let (reused, stats) = scenario(PoolLimits::default());
    assert_eq!(fresh_stats.reused, 0, "{fresh_stats:?}");
    // deep() alone needs 64 instances at once, 60 of them new each time.
    assert!(
        stats.reused > 300 && stats.reused > stats.created,
        "instances were reused: {stats:?}"
    );
    assert_eq!(fresh.receipts.len(), reused.receipts.len());
    for (i, (a, b)) in fresh.receipts.iter().zip(&reused.receipts).enumerate() {
        assert_eq!(a, b, "receipt {i}");
    }
    assert_eq!(fresh, reused);
    // The scenario reached every ending it means to.
    let kinds: std::collections::BTreeSet<String> = fresh
        .receipts
        .iter()
        .map(|r| match &r.status {
            x64vm_runtime::ReceiptStatus::Failed { kind, .. } => kind.clone(),
            s => format!("{s:?}").chars().take(8).collect(),
        })
        .collect();
    for k in [
        "Success",
        "Reverted",
        "invalid_opcode",
        "out_of_gas",
        "memory_out_of_bounds",
        "stack_overflow",
        "host_error",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    // Re-entrant frames each had their own globals (the contract reverts if
    // not), and their results match.
    let ok = fresh
        .receipts
        .iter()
        .filter(|r| r.status.is_success())
        .count();
    assert!(ok > 100, "{ok} successful receipts");
    let recursed = fresh
        .receipts
        .iter()
        .filter(|r| r.status.is_success() && r.gas_used > 0)
        .count();
    assert!(recursed > 0);
    assert!(
        !fresh.state.storage_of(&fresh.addresses[0]).is_empty(),
        "the contract wrote storage"
    );
}

#[test]
fn a_pool_keeps_within_its_limits() {
    let mut chain = TestChain::new();
    chain.set_instance_pool(PoolLimits {
        max_instances: 3,
        max_per_code: 2,
        ..PoolLimits::default()
    });
    let gs: Vec<Address> = (0..4)
        .map(|_| chain.deploy(globals(), "alice").unwrap())
        .collect();
    for g in &gs {
        // Re-entrant: 6 instances of one code at once, at most 2 kept.
        let r = chain.call(*g, "alice", "recurse(5)", 0, GAS);
        assert!(r.status.is_success(), "{r}");
        assert!(chain.pool_stats().idle <= 3, "{:?}", chain.pool_stats());
    }
    let stats = chain.pool_stats();
    assert_eq!(stats.idle, 2, "{stats:?}");
    assert!(stats.bytes > 0);
    // Reuse off: everything idle is dropped and nothing is kept afterwards.
    chain.set_instance_pool(PoolLimits {
        max_instances: 0,
        ..PoolLimits::default()
    });
    assert_eq!(chain.pool_stats().idle, 0);
    let r = chain.call(gs[0], "bob", "bump(1)", 0, GAS);
    assert!(r.status.is_success(), "{r}");
    assert_eq!((chain.pool_stats().idle, chain.pool_stats().bytes), (0, 0));
    let _ = address_of_name("alice");
}
