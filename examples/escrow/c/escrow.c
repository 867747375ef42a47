/* An escrow between a depositor and a beneficiary, paying out in a token.
 *
 * The same ABI, storage layout, events and revert messages as
 * examples/escrow/cpp and examples/escrow/rust:
 *
 *   fn init(address token, address beneficiary)   once; the caller becomes the depositor
 *   fn deposit()                                  payable: the escrow holds the value sent
 *   fn release(u128 amount)                       depositor only
 *   fn refund()                                   depositor only
 *   event Deposited(address from, u128 amount)
 *   event Released(address beneficiary, u128 tokens, u128 value)
 *   event Refunded(address depositor, u128 tokens, u128 value)
 *
 * release(amount) pays the beneficiary `amount` tokens out of the escrow's own
 * token balance, by calling the token contract's transfer(address,u128) through
 * the nested `call` service, and sends it all the value held. If the token call
 * reverts or fails (e.g. the escrow holds too few tokens), the escrow reverts
 * too (with the token's message), so nothing moves. refund() sends the held
 * value and the escrow's whole token balance back to the depositor.
 *
 * Storage: "token", "beneficiary", "depositor" (addresses), "held" (u128).
 *
 * Build: make -C examples/escrow (and examples/token for the token it pays in).
 * The scenarios (deploy both, fund, release, refund, a failing nested call) are
 * in crates/x64vm-runtime/tests/examples_c.rs.
 */
#include <x64vm.h>

X64VM_EVENT(Deposited, (address, from)(u128, amount))
X64VM_EVENT(Released, (address, beneficiary)(u128, tokens)(u128, value))
X64VM_EVENT(Refunded, (address, depositor)(u128, tokens)(u128, value))

static x64vm_address_t load_address(const char *name) {
    x64vm_key_t k = x64vm_key(name);
    return x64vm_load_address(&k);
}

/* The depositor; reverts before init. */
static x64vm_address_t depositor(void) {
    x64vm_key_t k = x64vm_key("depositor");
    x64vm_require(x64vm_exists(&k), "escrow: not initialized");
    return x64vm_load_address(&k);
}

/* The depositor, who must be the caller. */
static x64vm_address_t only_depositor(void) {
    x64vm_address_t d = depositor();
    x64vm_require(x64vm_address_eq(x64vm_caller(), d), "escrow: caller is not the depositor");
    return d;
}

/* The held value, now zero. */
static x64vm_u128_t take_held(void) {
    x64vm_key_t k = x64vm_key("held");
    x64vm_u128_t value = x64vm_load_u128(&k);
    if (value > 0)
        x64vm_store_u128(&k, 0);
    return value;
}

/* Sends the held value to `to` (reverts if the escrow's balance is short). */
static x64vm_u128_t pay_held(x64vm_address_t to) {
    x64vm_u128_t value = take_held();
    if (value > 0 && !x64vm_transfer(to, value))
        x64vm_revert("escrow: value transfer failed");
    return value;
}

/* The "call reverted" / "call failed" part of a failed call's message. */
static const char *call_error(int status) {
    return status == X64VM_CALL_REVERTED ? "call reverted" : "call failed";
}

/* token.transfer(to, amount); reverts with the token's message unless it
 * succeeded and returned true. */
static void token_transfer(x64vm_address_t token, x64vm_address_t to, x64vm_u128_t amount) {
    uint8_t buf[64];
    x64vm_writer_t w;
    x64vm_writer_init(&w, buf, sizeof buf);
    x64vm_write_selector(&w, "transfer(address,u128)");
    x64vm_write_address(&w, to);
    x64vm_write_u128(&w, amount);
    int status = x64vm_call(token, w.buf, w.len, 0, 0);
    x64vm_bytes_t out = x64vm_return_data();
    if (status == X64VM_CALL_REVERTED)
        x64vm_revert_with("escrow: token transfer reverted: ", out.ptr, out.len);
    if (status != X64VM_CALL_SUCCESS)
        x64vm_revert("escrow: token transfer failed: call failed");
    if (out.len != 1 || out.ptr[0] > 1)
        x64vm_revert("escrow: token transfer failed: call output does not decode");
    x64vm_require(out.ptr[0] == 1, "escrow: token transfer returned false");
}

/* token.balance_of(who). */
static x64vm_u128_t token_balance(x64vm_address_t token, x64vm_address_t who) {
    uint8_t buf[64];
    x64vm_writer_t w;
    x64vm_writer_init(&w, buf, sizeof buf);
    x64vm_write_selector(&w, "balance_of(address)");
    x64vm_write_address(&w, who);
    int status = x64vm_call(token, w.buf, w.len, 0, 0);
    if (status != X64VM_CALL_SUCCESS)
        x64vm_revert_with("escrow: token balance_of failed: ", call_error(status),
                          x64vm_strlen(call_error(status)));
    x64vm_reader_t r = x64vm_return_reader();
    r.error = "escrow: token balance_of failed: call output does not decode";
    x64vm_u128_t balance = x64vm_read_u128(&r);
    x64vm_reader_end(&r);
    return balance;
}

/* Sets the token contract and the beneficiary; the caller becomes the
 * depositor. Only once. */
X64VM_FN(void, init, (address, token)(address, beneficiary)) {
    x64vm_key_t dep = x64vm_key("depositor");
    x64vm_require(!x64vm_exists(&dep), "escrow: already initialized");
    x64vm_require(!x64vm_address_is_zero(beneficiary), "escrow: zero beneficiary");
    x64vm_key_t k = x64vm_key("token");
    x64vm_store_address(&k, token);
    k = x64vm_key("beneficiary");
    x64vm_store_address(&k, beneficiary);
    x64vm_store_address(&dep, x64vm_caller());
}

/* Holds the value sent with the call. */
X64VM_PAYABLE(void, deposit) {
    depositor();
    x64vm_u128_t amount = x64vm_value();
    x64vm_require(amount > 0, "escrow: no value sent");
    x64vm_key_t k = x64vm_key("held");
    x64vm_store_u128(&k, x64vm_u128_add_or_revert(x64vm_load_u128(&k), amount,
                                                  "escrow: held value overflow"));
    X64VM_EMIT(Deposited, x64vm_caller(), amount);
}

/* Pays the beneficiary `amount` tokens and all the value held. */
X64VM_FN(void, release, (u128, amount)) {
    only_depositor();
    x64vm_address_t token = load_address("token");
    x64vm_address_t beneficiary = load_address("beneficiary");
    if (amount > 0)
        token_transfer(token, beneficiary, amount);
    x64vm_u128_t value = pay_held(beneficiary);
    X64VM_EMIT(Released, beneficiary, amount, value);
}

/* Returns the held value and all the escrow's tokens to the depositor. */
X64VM_FN(void, refund) {
    x64vm_address_t to = only_depositor();
    x64vm_address_t token = load_address("token");
    x64vm_u128_t tokens = token_balance(token, x64vm_self_address());
    if (tokens > 0)
        token_transfer(token, to, tokens);
    x64vm_u128_t value = pay_held(to);
    X64VM_EMIT(Refunded, to, tokens, value);
}

X64VM_MAIN(escrow,
           X64VM_FUNC(init)
           X64VM_FUNC(deposit)
           X64VM_FUNC(release)
           X64VM_FUNC(refund))
