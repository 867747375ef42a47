//! Every chain service through a C contract making raw `int` calls.

mod common;

use common::*;
use x64vm_runtime::{Address, ReceiptStatus, TestChain, address_of_name};

const GAS: u64 = 50_000_000;

fn deploy(chain: &mut TestChain) -> Address {
    chain.deploy(svc(), "alice").expect("deploys")
}

fn ok(r: &x64vm_runtime::Receipt) {
    assert_eq!(r.status, ReceiptStatus::Success, "{r}");
}

#[test]
fn storage_write_read_remove() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let r = chain.call(c, "alice", r#"set(0x6b6579, 0x76616c7565)"#, 0, GAS);
    ok(&r);
    assert_eq!(chain.storage(&c, b"key"), Some(b"value".to_vec()));
    let r = chain.query(c, "get(0x6b6579)");
    ok(&r);
    assert_eq!(r.decoded_output.as_deref(), Some("0x76616c7565"));
    assert_eq!(out_bytes(&r.output), b"value");
    // A small cap copies a prefix and still reports the full length.
    let r = chain.query(c, "get_partial(0x6b6579, 2)");
    ok(&r);
    let o = out_bytes(&r.output);
    assert_eq!(u64::from_le_bytes(o[..8].try_into().unwrap()), 5);
    assert_eq!(&o[8..10], b"va");
    assert_eq!(o[10], 0xee, "nothing copied past the cap");
    // Absent keys: u64::MAX.
    let r = chain.query(c, "get_partial(0x00, 8)");
    let o = out_bytes(&r.output);
    assert_eq!(u64::from_le_bytes(o[..8].try_into().unwrap()), u64::MAX);
    let r = chain.query(c, "get(0x00)");
    assert_eq!(r.status, ReceiptStatus::Reverted("absent".into()));
    // Remove reports whether the key existed.
    let r = chain.call(c, "alice", "remove(0x6b6579)", 0, GAS);
    assert_eq!(r.decoded_output.as_deref(), Some("true"));
    assert_eq!(chain.storage(&c, b"key"), None);
    let r = chain.call(c, "alice", "remove(0x6b6579)", 0, GAS);
    assert_eq!(r.decoded_output.as_deref(), Some("false"));
    // Empty values are values.
    ok(&chain.call(c, "alice", "set(0x01, 0x)", 0, GAS));
    assert_eq!(chain.storage(&c, &[1]), Some(vec![]));
}

fn failed_kind(r: &x64vm_runtime::Receipt) -> &str {
    match &r.status {
        ReceiptStatus::Failed { kind, .. } => kind,
        s => panic!("expected a failure, got {s:?}"),
    }
}

fn failed_message(r: &x64vm_runtime::Receipt) -> &str {
    match &r.status {
        ReceiptStatus::Failed { message, .. } => message,
        s => panic!("expected a failure, got {s:?}"),
    }
}

#[test]
fn storage_limits_are_exact() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    ok(&chain.call(c, "alice", "raw_storage(256, 65536)", 0, GAS));
    let r = chain.call(c, "alice", "raw_storage(257, 1)", 0, GAS);
    assert_eq!(failed_kind(&r), "limit_exceeded");
    assert!(
        failed_message(&r).contains("storage key of 257 bytes"),
        "{r}"
    );
    let r = chain.call(c, "alice", "raw_storage(1, 65537)", 0, GAS);
    assert_eq!(failed_kind(&r), "limit_exceeded");
    assert!(
        failed_message(&r).contains("storage value of 65537 bytes"),
        "{r}"
    );
}

#[test]
fn storage_gas_grows_per_byte() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let small = chain.call(c, "alice", "raw_storage(1, 1)", 0, GAS).gas_used;
    let big = chain
        .call(c, "alice", "raw_storage(1, 1001)", 0, GAS)
        .gas_used;
    let per_byte = x64vm_runtime::gas::STORAGE_WRITE_PER_BYTE;
    // 1000 more bytes: 20 gas each plus the copy (1 per 32 bytes).
    assert_eq!(big - small, 1000 * per_byte + (1001u64.div_ceil(32) - 1));
}

#[test]
fn events_are_decoded_and_limited() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let r = chain.call(c, "alice", "emit(0x0102)", 0, GAS);
    ok(&r);
    assert_eq!(r.events.len(), 1);
    let e = &r.events[0];
    assert_eq!(e.address, c);
    assert_eq!(e.topic, x64vm_runtime::abi::topic("Ping(bytes)"));
    assert_eq!(e.data, vec![2, 0, 0, 0, 1, 2]);
    assert_eq!(e.decoded.as_deref(), Some("Ping(data: 0x0102)"));
    ok(&chain.call(c, "alice", "emit_many(1024)", 0, GAS));
    let r = chain.call(c, "alice", "emit_many(1025)", 0, GAS);
    assert_eq!(failed_kind(&r), "limit_exceeded");
    assert!(r.events.is_empty());
}

#[test]
fn context_services() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    chain.advance_block();
    let r = chain.call(c, "bob", "context()", 0, GAS);
    ok(&r);
    let o = out_bytes(&r.output);
    let bob = address_of_name("bob");
    assert_eq!(&o[0..32], &bob, "caller");
    assert_eq!(&o[32..64], &bob, "origin");
    assert_eq!(&o[64..96], &c, "self");
    assert_eq!(
        u128::from_le_bytes(o[96..112].try_into().unwrap()),
        0,
        "value"
    );
    assert_eq!(
        u64::from_le_bytes(o[112..120].try_into().unwrap()),
        2,
        "block"
    );
    assert_eq!(
        u64::from_le_bytes(o[120..128].try_into().unwrap()),
        1_700_000_012,
        "timestamp"
    );
    // Value sent with a transaction.
    let r = chain.call(c, "bob", "context()", 777, GAS);
    ok(&r);
    let o = out_bytes(&r.output);
    assert_eq!(u128::from_le_bytes(o[96..112].try_into().unwrap()), 777);
    assert_eq!(chain.balance(&c), 777);
    // A query: the zero address calls.
    let r = chain.query(c, "context()");
    let o = out_bytes(&r.output);
    assert_eq!(&o[0..32], &[0u8; 32]);
}

#[test]
fn block_hashes_of_the_last_256_blocks() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    for _ in 0..300 {
        chain.advance_block();
    }
    let current = chain.block().number;
    assert_eq!(current, 301);
    let hash_of = |chain: &mut TestChain, n: u64| {
        let r = chain.query(c, &format!("block_hash({n})"));
        ok(&r);
        let o = out_bytes(&r.output);
        (o[0], o[1..].to_vec())
    };
    let (known, h) = hash_of(&mut chain, 300);
    assert_eq!(known, 1);
    assert_eq!(h, x64vm_runtime::host::block_hash(300).to_vec());
    assert_eq!(hash_of(&mut chain, 45).0, 1, "current - 256");
    assert_eq!(hash_of(&mut chain, 44), (0, vec![0; 32]), "too old");
    assert_eq!(hash_of(&mut chain, 301).0, 0, "the current block");
    assert_eq!(hash_of(&mut chain, u64::MAX).0, 0, "the future");
}

#[test]
fn balances_and_transfers() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let carol = address_of_name("carol");
    let r = chain.query(c, r#"balance_of("carol")"#);
    assert_eq!(
        r.decoded_output.as_deref(),
        Some("1000000000000000000000000")
    );
    ok(&chain.call(c, "alice", "context()", 1000, GAS));
    let r = chain.call(c, "alice", r#"pay("carol", 400)"#, 0, GAS);
    assert_eq!(r.decoded_output.as_deref(), Some("0"));
    assert_eq!(chain.balance(&c), 600);
    assert_eq!(chain.balance(&carol), 10u128.pow(24) + 400);
    let r = chain.call(c, "alice", r#"pay("carol", 601)"#, 0, GAS);
    assert_eq!(
        r.decoded_output.as_deref(),
        Some("1"),
        "insufficient balance"
    );
    assert_eq!(chain.balance(&c), 600);
    // A transaction sending more than the sender has fails before running.
    let mut poor = TestChain::new();
    let c2 = deploy(&mut poor);
    let nobody = address_of_name("nobody");
    let r = poor.call_raw(c2, nobody, &[0; 4], 1, GAS);
    assert_eq!(failed_kind(&r), "insufficient_balance");
    assert_eq!(r.gas_used, 0);
}

#[test]
fn debug_output_is_collected() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let r = chain.call(c, "alice", "debug(0x68656c6c6f)", 0, GAS);
    ok(&r);
    assert_eq!(r.debug, b"hello");
}

#[test]
fn failures_keep_nothing() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let alice = address_of_name("alice");
    for (how, kind) in [
        (0, "reverted"),
        (1, "invalid_opcode"),
        (2, "out_of_gas"),
        (3, "invalid_host_call"),
    ] {
        let nonce = chain.nonce(&alice);
        let r = chain.call(c, "alice", &format!("fail({how})"), 5, 1_000_000);
        assert_eq!(r.status.name(), kind, "{r}");
        assert!(r.events.is_empty());
        assert_eq!(chain.storage(&c, b"fail"), None, "storage rolled back");
        assert_eq!(chain.balance(&c), 0, "value returned");
        assert_eq!(chain.nonce(&alice), nonce + 1, "the nonce still counts");
        if how == 0 {
            assert_eq!(r.status, ReceiptStatus::Reverted("nope".into()));
            assert_eq!(r.output, b"nope");
        }
        if how == 2 {
            assert_eq!(r.gas_used, 1_000_000, "out of gas consumes everything");
        }
        if how == 1 {
            assert!(failed_message(&r).contains("ud2"), "{r}");
        }
    }
}

#[test]
fn queries_reject_writes_and_change_nothing() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    for line in [
        "set(0x01, 0x02)",
        "remove(0x01)",
        "emit(0x)",
        r#"pay("bob", 0)"#,
    ] {
        let r = chain.query(c, line);
        assert_eq!(failed_kind(&r), "host_error", "{line}: {r}");
        assert!(failed_message(&r).contains("read-only"), "{r}");
    }
    // A nested call from a query is read-only too.
    let inner = x64vm_runtime::abi::encode_call(
        "set(bytes,bytes)",
        &[
            x64vm_runtime::Value::Bytes(vec![1]),
            x64vm_runtime::Value::Bytes(vec![2]),
        ],
    );
    let r = chain.query(c, &format!("call({}, {}, 0, 0)", hx(&c), hx(&inner)));
    ok(&r);
    let o = out_bytes(&r.output);
    assert_eq!(o[0], 2, "the callee failed");
    assert!(String::from_utf8_lossy(&o[1..]).contains("read-only"));
    assert_eq!(chain.storage(&c, &[1]), None);
    let alice = address_of_name("alice");
    let n = chain.nonce(&alice);
    ok(&chain.query(c, "context()"));
    assert_eq!(chain.nonce(&alice), n);
}

#[test]
fn crypto_known_answers() {
    let mut chain = TestChain::new();
    let c = deploy(&mut chain);
    let r = chain.query(c, "sha256(0x616263)");
    assert_eq!(
        r.decoded_output.as_deref(),
        Some("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    let r = chain.query(c, "keccak256(0x)");
    assert_eq!(
        r.decoded_output.as_deref(),
        Some("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
    );
    // RFC 8032, section 7.1, TEST 2 (one-byte message 0x72).
    let pk = "0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let sig = "0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
               085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    let sig = sig.replace(' ', "");
    let r = chain.query(c, &format!("ed25519_verify({pk}, {sig}, 0x72)"));
    assert_eq!(r.decoded_output.as_deref(), Some("true"), "{r}");
    let r = chain.query(c, &format!("ed25519_verify({pk}, {sig}, 0x73)"));
    assert_eq!(r.decoded_output.as_deref(), Some("false"));
    // secp256k1: sign with k256, recover in the contract.
    use k256::ecdsa::SigningKey;
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let hash = x64vm_runtime::crypto::keccak256(b"hello x64vm");
    let (sig, rid) = key.sign_prehash_recoverable(&hash).unwrap();
    let expected = key.verifying_key().to_encoded_point(false);
    for v in [rid.to_byte(), rid.to_byte() + 27] {
        let mut s = sig.to_bytes().to_vec();
        s.push(v);
        let r = chain.query(c, &format!("secp256k1_recover({}, {})", hx(&hash), hx(&s)));
        let o = out_bytes(&r.output);
        assert_eq!(o[0], 0, "recovered");
        assert_eq!(&o[1..], &expected.as_bytes()[1..]);
    }
    let mut s = sig.to_bytes().to_vec();
    s.push(5);
    let r = chain.query(c, &format!("secp256k1_recover({}, {})", hx(&hash), hx(&s)));
    assert_eq!(out_bytes(&r.output)[0], 1, "bad v");
    let r = chain.query(
        c,
        &format!("secp256k1_recover({}, {})", hx(&hash), hx(&[0u8; 65])),
    );
    assert_eq!(out_bytes(&r.output)[0], 1, "zero r and s");
}
