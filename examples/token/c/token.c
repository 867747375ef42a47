/* A fungible token: balances, allowances, Transfer and Approval events.
 *
 * The same ABI, storage layout, events and revert messages as
 * examples/token/cpp and examples/token/rust:
 *
 *   fn name() -> string view
 *   fn symbol() -> string view
 *   fn total_supply() -> u128 view
 *   fn mint(address to, u128 amount)                  owner only
 *   fn transfer(address to, u128 amount) -> bool
 *   fn balance_of(address owner) -> u128 view
 *   fn approve(address spender, u128 amount) -> bool
 *   fn allowance(address owner, address spender) -> u128 view
 *   fn transfer_from(address from, address to, u128 amount) -> bool
 *   event Transfer(address from, address to, u128 amount)
 *   event Approval(address owner, address spender, u128 amount)
 *
 * The owner is the account that first calls `mint` (the deployer, in practice);
 * later mints by anyone else revert. Minting emits Transfer from the zero
 * address. Every failure reverts with a message starting with "token:".
 *
 * Storage: "owner" (address), "total_supply" (u128), "balances\0" ‖ owner
 * (u128), "allowances\0" ‖ owner ‖ spender (u128).
 *
 * Build: make -C examples/token
 * Run:   x64vm run examples/token/c/token.elf --ctor 'mint("alice", 1000)' \
 *            'transfer("bob", 100)'
 */
#include <x64vm.h>

#define TOKEN_NAME "Example Token"
#define TOKEN_SYMBOL "EXT"

X64VM_EVENT(Transfer, (address, from)(address, to)(u128, amount))
X64VM_EVENT(Approval, (address, owner)(address, spender)(u128, amount))

static x64vm_key_t balance_key(x64vm_address_t owner) {
    x64vm_key_t k = x64vm_key("balances");
    x64vm_key_add_address(&k, owner);
    return k;
}

static x64vm_key_t allowance_key(x64vm_address_t owner, x64vm_address_t spender) {
    x64vm_key_t k = x64vm_key("allowances");
    x64vm_key_add_address(&k, owner);
    x64vm_key_add_address(&k, spender);
    return k;
}

static x64vm_u128_t balance(x64vm_address_t owner) {
    x64vm_key_t k = balance_key(owner);
    return x64vm_load_u128(&k);
}

static void set_balance(x64vm_address_t owner, x64vm_u128_t amount) {
    x64vm_key_t k = balance_key(owner);
    x64vm_store_u128(&k, amount);
}

/* Moves tokens and emits Transfer; reverts for the zero address or a short balance. */
static void move_tokens(x64vm_address_t from, x64vm_address_t to, x64vm_u128_t amount) {
    x64vm_require(!x64vm_address_is_zero(to), "token: transfer to the zero address");
    set_balance(from, x64vm_u128_sub_or_revert(balance(from), amount,
                                               "token: insufficient balance"));
    /* Read after the write, so a transfer to oneself changes nothing. Cannot
     * overflow: balances add up to the total supply. */
    set_balance(to, balance(to) + amount);
    X64VM_EMIT(Transfer, from, to, amount);
}

X64VM_VIEW(string, name) { return x64vm_str(TOKEN_NAME); }

X64VM_VIEW(string, symbol) { return x64vm_str(TOKEN_SYMBOL); }

X64VM_VIEW(u128, total_supply) {
    x64vm_key_t k = x64vm_key("total_supply");
    return x64vm_load_u128(&k);
}

/* Creates `amount` new tokens for `to`. Only the owner may mint; the first
 * caller becomes the owner. */
X64VM_FN(void, mint, (address, to)(u128, amount)) {
    x64vm_address_t sender = x64vm_caller();
    x64vm_key_t owner = x64vm_key("owner");
    if (x64vm_exists(&owner))
        x64vm_require(x64vm_address_eq(x64vm_load_address(&owner), sender),
                      "token: caller is not the owner");
    else
        x64vm_store_address(&owner, sender);
    x64vm_require(!x64vm_address_is_zero(to), "token: mint to the zero address");
    x64vm_key_t supply = x64vm_key("total_supply");
    x64vm_store_u128(&supply, x64vm_u128_add_or_revert(x64vm_load_u128(&supply), amount,
                                                       "token: total supply overflow"));
    /* Cannot overflow: a balance never exceeds the total supply. */
    set_balance(to, balance(to) + amount);
    X64VM_EMIT(Transfer, x64vm_address_zero(), to, amount);
}

/* Moves `amount` of the caller's tokens to `to`. */
X64VM_FN(bool, transfer, (address, to)(u128, amount)) {
    move_tokens(x64vm_caller(), to, amount);
    return true;
}

/* The balance of `owner`. */
X64VM_VIEW(u128, balance_of, (address, owner)) { return balance(owner); }

/* Lets `spender` move up to `amount` of the caller's tokens (replacing any
 * earlier allowance). */
X64VM_FN(bool, approve, (address, spender)(u128, amount)) {
    x64vm_address_t owner = x64vm_caller();
    x64vm_require(!x64vm_address_is_zero(spender), "token: approve to the zero address");
    x64vm_key_t k = allowance_key(owner, spender);
    x64vm_store_u128(&k, amount);
    X64VM_EMIT(Approval, owner, spender, amount);
    return true;
}

/* How much `spender` may still move of `owner`'s tokens. */
X64VM_VIEW(u128, allowance, (address, owner)(address, spender)) {
    x64vm_key_t k = allowance_key(owner, spender);
    return x64vm_load_u128(&k);
}

/* Moves `amount` of `from`'s tokens to `to`, spending the caller's allowance. */
X64VM_FN(bool, transfer_from, (address, from)(address, to)(u128, amount)) {
    x64vm_key_t k = allowance_key(from, x64vm_caller());
    x64vm_store_u128(&k, x64vm_u128_sub_or_revert(x64vm_load_u128(&k), amount,
                                                  "token: insufficient allowance"));
    move_tokens(from, to, amount);
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
