//! TestChain: deploys, constructors, refusals before running, receipts.

mod common;

use common::*;
use x64vm_runtime::{DeployError, ReceiptStatus, TestChain, address_of_name};

const TINY_ABI: &str = "fn init(u64 x)\nfn get() -> u64 view\n";

fn tiny() -> Vec<u8> {
    static ELF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ELF.get_or_init(|| build_c("tiny", TINY_ABI)).clone()
}

#[test]
fn dev_accounts_are_funded() {
    let chain = TestChain::new();
    for name in ["alice", "bob", "carol", "dave", "eve"] {
        assert_eq!(chain.balance(&address_of_name(name)), 10u128.pow(24));
    }
    assert_eq!(chain.balance(&address_of_name("mallory")), 0);
}

#[test]
fn addresses_derive_from_deployer_and_nonce() {
    let mut chain = TestChain::new();
    let alice = address_of_name("alice");
    let a = chain.deploy(&tiny(), "alice").unwrap();
    let b = chain.deploy(&tiny(), "alice").unwrap();
    let c = chain.deploy(&tiny(), "bob").unwrap();
    assert_eq!(a, TestChain::contract_address(&alice, 0));
    assert_eq!(b, TestChain::contract_address(&alice, 1));
    assert_eq!(c, TestChain::contract_address(&address_of_name("bob"), 0));
    let mut expected = alice.to_vec();
    expected.extend_from_slice(&0u64.to_le_bytes());
    assert_eq!(a, x64vm_runtime::crypto::keccak256(&expected));
    assert_eq!(chain.nonce(&alice), 2);
}

#[test]
fn constructors_run_in_the_deploy_transaction() {
    let mut chain = TestChain::new();
    let (c, r) = chain.deploy_with(&tiny(), "alice", "init(7)").unwrap();
    assert_eq!(r.status, ReceiptStatus::Success);
    assert!(r.gas_used > 0);
    let q = chain.query(c, "get()");
    assert_eq!(q.decoded_output.as_deref(), Some("7"));
    assert_eq!(chain.storage(&c, b"x"), Some(7u64.to_le_bytes().to_vec()));
    // A failing constructor deploys nothing.
    let alice = address_of_name("alice");
    let next = TestChain::contract_address(&alice, chain.nonce(&alice));
    match chain.deploy_with(&tiny(), "alice", "init(0)") {
        Err(DeployError::Constructor(r)) => {
            assert_eq!(r.status, ReceiptStatus::Reverted("zero".into()))
        }
        other => panic!("{other:?}"),
    }
    let r = chain.query(next, "get()");
    assert_eq!(r.status.name(), "no_contract", "{r}");
    // A bad constructor line is refused before anything runs.
    let e = chain.deploy_with(&tiny(), "alice", "init()").unwrap_err();
    assert!(matches!(e, DeployError::BadCall(_)));
    assert!(
        e.to_string()
            .contains("init(u64) takes 1 argument, 0 given"),
        "{e}"
    );
}

#[test]
fn bad_files_are_refused_at_deploy() {
    let mut chain = TestChain::new();
    let e = chain.deploy(b"not a contract", "alice").unwrap_err();
    assert!(e.to_string().contains("unknown format"), "{e}");
    let e = chain.deploy(b"\x7fELF", "alice").unwrap_err();
    assert!(e.to_string().contains("malformed program"), "{e}");
    // A malformed ABI section.
    let hdr = "#define ABI_TEXT \"fn init(u64 x\"\n#define SEL_init 0u\n#define SEL_get 1u\n";
    let elf = build_c_with_header("tiny", "tiny-bad-abi", hdr);
    let e = chain.deploy(&elf, "alice").unwrap_err();
    assert!(e.to_string().contains("ABI description, line 1"), "{e}");
    // Without an ABI section: deployable, callable with the typed form only.
    let hdr = format!(
        "#define ABI_TEXT \"\"\n#define SEL_init {:#x}u\n#define SEL_get {:#x}u\n",
        u32::from_le_bytes(x64vm_runtime::abi::selector("init(u64)")),
        u32::from_le_bytes(x64vm_runtime::abi::selector("get()")),
    );
    let elf = build_c_with_header("tiny", "tiny-no-abi", &hdr);
    let c = chain.deploy(&elf, "alice").unwrap();
    let r = chain.call(c, "alice", "init(5)", 0, 1_000_000);
    assert_eq!(r.status.name(), "bad_call");
    assert_eq!(r.gas_used, 0);
    assert!(r.status.to_string().contains("no ABI description"), "{r}");
    let r = chain.call(c, "alice", "init(u64)(5)", 0, 1_000_000);
    assert!(r.status.is_success(), "{r}");
    let r = chain.query(c, "get() -> u64 ()");
    assert_eq!(r.decoded_output.as_deref(), Some("5"));
    let r = chain.query(c, "get()()");
    assert_eq!(r.decoded_output, None, "no return type given");
    assert_eq!(r.output, 5u64.to_le_bytes());
}

#[test]
fn refusals_before_running_cost_nothing_and_change_nothing() {
    let mut chain = TestChain::new();
    let c = chain.deploy(&tiny(), "alice").unwrap();
    let alice = address_of_name("alice");
    let n = chain.nonce(&alice);
    let r = chain.call(c, "alice", "init(\"x\")", 0, 1_000);
    assert_eq!(r.status.name(), "bad_call");
    assert_eq!((r.gas_used, r.gas_limit), (0, 1_000));
    assert_eq!(chain.nonce(&alice), n);
    let r = chain.call(address_of_name("bob"), "alice", "get()", 0, 1_000);
    assert_eq!(r.status.name(), "no_contract");
    let r = chain.call_raw(address_of_name("bob"), alice, &[], 0, 1_000);
    assert_eq!(r.status.name(), "no_contract");
}

#[test]
fn raw_calls_decode_with_the_abi_and_dry_runs_keep_nothing() {
    let mut chain = TestChain::new();
    let c = chain.deploy(&tiny(), "alice").unwrap();
    let input = x64vm_runtime::abi::encode_call("init(u64)", &[x64vm_runtime::Value::Uint(64, 9)]);
    let r = chain.dry_run(c, "alice", "init(9)", 0, 1_000_000);
    assert!(r.status.is_success());
    assert_eq!(chain.storage(&c, b"x"), None);
    let r = chain.call_raw(c, address_of_name("carol"), &input, 0, 1_000_000);
    assert!(r.status.is_success());
    let r = chain.query_raw(c, &x64vm_runtime::abi::selector("get()"));
    assert_eq!(r.decoded_output.as_deref(), Some("9"));
    assert!(r.to_string().contains("output:   9"), "{r}");
}
