/* The C SDK's test contract: one function per SDK feature, so a test on the
 * chain (crates/x64vm-runtime/tests/examples_c.rs) can check every wrapper of
 * x64vm.h against docs/abi.md. Not an example to copy: see examples/ for those. */
#include <x64vm.h>

/* Every ABI type in one event, and a second, small one. */
X64VM_EVENT(Ping, (u64, n)(bytes, data)(address, who)(bool, flag)(i128, big)(string, text))
X64VM_EVENT(Pair, (u8, a)(i16, b))

/* Bytes assembled by a function, handed back as a `bytes` result. */
static x64vm_bytes_t result_bytes(const x64vm_writer_t *w) { return x64vm_bytes(w->buf, (uint32_t)w->len); }

/* caller ‖ origin ‖ self ‖ value (16) ‖ block number (8) ‖ timestamp (8) ‖ gas left (8). */
X64VM_PAYABLE(bytes, context) {
    static uint8_t buf[32 * 3 + 16 + 8 * 3];
    x64vm_writer_t w;
    x64vm_writer_init(&w, buf, sizeof buf);
    x64vm_write_address(&w, x64vm_caller());
    x64vm_write_address(&w, x64vm_origin());
    x64vm_write_address(&w, x64vm_self_address());
    x64vm_write_u128(&w, x64vm_value());
    x64vm_write_u64(&w, x64vm_block_number());
    x64vm_write_u64(&w, x64vm_timestamp());
    x64vm_write_u64(&w, x64vm_gas_left());
    return result_bytes(&w);
}

/* sha256(data) ‖ keccak256(data) (service) ‖ keccak256(data) (in software). */
X64VM_VIEW(bytes, hashes, (bytes, data)) {
    x64vm_writer_t w;
    x64vm_writer_init(&w, NULL, 0);
    x64vm_hash_t h = x64vm_sha256(data.ptr, data.len);
    x64vm_write_raw(&w, h.bytes, 32);
    h = x64vm_keccak256(data.ptr, data.len);
    x64vm_write_raw(&w, h.bytes, 32);
    h = x64vm_keccak256_soft(data.ptr, data.len);
    x64vm_write_raw(&w, h.bytes, 32);
    return result_bytes(&w);
}

/* The selector of `signature` as the dispatcher computes it (little-endian u32). */
X64VM_VIEW(u32, selector_of, (string, signature)) {
    return x64vm_selector(signature.ptr, signature.len);
}

/* The recovered public key, or nothing for an invalid signature. */
X64VM_VIEW(bytes, recover, (bytes, hash)(bytes, sig)) {
    x64vm_require(hash.len == 32, "hash: 32 bytes");
    x64vm_require(sig.len == 65, "sig: 65 bytes");
    x64vm_hash_t h;
    for (int i = 0; i < 32; i++)
        h.bytes[i] = hash.ptr[i];
    uint8_t *key = (uint8_t *)x64vm_xmalloc(64);
    if (!x64vm_secp256k1_recover(&h, sig.ptr, key))
        return x64vm_bytes(key, 0);
    return x64vm_bytes(key, 64);
}

/* ed25519 verification. */
X64VM_VIEW(bool, verify, (bytes, key)(bytes, sig)(bytes, msg)) {
    x64vm_require(key.len == 32, "key: 32 bytes");
    x64vm_require(sig.len == 64, "sig: 64 bytes");
    return x64vm_ed25519_verify(key.ptr, sig.ptr, msg.ptr, msg.len);
}

/* The hash of block `n`, or nothing. */
X64VM_VIEW(bytes, hash_of_block, (u64, n)) {
    x64vm_hash_t *h = (x64vm_hash_t *)x64vm_xmalloc(sizeof *h);
    return x64vm_bytes(h->bytes, x64vm_block_hash(n, h) ? 32 : 0);
}

X64VM_VIEW(u128, balance_of, (address, who)) { return x64vm_balance(who); }

/* Sends `amount` to `to`; whether the contract had enough. */
X64VM_FN(bool, pay, (address, to)(u128, amount)) { return x64vm_transfer(to, amount); }

/* Calls `target` with `input`, `value` and `gas` and keeps going whatever the
 * callee does: stores its return data under "last", bumps "after", returns the
 * status. */
X64VM_FN(u8, forward, (address, target)(bytes, input)(u128, value)(u64, gas)) {
    int status = x64vm_call(target, input.ptr, input.len, value, gas);
    x64vm_key_t k = x64vm_key("last");
    x64vm_store_bytes(&k, x64vm_return_data());
    k = x64vm_key("after");
    x64vm_store_u64(&k, x64vm_load_u64(&k) + 1);
    return (uint8_t)status;
}

X64VM_VIEW(bytes, last) {
    x64vm_key_t k = x64vm_key("last");
    return x64vm_load_bytes(&k);
}

X64VM_VIEW(u64, after) {
    x64vm_key_t k = x64vm_key("after");
    return x64vm_load_u64(&k);
}

/* A typed nested call: counter.get(). */
X64VM_VIEW(u64, counter_get, (address, counter)) {
    uint8_t buf[4];
    x64vm_writer_t w;
    x64vm_writer_init(&w, buf, sizeof buf);
    x64vm_write_selector(&w, "get()");
    x64vm_require(x64vm_call(counter, w.buf, w.len, 0, 0) == X64VM_CALL_SUCCESS,
                  "probe: counter call failed");
    x64vm_reader_t r = x64vm_return_reader();
    uint64_t v = x64vm_read_u64(&r);
    x64vm_reader_end(&r);
    return v;
}

/* Raw storage. */
X64VM_FN(void, put, (bytes, key)(bytes, value)) {
    x64vm_storage_write(key.ptr, key.len, value.ptr, value.len);
}

/* Raw read in two steps: into an 8-byte buffer, then the whole value. (A bytes
 * result must outlive the function: heap, static or input memory, never the
 * function's own stack.) */
X64VM_VIEW(bytes, fetch, (bytes, key)) {
    uint8_t *small = (uint8_t *)x64vm_xmalloc(8);
    uint64_t n = x64vm_storage_read(key.ptr, key.len, small, 8);
    x64vm_require(n != X64VM_ABSENT, "absent");
    if (n <= 8)
        return x64vm_bytes(small, (uint32_t)n);
    uint8_t *all = (uint8_t *)x64vm_xmalloc(n);
    x64vm_require(x64vm_storage_read(key.ptr, key.len, all, n) == n, "length changed");
    return x64vm_bytes(all, (uint32_t)n);
}

X64VM_FN(bool, erase, (bytes, key)) { return x64vm_storage_remove(key.ptr, key.len); }

/* A typed map: stores `text` under "n" ‖ 0x00 ‖ n; returns the previous text
 * or "". An empty text removes the entry. */
X64VM_FN(string, name_number, (u64, n)(string, text)) {
    x64vm_key_t k = x64vm_key("n");
    x64vm_key_add_u64(&k, n);
    x64vm_string_t old = x64vm_load_string(&k);
    if (text.len == 0)
        x64vm_erase(&k);
    else
        x64vm_store_string(&k, text);
    return old;
}

/* Typed values of every fixed-size type: stores them and returns what was
 * stored before, Borsh-encoded in the same order. */
X64VM_FN(bytes, swap_all, (u8, a)(u16, b)(u32, c)(u64, d)(u128, e)(i8, f)(i16, g)(i32, h)
                              (i64, i)(i128, j)(bool, k)(address, l)) {
    x64vm_writer_t w;
    x64vm_writer_init(&w, NULL, 0);
#define SWAP(T, v)                                                                       \
    do {                                                                                 \
        x64vm_key_t key = x64vm_key(#T);                                                 \
        x64vm_write_##T(&w, x64vm_load_##T(&key));                                       \
        x64vm_store_##T(&key, v);                                                        \
    } while (0)
    SWAP(u8, a);
    SWAP(u16, b);
    SWAP(u32, c);
    SWAP(u64, d);
    SWAP(u128, e);
    SWAP(i8, f);
    SWAP(i16, g);
    SWAP(i32, h);
    SWAP(i64, i);
    SWAP(i128, j);
    SWAP(bool, k);
    SWAP(address, l);
#undef SWAP
    return result_bytes(&w);
}

/* Every integer argument type, and bool. */
X64VM_VIEW(i128, sum, (u8, a)(u16, b)(u32, c)(u64, d)(i8, e)(i16, f)(i32, g)(i64, h)(i128, i)
                          (bool, negate)) {
    x64vm_i128_t s = (x64vm_i128_t)a + b + c + d + e + f + g + h + i;
    return negate ? -s : s;
}

X64VM_VIEW(u128, max_u128, (u128, x)) { return x > X64VM_U128_MAX - 1 ? X64VM_U128_MAX : x; }

/* The decimal digits of x, through x64vm_u128_to_dec. */
X64VM_VIEW(string, decimal, (u128, x)) {
    char *buf = (char *)x64vm_xmalloc(40);
    int n = x64vm_u128_to_dec(x, buf);
    x64vm_string_t s = {buf, (uint32_t)n};
    return s;
}

/* s ‖ ":" ‖ the length of b in decimal. */
X64VM_VIEW(string, echo, (string, s)(bytes, b)) {
    char digits[40];
    int n = x64vm_u128_to_dec(b.len, digits);
    x64vm_writer_t w;
    x64vm_writer_init(&w, NULL, 0);
    x64vm_write_raw(&w, s.ptr, s.len);
    x64vm_write_raw(&w, ":", 1);
    x64vm_write_raw(&w, digits, (uint64_t)n);
    x64vm_string_t out = {(const char *)w.buf, (uint32_t)w.len};
    return out;
}

X64VM_VIEW(address, zero_address) { return x64vm_address_zero(); }

/* Emits Ping with every argument, then Pair(7, -2). */
X64VM_FN(void, ping, (u64, n)(bytes, data)(address, who)(bool, flag)(i128, big)(string, text)) {
    X64VM_EMIT(Ping, n, data, who, flag, big, text);
    X64VM_EMIT(Pair, 7, -2);
}

/* Debug output: "say: <s> (<n> bytes)". */
X64VM_FN(void, say, (string, s)) {
    char digits[40];
    int n = x64vm_u128_to_dec(s.len, digits);
    x64vm_debug_str("say: ");
    x64vm_debug(s.ptr, s.len);
    x64vm_debug_str(" (");
    x64vm_debug(digits, (uint64_t)n);
    x64vm_debug_str(" bytes)");
}

/* The heap: n u64s allocated, filled with 0..n-1 and summed, plus a second,
 * 64-byte aligned block of 8 holding 0..7 after the first is freed. */
X64VM_VIEW(u64, alloc_sum, (u64, n)) {
    uint64_t *v = (uint64_t *)x64vm_xmalloc(n * 8);
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        v[i] = i;
    for (uint64_t i = 0; i < n; i++)
        s += v[i];
    x64vm_free(v);
    uint64_t *a = (uint64_t *)x64vm_alloc(64, 64);
    x64vm_require(a != NULL && ((uintptr_t)a & 63) == 0, "alloc: alignment");
    for (uint64_t i = 0; i < 8; i++)
        a[i] = i;
    for (uint64_t i = 0; i < 8; i++)
        s += a[i];
    x64vm_free(a);
    x64vm_require(x64vm_malloc((uint64_t)1 << 40) == NULL, "alloc: a huge block must fail");
    return s;
}

/* Failures: 0 require, 1 X64VM_ASSERT, 2 x64vm_revert_with, 3 a trap (ud2),
 * 4 x64vm_xmalloc running out, 5 revert data that is not text. */
X64VM_VIEW(void, fail, (u8, how)) {
    switch (how) {
    case 0:
        x64vm_require(false, "required");
        break;
    case 1:
        X64VM_ASSERT(how == 7);
        break;
    case 2:
        x64vm_revert_with("prefix: ", "detail", 6);
    case 3:
        __builtin_trap();
    case 4:
        x64vm_xmalloc((uint64_t)1 << 40);
        break;
    case 5: {
        static const uint8_t data[3] = {0xff, 0x00, 0x01};
        x64vm_revert_data(data, 3);
    }
    }
}

X64VM_MAIN(probe_c,
           X64VM_FUNC(context)
           X64VM_FUNC(hashes)
           X64VM_FUNC(selector_of)
           X64VM_FUNC(recover)
           X64VM_FUNC(verify)
           X64VM_FUNC(hash_of_block)
           X64VM_FUNC(balance_of)
           X64VM_FUNC(pay)
           X64VM_FUNC(forward)
           X64VM_FUNC(last)
           X64VM_FUNC(after)
           X64VM_FUNC(counter_get)
           X64VM_FUNC(put)
           X64VM_FUNC(fetch)
           X64VM_FUNC(erase)
           X64VM_FUNC(name_number)
           X64VM_FUNC(swap_all)
           X64VM_FUNC(sum)
           X64VM_FUNC(max_u128)
           X64VM_FUNC(decimal)
           X64VM_FUNC(echo)
           X64VM_FUNC(zero_address)
           X64VM_FUNC(ping)
           X64VM_FUNC(say)
           X64VM_FUNC(alloc_sum)
           X64VM_FUNC(fail))
