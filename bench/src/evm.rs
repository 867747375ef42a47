//! The revm peer: the seed's Solidity fib (bench/sol/Fib.sol), compiled by solcjs
//! (bench/sol/build.sh, bytecode committed), deployed and called in revm in-process.

use revm::context::TxEnv;
use revm::context::result::ExecutionResult;
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind, U256};
use revm::{Context, Database, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// `fib` with external calls (`this.fib(n - 1) + this.fib(n - 2)`), as in the seed.
pub const EXTERNAL: Contract = Contract {
    name: "FibExternal",
    creation: include_str!("../sol/FibExternal.bin"),
    runtime: include_str!("../sol/FibExternal.bin-runtime"),
};
/// `fib` with internal calls (`fib(n - 1) + fib(n - 2)`).
pub const INTERNAL: Contract = Contract {
    name: "FibInternal",
    creation: include_str!("../sol/FibInternal.bin"),
    runtime: include_str!("../sol/FibInternal.bin-runtime"),
};
/// The selector of `fib(uint256)`, as solc reported it.
const SELECTOR: &str = include_str!("../sol/fib.selector");

/// The EVM spec the bytecode was compiled for (`EVM_VERSION` in build.sh).
const SPEC: SpecId = SpecId::CANCUN;
/// Gas for one call: far more than fib(30) with external calls needs.
const TX_GAS: u64 = 1 << 48;
/// The account that deploys and calls.
const CALLER: Address = Address::new([0x10; 20]);

/// A compiled contract, as hex.
#[derive(Clone, Copy, Debug)]
pub struct Contract {
    /// The contract's name in Fib.sol.
    pub name: &'static str,
    creation: &'static str,
    runtime: &'static str,
}

type Evm = MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>;

/// An EVM with one deployed fib contract.
pub struct Deployed {
    evm: Evm,
    address: Address,
}

impl Deployed {
    /// Deploys `contract` (runs its creation code) in a fresh in-memory state, and
    /// checks that the deployed code is the committed runtime code.
    ///
    /// # Errors
    /// When the hex is malformed or the deployment fails.
    pub fn new(contract: Contract) -> Result<Self, String> {
        let creation = hex(contract.creation)?;
        let runtime = hex(contract.runtime)?;
        let mut evm = Context::mainnet()
            .with_db(CacheDB::new(EmptyDB::default()))
            .modify_cfg_chained(|cfg| {
                cfg.spec = SPEC;
                // Calls are not committed, so the caller's nonce never moves on.
                cfg.disable_nonce_check = true;
            })
            .modify_block_chained(|block| {
                block.gas_limit = u64::MAX;
                block.basefee = 0;
            })
            .build_mainnet();
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Create)
            .data(Bytes::from(creation))
            .gas_limit(TX_GAS)
            .gas_price(0)
            .build()
            .map_err(|e| format!("{e:?}"))?;
        let result = evm
            .transact_commit(tx)
            .map_err(|e| format!("deploy {}: {e}", contract.name))?;
        let address = result
            .created_address()
            .ok_or_else(|| format!("deploy {}: {}", contract.name, describe(&result)))?;
        let code = evm
            .ctx
            .journaled_state
            .database
            .basic(address)
            .map_err(|e| e.to_string())?
            .and_then(|a| a.code)
            .map(|c| c.original_bytes())
            .unwrap_or_default();
        if code.as_ref() != runtime.as_slice() {
            return Err(format!(
                "{}: deployed code differs from {}.bin-runtime (rerun bench/sol/build.sh)",
                contract.name, contract.name
            ));
        }
        Ok(Deployed { evm, address })
    }

    /// Calls `fib(n)` in a transaction (not committed: `fib` is a view) and
    /// returns the result and the gas the transaction used.
    ///
    /// # Errors
    /// When the call reverts or halts, or returns something other than a u64.
    pub fn fib(&mut self, n: u64) -> Result<(u64, u64), String> {
        let selector = hex(SELECTOR)?;
        let mut data = Vec::with_capacity(36);
        data.extend_from_slice(&selector);
        data.extend_from_slice(&U256::from(n).to_be_bytes::<32>());
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(self.address))
            .data(Bytes::from(data))
            .gas_limit(TX_GAS)
            .gas_price(0)
            .build()
            .map_err(|e| format!("{e:?}"))?;
        let result = self.evm.transact(tx).map_err(|e| e.to_string())?.result;
        let gas = result.tx_gas_used();
        match &result {
            ExecutionResult::Success { .. } => {
                let out = result.output().cloned().unwrap_or_default();
                let word: [u8; 32] = out
                    .as_ref()
                    .try_into()
                    .map_err(|_| format!("fib returned {} bytes", out.len()))?;
                let v = U256::from_be_bytes(word);
                let v = u64::try_from(v).map_err(|_| format!("fib returned {v}"))?;
                Ok((v, gas))
            }
            _ => Err(describe(&result)),
        }
    }
}

/// A failed execution in a line.
fn describe(result: &ExecutionResult) -> String {
    match result {
        ExecutionResult::Success { .. } => "success".into(),
        ExecutionResult::Revert { output, .. } => format!("reverted ({output})"),
        ExecutionResult::Halt { reason, .. } => format!("halted ({reason:?})"),
    }
}

/// Decodes hex without `0x`, ignoring surrounding whitespace.
fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err("odd-length hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_variants_compute_fib() {
        for contract in [EXTERNAL, INTERNAL] {
            let mut d = Deployed::new(contract).expect("deploys");
            assert_eq!(d.fib(0).expect("fib(0)").0, 0);
            assert_eq!(d.fib(10).expect("fib(10)").0, 55);
            assert_eq!(d.fib(12).expect("fib(12)").0, 144);
        }
    }

    #[test]
    fn hex_decodes() {
        assert_eq!(hex(" 00ff10\n"), Ok(vec![0, 0xff, 0x10]));
        assert!(hex("abc").is_err());
        assert!(hex("zz").is_err());
    }
}
