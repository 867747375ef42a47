//! A fungible token: balances, allowances, Transfer and Approval events.
//!
//! The same ABI as examples/token/c and examples/token/cpp:
//!
//! ```text
//! fn name() -> string view
//! fn symbol() -> string view
//! fn total_supply() -> u128 view
//! fn mint(address to, u128 amount)                  owner only
//! fn transfer(address to, u128 amount) -> bool
//! fn balance_of(address owner) -> u128 view
//! fn approve(address spender, u128 amount) -> bool
//! fn allowance(address owner, address spender) -> u128 view
//! fn transfer_from(address from, address to, u128 amount) -> bool
//! event Transfer(address from, address to, u128 amount)
//! event Approval(address owner, address spender, u128 amount)
//! ```
//!
//! The owner is the account that first calls `mint` (the deployer, in
//! practice: deploy and mint in one go with `deploy_with`); later mints by
//! anyone else revert. Minting emits `Transfer` from the zero address. Every
//! failure reverts with a message starting with `token:`.
#![no_std]
#![no_main]

use x64vm_sdk::prelude::*;

const NAME: &str = "Example Token";
const SYMBOL: &str = "EXT";

/// Tokens moved (`from` is the zero address for a mint).
#[event]
pub struct Transfer {
    pub from: Address,
    pub to: Address,
    pub amount: u128,
}

/// `owner` allowed `spender` to move `amount` of its tokens.
#[event]
pub struct Approval {
    pub owner: Address,
    pub spender: Address,
    pub amount: u128,
}

/// The contract state. Keys: `owner`, `total_supply`, `balances\0` ‖ address,
/// `allowances\0` ‖ owner ‖ spender.
#[derive(Storage)]
pub struct Token {
    owner: StorageValue<Address>,
    total_supply: StorageValue<u128>,
    balances: StorageMap<Address, u128>,
    allowances: StorageMap<(Address, Address), u128>,
}

#[contract]
impl Token {
    /// The token's name.
    pub fn name(&self) -> String {
        NAME.into()
    }

    /// The token's symbol.
    pub fn symbol(&self) -> String {
        SYMBOL.into()
    }

    /// All tokens minted so far.
    pub fn total_supply(&self) -> u128 {
        self.total_supply.get_or_default()
    }

    /// Creates `amount` new tokens for `to`. Only the owner may mint; the first
    /// caller becomes the owner.
    pub fn mint(&mut self, to: Address, amount: u128) {
        let sender = caller();
        match self.owner.get() {
            Some(owner) => require(owner == sender, "token: caller is not the owner"),
            None => self.owner.set(&sender),
        }
        require(!to.is_zero(), "token: mint to the zero address");
        let supply = self
            .total_supply
            .get_or_default()
            .checked_add(amount)
            .unwrap_or_else(|| revert("token: total supply overflow"));
        self.total_supply.set(&supply);
        // Cannot overflow: a balance never exceeds the total supply.
        let balance = self.balances.get_or_default(&to) + amount;
        self.balances.insert(&to, &balance);
        Transfer {
            from: Address::ZERO,
            to,
            amount,
        }
        .emit();
    }

    /// Moves `amount` of the caller's tokens to `to`.
    pub fn transfer(&mut self, to: Address, amount: u128) -> bool {
        self.move_tokens(caller(), to, amount);
        true
    }

    /// The balance of `owner`.
    pub fn balance_of(&self, owner: Address) -> u128 {
        self.balances.get_or_default(&owner)
    }

    /// Lets `spender` move up to `amount` of the caller's tokens (replacing any
    /// earlier allowance).
    pub fn approve(&mut self, spender: Address, amount: u128) -> bool {
        let owner = caller();
        require(!spender.is_zero(), "token: approve to the zero address");
        self.allowances.insert(&(owner, spender), &amount);
        Approval {
            owner,
            spender,
            amount,
        }
        .emit();
        true
    }

    /// How much `spender` may still move of `owner`'s tokens.
    pub fn allowance(&self, owner: Address, spender: Address) -> u128 {
        self.allowances.get_or_default(&(owner, spender))
    }

    /// Moves `amount` of `from`'s tokens to `to`, spending the caller's allowance.
    pub fn transfer_from(&mut self, from: Address, to: Address, amount: u128) -> bool {
        let key = (from, caller());
        let allowed = self.allowances.get_or_default(&key);
        let left = allowed
            .checked_sub(amount)
            .unwrap_or_else(|| revert("token: insufficient allowance"));
        self.allowances.insert(&key, &left);
        self.move_tokens(from, to, amount);
        true
    }
}

impl Token {
    fn move_tokens(&mut self, from: Address, to: Address, amount: u128) {
        require(!to.is_zero(), "token: transfer to the zero address");
        let from_balance = self.balances.get_or_default(&from);
        let left = from_balance
            .checked_sub(amount)
            .unwrap_or_else(|| revert("token: insufficient balance"));
        self.balances.insert(&from, &left);
        // Read after the write, so a transfer to oneself changes nothing.
        // Cannot overflow: balances add up to the total supply.
        let to_balance = self.balances.get_or_default(&to) + amount;
        self.balances.insert(&to, &to_balance);
        Transfer { from, to, amount }.emit();
    }
}
