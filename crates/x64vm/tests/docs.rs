//! The documents that specify costs and numbers must agree with the code.

use std::collections::BTreeMap;

fn doc(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/").to_string() + name;
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Rows `| a | b | ...` of every markdown table, split into trimmed cells.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn gas_md_lists_every_op_with_its_cost() {
    let gas = doc("gas.md");
    let base = gas
        .split("## Base cost per instruction")
        .nth(1)
        .expect("base cost section");
    let table: BTreeMap<String, u64> = rows(base)
        .into_iter()
        .filter_map(|r| Some((r.first()?.clone(), r.get(1)?.parse().ok()?)))
        .collect();
    for op in x64vm::ir::Op::ALL {
        assert_eq!(
            table.get(op.name()),
            Some(&op.gas()),
            "docs/gas.md row for {}",
            op.name()
        );
    }
    assert_eq!(
        table.len(),
        x64vm::ir::Op::ALL.len(),
        "docs/gas.md has rows for unknown ops"
    );
}

#[test]
fn abi_md_matches_the_abi_crate() {
    let documented: Vec<(u8, String)> = rows(&doc("abi.md"))
        .into_iter()
        .filter_map(|r| {
            let n = u8::from_str_radix(r.first()?.strip_prefix("0x")?, 16).ok()?;
            Some((n, r.get(1)?.clone()))
        })
        .collect();
    let code: Vec<(u8, String)> = x64vm_abi::CORE_SERVICES
        .iter()
        .chain(x64vm_abi::CHAIN_SERVICES)
        .map(|s| (s.number, s.name.to_string()))
        .collect();
    assert_eq!(documented, code);
}
