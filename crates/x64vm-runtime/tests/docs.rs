//! docs/gas.md's "Chain services" table must match src/gas.rs.

use x64vm_runtime::gas;

#[test]
fn gas_md_chain_services_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/gas.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("## Chain services")
        .nth(1)
        .expect("a Chain services section")
        .split("\n## ")
        .next()
        .unwrap();
    let rows: Vec<(String, u64, String)> = section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .filter_map(|l| {
            let c: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            Some((c[0].to_string(), c[1].parse().ok()?, c.get(2)?.to_string()))
        })
        .collect();
    let expected: &[(&str, u64, &[u64])] = &[
        (
            "storage_read",
            gas::STORAGE_READ,
            &[gas::STORAGE_READ_PER_BYTE, gas::STORAGE_READ_PER_BYTE],
        ),
        (
            "storage_write",
            gas::STORAGE_WRITE,
            &[gas::STORAGE_WRITE_PER_BYTE],
        ),
        (
            "storage_remove",
            gas::STORAGE_REMOVE,
            &[gas::STORAGE_REMOVE_PER_BYTE],
        ),
        ("emit_event", gas::EMIT_EVENT, &[gas::EMIT_EVENT_PER_BYTE]),
        (
            "caller, origin, self_address, value, block_number, timestamp",
            gas::CONTEXT,
            &[],
        ),
        ("block_hash", gas::BLOCK_HASH, &[]),
        ("balance", gas::BALANCE, &[]),
        ("transfer", gas::TRANSFER, &[]),
        ("call", gas::CALL, &[gas::CALL_PER_BYTE, gas::CALL_VALUE]),
        ("return_data_len, return_data_read", gas::RETURN_DATA, &[]),
        ("sha256", gas::SHA256, &[gas::SHA256_PER_BLOCK]),
        ("keccak256", gas::KECCAK256, &[gas::KECCAK256_PER_BLOCK]),
        ("secp256k1_recover", gas::SECP256K1_RECOVER, &[]),
        (
            "ed25519_verify",
            gas::ED25519_VERIFY,
            &[gas::ED25519_VERIFY_PER_BLOCK],
        ),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for ((name, base, plus), (en, eb, eplus)) in rows.iter().zip(expected) {
        assert_eq!((name.as_str(), *base), (*en, *eb));
        let numbers: Vec<u64> = plus
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .filter(|n| ![32, 64, 128, 136].contains(n))
            .collect();
        assert_eq!(&numbers, eplus, "extra costs of {name}: {plus}");
    }
    // Every chain service of the ABI crate appears in the table.
    for s in x64vm_abi::CHAIN_SERVICES {
        assert!(
            rows.iter()
                .any(|(n, _, _)| n.split(", ").any(|x| x == s.name)),
            "{} is missing from docs/gas.md",
            s.name
        );
    }
}
