// An escrow in C++: the same ABI, storage layout, events and revert messages as
// examples/escrow/c and examples/escrow/rust (see c/escrow.c for the details).
//
// TokenClient<Amount> is a typed proxy for another contract: each method encodes
// a call (selector computed at compile time, Borsh arguments through a variadic
// template), sends it with the nested `call` service and decodes the result.
#include <x64vm.h>

using x64vm::Address;
using x64vm::u128;

X64VM_EVENT(Deposited, (address, from)(u128, amount))
X64VM_EVENT(Released, (address, beneficiary)(u128, tokens)(u128, value))
X64VM_EVENT(Refunded, (address, depositor)(u128, tokens)(u128, value))

namespace {

// The outcome of a nested call: its status, and its output or revert data.
struct CallResult {
    int status;
    x64vm::Bytes data;

    bool ok() const { return status == X64VM_CALL_SUCCESS; }
    const char *error() const { return status == X64VM_CALL_REVERTED ? "call reverted" : "call failed"; }

    // Decodes a successful call's output into `out`; false if the call failed
    // or its output is not a well-formed T.
    template <class T> bool decode(T &out) const {
        if (!ok() || !well_formed<T>())
            return false;
        x64vm::Reader r(data.ptr, data.len);
        out = r.read<T>();
        return true;
    }

  private:
    template <class T> bool well_formed() const;
};
template <> bool CallResult::well_formed<bool>() const { return data.len == 1 && data.ptr[0] <= 1; }
template <> bool CallResult::well_formed<u128>() const { return data.len == 16; }

// A typed client of a token contract at `address`.
template <class Amount> class TokenClient {
  public:
    explicit TokenClient(const Address &address) : address_(address) {}

    CallResult transfer(const Address &to, Amount amount) const {
        return call(kTransfer, to, amount);
    }
    CallResult balance_of(const Address &owner) const { return call(kBalanceOf, owner); }

  private:
    // Selectors, computed by the compiler.
    static constexpr uint32_t kTransfer = x64vm::selector("transfer(address,u128)");
    static constexpr uint32_t kBalanceOf = x64vm::selector("balance_of(address)");

    template <class... Args> CallResult call(uint32_t selector, const Args &...args) const {
        x64vm::Call c(selector);
        (c.arg(args), ...);
        int status = c.send(address_);
        return CallResult{status, x64vm_return_data()};
    }

    Address address_;
};

class Escrow {
  public:
    void init(const Address &token, const Address &beneficiary) const {
        x64vm::require(!depositor_.exists(), "escrow: already initialized");
        x64vm::require(beneficiary != Address{}, "escrow: zero beneficiary");
        token_ = token;
        beneficiary_ = beneficiary;
        depositor_ = x64vm::caller();
    }

    void deposit() const {
        depositor();
        u128 amount = x64vm::value();
        x64vm::require(amount > 0, "escrow: no value sent");
        held_ = x64vm::checked_add(held_.get(), amount, "escrow: held value overflow");
        X64VM_EMIT(Deposited, x64vm::caller(), amount);
    }

    void release(u128 amount) const {
        only_depositor();
        Address beneficiary = beneficiary_.get();
        if (amount > 0)
            pay_tokens(beneficiary, amount);
        u128 value = pay_held(beneficiary);
        X64VM_EMIT(Released, beneficiary, amount, value);
    }

    void refund() const {
        Address to = only_depositor();
        CallResult r = token().balance_of(x64vm::self_address());
        u128 tokens = 0;
        if (!r.ok())
            fail("escrow: token balance_of failed: ", r.error());
        if (!r.decode(tokens))
            x64vm::revert("escrow: token balance_of failed: call output does not decode");
        if (tokens > 0)
            pay_tokens(to, tokens);
        u128 value = pay_held(to);
        X64VM_EMIT(Refunded, to, tokens, value);
    }

  private:
    TokenClient<u128> token() const { return TokenClient<u128>(token_.get()); }

    Address depositor() const {
        x64vm::require(depositor_.exists(), "escrow: not initialized");
        return depositor_.get();
    }

    Address only_depositor() const {
        Address d = depositor();
        x64vm::require(x64vm::caller() == d, "escrow: caller is not the depositor");
        return d;
    }

    // token.transfer(to, amount); reverts with the token's message unless it
    // succeeded and returned true.
    void pay_tokens(const Address &to, u128 amount) const {
        CallResult r = token().transfer(to, amount);
        if (r.status == X64VM_CALL_REVERTED)
            x64vm_revert_with("escrow: token transfer reverted: ", r.data.ptr, r.data.len);
        if (!r.ok())
            x64vm::revert("escrow: token transfer failed: call failed");
        bool done = false;
        if (!r.decode(done))
            x64vm::revert("escrow: token transfer failed: call output does not decode");
        x64vm::require(done, "escrow: token transfer returned false");
    }

    u128 pay_held(const Address &to) const {
        u128 value = held_.get();
        if (value > 0) {
            held_ = 0;
            x64vm::require(x64vm_transfer(to, value), "escrow: value transfer failed");
        }
        return value;
    }

    [[noreturn]] static void fail(const char *prefix, const char *detail) {
        x64vm_revert_with(prefix, detail, x64vm_strlen(detail));
    }

    x64vm::Value<Address> token_{"token"};
    x64vm::Value<Address> beneficiary_{"beneficiary"};
    x64vm::Value<Address> depositor_{"depositor"};
    x64vm::Value<u128> held_{"held"};
};

constexpr Escrow escrow;

} // namespace

X64VM_FN(void, init, (address, token)(address, beneficiary)) { escrow.init(token, beneficiary); }
X64VM_PAYABLE(void, deposit) { escrow.deposit(); }
X64VM_FN(void, release, (u128, amount)) { escrow.release(amount); }
X64VM_FN(void, refund) { escrow.refund(); }

X64VM_MAIN(escrow,
           X64VM_FUNC(init)
           X64VM_FUNC(deposit)
           X64VM_FUNC(release)
           X64VM_FUNC(refund))
