//! The Rust example contracts (`examples/*/rust`) and the Rust SDK's test
//! contract (`sdk/rust/tests/probe`), built at test time with cargo and the
//! documented flags (each package's `.cargo/config.toml`, see
//! `sdk/rust/README.md`), deployed on the in-memory [`TestChain`]: results,
//! storage effects, events, reverts, out-of-gas, nested calls and their
//! rollback, and identical receipts (gas included) across two runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use x64vm_runtime::abi::{Abi, selector, topic};
use x64vm_runtime::code::Code;
use x64vm_runtime::{Address, Receipt, ReceiptStatus, TestChain, address_of_name};

/// The packages built, by binary name, and their directories from the workspace root.
const PACKAGES: [(&str, &str); 5] = [
    ("fib", "examples/fib/rust"),
    ("counter", "examples/counter/rust"),
    ("token", "examples/token/rust"),
    ("escrow", "examples/escrow/rust"),
    ("probe", "sdk/rust/tests/probe"),
];

const GAS: u64 = 10_000_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ELF file of every package, by name.
type Built = Vec<(&'static str, Vec<u8>)>;

/// Builds every package once (one shared target directory, so the SDK and its
/// macros compile once) with the documented command, `cargo build --release`
/// run in the package directory.
fn build_all() -> Result<Built, String> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-contracts");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut out = Vec::new();
    for (name, dir) in PACKAGES {
        let dir = root().join(dir);
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(&dir)
            .args(["build", "--release", "--quiet", "--target-dir"])
            .arg(&target);
        // The flags must come from the package's .cargo/config.toml, as documented;
        // none of these may override them.
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER",
        ] {
            cmd.env_remove(var);
        }
        let o = cmd
            .output()
            .map_err(|e| format!("{cargo} in {}: {e}", dir.display()))?;
        if !o.status.success() {
            return Err(format!(
                "`cargo build --release` in {} failed ({}):\n{}",
                dir.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let elf = target.join("x86_64-unknown-linux-gnu/release").join(name);
        let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// The ELF of one package.
fn elf(name: &str) -> &'static [u8] {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    match BUILT.get_or_init(build_all) {
        Ok(all) => {
            &all.iter()
                .find(|(n, _)| *n == name)
                .expect("a built package")
                .1
        }
        Err(e) => panic!("{e}"),
    }
}

fn hx(b: &[u8]) -> String {
    x64vm_runtime::hex(b)
}

fn addr(name: &str) -> Address {
    address_of_name(name)
}

#[track_caller]
fn ok(r: &Receipt) {
    assert!(r.status.is_success(), "expected success:\n{r}");
}

#[track_caller]
fn reverted(r: &Receipt, message: &str) {
    assert_eq!(
        r.status,
        ReceiptStatus::Reverted(message.into()),
        "expected a revert with {message:?}:\n{r}"
    );
    assert!(r.events.is_empty(), "a reverted call logs nothing");
}

#[track_caller]
fn out(r: &Receipt) -> &str {
    ok(r);
    r.decoded_output.as_deref().unwrap_or("<no decoded output>")
}

/// The Borsh `bytes` payload of an output.
fn out_bytes(r: &Receipt) -> Vec<u8> {
    ok(r);
    assert!(r.output.len() >= 4, "{r}");
    let len = u32::from_le_bytes(r.output[..4].try_into().unwrap()) as usize;
    assert_eq!(r.output.len(), 4 + len, "{r}");
    r.output[4..].to_vec()
}

fn u128_le(v: u128) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// `prefix ‖ 0x00 ‖ key`: a `StorageMap` entry's key (sdk/rust/x64vm-sdk/src/storage.rs).
fn map_key(prefix: &str, key: &[u8]) -> Vec<u8> {
    let mut k = prefix.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key);
    k
}

/// Runs `scenario` on two fresh chains; every receipt (status, gas, output,
/// events, debug) and the final state must be identical.
fn twice(scenario: impl Fn(&mut TestChain) -> Vec<Receipt>) {
    let mut a = TestChain::new();
    let mut b = TestChain::new();
    let ra = scenario(&mut a);
    let rb = scenario(&mut b);
    assert_eq!(ra.len(), rb.len());
    for (i, (x, y)) in ra.iter().zip(&rb).enumerate() {
        assert_eq!(x, y, "receipt {i} differs between two runs:\n{x}\n{y}");
    }
    assert_eq!(a.state(), b.state(), "final states differ");
}

// ------------------------------------------------------------------- ABI

#[test]
fn embedded_abi_matches_the_canonical_signatures() {
    let abi_of = |name| {
        Code::load(elf(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .abi
            .unwrap_or_else(|| panic!("{name}: no .x64vm.abi section"))
    };
    let lines = |abi: &Abi| -> Vec<String> {
        let mut v: Vec<String> = abi
            .functions
            .iter()
            .map(|f| {
                let mut s = f.signature();
                if let Some(r) = &f.ret {
                    s += &format!(" -> {r}");
                }
                if f.view {
                    s += " view";
                }
                s
            })
            .chain(
                abi.events
                    .iter()
                    .map(|e| format!("event {}", e.signature())),
            )
            .collect();
        v.sort();
        v
    };
    let want = |l: &[&str]| {
        let mut v: Vec<String> = l.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&abi_of("fib")), want(&["fib(u64) -> u64 view"]));
    assert_eq!(
        lines(&abi_of("counter")),
        want(&["increment() -> u64", "get() -> u64 view", "reset()"])
    );
    assert_eq!(
        lines(&abi_of("token")),
        want(&[
            "name() -> string view",
            "symbol() -> string view",
            "total_supply() -> u128 view",
            "mint(address,u128)",
            "transfer(address,u128) -> bool",
            "balance_of(address) -> u128 view",
            "approve(address,u128) -> bool",
            "allowance(address,address) -> u128 view",
            "transfer_from(address,address,u128) -> bool",
            "event Transfer(address,address,u128)",
            "event Approval(address,address,u128)",
        ])
    );
    let escrow = lines(&abi_of("escrow"));
    for f in [
        "init(address,address)",
        "deposit()",
        "release(u128)",
        "refund()",
    ] {
        assert!(
            escrow.contains(&f.to_string()),
            "escrow lacks {f}: {escrow:?}"
        );
    }
    // Parameter names are kept.
    let token = abi_of("token");
    let t = token.functions_named("transfer")[0];
    let names: Vec<_> = t.params.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, [Some("to".to_string()), Some("amount".to_string())]);
}

#[test]
fn calls_that_do_not_fit_the_abi() {
    let mut chain = TestChain::new();
    let c = chain.deploy(elf("counter"), "alice").unwrap();
    let alice = addr("alice");
    // Unknown selector.
    let r = chain.call_raw(c, alice, &[1, 2, 3, 4], 0, GAS);
    reverted(&r, "x64vm: unknown function selector");
    // Shorter than a selector.
    let r = chain.call_raw(c, alice, &[1, 2], 0, GAS);
    reverted(&r, "x64vm: call input shorter than a selector");
    // Arguments left over / missing.
    let mut input = selector("increment()").to_vec();
    input.push(0);
    reverted(
        &chain.call_raw(c, alice, &input, 0, GAS),
        "x64vm: malformed call arguments",
    );
    let t = chain.deploy(elf("token"), "alice").unwrap();
    let mut input = selector("transfer(address,u128)").to_vec();
    input.extend_from_slice(&[0; 40]);
    reverted(
        &chain.call_raw(t, alice, &input, 0, GAS),
        "x64vm: malformed call arguments",
    );
    // Value sent to a function that is not payable.
    let r = chain.call(c, "alice", "increment()", 5, GAS);
    reverted(&r, "x64vm: function is not payable");
    assert_eq!(chain.balance(&c), 0);
    assert_eq!(chain.storage(&c, b"count"), None);
}

// ------------------------------------------------------------------- fib

#[test]
fn fib() {
    twice(|chain| {
        let f = chain.deploy(elf("fib"), "alice").unwrap();
        let mut rs = Vec::new();
        for (n, want) in [(0, "0"), (1, "1"), (2, "1"), (10, "55"), (25, "75025")] {
            let r = chain.query(f, &format!("fib({n})"));
            assert_eq!(out(&r), want, "fib({n})");
            rs.push(r);
        }
        // As a transaction too: a view changes nothing.
        let r = chain.call(f, "bob", "fib(20)", 0, GAS);
        assert_eq!(out(&r), "6765");
        assert!(r.events.is_empty());
        rs.push(r);
        // Out of gas: all the gas is used, nothing is returned.
        let r = chain.call(f, "bob", "fib(40)", 0, 200_000);
        match &r.status {
            ReceiptStatus::Failed { kind, .. } => assert_eq!(kind, "out_of_gas", "{r}"),
            s => panic!("expected out of gas, got {s}"),
        }
        assert_eq!(r.gas_used, 200_000);
        rs.push(r);
        rs
    });
}

// --------------------------------------------------------------- counter

#[test]
fn counter() {
    twice(|chain| {
        let c = chain.deploy(elf("counter"), "alice").unwrap();
        let mut rs = Vec::new();
        let r = chain.query(c, "get()");
        assert_eq!(out(&r), "0");
        for i in 1..=3u64 {
            let r = chain.call(c, "alice", "increment()", 0, GAS);
            assert_eq!(out(&r), i.to_string());
            assert_eq!(chain.storage(&c, b"count"), Some(i.to_le_bytes().to_vec()));
            rs.push(r);
        }
        assert_eq!(out(&chain.query(c, "get()")), "3");
        // A query cannot write: it fails and nothing changes.
        let r = chain.query(c, "increment()");
        assert!(!r.status.is_success(), "{r}");
        assert_eq!(out(&chain.query(c, "get()")), "3");
        // reset removes the stored value.
        let r = chain.call(c, "bob", "reset()", 0, GAS);
        ok(&r);
        assert!(
            r.output.is_empty(),
            "a function without a return type outputs nothing"
        );
        assert_eq!(chain.storage(&c, b"count"), None);
        assert_eq!(out(&chain.query(c, "get()")), "0");
        rs.push(r);
        // Out of gas in a transaction: the increment is not kept.
        ok(&chain.call(c, "alice", "increment()", 0, GAS));
        let used = chain.dry_run(c, "alice", "increment()", 0, GAS).gas_used;
        let r = chain.call(c, "alice", "increment()", 0, used - 1);
        assert_eq!(r.status.name(), "out_of_gas", "{r}");
        assert_eq!(r.gas_used, used - 1);
        assert_eq!(out(&chain.query(c, "get()")), "1");
        let r = chain.call(c, "alice", "increment()", 0, used);
        assert_eq!(out(&r), "2");
        assert_eq!(r.gas_used, used);
        rs.push(r);
        rs
    });
}

// ----------------------------------------------------------------- token

fn deploy_token(chain: &mut TestChain) -> Address {
    let (t, r) = chain
        .deploy_with(elf("token"), "alice", r#"mint("alice", 1000)"#)
        .unwrap();
    ok(&r);
    t
}

#[test]
fn token_metadata_mint_and_ownership() {
    let mut chain = TestChain::new();
    let t = deploy_token(&mut chain);
    assert_eq!(out(&chain.query(t, "name()")), r#""Example Token""#);
    assert_eq!(out(&chain.query(t, "symbol()")), r#""EXT""#);
    assert_eq!(out(&chain.query(t, "total_supply()")), "1000");
    assert_eq!(out(&chain.query(t, r#"balance_of("alice")"#)), "1000");
    assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "0");
    assert_eq!(chain.storage(&t, b"owner"), Some(addr("alice").to_vec()));
    assert_eq!(chain.storage(&t, b"total_supply"), Some(u128_le(1000)));
    assert_eq!(
        chain.storage(&t, &map_key("balances", &addr("alice"))),
        Some(u128_le(1000))
    );
    // Mint emits Transfer from the zero address.
    let r = chain.call(t, "alice", r#"mint("bob", 5)"#, 0, GAS);
    ok(&r);
    assert!(r.output.is_empty());
    assert_eq!(r.events.len(), 1);
    let e = &r.events[0];
    assert_eq!(e.address, t);
    assert_eq!(e.topic, topic("Transfer(address,address,u128)"));
    let mut data = vec![0u8; 32];
    data.extend_from_slice(&addr("bob"));
    data.extend_from_slice(&u128_le(5));
    assert_eq!(e.data, data);
    assert_eq!(
        e.decoded.as_deref(),
        Some(
            format!(
                "Transfer(from: {}, to: {}, amount: 5)",
                hx(&[0; 32]),
                hx(&addr("bob"))
            )
            .as_str()
        )
    );
    // Only the owner mints.
    reverted(
        &chain.call(t, "bob", r#"mint("bob", 5)"#, 0, GAS),
        "token: caller is not the owner",
    );
    reverted(
        &chain.call(t, "alice", &format!("mint({}, 5)", hx(&[0; 32])), 0, GAS),
        "token: mint to the zero address",
    );
    // Overflow of the total supply.
    let r = chain.call(
        t,
        "alice",
        &format!(r#"mint("carol", {})"#, u128::MAX),
        0,
        GAS,
    );
    reverted(&r, "token: total supply overflow");
    assert_eq!(out(&chain.query(t, "total_supply()")), "1005");
    assert_eq!(out(&chain.query(t, r#"balance_of("carol")"#)), "0");
}

#[test]
fn token_transfers_allowances_and_events() {
    twice(|chain| {
        let t = deploy_token(chain);
        let mut rs = Vec::new();
        let r = chain.call(t, "alice", r#"transfer("bob", 100)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(
            r.events[0].decoded.as_deref(),
            Some(
                format!(
                    "Transfer(from: {}, to: {}, amount: 100)",
                    hx(&addr("alice")),
                    hx(&addr("bob"))
                )
                .as_str()
            )
        );
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"balance_of("alice")"#)), "900");
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        assert_eq!(
            chain.storage(&t, &map_key("balances", &addr("bob"))),
            Some(u128_le(100))
        );
        // Too much: reverted, nothing changes, no events.
        let r = chain.call(t, "bob", r#"transfer("carol", 101)"#, 0, GAS);
        reverted(&r, "token: insufficient balance");
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        assert_eq!(out(&chain.query(t, r#"balance_of("carol")"#)), "0");
        // To oneself: nothing changes.
        let r = chain.call(t, "bob", r#"transfer("bob", 60)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        rs.push(r);
        // Allowances.
        let r = chain.call(t, "alice", r#"approve("carol", 50)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].topic, topic("Approval(address,address,u128)"));
        let mut data = addr("alice").to_vec();
        data.extend_from_slice(&addr("carol"));
        data.extend_from_slice(&u128_le(50));
        assert_eq!(r.events[0].data, data);
        rs.push(r);
        let mut key = addr("alice").to_vec();
        key.extend_from_slice(&addr("carol"));
        assert_eq!(
            chain.storage(&t, &map_key("allowances", &key)),
            Some(u128_le(50))
        );
        assert_eq!(out(&chain.query(t, r#"allowance("alice", "carol")"#)), "50");
        assert_eq!(out(&chain.query(t, r#"allowance("carol", "alice")"#)), "0");
        // Carol spends 30 of it for dave, then cannot spend 21 more.
        let r = chain.call(t, "carol", r#"transfer_from("alice", "dave", 30)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].topic, topic("Transfer(address,address,u128)"));
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"allowance("alice", "carol")"#)), "20");
        assert_eq!(out(&chain.query(t, r#"balance_of("dave")"#)), "30");
        assert_eq!(out(&chain.query(t, r#"balance_of("alice")"#)), "870");
        let r = chain.call(t, "carol", r#"transfer_from("alice", "dave", 21)"#, 0, GAS);
        reverted(&r, "token: insufficient allowance");
        rs.push(r);
        // Allowance enough, balance not: the allowance is not spent either.
        ok(&chain.call(t, "dave", r#"approve("eve", 1000)"#, 0, GAS));
        let r = chain.call(t, "eve", r#"transfer_from("dave", "eve", 31)"#, 0, GAS);
        reverted(&r, "token: insufficient balance");
        assert_eq!(out(&chain.query(t, r#"allowance("dave", "eve")"#)), "1000");
        reverted(
            &chain.call(
                t,
                "alice",
                &format!("transfer({}, 1)", hx(&[0; 32])),
                0,
                GAS,
            ),
            "token: transfer to the zero address",
        );
        // The total supply never changed.
        assert_eq!(out(&chain.query(t, "total_supply()")), "1000");
        rs
    });
}

// ---------------------------------------------------------------- escrow

struct Deal {
    token: Address,
    escrow: Address,
}

/// alice deploys the token (1000 to alice) and the escrow (beneficiary bob),
/// gives the escrow 400 tokens and deposits 5000 of value.
fn deal(chain: &mut TestChain) -> (Deal, Vec<Receipt>) {
    let token = deploy_token(chain);
    let (escrow, r0) = chain
        .deploy_with(
            elf("escrow"),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&token)),
        )
        .unwrap();
    ok(&r0);
    let r1 = chain.call(
        token,
        "alice",
        &format!("transfer({}, 400)", hx(&escrow)),
        0,
        GAS,
    );
    ok(&r1);
    let r2 = chain.call(escrow, "alice", "deposit()", 5000, GAS);
    ok(&r2);
    assert_eq!(r2.events.len(), 1);
    assert_eq!(r2.events[0].topic, topic("Deposited(address,u128)"));
    assert_eq!(chain.balance(&escrow), 5000);
    assert_eq!(chain.storage(&escrow, b"held"), Some(u128_le(5000)));
    (Deal { token, escrow }, vec![r0, r1, r2])
}

fn token_balance(chain: &mut TestChain, token: Address, who: &Address) -> String {
    out(&chain.query(token, &format!("balance_of({})", hx(who)))).to_string()
}

#[test]
fn escrow_release_pays_tokens_through_a_nested_call() {
    twice(|chain| {
        let (d, mut rs) = deal(chain);
        let bob = addr("bob");
        let bob_before = chain.balance(&bob);
        // Only the depositor releases; init only once.
        reverted(
            &chain.call(d.escrow, "carol", "release(10)", 0, GAS),
            "escrow: caller is not the depositor",
        );
        reverted(
            &chain.call(
                d.escrow,
                "carol",
                &format!(r#"init({}, "carol")"#, hx(&d.token)),
                0,
                GAS,
            ),
            "escrow: already initialized",
        );
        reverted(
            &chain.call(d.escrow, "alice", "deposit()", 0, GAS),
            "escrow: no value sent",
        );
        let r = chain.call(d.escrow, "alice", "release(300)", 0, GAS);
        ok(&r);
        // The token's Transfer (nested frame) comes before the escrow's Released.
        assert_eq!(r.events.len(), 2, "{r}");
        assert_eq!(r.events[0].address, d.token);
        assert_eq!(r.events[0].topic, topic("Transfer(address,address,u128)"));
        let mut data = d.escrow.to_vec();
        data.extend_from_slice(&bob);
        data.extend_from_slice(&u128_le(300));
        assert_eq!(r.events[0].data, data);
        assert_eq!(r.events[1].address, d.escrow);
        assert_eq!(r.events[1].topic, topic("Released(address,u128,u128)"));
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &bob), "300");
        assert_eq!(token_balance(chain, d.token, &d.escrow), "100");
        assert_eq!(chain.balance(&bob), bob_before + 5000);
        assert_eq!(chain.balance(&d.escrow), 0);
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(0)));
        rs
    });
}

#[test]
fn escrow_failed_nested_transfer_rolls_everything_back() {
    twice(|chain| {
        let (d, mut rs) = deal(chain);
        let bob = addr("bob");
        let bob_before = chain.balance(&bob);
        // The escrow holds 400 tokens: the token reverts, so does the escrow, and
        // neither the tokens nor the held value move.
        let r = chain.call(d.escrow, "alice", "release(401)", 0, GAS);
        reverted(
            &r,
            "escrow: token transfer reverted: token: insufficient balance",
        );
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &d.escrow), "400");
        assert_eq!(token_balance(chain, d.token, &bob), "0");
        assert_eq!(chain.balance(&d.escrow), 5000);
        assert_eq!(chain.balance(&bob), bob_before);
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(5000)));

        // Out of gas after the nested transfer succeeded: the outer call fails and
        // the token's changes made in the nested frame are rolled back with it.
        let full = chain.dry_run(d.escrow, "alice", "release(300)", 0, GAS);
        ok(&full);
        let r = chain.call(d.escrow, "alice", "release(300)", 0, full.gas_used - 1);
        assert_eq!(r.status.name(), "out_of_gas", "{r}");
        assert_eq!(r.gas_used, full.gas_used - 1);
        assert!(r.events.is_empty());
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &d.escrow), "400");
        assert_eq!(token_balance(chain, d.token, &bob), "0");
        assert_eq!(chain.balance(&d.escrow), 5000);

        // With enough gas the same call goes through.
        let r = chain.call(d.escrow, "alice", "release(300)", 0, full.gas_used);
        ok(&r);
        assert_eq!((r.gas_used, &r.events), (full.gas_used, &full.events));
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &bob), "300");
        rs
    });
}

#[test]
fn escrow_refund_returns_value_and_tokens() {
    twice(|chain| {
        let (d, mut rs) = deal(chain);
        let alice = addr("alice");
        let alice_before = chain.balance(&alice);
        reverted(
            &chain.call(d.escrow, "bob", "refund()", 0, GAS),
            "escrow: caller is not the depositor",
        );
        let r = chain.call(d.escrow, "alice", "refund()", 0, GAS);
        ok(&r);
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[1].topic, topic("Refunded(address,u128,u128)"));
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &alice), "1000");
        assert_eq!(token_balance(chain, d.token, &d.escrow), "0");
        assert_eq!(chain.balance(&alice), alice_before + 5000);
        assert_eq!(chain.balance(&d.escrow), 0);
        // Nothing left: a second refund moves nothing and only logs Refunded.
        let r = chain.call(d.escrow, "alice", "refund()", 0, GAS);
        ok(&r);
        assert_eq!(r.events.len(), 1);
        rs.push(r);
        rs
    });
}

#[test]
fn escrow_with_a_broken_token_reverts_cleanly() {
    let mut chain = TestChain::new();
    // The "token" is the counter: it knows no `transfer`.
    let counter = chain.deploy(elf("counter"), "alice").unwrap();
    let (escrow, _) = chain
        .deploy_with(
            elf("escrow"),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&counter)),
        )
        .unwrap();
    ok(&chain.call(escrow, "alice", "deposit()", 10, GAS));
    let r = chain.call(escrow, "alice", "release(1)", 0, GAS);
    reverted(
        &r,
        "escrow: token transfer reverted: x64vm: unknown function selector",
    );
    // No contract at all: the nested call fails (status 2), the escrow reverts.
    let (escrow2, _) = chain
        .deploy_with(
            elf("escrow"),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&[9; 32])),
        )
        .unwrap();
    let r = chain.call(escrow2, "alice", "refund()", 0, GAS);
    reverted(&r, "escrow: token balance_of failed: call failed");
    assert_eq!(chain.balance(&escrow), 10);
}

// ----------------------------------------------------------------- probe

fn deploy_probe(chain: &mut TestChain) -> Address {
    chain.deploy(elf("probe"), "alice").unwrap()
}

#[test]
fn probe_context_and_value() {
    let mut chain = TestChain::new();
    let p = deploy_probe(&mut chain);
    let r = chain.call(p, "bob", "context()", 77, GAS);
    let o = out_bytes(&r);
    assert_eq!(o.len(), 32 * 3 + 16 + 8 * 3);
    assert_eq!(&o[..32], &addr("bob"));
    assert_eq!(&o[32..64], &addr("bob"));
    assert_eq!(&o[64..96], &p);
    assert_eq!(&o[96..112], &u128_le(77));
    let u64_at = |i: usize| u64::from_le_bytes(o[i..i + 8].try_into().unwrap());
    assert_eq!(u64_at(112), chain.block().number);
    assert_eq!(u64_at(120), chain.block().timestamp);
    assert!(u64_at(128) > 0 && u64_at(128) < GAS);
    assert_eq!(chain.balance(&p), 77);
    // Not payable: value is refused.
    reverted(
        &chain.call(p, "bob", "touch()", 1, GAS),
        "x64vm: function is not payable",
    );
    ok(&chain.call(p, "bob", "touch()", 0, GAS));
    // Balance and transfer.
    assert_eq!(
        out(&chain.query(p, &format!("balance_of({})", hx(&p)))),
        "77"
    );
    let carol = chain.balance(&addr("carol"));
    assert_eq!(
        out(&chain.call(p, "bob", r#"pay("carol", 70)"#, 0, GAS)),
        "true"
    );
    assert_eq!(
        out(&chain.call(p, "bob", r#"pay("carol", 8)"#, 0, GAS)),
        "false"
    );
    assert_eq!(chain.balance(&addr("carol")), carol + 70);
    assert_eq!(chain.balance(&p), 7);
    // Block hashes: known for recent blocks, not for the future.
    chain.advance_block();
    let n = chain.block().number;
    let h = out_bytes(&chain.query(p, &format!("hash_of_block({})", n - 1)));
    let mut pre = b"x64vm:block:".to_vec();
    pre.extend_from_slice(&(n - 1).to_le_bytes());
    assert_eq!(h, x64vm_runtime::crypto::keccak256(&pre));
    assert!(out_bytes(&chain.query(p, &format!("hash_of_block({})", n + 5))).is_empty());
}

#[test]
fn probe_crypto() {
    let mut chain = TestChain::new();
    let p = deploy_probe(&mut chain);
    let h = out_bytes(&chain.query(p, "hashes(0x616263)"));
    assert_eq!(
        hx(&h[..32]),
        "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(h[32..], x64vm_runtime::crypto::keccak256(b"abc"));
    // RFC 8032, section 7.1, TEST 2.
    let pk = "0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let sig = "0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
               085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    assert_eq!(
        out(&chain.query(p, &format!("verify({pk}, {sig}, 0x72)"))),
        "true"
    );
    assert_eq!(
        out(&chain.query(p, &format!("verify({pk}, {sig}, 0x73)"))),
        "false"
    );
    use k256::ecdsa::SigningKey;
    let key = SigningKey::from_slice(&[9u8; 32]).unwrap();
    let hash = x64vm_runtime::crypto::keccak256(b"x64vm rust sdk");
    let (sig, rid) = key.sign_prehash_recoverable(&hash).unwrap();
    let public = key.verifying_key().to_encoded_point(false);
    let mut s = sig.to_bytes().to_vec();
    s.push(rid.to_byte() + 27);
    let got = out_bytes(&chain.query(p, &format!("recover({}, {})", hx(&hash), hx(&s))));
    assert_eq!(got, &public.as_bytes()[1..]);
    let got = out_bytes(&chain.query(p, &format!("recover({}, {})", hx(&hash), hx(&[0; 65]))));
    assert!(got.is_empty());
    reverted(
        &chain.query(p, &format!("recover({}, 0x00)", hx(&hash))),
        "sig: 65 bytes",
    );
}

#[test]
fn probe_storage() {
    let mut chain = TestChain::new();
    let p = deploy_probe(&mut chain);
    ok(&chain.call(p, "alice", "put(0x6b6579, 0x0102)", 0, GAS));
    assert_eq!(chain.storage(&p, b"key"), Some(vec![1, 2]));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x6b6579)")), [1, 2]);
    // Values longer than the first read buffer (64 bytes) come back whole.
    let long: Vec<u8> = (0..=255).collect();
    ok(&chain.call(p, "alice", &format!("put(0x6c, {})", hx(&long)), 0, GAS));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x6c)")), long);
    // An empty value exists.
    ok(&chain.call(p, "alice", "put(0x65, 0x)", 0, GAS));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x65)")), Vec::<u8>::new());
    assert_eq!(
        out(&chain.call(p, "alice", "erase(0x6b6579)", 0, GAS)),
        "true"
    );
    assert_eq!(
        out(&chain.call(p, "alice", "erase(0x6b6579)", 0, GAS)),
        "false"
    );
    reverted(&chain.query(p, "fetch(0x6b6579)"), "absent");
    // A typed map with an overridden prefix: key "n" ‖ 0 ‖ u64.
    assert_eq!(
        out(&chain.call(p, "alice", r#"name_number(7, "seven")"#, 0, GAS)),
        r#""""#
    );
    assert_eq!(
        out(&chain.call(p, "alice", r#"name_number(7, "sept")"#, 0, GAS)),
        r#""seven""#
    );
    let key = map_key("n", &7u64.to_le_bytes());
    assert_eq!(chain.storage(&p, &key), Some(b"\x04\0\0\0sept".to_vec()));
    ok(&chain.call(p, "alice", r#"name_number(7, "")"#, 0, GAS));
    assert_eq!(chain.storage(&p, &key), None);
    // Keys over the limit trap (limit_exceeded), and nothing is kept.
    let r = chain.call(p, "alice", &format!("put({}, 0x01)", hx(&[1; 257])), 0, GAS);
    assert!(!r.status.is_success(), "{r}");
}

#[test]
fn probe_abi_types_events_and_outputs() {
    let mut chain = TestChain::new();
    let p = deploy_probe(&mut chain);
    let r = chain.query(p, "sum(255, 65535, 4294967295, 18446744073709551615, -128, -32768, -2147483648, -9223372036854775808, -170141183460469231731687303715884105728, false)");
    let want: i128 = 255 + 65535 + 4294967295 + 18446744073709551615
        - 128
        - 32768
        - 2147483648
        - 9223372036854775808
        + i128::MIN;
    assert_eq!(out(&r), want.to_string());
    let r = chain.query(p, "sum(1, 2, 3, 4, 5, 6, 7, 8, 9, true)");
    assert_eq!(out(&r), "-45");
    assert_eq!(
        out(&chain.query(p, &format!("max_u128({})", u128::MAX))),
        u128::MAX.to_string()
    );
    assert_eq!(
        out(&chain.query(p, r#"echo("héllo", 0x010203)"#)),
        r#""héllo:3""#
    );
    assert_eq!(out(&chain.query(p, "add(2, 3)")), "5");
    assert_eq!(out(&chain.query(p, "result(true)")), "7");
    reverted(&chain.query(p, "result(false)"), "no");
    // Events with every type, Borsh data in field order.
    let r = chain.call(
        p,
        "bob",
        r#"ping(9, 0xabcd, "carol", true, -5, "hi")"#,
        0,
        GAS,
    );
    ok(&r);
    assert_eq!(r.events.len(), 2);
    let e = &r.events[0];
    assert_eq!(e.topic, topic("Ping(u64,bytes,address,bool,i128,string)"));
    let mut data = 9u64.to_le_bytes().to_vec();
    data.extend_from_slice(&[2, 0, 0, 0, 0xab, 0xcd]);
    data.extend_from_slice(&addr("carol"));
    data.push(1);
    data.extend_from_slice(&(-5i128).to_le_bytes());
    data.extend_from_slice(&[2, 0, 0, 0, b'h', b'i']);
    assert_eq!(e.data, data);
    assert!(e.decoded.is_some(), "the ABI declares Ping");
    assert_eq!(r.events[1].topic, topic("Pair(u8,i16)"));
    assert_eq!(r.events[1].data, [7, 0xfe, 0xff]);
    // Debug output.
    let r = chain.call(p, "bob", r#"say("hey")"#, 0, GAS);
    ok(&r);
    assert_eq!(r.debug, b"say: hey (3 bytes)");
    // The allocator.
    assert_eq!(
        out(&chain.query(p, "alloc_sum(1000)")),
        (999 * 1000 / 2 + 8 * 7 / 2).to_string()
    );
}

#[test]
fn probe_panics_revert_with_their_message() {
    let mut chain = TestChain::new();
    let p = deploy_probe(&mut chain);
    reverted(&chain.query(p, "fail(0)"), "attempt to add with overflow");
    reverted(
        &chain.query(p, "fail(1)"),
        "called `Option::unwrap()` on a `None` value",
    );
    reverted(&chain.query(p, "fail(2)"), "custom 42");
    reverted(&chain.query(p, "fail(3)"), "required");
    reverted(
        &chain.query(p, "fail(4)"),
        "memory allocation of 1099511627776 bytes failed",
    );
    reverted(
        &chain.query(p, "fail(5)"),
        "index out of bounds: the len is 3 but the index is 5",
    );
}

#[test]
fn probe_nested_calls_roll_back_only_the_callee() {
    twice(|chain| {
        let p = deploy_probe(chain);
        let c = chain.deploy(elf("counter"), "alice").unwrap();
        let t = deploy_token(chain);
        let mut rs = Vec::new();
        let inc = hx(&selector("increment()"));
        // Success: the callee's write is kept, its output comes back.
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 0, 0)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "0");
        rs.push(r);
        assert_eq!(out_bytes(&chain.query(p, "last()")), 1u64.to_le_bytes());
        assert_eq!(out(&chain.query(c, "get()")), "1");
        assert_eq!(
            out(&chain.query(p, &format!("counter_get({})", hx(&c)))),
            "1"
        );
        // Out of gas in the callee (capped): it fails (2), its write is rolled
        // back, the caller goes on and its own writes are kept.
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 0, 300)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "2");
        rs.push(r);
        assert_eq!(out(&chain.query(c, "get()")), "1");
        assert_eq!(out(&chain.query(p, "after()")), "2");
        // A revert (1) with its message as return data; the callee's events are dropped.
        let mut input = selector("transfer(address,u128)").to_vec();
        input.extend_from_slice(&addr("bob"));
        input.extend_from_slice(&u128_le(1));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {}, 0, 0)", hx(&t), hx(&input)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "1");
        assert!(r.events.is_empty());
        rs.push(r);
        assert_eq!(
            out_bytes(&chain.query(p, "last()")),
            b"token: insufficient balance"
        );
        assert_eq!(out(&chain.query(p, "after()")), "3");
        // Value sent along a nested call to a payable function... and to one that is not.
        ok(&chain.call(p, "alice", "context()", 50, GAS));
        let ctx = hx(&selector("context()"));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {ctx}, 20, 0)", hx(&p)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "0");
        rs.push(r);
        let inner = out_bytes(&chain.query(p, "last()"));
        // The output of the nested context(): Borsh bytes, caller = the probe itself.
        assert_eq!(&inner[4..36], &p);
        assert_eq!(&inner[36..68], &addr("alice"), "origin");
        assert_eq!(&inner[4 + 96..4 + 112], &u128_le(20));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 20, 0)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "1");
        rs.push(r);
        assert_eq!(
            out_bytes(&chain.query(p, "last()")),
            b"x64vm: function is not payable"
        );
        assert_eq!(chain.balance(&c), 0);
        rs
    });
}
