//! The revm peer: the seed's Solidity fib (bench/sol/Fib.sol) and a minimal token
//! (bench/sol/Token.sol), compiled by solcjs (bench/sol/build.sh, bytecode
//! committed), deployed and called in revm in-process.

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
        let mut evm = new_evm();
        let address = deploy(&mut evm, contract, &[])?;
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

/// A fresh EVM with an empty in-memory state and the bench's settings.
fn new_evm() -> Evm {
    Context::mainnet()
        .with_db(CacheDB::new(EmptyDB::default()))
        .modify_cfg_chained(|cfg| {
            cfg.spec = SPEC;
            // Fib calls are not committed, so the caller's nonce never moves on;
            // token transfers are, and revm still increments the nonce.
            cfg.disable_nonce_check = true;
        })
        .modify_block_chained(|block| {
            block.gas_limit = u64::MAX;
            block.basefee = 0;
        })
        .build_mainnet()
}

/// Deploys `contract` (its creation code followed by `ctor_args`, ABI-encoded)
/// from [`CALLER`], committed, and checks that the deployed code is the committed
/// runtime code.
fn deploy(evm: &mut Evm, contract: Contract, ctor_args: &[u8]) -> Result<Address, String> {
    let mut creation = hex(contract.creation)?;
    creation.extend_from_slice(ctor_args);
    let runtime = hex(contract.runtime)?;
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
    Ok(address)
}

/// The minimal token of bench/sol/Token.sol.
pub const TOKEN: Contract = Contract {
    name: "Token",
    creation: include_str!("../sol/Token.bin"),
    runtime: include_str!("../sol/Token.bin-runtime"),
};
/// Token's selectors, one `<hex> <signature>` a line, as solc reported them.
const TOKEN_SELECTORS: &str = include_str!("../sol/token.selectors");
/// Gas for one token transaction.
const TOKEN_TX_GAS: u64 = 1_000_000;

/// The selector of `signature` in [`TOKEN_SELECTORS`].
fn token_selector(signature: &str) -> Result<Vec<u8>, String> {
    TOKEN_SELECTORS
        .lines()
        .find_map(|l| {
            let (sel, sig) = l.trim().split_once(' ')?;
            (sig == signature).then_some(sel)
        })
        .ok_or_else(|| format!("no selector for {signature} in token.selectors"))
        .and_then(hex)
}

/// An address as an ABI word.
fn word_of(a: Address) -> [u8; 32] {
    let mut w = [0; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// An EVM with a deployed [`TOKEN`] whose whole supply [`CALLER`] holds.
pub struct TokenEvm {
    evm: Evm,
    address: Address,
    transfer: Vec<u8>,
    balance_of: Vec<u8>,
}

impl TokenEvm {
    /// The account that holds the supply and sends the transfers.
    pub const HOLDER: Address = CALLER;

    /// Deploys the token with `supply` minted to [`Self::HOLDER`].
    ///
    /// # Errors
    /// When the hex is malformed or the deployment fails.
    pub fn new(supply: u128) -> Result<Self, String> {
        let mut evm = new_evm();
        let args = U256::from(supply).to_be_bytes::<32>();
        let address = deploy(&mut evm, TOKEN, &args)?;
        Ok(TokenEvm {
            evm,
            address,
            transfer: token_selector("transfer(address,uint256)")?,
            balance_of: token_selector("balanceOf(address)")?,
        })
    }

    /// One committed transaction from [`Self::HOLDER`]: `transfer(to, amount)`.
    /// Returns the gas it used.
    ///
    /// # Errors
    /// When the transaction fails, reverts or does not return true.
    pub fn transfer(&mut self, to: Address, amount: u128) -> Result<u64, String> {
        let mut data = Vec::with_capacity(68);
        data.extend_from_slice(&self.transfer);
        data.extend_from_slice(&word_of(to));
        data.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(self.address))
            .data(Bytes::from(data))
            .gas_limit(TOKEN_TX_GAS)
            .gas_price(0)
            .build()
            .map_err(|e| format!("{e:?}"))?;
        let result = self.evm.transact_commit(tx).map_err(|e| e.to_string())?;
        let ok = matches!(result, ExecutionResult::Success { .. })
            && result.output().map(|o| o.as_ref()) == Some(&U256::from(1).to_be_bytes::<32>()[..]);
        if !ok {
            return Err(format!("transfer: {}", describe(&result)));
        }
        Ok(result.tx_gas_used())
    }

    /// `balanceOf(who)`, in a call that is not committed.
    ///
    /// # Errors
    /// When the call fails or returns something other than a u128.
    pub fn balance_of(&mut self, who: Address) -> Result<u128, String> {
        let mut data = self.balance_of.clone();
        data.extend_from_slice(&word_of(who));
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(self.address))
            .data(Bytes::from(data))
            .gas_limit(TOKEN_TX_GAS)
            .gas_price(0)
            .build()
            .map_err(|e| format!("{e:?}"))?;
        let result = self.evm.transact(tx).map_err(|e| e.to_string())?.result;
        let out = match &result {
            ExecutionResult::Success { .. } => result.output().cloned().unwrap_or_default(),
            _ => return Err(format!("balanceOf: {}", describe(&result))),
        };
        let word: [u8; 32] = out
            .as_ref()
            .try_into()
            .map_err(|_| format!("balanceOf returned {} bytes", out.len()))?;
        let v = U256::from_be_bytes(word);
        u128::try_from(v).map_err(|_| format!("balanceOf returned {v}"))
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
    fn token_transfers_move_balances() {
        let mut t = TokenEvm::new(1000).expect("deploys");
        let to = Address::new([0x20; 20]);
        assert_eq!(t.balance_of(TokenEvm::HOLDER), Ok(1000));
        for _ in 0..3 {
            t.transfer(to, 5).expect("transfer");
        }
        assert_eq!(t.balance_of(TokenEvm::HOLDER), Ok(985));
        assert_eq!(t.balance_of(to), Ok(15));
        assert!(t.transfer(to, 10_000).is_err(), "overdraft reverts");
        assert!(
            t.transfer(Address::ZERO, 1).is_err(),
            "zero address reverts"
        );
    }

    #[test]
    fn hex_decodes() {
        assert_eq!(hex(" 00ff10\n"), Ok(vec![0, 0xff, 0x10]));
        assert!(hex("abc").is_err());
        assert!(hex("zz").is_err());
    }
}
