//! The local chain on a real state file: deploy, call, query, receipts,
//! events, atomicity, nested rollback, dry runs, snapshots, blocks, replay.

mod common;

use std::cell::Cell;

use common::*;
use x64vm::cpu::Cpu;
use x64vm::ir::Inst;
use x64vm::mem::Memory;
use x64vm_chain::{Chain, ChainError, LogFilter, Params, Receipt, TxKind, TxOptions};
use x64vm_runtime::host::{Frame, StepSink};
use x64vm_runtime::{Address, address_of_name, hex};

const DEV: u128 = 1_000_000_000_000_000_000_000_000;

fn fresh(tag: &str) -> (Chain, std::path::PathBuf) {
    let dir = temp_dir(tag);
    let path = dir.join("state.redb");
    (
        Chain::init(&path, Params::default(), false).expect("init"),
        path,
    )
}

fn alice() -> TxOptions {
    TxOptions::from_name("alice")
}

fn deploy_bank(chain: &Chain, alias: &str) -> Address {
    let r = chain
        .deploy(bank(), Some("init(1000)"), Some(alias), &alice())
        .expect("deploys");
    assert!(r.is_success(), "{r}");
    r.to
}

fn ok(r: &Receipt) {
    assert!(r.is_success(), "{r}");
}

fn get_v(chain: &Chain, c: &Address) -> String {
    let q = chain.query(c, "get()").expect("query");
    ok(&q);
    q.decoded_output.expect("decoded")
}

#[test]
fn deploy_call_query_receipts_events() {
    let (chain, _) = fresh("basic");
    let head0 = chain.head().unwrap();
    assert_eq!(head0.number, 0);
    assert_eq!(chain.balance(&address_of_name("bob")).unwrap(), DEV);

    let d = chain
        .deploy(bank(), Some("init(1000)"), Some("bank"), &alice())
        .unwrap();
    ok(&d);
    assert_eq!((d.id, d.kind, d.block), (1, TxKind::Deploy, 1));
    assert_eq!(d.alias.as_deref(), Some("bank"));
    assert_eq!(d.function.as_deref(), Some("init(u128)"));
    assert_eq!(d.nonce, Some(0));
    let token = d.to;
    assert_eq!(
        token,
        x64vm_runtime::TestChain::contract_address(&address_of_name("alice"), 0)
    );
    assert_eq!(chain.resolve_contract("bank").unwrap(), token);
    assert_eq!(chain.resolve_contract(&hex(&token)).unwrap(), token);
    assert_eq!(d.events.len(), 1);
    let ev = &d.events[0];
    assert_eq!(ev.name.as_deref(), Some("Transfer"));
    assert_eq!(ev.alias.as_deref(), Some("bank"));
    assert_eq!(ev.fields.len(), 3);
    assert_eq!(ev.fields[2].value, "1000");
    assert_eq!(ev.fields[2].name.as_deref(), Some("amount"));
    assert_eq!(ev.fields[1].value, hex(&address_of_name("alice")));
    assert!(
        ev.decoded
            .as_deref()
            .unwrap()
            .starts_with("Transfer(from: 0x0000")
    );
    // The code is stored once by its hash; the contract record knows it.
    let info = chain.contract(&token).unwrap().unwrap();
    assert_eq!(info.code_hash, x64vm_runtime::crypto::keccak256(bank()));
    assert_eq!(Some(info.code_hash), d.code_hash);
    assert_eq!(info.size as usize, bank().len());

    let r = chain
        .call(&token, r#"transfer("bob", 100)"#, &alice())
        .unwrap();
    ok(&r);
    assert_eq!((r.id, r.block, r.kind), (2, 2, TxKind::Call));
    assert_eq!(r.decoded_output.as_deref(), Some("true"));
    assert_eq!(r.function.as_deref(), Some("transfer(address,u128)"));
    assert_eq!(r.call.as_deref(), Some(r#"transfer("bob", 100)"#));
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].fields[2].value, "100");
    assert!(r.gas_used > 0 && r.gas_used < r.gas_limit);
    assert_eq!(r.fee, u128::from(r.gas_used));
    let tree = r.trace.as_ref().unwrap();
    assert_eq!(tree.gas_used, r.gas_used);
    assert_eq!(tree.function.as_deref(), Some("transfer(address,u128)"));
    assert!(tree.calls.is_empty());

    let q = chain.query(&token, r#"balance_of("bob")"#).unwrap();
    ok(&q);
    assert_eq!(q.kind, TxKind::Query);
    assert_eq!(q.decoded_output.as_deref(), Some("100"));
    assert_eq!(q.fee, 0);
    let q = chain.query(&token, r#"balance_of("alice")"#).unwrap();
    assert_eq!(q.decoded_output.as_deref(), Some("900"));
    // The typed form needs no ABI.
    let q = chain
        .query(&token, r#"balance_of(address) -> u128 ("bob")"#)
        .unwrap();
    assert_eq!(q.decoded_output.as_deref(), Some("100"));

    // Stored receipts equal the returned ones.
    assert_eq!(chain.receipt(1).unwrap().unwrap(), d);
    assert_eq!(chain.receipt(2).unwrap().unwrap(), r);
    assert!(chain.receipt(3).unwrap().is_none());

    // Fees and nonces.
    let a = address_of_name("alice");
    assert_eq!(chain.nonce(&a).unwrap(), 2);
    assert_eq!(chain.balance(&a).unwrap(), DEV - d.fee - r.fee);

    // Logs, filtered.
    let all = chain.logs(&LogFilter::default()).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].receipt, all[1].receipt), (1, 2));
    let f = LogFilter {
        event: Some("Transfer".into()),
        contract: Some(token),
    };
    assert_eq!(chain.logs(&f).unwrap().len(), 2);
    let f = LogFilter {
        event: Some("Set".into()),
        contract: None,
    };
    assert!(chain.logs(&f).unwrap().is_empty());

    // Storage: supply and two balances.
    let st = chain.storage(&token, None).unwrap();
    assert_eq!(st.len(), 3);
    let mut bob_key = vec![b'b'];
    bob_key.extend_from_slice(&address_of_name("bob"));
    let v = chain.storage(&token, Some(&bob_key)).unwrap();
    assert_eq!(v[0].1, 100u128.to_le_bytes());

    // Blocks: one per transaction, linked by hash, 12 s apart.
    let b1 = chain.block(1).unwrap().unwrap();
    let b2 = chain.block(2).unwrap().unwrap();
    assert_eq!(b1.parent_hash, head0.hash);
    assert_eq!(b2.parent_hash, b1.hash);
    assert_eq!(b2.receipts, vec![2]);
    assert_eq!(b2.timestamp, b1.timestamp + 12);
    assert_eq!(
        b2.hash,
        x64vm_chain::chain::block_hash(&b1.hash, &[r.digest()])
    );
    assert_eq!(chain.head().unwrap(), b2);

    // Accounts: the dev accounts first, then the contract.
    let accts = chain.accounts().unwrap();
    let names: Vec<_> = accts.iter().filter_map(|a| a.name.clone()).collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave", "eve"]);
    assert!(
        accts
            .iter()
            .any(|a| a.contract && a.alias.as_deref() == Some("bank"))
    );

    // Aliases are unique: a second deploy under the same name gets a suffix.
    let d2 = chain.deploy(bank(), None, Some("bank"), &alice()).unwrap();
    assert_eq!(d2.alias.as_deref(), Some("bank-2"));
    assert_ne!(d2.to, token);
}

#[test]
fn bad_input_is_an_error_not_a_receipt() {
    let (chain, _) = fresh("badinput");
    let c = deploy_bank(&chain, "bank");
    let before = chain.head().unwrap();
    for line in [
        "nope()",
        "transfer(1)",
        r#"transfer("bob", -1)"#,
        "transfer(",
        "",
    ] {
        match chain.call(&c, line, &alice()) {
            Err(ChainError::BadInput(_)) => {}
            other => panic!("{line:?}: {other:?}"),
        }
    }
    assert!(matches!(
        chain.resolve_contract("missing"),
        Err(ChainError::NotFound(_))
    ));
    assert!(matches!(
        chain.resolve_contract("0x12"),
        Err(ChainError::BadInput(_))
    ));
    assert!(matches!(
        chain.deploy(b"not an elf", None, None, &alice()),
        Err(ChainError::BadCode(_))
    ));
    assert!(matches!(
        chain.deploy(bank(), Some("init(1, 2)"), None, &alice()),
        Err(ChainError::BadInput(_))
    ));
    assert!(matches!(
        chain.deploy(bank(), None, Some("0xbad"), &alice()),
        Err(ChainError::BadInput(_))
    ));
    // A sender who cannot pay is rejected before anything runs.
    let poor = TxOptions::from_name("nobody");
    assert!(matches!(
        chain.call(&c, "set(1)", &poor),
        Err(ChainError::Rejected(_))
    ));
    let rich_value = TxOptions {
        value: DEV,
        ..alice()
    };
    assert!(matches!(
        chain.call(&c, "deposit()", &rich_value),
        Err(ChainError::Rejected(_))
    ));
    assert_eq!(chain.head().unwrap(), before);
    assert_eq!(chain.receipts().unwrap().len(), 1);
}

#[test]
fn failed_transactions_keep_only_fee_and_nonce() {
    let (chain, _) = fresh("atomic");
    let c = deploy_bank(&chain, "bank");
    ok(&chain.call(&c, "set_and_emit(7)", &alice()).unwrap());
    let a = address_of_name("alice");
    let logs_before = chain.logs(&LogFilter::default()).unwrap();
    let storage_before = chain.storage(&c, None).unwrap();
    // (how, expected status)
    for (how, status) in [
        (0, "reverted"),
        (1, "memory_out_of_bounds"),
        (2, "out_of_gas"),
        (3, "invalid_opcode"),
    ] {
        let bal = chain.balance(&a).unwrap();
        let nonce = chain.nonce(&a).unwrap();
        let value = TxOptions {
            value: 5,
            gas: Some(2_000_000),
            ..alice()
        };
        let r = chain
            .call(&c, &format!("set_then_fail(99, {how})"), &value)
            .unwrap();
        assert_eq!(r.status, status, "{r}");
        let e = r.error.as_ref().unwrap();
        assert_eq!(e.kind, status);
        match how {
            0 => assert_eq!(e.message, "failing on purpose"),
            1 => {
                assert!(e.rip.is_some(), "{e:?}");
                assert!(
                    e.symbol.as_deref().unwrap_or("").starts_with("do_trap"),
                    "{e:?}"
                );
            }
            2 => {
                assert_eq!(r.gas_used, r.gas_limit);
                assert!(
                    e.symbol.as_deref().unwrap_or("").starts_with("burn"),
                    "{e:?}"
                );
            }
            _ => assert!(e.rip.is_some()),
        }
        assert!(r.events.is_empty());
        assert!(r.decoded_output.is_none());
        // Stored, with a block, but nothing else changed: storage, events,
        // the value sent; only the fee and the nonce.
        assert_eq!(chain.receipt(r.id).unwrap().unwrap(), r);
        assert_eq!(get_v(&chain, &c), "7");
        assert_eq!(chain.storage(&c, None).unwrap(), storage_before);
        assert_eq!(chain.logs(&LogFilter::default()).unwrap(), logs_before);
        assert_eq!(chain.balance(&c).unwrap(), 0);
        assert_eq!(chain.nonce(&a).unwrap(), nonce + 1);
        assert_eq!(chain.balance(&a).unwrap(), bal - r.fee);
        assert_eq!(r.fee, u128::from(r.gas_used));
    }
    // A failed constructor deploys nothing.
    let d = chain
        .deploy(
            bank(),
            Some("set_then_fail(1, 0)"),
            Some("broken"),
            &alice(),
        )
        .unwrap();
    assert_eq!(d.status, "reverted");
    assert!(chain.contract(&d.to).unwrap().is_none());
    assert!(chain.resolve_contract("broken").is_err());
    assert!(matches!(
        chain.query(&d.to, "get()"),
        Err(ChainError::NotFound(_))
    ));
}

#[test]
fn dry_runs_and_queries_commit_nothing() {
    let (chain, _) = fresh("dry");
    let c = deploy_bank(&chain, "bank");
    let a = address_of_name("alice");
    let (bal, nonce, head) = (
        chain.balance(&a).unwrap(),
        chain.nonce(&a).unwrap(),
        chain.head().unwrap(),
    );
    let dry = TxOptions {
        dry_run: true,
        ..alice()
    };
    let r = chain.call(&c, "set_and_emit(5)", &dry).unwrap();
    ok(&r);
    assert!(r.dry_run);
    assert_eq!(r.id, 0);
    assert_eq!(r.block, head.number + 1);
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].decoded.as_deref(), Some("Set(v: 5)"));
    assert!(r.fee > 0, "a dry run reports the fee it would take");
    let d = chain.deploy(bank(), None, Some("x"), &dry).unwrap();
    ok(&d);
    assert!(chain.contract(&d.to).unwrap().is_none());
    assert_eq!(get_v(&chain, &c), "0");
    assert_eq!(chain.balance(&a).unwrap(), bal);
    assert_eq!(chain.nonce(&a).unwrap(), nonce);
    assert_eq!(chain.head().unwrap(), head);
    assert_eq!(chain.receipts().unwrap().len(), 1);

    // A query that writes fails, and changes nothing.
    for line in ["set(1)", "set_and_emit(2)"] {
        let q = chain.query(&c, line).unwrap();
        assert_eq!(q.status, "host_error", "{q}");
        assert!(q.error.unwrap().message.contains("read-only"));
    }
    assert_eq!(get_v(&chain, &c), "0");
    assert_eq!(chain.head().unwrap(), head);
}

#[test]
fn nested_call_rollback_and_call_tree() {
    let (chain, _) = fresh("nested");
    let outer = deploy_bank(&chain, "outer");
    let inner = deploy_bank(&chain, "inner");
    let r = chain
        .call(&outer, &format!("nested({}, 7)", hex(&inner)), &alice())
        .unwrap();
    ok(&r);
    assert_eq!(r.decoded_output.as_deref(), Some("1"), "callee reverted");
    assert_eq!(get_v(&chain, &outer), "7");
    assert_eq!(get_v(&chain, &inner), "0", "the inner frame rolled back");
    assert_eq!(r.events.len(), 1, "only the outer frame's event");
    assert_eq!(r.events[0].address, outer);
    let tree = r.trace.as_ref().unwrap();
    assert_eq!(tree.alias.as_deref(), Some("outer"));
    assert_eq!(tree.calls.len(), 1);
    let child = &tree.calls[0];
    assert_eq!(child.depth, 2);
    assert_eq!(child.address, inner);
    assert_eq!(child.caller, outer);
    assert_eq!(child.status, "reverted");
    assert_eq!(child.function.as_deref(), Some("set_then_fail(u64,u8)"));
    assert_eq!(child.error.as_ref().unwrap().message, "failing on purpose");
    assert!(child.gas_used > 0 && tree.gas_used > child.gas_used);
    assert_eq!(tree.own_gas(), tree.gas_used - child.gas_used);

    // A successful nested call commits both frames.
    let r = chain
        .call(&outer, &format!("call_set({}, 11)", hex(&inner)), &alice())
        .unwrap();
    ok(&r);
    assert_eq!(r.decoded_output.as_deref(), Some("0"));
    assert_eq!(get_v(&chain, &inner), "11");
    assert_eq!(r.trace.unwrap().calls[0].status, "success");
}

#[test]
fn value_transfers() {
    let (chain, _) = fresh("value");
    let c = deploy_bank(&chain, "bank");
    let a = address_of_name("alice");
    let bob = address_of_name("bob");
    let before = chain.balance(&a).unwrap();
    let v = TxOptions {
        value: 500,
        ..alice()
    };
    let r = chain.call(&c, "deposit()", &v).unwrap();
    ok(&r);
    assert_eq!(r.value, 500);
    assert_eq!(chain.balance(&c).unwrap(), 500);
    assert_eq!(chain.balance(&a).unwrap(), before - 500 - r.fee);
    let r = chain.call(&c, r#"pay("bob", 100)"#, &alice()).unwrap();
    ok(&r);
    assert_eq!(r.decoded_output.as_deref(), Some("0"));
    assert_eq!(chain.balance(&bob).unwrap(), DEV + 100);
    assert_eq!(chain.balance(&c).unwrap(), 400);
    let r = chain.call(&c, r#"pay("bob", 1000)"#, &alice()).unwrap();
    assert_eq!(r.decoded_output.as_deref(), Some("1"), "insufficient");
    // set_balance, directly.
    chain.set_balance(&bob, 7).unwrap();
    assert_eq!(chain.balance(&bob).unwrap(), 7);
}

#[test]
fn blocks_and_block_hashes_seen_by_contracts() {
    let (chain, _) = fresh("blocks");
    let c = deploy_bank(&chain, "bank");
    let head = chain.mine(3).unwrap();
    assert_eq!(head.number, 4);
    assert!(head.receipts.is_empty());
    assert_eq!(head.timestamp, Params::default().genesis_timestamp + 4 * 12);
    let q = chain.query(&c, "block_info()").unwrap();
    ok(&q);
    let out = &q.output[4..];
    let n = u64::from_le_bytes(out[..8].try_into().unwrap());
    let ts = u64::from_le_bytes(out[8..16].try_into().unwrap());
    assert_eq!(n, 5, "queries run in the pending block");
    assert_eq!(ts, Params::default().genesis_timestamp + 5 * 12);
    assert_eq!(out[16], 1);
    assert_eq!(&out[17..49], &chain.block(4).unwrap().unwrap().hash);
}

#[test]
fn snapshot_and_revert() {
    let (chain, _) = fresh("snap");
    let c = deploy_bank(&chain, "bank");
    ok(&chain.call(&c, "set(1)", &alice()).unwrap());
    let dump_before = chain.dump().unwrap();
    let s1 = chain.snapshot().unwrap();
    ok(&chain.call(&c, "set_and_emit(2)", &alice()).unwrap());
    ok(&chain
        .call(&c, r#"transfer("carol", 10)"#, &alice())
        .unwrap());
    let other = deploy_bank(&chain, "other");
    chain.set_balance(&address_of_name("dave"), 3).unwrap();
    chain.mine(2).unwrap();
    let s2 = chain.snapshot().unwrap();
    assert!(s2 > s1);
    ok(&chain.call(&c, "set(3)", &alice()).unwrap());
    assert_eq!(get_v(&chain, &c), "3");

    chain.revert(s2).unwrap();
    assert_eq!(get_v(&chain, &c), "2");
    assert_eq!(chain.resolve_contract("other").unwrap(), other);

    chain.revert(s1).unwrap();
    assert_eq!(chain.dump().unwrap(), dump_before, "everything is back");
    assert_eq!(get_v(&chain, &c), "1");
    assert!(chain.resolve_contract("other").is_err());
    assert!(chain.contract(&other).unwrap().is_none());
    assert_eq!(chain.balance(&address_of_name("dave")).unwrap(), DEV);
    // Reverting used the snapshots up; new ones get new ids.
    assert!(matches!(chain.revert(s2), Err(ChainError::NotFound(_))));
    assert!(matches!(chain.revert(s1), Err(ChainError::NotFound(_))));
    let s3 = chain.snapshot().unwrap();
    assert!(s3 > s2);
    // Transactions go on from the reverted state, with the same ids.
    let r = chain.call(&c, "set(4)", &alice()).unwrap();
    assert_eq!(r.id, 3);
    assert_eq!(r.block, 3);
}

#[test]
fn state_survives_reopening() {
    let (chain, path) = fresh("reopen");
    let c = deploy_bank(&chain, "bank");
    ok(&chain.call(&c, "set_and_emit(42)", &alice()).unwrap());
    let dump = chain.dump().unwrap();
    drop(chain);
    let chain = Chain::open(&path).unwrap();
    assert_eq!(chain.dump().unwrap(), dump);
    assert_eq!(get_v(&chain, &c), "42");
    // The file is locked while open.
    assert!(matches!(Chain::open(&path), Err(ChainError::InUse)));
    assert!(matches!(
        Chain::init(&path, Params::default(), false),
        Err(ChainError::Exists(_))
    ));
}

/// Counts instructions and frames.
#[derive(Default)]
struct Count {
    instructions: Cell<u64>,
    frames: Cell<u64>,
}

impl StepSink for Count {
    fn enter(&self, _: &Frame, _: &x64vm_runtime::code::Code) {
        self.frames.set(self.frames.get() + 1);
    }
    fn before(&self, _: &Frame, _: &Cpu, _: &Memory, _: &Inst) {}
    fn after(&self, _: &Frame, _: &Cpu, _: &Memory, _: &Inst) {
        self.instructions.set(self.instructions.get() + 1);
    }
}

#[test]
fn replay_runs_a_past_transaction_against_its_state() {
    let (chain, _) = fresh("replay");
    let outer = deploy_bank(&chain, "outer");
    let inner = deploy_bank(&chain, "inner");
    let r = chain
        .call(&outer, &format!("nested({}, 7)", hex(&inner)), &alice())
        .unwrap();
    // Later transactions change the state the replay must not see.
    ok(&chain.call(&outer, "set(100)", &alice()).unwrap());
    ok(&chain.call(&inner, "set(100)", &alice()).unwrap());
    let sink = Count::default();
    let again = chain.replay(r.id, &sink).unwrap();
    assert_eq!(again, r, "deterministic re-run");
    assert_eq!(sink.frames.get(), 2);
    assert!(sink.instructions.get() > 100);
    // The deploy with its constructor replays too.
    let sink = Count::default();
    let d = chain.replay(1, &sink).unwrap();
    assert_eq!(d, chain.receipt(1).unwrap().unwrap());
    assert_eq!(sink.frames.get(), 1);
    assert!(matches!(
        chain.replay(99, &sink),
        Err(ChainError::NotFound(_))
    ));
}

#[test]
fn sdk_example_token() {
    let Some(token) = sdk_token() else {
        eprintln!("examples/token/c is not in the tree; skipped");
        return;
    };
    let (chain, _) = fresh("token");
    let d = chain
        .deploy(
            token,
            Some(r#"mint("alice", 1000)"#),
            Some("token"),
            &alice(),
        )
        .unwrap();
    ok(&d);
    assert_eq!(d.events[0].name.as_deref(), Some("Transfer"));
    let t = d.to;
    let r = chain.call(&t, r#"transfer("bob", 250)"#, &alice()).unwrap();
    ok(&r);
    assert_eq!(r.decoded_output.as_deref(), Some("true"));
    assert_eq!(r.events.len(), 1);
    let ev = &r.events[0];
    assert_eq!(ev.fields[0].value, hex(&address_of_name("alice")));
    assert_eq!(ev.fields[1].value, hex(&address_of_name("bob")));
    assert_eq!(ev.fields[2].value, "250");
    let q = chain.query(&t, r#"balance_of("bob")"#).unwrap();
    assert_eq!(q.decoded_output.as_deref(), Some("250"));
    let q = chain.query(&t, "name()").unwrap();
    assert_eq!(q.decoded_output.as_deref(), Some(r#""Example Token""#));
    // Too much: reverts with the token's message, and changes nothing.
    let r = chain
        .call(&t, r#"transfer("bob", 1000000)"#, &alice())
        .unwrap();
    assert_eq!(r.status, "reverted");
    assert!(r.error.unwrap().message.starts_with("token:"));
    let q = chain.query(&t, r#"balance_of("alice")"#).unwrap();
    assert_eq!(q.decoded_output.as_deref(), Some("750"));
}

#[test]
fn reused_instances_give_the_same_receipts_as_new_ones() {
    // The chain keeps idle instances between transactions; with reuse off every
    // frame gets a new one. The same transactions must give the same receipts
    // (status, output, gas, events, call trees) and the same state.
    let run = |tag: &str, reuse: bool| {
        let (chain, _) = fresh(tag);
        if !reuse {
            chain.set_instance_pool(x64vm_runtime::code::PoolLimits {
                max_instances: 0,
                ..Default::default()
            });
        }
        let outer = deploy_bank(&chain, "outer");
        let inner = deploy_bank(&chain, "inner");
        let bob = hex(&address_of_name("bob"));
        let mut receipts = Vec::new();
        for round in 0..3u64 {
            for line in [
                format!("set({round})"),
                format!("nested({}, {round})", hex(&inner)),
                format!("call_set({}, {})", hex(&inner), round + 10),
                format!("transfer({bob}, {})", round + 1),
                "set_then_fail(5, 0)".to_string(),
                "set_then_fail(5, 1)".to_string(),
                "spin(100000)".to_string(),
                format!("set_and_emit({round})"),
            ] {
                let mut opts = alice();
                if line.starts_with("spin") {
                    opts.gas = Some(20_000);
                }
                receipts.push(chain.call(&outer, &line, &opts).unwrap());
            }
            receipts.push(chain.query(&outer, "get()").unwrap());
            receipts.push(chain.query(&inner, "get()").unwrap());
            receipts.push(chain.query(&outer, &format!("balance_of({bob})")).unwrap());
        }
        let sink = Count::default();
        receipts.push(chain.replay(receipts[1].id, &sink).unwrap());
        (
            receipts,
            get_v(&chain, &outer),
            get_v(&chain, &inner),
            chain.instance_pool_stats(),
        )
    };
    let (fresh_receipts, fo, fi, fresh_stats) = run("reuse-off", false);
    let (receipts, o, i, stats) = run("reuse-on", true);
    assert_eq!(fresh_stats.reused, 0, "{fresh_stats:?}");
    assert!(stats.reused > 20, "instances were reused: {stats:?}");
    assert!(fresh_receipts.iter().any(|r| !r.is_success()));
    assert_eq!(fresh_receipts.len(), receipts.len());
    for (k, (a, b)) in fresh_receipts.iter().zip(&receipts).enumerate() {
        assert_eq!(a, b, "receipt {k}");
    }
    assert_eq!((fo, fi), (o, i));
}
