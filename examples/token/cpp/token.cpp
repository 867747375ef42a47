// A fungible token in C++: the same ABI, storage layout, events and revert
// messages as examples/token/c and examples/token/rust (see c/token.c for the
// function list).
//
// The state is a class template over the amount type; its fields are storage
// handles (x64vm::Value, x64vm::Map, a nested Map for allowances), which hold
// only keys, so the contract object is a compile-time constant.
#include <x64vm.h>

using x64vm::Address;
using x64vm::u128;

X64VM_EVENT(Transfer, (address, from)(address, to)(u128, amount))
X64VM_EVENT(Approval, (address, owner)(address, spender)(u128, amount))

namespace {

constexpr Address kZero{};

// Keys: "owner", "total_supply", "balances\0" ‖ owner, "allowances\0" ‖ owner ‖ spender.
template <class Amount> class Token {
  public:
    static constexpr const char *kName = "Example Token";
    static constexpr const char *kSymbol = "EXT";

    Amount total_supply() const { return total_supply_.get(); }
    Amount balance_of(const Address &owner) const { return balances_[owner].get(); }
    Amount allowance(const Address &owner, const Address &spender) const {
        return allowances_[owner][spender].get();
    }

    // Creates `amount` new tokens for `to`; the first caller becomes the owner.
    void mint(const Address &to, Amount amount) const {
        Address sender = x64vm::caller();
        if (owner_.exists())
            x64vm::require(owner_.get() == sender, "token: caller is not the owner");
        else
            owner_ = sender;
        x64vm::require(to != kZero, "token: mint to the zero address");
        total_supply_ = x64vm::checked_add(total_supply_.get(), amount,
                                           "token: total supply overflow");
        // Cannot overflow: a balance never exceeds the total supply.
        auto balance = balances_[to];
        balance = balance.get() + amount;
        X64VM_EMIT(Transfer, kZero, to, amount);
    }

    void transfer(const Address &from, const Address &to, Amount amount) const {
        x64vm::require(to != kZero, "token: transfer to the zero address");
        auto from_balance = balances_[from];
        from_balance = x64vm::checked_sub(from_balance.get(), amount, "token: insufficient balance");
        // Read after the write, so a transfer to oneself changes nothing.
        auto to_balance = balances_[to];
        to_balance = to_balance.get() + amount;
        X64VM_EMIT(Transfer, from, to, amount);
    }

    void approve(const Address &owner, const Address &spender, Amount amount) const {
        x64vm::require(spender != kZero, "token: approve to the zero address");
        allowances_[owner][spender] = amount;
        X64VM_EMIT(Approval, owner, spender, amount);
    }

    void spend_allowance(const Address &owner, const Address &spender, Amount amount) const {
        auto allowed = allowances_[owner][spender];
        allowed = x64vm::checked_sub(allowed.get(), amount, "token: insufficient allowance");
    }

  private:
    x64vm::Value<Address> owner_{"owner"};
    x64vm::Value<Amount> total_supply_{"total_supply"};
    x64vm::Map<Address, Amount> balances_{"balances"};
    x64vm::Map<Address, x64vm::Map<Address, Amount>> allowances_{"allowances"};
};

constexpr Token<u128> token;

} // namespace

X64VM_VIEW(string, name) { return x64vm::str(token.kName); }
X64VM_VIEW(string, symbol) { return x64vm::str(token.kSymbol); }
X64VM_VIEW(u128, total_supply) { return token.total_supply(); }
X64VM_FN(void, mint, (address, to)(u128, amount)) { token.mint(to, amount); }

X64VM_FN(bool, transfer, (address, to)(u128, amount)) {
    token.transfer(x64vm::caller(), to, amount);
    return true;
}

X64VM_VIEW(u128, balance_of, (address, owner)) { return token.balance_of(owner); }

X64VM_FN(bool, approve, (address, spender)(u128, amount)) {
    token.approve(x64vm::caller(), spender, amount);
    return true;
}

X64VM_VIEW(u128, allowance, (address, owner)(address, spender)) {
    return token.allowance(owner, spender);
}

X64VM_FN(bool, transfer_from, (address, from)(address, to)(u128, amount)) {
    token.spend_allowance(from, x64vm::caller(), amount);
    token.transfer(from, to, amount);
    return true;
}

X64VM_MAIN(token,
           X64VM_FUNC(name)
           X64VM_FUNC(symbol)
           X64VM_FUNC(total_supply)
           X64VM_FUNC(mint)
           X64VM_FUNC(transfer)
           X64VM_FUNC(balance_of)
           X64VM_FUNC(approve)
           X64VM_FUNC(allowance)
           X64VM_FUNC(transfer_from))
