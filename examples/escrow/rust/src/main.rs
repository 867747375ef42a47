//! An escrow between a depositor and a beneficiary, paying out in a token.
//!
//! The same ABI as examples/escrow/c and examples/escrow/cpp:
//!
//! ```text
//! fn init(address token, address beneficiary)   once; the caller becomes the depositor
//! fn deposit()                                  payable: the escrow holds the value sent
//! fn release(u128 amount)                       depositor only
//! fn refund()                                   depositor only
//! ```
//!
//! `release(amount)` pays the beneficiary `amount` tokens out of the escrow's
//! own token balance, by calling the token contract's `transfer` through the
//! nested `call` service, and sends it all the value held. If the token call
//! reverts or fails (e.g. the escrow holds too few tokens), the escrow reverts
//! too, so nothing moves. `refund()` sends the held value and the escrow's
//! whole token balance back to the depositor.
#![no_std]
#![no_main]

use x64vm_sdk::prelude::*;

/// Value received by `deposit`.
#[event]
pub struct Deposited {
    pub from: Address,
    pub amount: u128,
}

/// Tokens and value paid to the beneficiary by `release`.
#[event]
pub struct Released {
    pub beneficiary: Address,
    pub tokens: u128,
    pub value: u128,
}

/// Tokens and value returned to the depositor by `refund`.
#[event]
pub struct Refunded {
    pub depositor: Address,
    pub tokens: u128,
    pub value: u128,
}

/// The contract state. Keys: `token`, `beneficiary`, `depositor`, `held`.
#[derive(Storage)]
pub struct Escrow {
    token: StorageValue<Address>,
    beneficiary: StorageValue<Address>,
    depositor: StorageValue<Address>,
    held: StorageValue<u128>,
}

#[contract]
impl Escrow {
    /// Sets the token contract and the beneficiary; the caller becomes the
    /// depositor. Only once.
    pub fn init(&mut self, token: Address, beneficiary: Address) {
        require(!self.depositor.exists(), "escrow: already initialized");
        require(!beneficiary.is_zero(), "escrow: zero beneficiary");
        self.token.set(&token);
        self.beneficiary.set(&beneficiary);
        self.depositor.set(&caller());
    }

    /// Holds the value sent with the call.
    #[payable]
    pub fn deposit(&mut self) {
        self.depositor();
        let amount = value();
        require(amount > 0, "escrow: no value sent");
        let held = self
            .held
            .get_or_default()
            .checked_add(amount)
            .unwrap_or_else(|| revert("escrow: held value overflow"));
        self.held.set(&held);
        Deposited {
            from: caller(),
            amount,
        }
        .emit();
    }

    /// Pays the beneficiary `amount` tokens (nested call to the token's
    /// `transfer`) and all the value held.
    pub fn release(&mut self, amount: u128) {
        self.only_depositor();
        let token = self.token.get().unwrap_or_default();
        let beneficiary = self.beneficiary.get().unwrap_or_default();
        if amount > 0 {
            token_transfer(&token, &beneficiary, amount);
        }
        let value = self.take_held();
        if value > 0 && transfer(&beneficiary, value).is_err() {
            revert("escrow: value transfer failed");
        }
        Released {
            beneficiary,
            tokens: amount,
            value,
        }
        .emit();
    }

    /// Returns the held value and all the escrow's tokens to the depositor.
    pub fn refund(&mut self) {
        let depositor = self.only_depositor();
        let token = self.token.get().unwrap_or_default();
        let input = encode_call(selector!("balance_of(address)"), (self_address(),));
        let tokens: u128 = call(&token, &input, 0, 0)
            .decode()
            .unwrap_or_else(|e| revert(&format!("escrow: token balance_of failed: {e}")));
        if tokens > 0 {
            token_transfer(&token, &depositor, tokens);
        }
        let value = self.take_held();
        if value > 0 && transfer(&depositor, value).is_err() {
            revert("escrow: value transfer failed");
        }
        Refunded {
            depositor,
            tokens,
            value,
        }
        .emit();
    }
}

impl Escrow {
    /// The depositor; reverts before `init`.
    fn depositor(&self) -> Address {
        self.depositor
            .get()
            .unwrap_or_else(|| revert("escrow: not initialized"))
    }

    /// The depositor, who must be the caller.
    fn only_depositor(&self) -> Address {
        let depositor = self.depositor();
        require(caller() == depositor, "escrow: caller is not the depositor");
        depositor
    }

    /// The held value, now zero.
    fn take_held(&mut self) -> u128 {
        let value = self.held.get_or_default();
        if value > 0 {
            self.held.set(&0);
        }
        value
    }
}

/// `token.transfer(to, amount)`; reverts with the token's message unless it
/// succeeded and returned `true`.
fn token_transfer(token: &Address, to: &Address, amount: u128) {
    let input = encode_call(selector!("transfer(address,u128)"), (to, amount));
    let r = call(token, &input, 0, 0);
    match r.decode::<bool>() {
        Ok(true) => {}
        Ok(false) => revert("escrow: token transfer returned false"),
        Err(_) if r.status == x64vm_sdk::CallStatus::Reverted => {
            revert(&format!("escrow: token transfer reverted: {}", r.message()))
        }
        Err(e) => revert(&format!("escrow: token transfer failed: {e}")),
    }
}
