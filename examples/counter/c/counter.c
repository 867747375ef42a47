/* A counter: increment() -> u64, get() -> u64 (view), reset().
 *
 * The same ABI and storage layout as examples/counter/cpp and examples/counter/rust:
 * the count is a u64, Borsh-encoded (8 bytes, little-endian), under the key "count".
 *
 * Build: make -C examples/counter          (the gcc line: sdk/c/contract.mk)
 * Run:   x64vm run examples/counter/c/counter.elf 'increment()'
 * Tests: crates/x64vm-runtime/tests/examples_c.rs
 */
#include <x64vm.h>

static x64vm_key_t count_key(void) { return x64vm_key("count"); }

/* Adds one and returns the new count; reverts on overflow. */
X64VM_FN(u64, increment) {
    x64vm_key_t key = count_key();
    uint64_t count = x64vm_load_u64(&key);
    x64vm_require(count != UINT64_MAX, "counter: overflow");
    x64vm_store_u64(&key, count + 1);
    return count + 1;
}

/* The current count (0 before the first increment). */
X64VM_VIEW(u64, get) {
    x64vm_key_t key = count_key();
    return x64vm_load_u64(&key);
}

/* Back to 0 (the stored value is removed). */
X64VM_FN(void, reset) {
    x64vm_key_t key = count_key();
    x64vm_erase(&key);
}

X64VM_MAIN(counter,
           X64VM_FUNC(increment)
           X64VM_FUNC(get)
           X64VM_FUNC(reset))
