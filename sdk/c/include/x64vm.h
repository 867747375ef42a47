/*
 * x64vm.h — the C and C++ SDK for x64vm contracts. Header-only; C11 and C++17.
 *
 * A contract is an ordinary static x86-64 ELF executable. Its entry point reads a
 * call input (a 4-byte selector and Borsh-encoded arguments), runs the named
 * function and sets the output. This header supplies everything in between:
 *
 *   - typed wrappers for every host service of docs/abi.md (`int imm8`, arguments
 *     in RDI, RSI, RDX, RCX, R8, R9, result in RAX): input/output/revert, storage,
 *     events, chain context, value transfer, nested calls, sha256/keccak256/
 *     secp256k1/ed25519, heap alloc/free, gas, debug output;
 *   - addresses (`x64vm_address_t`, 32 bytes), u128/i128 helpers;
 *   - Borsh readers and writers (u8..u128, i8..i128, bool, bytes, string, address);
 *   - storage keys and typed storage values;
 *   - X64VM_FN / X64VM_VIEW / X64VM_PAYABLE (exported functions), X64VM_EVENT and
 *     X64VM_EMIT (events), X64VM_MAIN with X64VM_FUNC (the dispatcher and ELF
 *     entry), which also embed the ABI description in the `.x64vm.abi` section;
 *   - revert/require helpers (x64vm_revert, x64vm_require, X64VM_ASSERT), the heap
 *     (x64vm_alloc, x64vm_malloc, x64vm_free);
 *   - in C++: compile-time keccak256 (selectors and event topics are constants),
 *     `x64vm::Value<T>`, `x64vm::Map<K, V>`, `x64vm::Writer`, `x64vm::Reader`,
 *     `x64vm::Call`, `x64vm::checked_add`/`_sub`/`_mul`.
 *
 * Selectors and event topics are keccak256 of the signature. C++ computes them
 * at compile time (constexpr). C has no way to, so the C dispatcher hashes each
 * row's signature with the keccak256 host call while it looks for the selector
 * (about 100 gas per row examined: list the busiest functions first), and an
 * event costs one more keccak256 call for its topic.
 *
 * A whole contract:
 *
 *     #include <x64vm.h>
 *
 *     X64VM_EVENT(Incremented, (address, by)(u64, value))
 *
 *     X64VM_FN(u64, increment, (u64, step)) {
 *         x64vm_key_t k = x64vm_key("count");
 *         uint64_t v = x64vm_load_u64(&k);
 *         x64vm_require(v + step >= v, "counter overflow");
 *         x64vm_store_u64(&k, v + step);
 *         X64VM_EMIT(Incremented, x64vm_caller(), v + step);
 *         return v + step;
 *     }
 *
 *     X64VM_VIEW(u64, get) {
 *         x64vm_key_t k = x64vm_key("count");
 *         return x64vm_load_u64(&k);
 *     }
 *
 *     X64VM_MAIN(counter, X64VM_FUNC(increment) X64VM_FUNC(get))
 *
 * Building (sdk/c/contract.mk has these as make variables and pattern rules; see
 * also sdk/c/README.md):
 *
 *   C    gcc -std=c11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
 *            -fno-stack-protector -fno-asynchronous-unwind-tables -Wall \
 *            -I sdk/c/include -o contract.elf contract.c -lgcc
 *   C++  g++ -std=c++17 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
 *            -fno-stack-protector -fno-asynchronous-unwind-tables -Wall \
 *            -fno-exceptions -fno-rtti -fno-threadsafe-statics \
 *            -I sdk/c/include -o contract.elf contract.cpp -lstdc++ -lgcc
 *
 * (clang and clang++ take the same flags; -O0 to -O3 and -Os all work.) Run it:
 *   x64vm run contract.elf 'increment(1)'      (deploys on a fresh test chain)
 *
 * `-lgcc` (after the sources) supplies 128-bit division and friends; `-lstdc++`
 * the few compiled parts of the standard containers: with the error paths the
 * SDK defines (each reverts), std::vector, std::map, std::unordered_map,
 * std::function, smart pointers and <algorithm> work in a freestanding C++
 * contract, and std::string does with -std=c++20 (gcc 12). Everything
 * else is the compilers' defaults: the VM implements SSE (through SSE4.2) and x87,
 * so no `-mgeneral-regs-only` is needed. Position-independent executables are not
 * supported for contracts (nothing would apply their relocations): keep
 * `-fno-pie -no-pie`.
 *
 * Linux profile (`-DX64VM_LINUX`): a contract may instead be linked as a normal
 * static program (`g++ -O2 -static ... -DX64VM_LINUX`, no -nostdlib, with the C
 * library and libstdc++), so that std::string, std::vector, std::map, exceptions
 * and so on work. X64VM_MAIN then defines `main()` (the C library's own `_start`
 * runs first), reads the input with the input_len/input_read services, and the
 * heap helpers use malloc/free. Such a contract must be run by a host that serves
 * both `int` and `syscall` (the deterministic Linux subset); see sdk/c/README.md.
 *
 * Configuration macros (define them before including the header, or with -D):
 *   X64VM_LINUX        the Linux profile, as above.
 *   X64VM_SOFT_KECCAK  C only: compute selectors and event topics in software
 *                      instead of with the keccak256 service (about 30000 gas
 *                      each), so a contract can run under `x64vm run --input`
 *                      without a chain.
 *
 * Names: everything public starts with `x64vm_` / `X64VM_` (or lives in namespace
 * `x64vm`); names starting with `x64vm__` / `X64VM__` are internal.
 */
#ifndef X64VM_H
#define X64VM_H

#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#ifdef X64VM_LINUX
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#endif

#if !defined(__x86_64__)
#error "x64vm contracts are x86-64 programs: build them with an x86-64 gcc or clang"
#endif

/* ------------------------------------------------------------------------------ */
/* Language glue                                                                  */
/* ------------------------------------------------------------------------------ */

#ifdef __cplusplus
#define X64VM__EXTERN_C extern "C"
/* A declaration of something defined elsewhere (with C linkage in C++). */
#define X64VM__EXTERN_DECL extern "C"
/* Constant data: a compile-time constant in C++, plain const data in C. */
#define X64VM__CONST constexpr
/* A function that C++ may evaluate at compile time. */
#define X64VM__CONSTEXPR constexpr
#else
#define X64VM__EXTERN_C
#define X64VM__EXTERN_DECL extern
#define X64VM__CONST const
#define X64VM__CONSTEXPR
#endif

#define X64VM__NORETURN __attribute__((noreturn))
/* Token pasting and stringification after macro expansion of the operands. */
#define X64VM__CAT(a, b) X64VM__CAT_(a, b)
#define X64VM__CAT_(a, b) a##b
#define X64VM__STR(x) X64VM__STR_(x)
#define X64VM__STR_(x) #x
/* Pointer to the 64-bit register value the host calls take. */
#define X64VM__P(p) ((uint64_t)(uintptr_t)(p))

/* ------------------------------------------------------------------------------ */
/* Host-call numbers (docs/abi.md; checked against the x64vm-abi crate by tests)  */
/* ------------------------------------------------------------------------------ */

/* Core services, served by the VM itself. */
#define X64VM_SVC_INPUT_LEN 0x20
#define X64VM_SVC_INPUT_READ 0x21
#define X64VM_SVC_OUTPUT 0x22
#define X64VM_SVC_REVERT 0x23
#define X64VM_SVC_DEBUG 0x24
#define X64VM_SVC_ALLOC 0x25
#define X64VM_SVC_FREE 0x26
#define X64VM_SVC_GAS_LEFT 0x27
#define X64VM_SVC_FINISH 0x28
/* Chain services, served by the contract host (x64vm-runtime). */
#define X64VM_SVC_STORAGE_READ 0x30
#define X64VM_SVC_STORAGE_WRITE 0x31
#define X64VM_SVC_STORAGE_REMOVE 0x32
#define X64VM_SVC_EMIT_EVENT 0x38
#define X64VM_SVC_CALLER 0x40
#define X64VM_SVC_ORIGIN 0x41
#define X64VM_SVC_SELF_ADDRESS 0x42
#define X64VM_SVC_VALUE 0x43
#define X64VM_SVC_BLOCK_NUMBER 0x44
#define X64VM_SVC_TIMESTAMP 0x45
#define X64VM_SVC_BLOCK_HASH 0x46
#define X64VM_SVC_BALANCE 0x47
#define X64VM_SVC_TRANSFER 0x50
#define X64VM_SVC_CALL 0x51
#define X64VM_SVC_RETURN_DATA_LEN 0x52
#define X64VM_SVC_RETURN_DATA_READ 0x53
#define X64VM_SVC_SHA256 0x60
#define X64VM_SVC_KECCAK256 0x61
#define X64VM_SVC_SECP256K1_RECOVER 0x62
#define X64VM_SVC_ED25519_VERIFY 0x63

/* Limits of docs/abi.md. */
#define X64VM_MAX_KEY 256           /* bytes in a storage key */
#define X64VM_MAX_VALUE 65536       /* bytes in a storage value */
#define X64VM_MAX_EVENT_DATA 65536  /* bytes of data in one event */
#define X64VM_ABSENT UINT64_MAX     /* storage_read's result for a missing key */

/* Status of x64vm_call (the `call` service). */
#define X64VM_CALL_SUCCESS 0
#define X64VM_CALL_REVERTED 1
#define X64VM_CALL_FAILED 2

/* ------------------------------------------------------------------------------ */
/* Raw host calls: x64vm_hc_<service>(args...) -> RAX, one per service            */
/* ------------------------------------------------------------------------------ */
/*
 * Each wrapper is exactly the register-level service: 64-bit arguments in RDI,
 * RSI, RDX, RCX, R8 (pointers cast to integers), the result in RAX. The VM
 * preserves every other register; the asm still declares "memory" (services read
 * and write guest memory) and "cc". The typed API below is built on these.
 *
 * X64VM__HCn(name, number) defines `uint64_t x64vm_hc_<name>(n arguments)`.
 */
#define X64VM__INT(num) "int $" X64VM__STR(num)
#define X64VM__HC0(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(void) {                                   \
        uint64_t r_;                                                                 \
        __asm__ volatile(X64VM__INT(num) : "=a"(r_) : : "memory", "cc");             \
        return r_;                                                                   \
    }
#define X64VM__HC1(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(uint64_t a_) {                            \
        uint64_t r_;                                                                 \
        __asm__ volatile(X64VM__INT(num) : "=a"(r_) : "D"(a_) : "memory", "cc");     \
        return r_;                                                                   \
    }
#define X64VM__HC2(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(uint64_t a_, uint64_t b_) {               \
        uint64_t r_;                                                                 \
        __asm__ volatile(X64VM__INT(num) : "=a"(r_) : "D"(a_), "S"(b_) : "memory", "cc"); \
        return r_;                                                                   \
    }
#define X64VM__HC3(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(uint64_t a_, uint64_t b_, uint64_t c_) {  \
        uint64_t r_;                                                                 \
        __asm__ volatile(X64VM__INT(num)                                             \
                         : "=a"(r_)                                                  \
                         : "D"(a_), "S"(b_), "d"(c_)                                 \
                         : "memory", "cc");                                          \
        return r_;                                                                   \
    }
#define X64VM__HC4(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(uint64_t a_, uint64_t b_, uint64_t c_,    \
                                           uint64_t d_) {                            \
        uint64_t r_;                                                                 \
        __asm__ volatile(X64VM__INT(num)                                             \
                         : "=a"(r_)                                                  \
                         : "D"(a_), "S"(b_), "d"(c_), "c"(d_)                        \
                         : "memory", "cc");                                          \
        return r_;                                                                   \
    }
/* The fifth argument goes to R8, which has no constraint letter: move it there. */
#define X64VM__HC5(name, num)                                                        \
    static inline uint64_t x64vm_hc_##name(uint64_t a_, uint64_t b_, uint64_t c_,    \
                                           uint64_t d_, uint64_t e_) {               \
        uint64_t r_;                                                                 \
        __asm__ volatile("mov %5, %%r8\n\t" X64VM__INT(num)                          \
                         : "=a"(r_)                                                  \
                         : "D"(a_), "S"(b_), "d"(c_), "c"(d_), "r"(e_)               \
                         : "r8", "memory", "cc");                                    \
        return r_;                                                                   \
    }

X64VM__HC0(input_len, X64VM_SVC_INPUT_LEN)
X64VM__HC3(input_read, X64VM_SVC_INPUT_READ)
X64VM__HC2(output, X64VM_SVC_OUTPUT)
X64VM__HC2(revert, X64VM_SVC_REVERT)
X64VM__HC2(debug, X64VM_SVC_DEBUG)
X64VM__HC2(alloc, X64VM_SVC_ALLOC)
X64VM__HC1(free, X64VM_SVC_FREE)
X64VM__HC0(gas_left, X64VM_SVC_GAS_LEFT)
X64VM__HC2(finish, X64VM_SVC_FINISH)
X64VM__HC4(storage_read, X64VM_SVC_STORAGE_READ)
X64VM__HC4(storage_write, X64VM_SVC_STORAGE_WRITE)
X64VM__HC2(storage_remove, X64VM_SVC_STORAGE_REMOVE)
X64VM__HC3(emit_event, X64VM_SVC_EMIT_EVENT)
X64VM__HC1(caller, X64VM_SVC_CALLER)
X64VM__HC1(origin, X64VM_SVC_ORIGIN)
X64VM__HC1(self_address, X64VM_SVC_SELF_ADDRESS)
X64VM__HC1(value, X64VM_SVC_VALUE)
X64VM__HC0(block_number, X64VM_SVC_BLOCK_NUMBER)
X64VM__HC0(timestamp, X64VM_SVC_TIMESTAMP)
X64VM__HC2(block_hash, X64VM_SVC_BLOCK_HASH)
X64VM__HC2(balance, X64VM_SVC_BALANCE)
X64VM__HC2(transfer, X64VM_SVC_TRANSFER)
X64VM__HC5(call, X64VM_SVC_CALL)
X64VM__HC0(return_data_len, X64VM_SVC_RETURN_DATA_LEN)
X64VM__HC3(return_data_read, X64VM_SVC_RETURN_DATA_READ)
X64VM__HC3(sha256, X64VM_SVC_SHA256)
X64VM__HC3(keccak256, X64VM_SVC_KECCAK256)
X64VM__HC3(secp256k1_recover, X64VM_SVC_SECP256K1_RECOVER)
X64VM__HC4(ed25519_verify, X64VM_SVC_ED25519_VERIFY)

/* ------------------------------------------------------------------------------ */
/* Types                                                                          */
/* ------------------------------------------------------------------------------ */

/* u128 and i128: amounts and values are u128 (16 bytes, little-endian in memory). */
__extension__ typedef unsigned __int128 x64vm_u128_t; /* no -Wpedantic warning */
__extension__ typedef __int128 x64vm_i128_t;
/* A 32-byte account or contract address. */
typedef struct {
    uint8_t bytes[32];
} x64vm_address_t;
/* A 32-byte hash (sha256, keccak256, block hash, event topic). */
typedef struct {
    uint8_t bytes[32];
} x64vm_hash_t;
/* Borsh `bytes`: a view (pointer and length); decoded arguments point into the input. */
typedef struct {
    const uint8_t *ptr;
    uint32_t len;
} x64vm_bytes_t;
/* Borsh `string`: UTF-8 bytes (not NUL-terminated); decoded arguments point into the input. */
typedef struct {
    const char *ptr;
    uint32_t len;
} x64vm_string_t;

/* The largest u128. */
#define X64VM_U128_MAX (~(x64vm_u128_t)0)
/* A u128 from its high and low 64-bit halves. */
#define X64VM_U128(hi, lo) (((x64vm_u128_t)(uint64_t)(hi) << 64) | (uint64_t)(lo))

/*
 * ABI type names -> C types. The macros paste these names (`u64`, `address`, ...)
 * onto prefixes, so every ABI type has `x64vm_abi_<type>` (its C type),
 * `x64vm_read_<type>`, `x64vm_write_<type>` and the tables further down. `_Bool`
 * is listed too because <stdbool.h> defines `bool` as a macro for `_Bool` in C.
 */
typedef uint8_t x64vm_abi_u8;
typedef uint16_t x64vm_abi_u16;
typedef uint32_t x64vm_abi_u32;
typedef uint64_t x64vm_abi_u64;
typedef x64vm_u128_t x64vm_abi_u128;
typedef int8_t x64vm_abi_i8;
typedef int16_t x64vm_abi_i16;
typedef int32_t x64vm_abi_i32;
typedef int64_t x64vm_abi_i64;
typedef x64vm_i128_t x64vm_abi_i128;
typedef bool x64vm_abi_bool;
typedef bool x64vm_abi__Bool;
typedef x64vm_bytes_t x64vm_abi_bytes;
typedef x64vm_string_t x64vm_abi_string;
typedef x64vm_address_t x64vm_abi_address;
typedef void x64vm_abi_void;

/* Canonical ABI names (for signatures and the ABI text). */
#define X64VM__NAME_u8 "u8"
#define X64VM__NAME_u16 "u16"
#define X64VM__NAME_u32 "u32"
#define X64VM__NAME_u64 "u64"
#define X64VM__NAME_u128 "u128"
#define X64VM__NAME_i8 "i8"
#define X64VM__NAME_i16 "i16"
#define X64VM__NAME_i32 "i32"
#define X64VM__NAME_i64 "i64"
#define X64VM__NAME_i128 "i128"
#define X64VM__NAME_bool "bool"
#define X64VM__NAME__Bool "bool"
#define X64VM__NAME_bytes "bytes"
#define X64VM__NAME_string "string"
#define X64VM__NAME_address "address"

/* ------------------------------------------------------------------------------ */
/* Core services, typed                                                           */
/* ------------------------------------------------------------------------------ */

/* Length of the call input. */
static inline uint64_t x64vm_input_len(void) { return x64vm_hc_input_len(); }
/* Copies up to `len` input bytes from `offset` to `dst`; returns the number copied. */
static inline uint64_t x64vm_input_read(void *dst, uint64_t offset, uint64_t len) {
    return x64vm_hc_input_read(X64VM__P(dst), offset, len);
}
/* Sets (replaces) the call output; the run goes on. */
static inline void x64vm_output(const void *ptr, uint64_t len) {
    x64vm_hc_output(X64VM__P(ptr), len);
}
/* Sets the output and ends the run successfully at once. */
X64VM__NORETURN static inline void x64vm_finish(const void *ptr, uint64_t len) {
    x64vm_hc_finish(X64VM__P(ptr), len);
    __builtin_unreachable();
}
/* Ends the run as reverted with `data` as revert data: every effect is discarded. */
X64VM__NORETURN static inline void x64vm_revert_data(const void *data, uint64_t len) {
    x64vm_hc_revert(X64VM__P(data), len);
    __builtin_unreachable();
}
/* Length of a NUL-terminated string (gcc would turn a loop into a strlen call). */
static inline uint64_t x64vm_strlen(const char *s) {
    uint64_t n = 0;
    while (s[n] != 0) {
        __asm__("" : "+r"(n)); /* keep this a loop, not a call to strlen */
        n++;
    }
    return n;
}
/* Reverts with a UTF-8 message (the revert data of docs/abi.md). */
X64VM__NORETURN static inline void x64vm_revert(const char *message) {
    x64vm_revert_data(message, x64vm_strlen(message));
}
/* Reverts with `message` unless `condition` holds. */
static inline void x64vm_require(bool condition, const char *message) {
    if (!condition)
        x64vm_revert(message);
}
/* X64VM_ASSERT(cond): reverts with "assertion failed: cond (file:line)" unless cond. */
#define X64VM_ASSERT(cond)                                                           \
    x64vm_require((cond), "assertion failed: " #cond " (" __FILE__                   \
                          ":" X64VM__STR(__LINE__) ")")
/* Appends bytes to the debug output (shown by `x64vm run` and in receipts). */
static inline void x64vm_debug(const void *ptr, uint64_t len) {
    x64vm_hc_debug(X64VM__P(ptr), len);
}
/* Appends a NUL-terminated string to the debug output. */
static inline void x64vm_debug_str(const char *s) { x64vm_debug(s, x64vm_strlen(s)); }
/* Gas remaining. */
static inline uint64_t x64vm_gas_left(void) { return x64vm_hc_gas_left(); }

/* --- heap ----------------------------------------------------------------------- */
/*
 * The VM's deterministic allocator (alloc/free services); with X64VM_LINUX the C
 * library's malloc/free (the VM heap region is the program's brk area there).
 */

/* `size` bytes aligned to `align` (a power of two; 0 means 16), or NULL when the
 * heap is exhausted. */
static inline void *x64vm_alloc(uint64_t size, uint64_t align) {
#ifdef X64VM_LINUX
    if (align <= 16)
        return malloc(size ? size : 1);
    return aligned_alloc(align, (size + align - 1) / align * align);
#else
    return (void *)(uintptr_t)x64vm_hc_alloc(size, align);
#endif
}
/* Releases memory from x64vm_alloc/x64vm_malloc; NULL is ignored. */
static inline void x64vm_free(void *ptr) {
    if (ptr == NULL)
        return;
#ifdef X64VM_LINUX
    free(ptr);
#else
    x64vm_hc_free(X64VM__P(ptr));
#endif
}
/* Like malloc: 16-byte aligned, NULL when exhausted. */
static inline void *x64vm_malloc(uint64_t size) { return x64vm_alloc(size, 16); }
/* Like x64vm_malloc, but reverts ("x64vm: out of memory") instead of returning NULL. */
static inline void *x64vm_xmalloc(uint64_t size) {
    void *p = x64vm_alloc(size, 16);
    if (p == NULL)
        x64vm_revert("x64vm: out of memory");
    return p;
}
/* Reverts with `prefix` followed by `len` bytes of `detail` (e.g. a callee's
 * revert message from x64vm_return_data). */
X64VM__NORETURN static inline void x64vm_revert_with(const char *prefix, const void *detail,
                                                     uint64_t len) {
    uint64_t n = x64vm_strlen(prefix);
    uint8_t *buf = (uint8_t *)x64vm_malloc(n + len + 1);
    if (buf == NULL)
        x64vm_revert(prefix);
    for (uint64_t i = 0; i < n; i++)
        buf[i] = (uint8_t)prefix[i];
    for (uint64_t i = 0; i < len; i++)
        buf[n + i] = ((const uint8_t *)detail)[i];
    x64vm_revert_data(buf, n + len);
}

/* ------------------------------------------------------------------------------ */
/* Keccak-256 (FIPS 202 permutation, original Keccak padding), in software        */
/* ------------------------------------------------------------------------------ */
/*
 * Written so that C++ can run it at compile time (selectors and event topics are
 * then constants). At run time contracts use the keccak256 host service, which is
 * far cheaper in gas; x64vm_keccak256_soft is there for code that runs without a
 * chain (`x64vm run`, see X64VM_SOFT_KECCAK) and to check the service.
 */

/* Round constants (iota). */
static X64VM__CONST uint64_t x64vm__keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
/* Rotation of lane x + 5y (rho). */
static X64VM__CONST uint8_t x64vm__keccak_rho[25] = {
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
};
/* Destination of lane x + 5y (pi: (x, y) -> (y, 2x + 3y)). */
static X64VM__CONST uint8_t x64vm__keccak_pi[25] = {
    0, 10, 20, 5, 15, 16, 1, 11, 21, 6, 7, 17, 2, 12, 22, 23, 8, 18, 3, 13, 14, 24, 9, 19, 4,
};

static X64VM__CONSTEXPR inline uint64_t x64vm__rotl64(uint64_t v, unsigned n) {
    return n == 0 ? v : (v << n) | (v >> (64 - n));
}

/* Keccak-f[1600] on 25 lanes (lane x + 5y). */
static X64VM__CONSTEXPR inline void x64vm__keccak_f(uint64_t a[25]) {
    for (int round = 0; round < 24; round++) {
        uint64_t c[5] = {0, 0, 0, 0, 0};
        uint64_t b[25] = {0};
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ x64vm__rotl64(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        for (int i = 0; i < 25; i++)
            b[x64vm__keccak_pi[i]] = x64vm__rotl64(a[i], x64vm__keccak_rho[i]);
        for (int y = 0; y < 25; y += 5)
            for (int x = 0; x < 5; x++)
                a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
        a[0] ^= x64vm__keccak_rc[round];
    }
}

/* keccak256 of `len` bytes at `data` into `out` (rate 136 bytes, padding 0x01 .. 0x80). */
static X64VM__CONSTEXPR inline void x64vm__keccak256(const char *data, uint64_t len,
                                                     uint8_t *out) {
    uint64_t a[25] = {0};
    uint64_t pos = 0;
    for (;;) {
        uint64_t take = len - pos < 136 ? len - pos : 136;
        for (uint64_t i = 0; i < take; i++)
            a[i / 8] ^= (uint64_t)(uint8_t)data[pos + i] << (8 * (i % 8));
        pos += take;
        if (take < 136) {
            a[take / 8] ^= (uint64_t)0x01 << (8 * (take % 8));
            a[135 / 8] ^= (uint64_t)0x80 << (8 * (135 % 8));
            x64vm__keccak_f(a);
            break;
        }
        x64vm__keccak_f(a);
    }
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

/* keccak256 computed in the contract itself (no host call; about 6000 instructions
 * per 136-byte block). */
static inline x64vm_hash_t x64vm_keccak256_soft(const void *data, uint64_t len) {
    x64vm_hash_t h;
    x64vm__keccak256((const char *)data, len, h.bytes);
    return h;
}

/* ------------------------------------------------------------------------------ */
/* Cryptography services                                                          */
/* ------------------------------------------------------------------------------ */

/* keccak256 through the host (cheap: the boundary cost plus 1 gas per 32 bytes). */
static inline x64vm_hash_t x64vm_keccak256(const void *data, uint64_t len) {
    x64vm_hash_t h;
    x64vm_hc_keccak256(X64VM__P(data), len, X64VM__P(h.bytes));
    return h;
}
/* sha256 through the host. */
static inline x64vm_hash_t x64vm_sha256(const void *data, uint64_t len) {
    x64vm_hash_t h;
    x64vm_hc_sha256(X64VM__P(data), len, X64VM__P(h.bytes));
    return h;
}
/* Recovers the uncompressed public key (x ‖ y, 64 bytes) that signed `hash`;
 * `sig` is r ‖ s ‖ v (65 bytes, v in {0, 1, 27, 28}). False for an invalid signature. */
static inline bool x64vm_secp256k1_recover(const x64vm_hash_t *hash, const uint8_t sig[65],
                                           uint8_t pubkey[64]) {
    return x64vm_hc_secp256k1_recover(X64VM__P(hash->bytes), X64VM__P(sig), X64VM__P(pubkey)) ==
           0;
}
/* Verifies an ed25519 signature (64 bytes) of `msg` by `pubkey` (32 bytes). */
static inline bool x64vm_ed25519_verify(const uint8_t pubkey[32], const uint8_t sig[64],
                                        const void *msg, uint64_t len) {
    return x64vm_hc_ed25519_verify(X64VM__P(pubkey), X64VM__P(sig), X64VM__P(msg), len) == 1;
}

/* The 4-byte selector of a signature such as "transfer(address,u128)", as the
 * little-endian u32 of the first 4 bytes of its keccak256. Uses the keccak256
 * service, or software keccak when X64VM_SOFT_KECCAK is defined (C++ computes
 * selectors at compile time with x64vm::selector instead). */
static inline uint32_t x64vm_selector(const char *signature, uint64_t len) {
#ifdef X64VM_SOFT_KECCAK
    x64vm_hash_t h = x64vm_keccak256_soft(signature, len);
#else
    x64vm_hash_t h = x64vm_keccak256(signature, len);
#endif
    return (uint32_t)h.bytes[0] | (uint32_t)h.bytes[1] << 8 | (uint32_t)h.bytes[2] << 16 |
           (uint32_t)h.bytes[3] << 24;
}

/* ------------------------------------------------------------------------------ */
/* Addresses, u128                                                                */
/* ------------------------------------------------------------------------------ */

/* True when both addresses are the same 32 bytes. */
static inline bool x64vm_address_eq(x64vm_address_t a, x64vm_address_t b) {
    uint8_t diff = 0;
    for (int i = 0; i < 32; i++)
        diff |= (uint8_t)(a.bytes[i] ^ b.bytes[i]);
    return diff == 0;
}
/* The all-zero address (the "nobody" of mint and burn events). */
static inline x64vm_address_t x64vm_address_zero(void) {
    x64vm_address_t a;
    for (int i = 0; i < 32; i++)
        a.bytes[i] = 0;
    return a;
}
/* True for the all-zero address. */
static inline bool x64vm_address_is_zero(x64vm_address_t a) {
    return x64vm_address_eq(a, x64vm_address_zero());
}

/* out = a + b; returns true on overflow (out is then the wrapped sum). */
static inline bool x64vm_u128_add(x64vm_u128_t a, x64vm_u128_t b, x64vm_u128_t *out) {
    return __builtin_add_overflow(a, b, out);
}
/* out = a - b; returns true on underflow. */
static inline bool x64vm_u128_sub(x64vm_u128_t a, x64vm_u128_t b, x64vm_u128_t *out) {
    return __builtin_sub_overflow(a, b, out);
}
/* out = a * b; returns true on overflow. */
static inline bool x64vm_u128_mul(x64vm_u128_t a, x64vm_u128_t b, x64vm_u128_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
/* a + b, or a revert with `message` on overflow. */
static inline x64vm_u128_t x64vm_u128_add_or_revert(x64vm_u128_t a, x64vm_u128_t b,
                                                    const char *message) {
    x64vm_u128_t r;
    if (x64vm_u128_add(a, b, &r))
        x64vm_revert(message);
    return r;
}
/* a - b, or a revert with `message` when b > a. */
static inline x64vm_u128_t x64vm_u128_sub_or_revert(x64vm_u128_t a, x64vm_u128_t b,
                                                    const char *message) {
    x64vm_u128_t r;
    if (x64vm_u128_sub(a, b, &r))
        x64vm_revert(message);
    return r;
}
/* Reads a u128 from 16 little-endian bytes. */
static inline x64vm_u128_t x64vm_u128_from_le(const uint8_t *p) {
    x64vm_u128_t v = 0;
    for (int i = 15; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
/* Writes a u128 as 16 little-endian bytes. */
static inline void x64vm_u128_to_le(x64vm_u128_t v, uint8_t *p) {
    for (int i = 0; i < 16; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
/* Decimal digits of `v` into `out` (at least 40 bytes, NUL-terminated); returns
 * the number of digits. Divides with `div` (no libgcc needed). */
static inline int x64vm_u128_to_dec(x64vm_u128_t v, char *out) {
    const uint64_t chunk = 10000000000000000000ULL; /* 10^19 */
    uint64_t parts[3];
    int n = 0;
    do {
        uint64_t hi = (uint64_t)(v >> 64), lo = (uint64_t)v;
        uint64_t qhi = hi / chunk, rem = hi % chunk, qlo;
        __asm__("divq %[d]" : "=a"(qlo), "=d"(rem) : "a"(lo), "d"(rem), [d] "rm"(chunk) : "cc");
        parts[n++] = rem;
        v = (x64vm_u128_t)qhi << 64 | qlo;
    } while (v != 0);
    int len = 0;
    for (int i = n - 1; i >= 0; i--) {
        char tmp[20];
        int k = 0;
        uint64_t p = parts[i];
        do {
            tmp[k++] = (char)('0' + p % 10);
            p /= 10;
        } while (p != 0);
        if (i != n - 1)
            while (k < 19)
                tmp[k++] = '0';
        while (k > 0)
            out[len++] = tmp[--k];
    }
    out[len] = 0;
    return len;
}

/* ------------------------------------------------------------------------------ */
/* Chain context, value, calls                                                    */
/* ------------------------------------------------------------------------------ */

/* The immediate caller (an account, or the contract that called this one). */
static inline x64vm_address_t x64vm_caller(void) {
    x64vm_address_t a;
    x64vm_hc_caller(X64VM__P(a.bytes));
    return a;
}
/* The account that signed the transaction. */
static inline x64vm_address_t x64vm_origin(void) {
    x64vm_address_t a;
    x64vm_hc_origin(X64VM__P(a.bytes));
    return a;
}
/* This contract's address. */
static inline x64vm_address_t x64vm_self_address(void) {
    x64vm_address_t a;
    x64vm_hc_self_address(X64VM__P(a.bytes));
    return a;
}
/* The value sent with this call. */
static inline x64vm_u128_t x64vm_value(void) {
    uint8_t b[16];
    x64vm_hc_value(X64VM__P(b));
    return x64vm_u128_from_le(b);
}
/* Current block number. */
static inline uint64_t x64vm_block_number(void) { return x64vm_hc_block_number(); }
/* Current block timestamp in seconds. */
static inline uint64_t x64vm_timestamp(void) { return x64vm_hc_timestamp(); }
/* Hash of block `number` (one of the last 256); false when unknown. */
static inline bool x64vm_block_hash(uint64_t number, x64vm_hash_t *out) {
    return x64vm_hc_block_hash(number, X64VM__P(out->bytes)) == 1;
}
/* Balance of an address. */
static inline x64vm_u128_t x64vm_balance(x64vm_address_t who) {
    uint8_t b[16];
    x64vm_hc_balance(X64VM__P(who.bytes), X64VM__P(b));
    return x64vm_u128_from_le(b);
}
/* Sends `amount` of this contract's balance to `to`; false if the balance is short. */
static inline bool x64vm_transfer(x64vm_address_t to, x64vm_u128_t amount) {
    uint8_t b[16];
    x64vm_u128_to_le(amount, b);
    return x64vm_hc_transfer(X64VM__P(to.bytes), X64VM__P(b)) == 0;
}
/* Calls contract `to` with `input` (selector + Borsh arguments), sending `value`
 * and at most `gas_cap` gas (0: all that is left). Returns X64VM_CALL_SUCCESS,
 * X64VM_CALL_REVERTED or X64VM_CALL_FAILED; a reverted or failed callee's changes
 * are rolled back and this contract carries on. The callee's output (or revert
 * message) is then available through x64vm_return_data*. */
static inline int x64vm_call(x64vm_address_t to, const void *input, uint64_t len,
                             x64vm_u128_t value, uint64_t gas_cap) {
    uint8_t v[16];
    x64vm_u128_to_le(value, v);
    return (int)x64vm_hc_call(X64VM__P(to.bytes), X64VM__P(input), len,
                              value == 0 ? 0 : X64VM__P(v), gas_cap);
}
/* Length of the last call's output or revert data. */
static inline uint64_t x64vm_return_data_len(void) { return x64vm_hc_return_data_len(); }
/* Copies up to `len` bytes of the last call's output from `offset`. */
static inline uint64_t x64vm_return_data_read(void *dst, uint64_t offset, uint64_t len) {
    return x64vm_hc_return_data_read(X64VM__P(dst), offset, len);
}
/* The last call's output (or revert data), copied to the heap. */
static inline x64vm_bytes_t x64vm_return_data(void) {
    x64vm_bytes_t b;
    uint64_t n = x64vm_return_data_len();
    uint8_t *p = (uint8_t *)x64vm_xmalloc(n ? n : 1);
    x64vm_return_data_read(p, 0, n);
    b.ptr = p;
    b.len = (uint32_t)n;
    return b;
}

/* ------------------------------------------------------------------------------ */
/* Borsh                                                                          */
/* ------------------------------------------------------------------------------ */
/*
 * Little-endian integers, bool as one byte 0/1, bytes and string as a u32 length
 * and the bytes, address as 32 bytes. A reader reverts with its `error` message
 * when the data is short, a bool is not 0/1, or bytes are left over at
 * x64vm_reader_end (the dispatcher's says "x64vm: malformed call arguments").
 * Strings are not checked for UTF-8.
 */

/* Reads from `ptr[pos..len]`. */
typedef struct {
    const uint8_t *ptr;
    uint64_t len;
    uint64_t pos;
    const char *error; /* revert message for malformed data */
} x64vm_reader_t;

/* A reader over `len` bytes (malformed data reverts with "x64vm: malformed data"). */
static inline x64vm_reader_t x64vm_reader(const void *ptr, uint64_t len) {
    x64vm_reader_t r;
    r.ptr = (const uint8_t *)ptr;
    r.len = len;
    r.pos = 0;
    r.error = "x64vm: malformed data";
    return r;
}
/* Consumes `n` bytes; reverts when fewer remain. */
static inline const uint8_t *x64vm_reader_take(x64vm_reader_t *r, uint64_t n) {
    if (n > r->len - r->pos)
        x64vm_revert(r->error);
    const uint8_t *p = r->ptr + r->pos;
    r->pos += n;
    return p;
}
/* Reverts unless every byte was consumed. */
static inline void x64vm_reader_end(const x64vm_reader_t *r) {
    if (r->pos != r->len)
        x64vm_revert(r->error);
}

/* Appends to a buffer that starts in caller-provided storage and moves to the heap
 * when it outgrows it. */
typedef struct {
    uint8_t *buf;
    uint64_t len;
    uint64_t cap;
    int on_heap;
} x64vm_writer_t;

/* Starts an empty writer over `cap` bytes at `storage` (may be NULL, 0). */
static inline void x64vm_writer_init(x64vm_writer_t *w, void *storage, uint64_t cap) {
    w->buf = (uint8_t *)storage;
    w->len = 0;
    w->cap = storage ? cap : 0;
    w->on_heap = 0;
}
/* Makes room for `n` more bytes and returns where they go. */
static inline uint8_t *x64vm_writer_reserve(x64vm_writer_t *w, uint64_t n) {
    if (n > w->cap - w->len) {
        uint64_t cap = w->cap * 2 > w->len + n ? w->cap * 2 : w->len + n;
        if (cap < 64)
            cap = 64;
        uint8_t *p = (uint8_t *)x64vm_xmalloc(cap);
        if (w->len)
            __builtin_memcpy(p, w->buf, w->len);
        if (w->on_heap)
            x64vm_free(w->buf);
        w->buf = p;
        w->cap = cap;
        w->on_heap = 1;
    }
    uint8_t *at = w->buf + w->len;
    w->len += n;
    return at;
}
/* Releases heap memory the writer took (its storage stays the caller's). */
static inline void x64vm_writer_free(x64vm_writer_t *w) {
    if (w->on_heap)
        x64vm_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->on_heap = 0;
}
/* Appends raw bytes (no length prefix). */
static inline void x64vm_write_raw(x64vm_writer_t *w, const void *p, uint64_t n) {
    if (n)
        __builtin_memcpy(x64vm_writer_reserve(w, n), p, n);
}

/* x64vm_read_<T>(reader) and x64vm_write_<T>(writer, value) for the integers. */
#define X64VM__INT_CODEC(T)                                                          \
    static inline x64vm_abi_##T x64vm_read_##T(x64vm_reader_t *r) {                  \
        x64vm_abi_##T v;                                                             \
        __builtin_memcpy(&v, x64vm_reader_take(r, sizeof v), sizeof v);              \
        return v;                                                                    \
    }                                                                                \
    static inline void x64vm_write_##T(x64vm_writer_t *w, x64vm_abi_##T v) {         \
        __builtin_memcpy(x64vm_writer_reserve(w, sizeof v), &v, sizeof v);           \
    }
X64VM__INT_CODEC(u8)
X64VM__INT_CODEC(u16)
X64VM__INT_CODEC(u32)
X64VM__INT_CODEC(u64)
X64VM__INT_CODEC(u128)
X64VM__INT_CODEC(i8)
X64VM__INT_CODEC(i16)
X64VM__INT_CODEC(i32)
X64VM__INT_CODEC(i64)
X64VM__INT_CODEC(i128)

static inline bool x64vm_read_bool(x64vm_reader_t *r) {
    uint8_t b = *x64vm_reader_take(r, 1);
    if (b > 1)
        x64vm_revert(r->error);
    return b == 1;
}
static inline void x64vm_write_bool(x64vm_writer_t *w, bool v) {
    *x64vm_writer_reserve(w, 1) = v ? 1 : 0;
}
static inline x64vm_address_t x64vm_read_address(x64vm_reader_t *r) {
    x64vm_address_t a;
    __builtin_memcpy(a.bytes, x64vm_reader_take(r, 32), 32);
    return a;
}
static inline void x64vm_write_address(x64vm_writer_t *w, x64vm_address_t a) {
    x64vm_write_raw(w, a.bytes, 32);
}
/* bytes and string: a view into the reader's buffer (the input lives for the call). */
static inline x64vm_bytes_t x64vm_read_bytes(x64vm_reader_t *r) {
    x64vm_bytes_t b;
    b.len = x64vm_read_u32(r);
    b.ptr = x64vm_reader_take(r, b.len);
    return b;
}
static inline void x64vm_write_bytes(x64vm_writer_t *w, x64vm_bytes_t b) {
    x64vm_write_u32(w, b.len);
    x64vm_write_raw(w, b.ptr, b.len);
}
static inline x64vm_string_t x64vm_read_string(x64vm_reader_t *r) {
    x64vm_string_t s;
    s.len = x64vm_read_u32(r);
    s.ptr = (const char *)x64vm_reader_take(r, s.len);
    return s;
}
static inline void x64vm_write_string(x64vm_writer_t *w, x64vm_string_t s) {
    x64vm_write_u32(w, s.len);
    x64vm_write_raw(w, s.ptr, s.len);
}
/* `bool` reaches the macros as `_Bool` in C. */
#define x64vm_read__Bool x64vm_read_bool
#define x64vm_write__Bool x64vm_write_bool

/* A string view of a NUL-terminated string (e.g. a literal). */
static inline x64vm_string_t x64vm_str(const char *s) {
    x64vm_string_t v;
    v.ptr = s;
    v.len = (uint32_t)x64vm_strlen(s);
    return v;
}
/* A bytes view. */
static inline x64vm_bytes_t x64vm_bytes(const void *p, uint32_t len) {
    x64vm_bytes_t v;
    v.ptr = (const uint8_t *)p;
    v.len = len;
    return v;
}
/* True when both strings hold the same bytes. */
static inline bool x64vm_str_eq(x64vm_string_t a, x64vm_string_t b) {
    if (a.len != b.len)
        return false;
    for (uint32_t i = 0; i < a.len; i++)
        if (a.ptr[i] != b.ptr[i])
            return false;
    return true;
}

/* Starts a call input: writes the selector of `signature` (runtime keccak). */
static inline void x64vm_write_selector(x64vm_writer_t *w, const char *signature) {
    x64vm_write_u32(w, x64vm_selector(signature, x64vm_strlen(signature)));
}
/* A reader over the last call's output (copied to the heap). */
static inline x64vm_reader_t x64vm_return_reader(void) {
    x64vm_bytes_t b = x64vm_return_data();
    return x64vm_reader(b.ptr, b.len);
}

/* ------------------------------------------------------------------------------ */
/* Storage                                                                        */
/* ------------------------------------------------------------------------------ */
/*
 * Keys are byte strings of up to 256 bytes, built the same way as the Rust SDK's
 * (so tools and tests read every contract's state alike):
 *
 *   - a single value lives under its name:          "total_supply"
 *   - a map entry under name ‖ 0x00 ‖ Borsh(key):   "balances\0" ‖ owner (32 bytes)
 *   - a compound key appends the next encoding:     "allowances\0" ‖ owner ‖ spender
 *
 *     x64vm_key_t k = x64vm_key("allowances");
 *     x64vm_key_add_address(&k, owner);          // adds 0x00, then the address
 *     x64vm_key_add_address(&k, spender);        // adds the address
 *
 * (A key longer than 256 bytes reverts; the Rust SDK hashes such keys instead.)
 * Values are stored in their Borsh encoding: a u128 is 16 little-endian bytes, a
 * string its u32 length and bytes. Loading a missing key gives 0 / false / the
 * zero address / an empty string or bytes.
 */

/* A storage key being built. */
typedef struct {
    uint32_t len;
    uint32_t fields; /* number of fields appended after the name */
    uint8_t bytes[X64VM_MAX_KEY];
} x64vm_key_t;

/* Appends raw bytes to a key; reverts past 256 bytes. */
static inline void x64vm_key_push(x64vm_key_t *k, const void *p, uint64_t n) {
    if (n > X64VM_MAX_KEY - k->len)
        x64vm_revert("x64vm: storage key longer than 256 bytes");
    for (uint64_t i = 0; i < n; i++)
        k->bytes[k->len + i] = ((const uint8_t *)p)[i];
    k->len += (uint32_t)n;
}
/* A key holding just `name` (e.g. "total_supply", or a map's name). */
static inline x64vm_key_t x64vm_key(const char *name) {
    x64vm_key_t k;
    k.len = 0;
    k.fields = 0;
    x64vm_key_push(&k, name, x64vm_strlen(name));
    return k;
}
/* Appends one field's Borsh encoding (preceded by 0x00 if it is the first field). */
static inline void x64vm_key_add(x64vm_key_t *k, const void *encoded, uint64_t n) {
    if (k->fields++ == 0)
        x64vm_key_push(k, "", 1);
    x64vm_key_push(k, encoded, n);
}
/* Appends an address field. */
static inline void x64vm_key_add_address(x64vm_key_t *k, x64vm_address_t a) {
    x64vm_key_add(k, a.bytes, 32);
}
/* Appends a u64 field (8 little-endian bytes). */
static inline void x64vm_key_add_u64(x64vm_key_t *k, uint64_t v) { x64vm_key_add(k, &v, 8); }
/* Appends a u128 field (16 little-endian bytes). */
static inline void x64vm_key_add_u128(x64vm_key_t *k, x64vm_u128_t v) {
    x64vm_key_add(k, &v, 16);
}
/* Appends a bytes field (u32 length, then the bytes). */
static inline void x64vm_key_add_bytes(x64vm_key_t *k, x64vm_bytes_t b) {
    x64vm_key_add(k, &b.len, 4);
    x64vm_key_push(k, b.ptr, b.len);
}
/* Appends a string field (u32 length, then the bytes). */
static inline void x64vm_key_add_string(x64vm_key_t *k, x64vm_string_t s) {
    x64vm_key_add_bytes(k, x64vm_bytes(s.ptr, s.len));
}

/* Raw storage: copies min(value length, cap) bytes to `dst`; returns the value
 * length or X64VM_ABSENT. */
static inline uint64_t x64vm_storage_read(const void *key, uint64_t key_len, void *dst,
                                          uint64_t cap) {
    return x64vm_hc_storage_read(X64VM__P(key), key_len, X64VM__P(dst), cap);
}
/* Raw storage write (value up to 64 KiB). */
static inline void x64vm_storage_write(const void *key, uint64_t key_len, const void *val,
                                       uint64_t val_len) {
    x64vm_hc_storage_write(X64VM__P(key), key_len, X64VM__P(val), val_len);
}
/* Raw storage remove; true if the key existed. */
static inline bool x64vm_storage_remove(const void *key, uint64_t key_len) {
    return x64vm_hc_storage_remove(X64VM__P(key), key_len) == 1;
}

/* True when the key holds a value. */
static inline bool x64vm_exists(const x64vm_key_t *k) {
    return x64vm_storage_read(k->bytes, k->len, NULL, 0) != X64VM_ABSENT;
}
/* Removes the key's value; true if there was one. */
static inline bool x64vm_erase(const x64vm_key_t *k) {
    return x64vm_storage_remove(k->bytes, k->len);
}
/* A reader over the stored value (on the heap; reverts with "x64vm: stored value
 * does not decode" if it is malformed), or over nothing when absent. */
static inline x64vm_reader_t x64vm_load_reader(const x64vm_key_t *k) {
    uint64_t n = x64vm_storage_read(k->bytes, k->len, NULL, 0);
    if (n == X64VM_ABSENT)
        n = 0;
    uint8_t *p = (uint8_t *)x64vm_xmalloc(n ? n : 1);
    if (n)
        x64vm_storage_read(k->bytes, k->len, p, n);
    x64vm_reader_t r = x64vm_reader(p, n);
    r.error = "x64vm: stored value does not decode";
    return r;
}

/* x64vm_load_<T>(key) and x64vm_store_<T>(key, value) for the fixed-size types. */
#define X64VM__STORAGE_FIXED(T)                                                      \
    static inline x64vm_abi_##T x64vm_load_##T(const x64vm_key_t *k) {               \
        uint8_t b_[sizeof(x64vm_abi_##T)];                                           \
        uint64_t n_ = x64vm_storage_read(k->bytes, k->len, b_, sizeof b_);           \
        if (n_ == X64VM_ABSENT) {                                                    \
            n_ = sizeof b_;                                                          \
            for (unsigned i_ = 0; i_ < sizeof b_; i_++)                              \
                b_[i_] = 0;                                                          \
        }                                                                            \
        x64vm_reader_t r_ = x64vm_reader(b_, n_ < sizeof b_ ? n_ : sizeof b_);       \
        r_.error = "x64vm: stored value does not decode";                            \
        x64vm_abi_##T v_ = x64vm_read_##T(&r_);                                      \
        if (n_ != sizeof b_)                                                         \
            x64vm_revert(r_.error);                                                  \
        return v_;                                                                   \
    }                                                                                \
    static inline void x64vm_store_##T(const x64vm_key_t *k, x64vm_abi_##T v) {      \
        uint8_t b_[sizeof(x64vm_abi_##T)];                                           \
        x64vm_writer_t w_;                                                           \
        x64vm_writer_init(&w_, b_, sizeof b_);                                       \
        x64vm_write_##T(&w_, v);                                                     \
        x64vm_storage_write(k->bytes, k->len, w_.buf, w_.len);                       \
    }
X64VM__STORAGE_FIXED(u8)
X64VM__STORAGE_FIXED(u16)
X64VM__STORAGE_FIXED(u32)
X64VM__STORAGE_FIXED(u64)
X64VM__STORAGE_FIXED(u128)
X64VM__STORAGE_FIXED(i8)
X64VM__STORAGE_FIXED(i16)
X64VM__STORAGE_FIXED(i32)
X64VM__STORAGE_FIXED(i64)
X64VM__STORAGE_FIXED(i128)
X64VM__STORAGE_FIXED(bool)
X64VM__STORAGE_FIXED(address)
#define x64vm_load__Bool x64vm_load_bool
#define x64vm_store__Bool x64vm_store_bool

/* The stored bytes (a view of a heap copy; empty when absent). */
static inline x64vm_bytes_t x64vm_load_bytes(const x64vm_key_t *k) {
    x64vm_reader_t r = x64vm_load_reader(k);
    if (r.len == 0)
        return x64vm_bytes(r.ptr, 0);
    x64vm_bytes_t b = x64vm_read_bytes(&r);
    x64vm_reader_end(&r);
    return b;
}
static inline void x64vm_store_bytes(const x64vm_key_t *k, x64vm_bytes_t v) {
    uint8_t b[128];
    x64vm_writer_t w;
    x64vm_writer_init(&w, b, sizeof b);
    x64vm_write_bytes(&w, v);
    x64vm_storage_write(k->bytes, k->len, w.buf, w.len);
    x64vm_writer_free(&w);
}
/* The stored string (a view of a heap copy; empty when absent). */
static inline x64vm_string_t x64vm_load_string(const x64vm_key_t *k) {
    x64vm_bytes_t b = x64vm_load_bytes(k);
    x64vm_string_t s;
    s.ptr = (const char *)b.ptr;
    s.len = b.len;
    return s;
}
static inline void x64vm_store_string(const x64vm_key_t *k, x64vm_string_t v) {
    x64vm_store_bytes(k, x64vm_bytes(v.ptr, v.len));
}

/* ------------------------------------------------------------------------------ */
/* Events                                                                         */
/* ------------------------------------------------------------------------------ */

/* Emits an event: a 32-byte topic and Borsh data. X64VM_EVENT builds both. */
static inline void x64vm_emit_event(const x64vm_hash_t *topic, const void *data,
                                    uint64_t len) {
    x64vm_hc_emit_event(X64VM__P(topic->bytes), X64VM__P(data), len);
}

/* ------------------------------------------------------------------------------ */
/* Parameter lists: (type, name)(type, name)... sequences                         */
/* ------------------------------------------------------------------------------ */
/*
 * A parameter list is written as a sequence of parenthesised pairs, e.g.
 * `(address, to)(u128, amount)`, or nothing at all. X64VM__WALK(K, seq) expands
 * `X64VM__K_0 seq (,)`: the step macros …_1 and …_2 call each other, each taking
 * the next pair from the text that follows, so a sequence has no length limit.
 * The appended empty pair `(,)` ends the walk: X64VM__ISEND sees an empty type
 * and picks the step's end form. The first step (…_0) has its own forms, so
 * separators go between elements and an empty list can become e.g. `void`.
 * The walk's output is never passed on as a macro argument (its commas would
 * split it), only placed in the final text or inside parentheses.
 *
 * Each kind K defines K_0_0 (first element), K_0_1 (empty list), K_1_0 and
 * K_2_0 (further elements, alternating), K_1_1 and K_2_1 (end of the list).
 */
#define X64VM__WALK(K, seq) X64VM__##K##_0 seq(, )
/* 1 for an empty token (the terminator), 0 for an identifier. */
#define X64VM__ISEND(x) X64VM__SECOND(X64VM__ISEND_##x, 0, ~)
#define X64VM__ISEND_ ~, 1
#define X64VM__SECOND(...) X64VM__SECOND_(__VA_ARGS__)
#define X64VM__SECOND_(a, b, ...) b
/* One step: the element form (…_0) or the end form (…_1) of step p. */
#define X64VM__STEP(p, T, N) X64VM__CAT(X64VM__##p, X64VM__ISEND(T))(T, N)

/* C parameter declarations: `x64vm_abi_address to, x64vm_abi_u128 amount` or `void`. */
#define X64VM__DECL_0(T, N) X64VM__STEP(DECL_0_, T, N)
#define X64VM__DECL_1(T, N) X64VM__STEP(DECL_1_, T, N)
#define X64VM__DECL_2(T, N) X64VM__STEP(DECL_2_, T, N)
#define X64VM__DECL_0_0(T, N) x64vm_abi_##T N X64VM__DECL_1
#define X64VM__DECL_1_0(T, N) , x64vm_abi_##T N X64VM__DECL_2
#define X64VM__DECL_2_0(T, N) , x64vm_abi_##T N X64VM__DECL_1
#define X64VM__DECL_0_1(T, N) void
#define X64VM__DECL_1_1(T, N)
#define X64VM__DECL_2_1(T, N)

/* The argument names: `to, amount`. */
#define X64VM__ARGS_0(T, N) X64VM__STEP(ARGS_0_, T, N)
#define X64VM__ARGS_1(T, N) X64VM__STEP(ARGS_1_, T, N)
#define X64VM__ARGS_2(T, N) X64VM__STEP(ARGS_2_, T, N)
#define X64VM__ARGS_0_0(T, N) N X64VM__ARGS_1
#define X64VM__ARGS_1_0(T, N) , N X64VM__ARGS_2
#define X64VM__ARGS_2_0(T, N) , N X64VM__ARGS_1
#define X64VM__ARGS_0_1(T, N)
#define X64VM__ARGS_1_1(T, N)
#define X64VM__ARGS_2_1(T, N)

/* Decoding into locals, in order: `x64vm_abi_address to = x64vm_read_address(x64vm__r);`. */
#define X64VM__READS_0(T, N) X64VM__STEP(READS_0_, T, N)
#define X64VM__READS_1(T, N) X64VM__STEP(READS_1_, T, N)
#define X64VM__READS_2(T, N) X64VM__STEP(READS_2_, T, N)
#define X64VM__READS_0_0(T, N) x64vm_abi_##T N = x64vm_read_##T(x64vm__r); X64VM__READS_1
#define X64VM__READS_1_0(T, N) x64vm_abi_##T N = x64vm_read_##T(x64vm__r); X64VM__READS_2
#define X64VM__READS_2_0(T, N) x64vm_abi_##T N = x64vm_read_##T(x64vm__r); X64VM__READS_1
#define X64VM__READS_0_1(T, N)
#define X64VM__READS_1_1(T, N)
#define X64VM__READS_2_1(T, N)

/* Encoding, in order: `x64vm_write_address(&x64vm__w, to);`. */
#define X64VM__WRITES_0(T, N) X64VM__STEP(WRITES_0_, T, N)
#define X64VM__WRITES_1(T, N) X64VM__STEP(WRITES_1_, T, N)
#define X64VM__WRITES_2(T, N) X64VM__STEP(WRITES_2_, T, N)
#define X64VM__WRITES_0_0(T, N) x64vm_write_##T(&x64vm__w, N); X64VM__WRITES_1
#define X64VM__WRITES_1_0(T, N) x64vm_write_##T(&x64vm__w, N); X64VM__WRITES_2
#define X64VM__WRITES_2_0(T, N) x64vm_write_##T(&x64vm__w, N); X64VM__WRITES_1
#define X64VM__WRITES_0_1(T, N)
#define X64VM__WRITES_1_1(T, N)
#define X64VM__WRITES_2_1(T, N)

/* Signature types: "address" "," "u128". */
#define X64VM__SIG_0(T, N) X64VM__STEP(SIG_0_, T, N)
#define X64VM__SIG_1(T, N) X64VM__STEP(SIG_1_, T, N)
#define X64VM__SIG_2(T, N) X64VM__STEP(SIG_2_, T, N)
#define X64VM__SIG_0_0(T, N) X64VM__NAME_##T X64VM__SIG_1
#define X64VM__SIG_1_0(T, N) "," X64VM__NAME_##T X64VM__SIG_2
#define X64VM__SIG_2_0(T, N) "," X64VM__NAME_##T X64VM__SIG_1
#define X64VM__SIG_0_1(T, N)
#define X64VM__SIG_1_1(T, N)
#define X64VM__SIG_2_1(T, N)

/* ABI text parameters: "address to" ", " "u128 amount". */
#define X64VM__PARAMS_0(T, N) X64VM__STEP(PARAMS_0_, T, N)
#define X64VM__PARAMS_1(T, N) X64VM__STEP(PARAMS_1_, T, N)
#define X64VM__PARAMS_2(T, N) X64VM__STEP(PARAMS_2_, T, N)
#define X64VM__PARAMS_0_0(T, N) X64VM__NAME_##T " " #N X64VM__PARAMS_1
#define X64VM__PARAMS_1_0(T, N) ", " X64VM__NAME_##T " " #N X64VM__PARAMS_2
#define X64VM__PARAMS_2_0(T, N) ", " X64VM__NAME_##T " " #N X64VM__PARAMS_1
#define X64VM__PARAMS_0_1(T, N)
#define X64VM__PARAMS_1_1(T, N)
#define X64VM__PARAMS_2_1(T, N)

/* Dispatch table rows, from the (name)(name)... sequence X64VM_FUNC builds; the
 * same walk over one-element tuples, ended by `()`. */
#define X64VM__WALK1(K, seq) X64VM__##K##_0 seq()
#define X64VM__STEP1(p, N) X64VM__CAT(X64VM__##p, X64VM__ISEND(N))(N)
#define X64VM__ROWS_0(N) X64VM__STEP1(ROWS_0_, N)
#define X64VM__ROWS_1(N) X64VM__STEP1(ROWS_1_, N)
#define X64VM__ROWS_0_0(N) X64VM__ROW(N) X64VM__ROWS_1
#define X64VM__ROWS_1_0(N) X64VM__ROW(N) X64VM__ROWS_0
#define X64VM__ROWS_0_1(N)
#define X64VM__ROWS_1_1(N)

/* Return types: " -> u64" in the ABI text, and how the result becomes the output. */
#define X64VM__ARROW_void ""
#define X64VM__ARROW_u8 " -> u8"
#define X64VM__ARROW_u16 " -> u16"
#define X64VM__ARROW_u32 " -> u32"
#define X64VM__ARROW_u64 " -> u64"
#define X64VM__ARROW_u128 " -> u128"
#define X64VM__ARROW_i8 " -> i8"
#define X64VM__ARROW_i16 " -> i16"
#define X64VM__ARROW_i32 " -> i32"
#define X64VM__ARROW_i64 " -> i64"
#define X64VM__ARROW_i128 " -> i128"
#define X64VM__ARROW_bool " -> bool"
#define X64VM__ARROW__Bool " -> bool"
#define X64VM__ARROW_bytes " -> bytes"
#define X64VM__ARROW_string " -> string"
#define X64VM__ARROW_address " -> address"

/* Runs the call and finishes with its Borsh-encoded result. */
#define X64VM__RETURN_VALUE(T, call)                                                 \
    {                                                                                \
        x64vm_abi_##T x64vm__v = call;                                               \
        uint8_t x64vm__b[128];                                                       \
        x64vm_writer_t x64vm__w;                                                     \
        x64vm_writer_init(&x64vm__w, x64vm__b, sizeof x64vm__b);                     \
        x64vm_write_##T(&x64vm__w, x64vm__v);                                        \
        x64vm_finish(x64vm__w.buf, x64vm__w.len);                                    \
    }
#define X64VM__RETURN_void(call)                                                     \
    {                                                                                \
        call;                                                                        \
        x64vm_finish(NULL, 0);                                                       \
    }
#define X64VM__RETURN_u8(call) X64VM__RETURN_VALUE(u8, call)
#define X64VM__RETURN_u16(call) X64VM__RETURN_VALUE(u16, call)
#define X64VM__RETURN_u32(call) X64VM__RETURN_VALUE(u32, call)
#define X64VM__RETURN_u64(call) X64VM__RETURN_VALUE(u64, call)
#define X64VM__RETURN_u128(call) X64VM__RETURN_VALUE(u128, call)
#define X64VM__RETURN_i8(call) X64VM__RETURN_VALUE(i8, call)
#define X64VM__RETURN_i16(call) X64VM__RETURN_VALUE(i16, call)
#define X64VM__RETURN_i32(call) X64VM__RETURN_VALUE(i32, call)
#define X64VM__RETURN_i64(call) X64VM__RETURN_VALUE(i64, call)
#define X64VM__RETURN_i128(call) X64VM__RETURN_VALUE(i128, call)
#define X64VM__RETURN_bool(call) X64VM__RETURN_VALUE(bool, call)
#define X64VM__RETURN__Bool(call) X64VM__RETURN_VALUE(bool, call)
#define X64VM__RETURN_bytes(call) X64VM__RETURN_VALUE(bytes, call)
#define X64VM__RETURN_string(call) X64VM__RETURN_VALUE(string, call)
#define X64VM__RETURN_address(call) X64VM__RETURN_VALUE(address, call)

/* Fragments of the ABI text go to `.x64vm.abi`; the linker concatenates them (each
 * ends in "\n" and its NUL, both line separators for the ABI parser). */
#define X64VM__ABI_SECTION __attribute__((section(".x64vm.abi"), used, aligned(1)))

/* ------------------------------------------------------------------------------ */
/* Exported functions, events, the dispatcher                                     */
/* ------------------------------------------------------------------------------ */

/* One dispatch table row. `selector` is filled at compile time in C++; C computes
 * it at run time from `sig` (one keccak256 host call per row examined). */
typedef void (*x64vm__call_fn)(x64vm_reader_t *);
typedef struct {
    const char *sig;
    uint64_t sig_len;
    uint32_t selector;
    x64vm__call_fn call;
} x64vm__row_t;

#ifdef __cplusplus
#define X64VM__SELECTOR_CONST(NAME)                                                  \
    static constexpr uint32_t x64vm__sel_##NAME = x64vm__selector_of(x64vm__sig_##NAME);
#define X64VM__ROW_SELECTOR(NAME) x64vm__sel_##NAME
#define X64VM__TOPIC_CONST(NAME)                                                     \
    static constexpr x64vm_hash_t x64vm__topic_##NAME = x64vm__hash_of(x64vm__evsig_##NAME);
#define X64VM__TOPIC(NAME) x64vm__topic_##NAME
#else
#define X64VM__SELECTOR_CONST(NAME)
#define X64VM__ROW_SELECTOR(NAME) 0
#define X64VM__TOPIC_CONST(NAME)
#ifdef X64VM_SOFT_KECCAK
#define X64VM__TOPIC(NAME) x64vm_keccak256_soft(x64vm__evsig_##NAME, sizeof x64vm__evsig_##NAME - 1)
#else
#define X64VM__TOPIC(NAME) x64vm_keccak256(x64vm__evsig_##NAME, sizeof x64vm__evsig_##NAME - 1)
#endif
#endif

#define X64VM__ROW(N)                                                                \
    {x64vm__sig_##N, sizeof x64vm__sig_##N - 1, X64VM__ROW_SELECTOR(N), x64vm__call_##N},

#ifdef __cplusplus
/* Compile-time keccak256 of a string literal (used by the macros in C++). */
template <size_t N> constexpr x64vm_hash_t x64vm__hash_of(const char (&s)[N]) {
    x64vm_hash_t h{};
    x64vm__keccak256(s, N - 1, h.bytes);
    return h;
}
template <size_t N> constexpr uint32_t x64vm__selector_of(const char (&s)[N]) {
    x64vm_hash_t h = x64vm__hash_of(s);
    return (uint32_t)h.bytes[0] | (uint32_t)h.bytes[1] << 8 | (uint32_t)h.bytes[2] << 16 |
           (uint32_t)h.bytes[3] << 24;
}
/* True when no two rows of a dispatch table share a selector. */
template <size_t N> constexpr bool x64vm__unique_selectors(const x64vm__row_t (&t)[N]) {
    for (size_t i = 0; i + 1 < N; i++)
        for (size_t j = i + 1; j + 1 < N; j++)
            if (t[i].selector == t[j].selector)
                return false;
    return true;
}
#endif

/*
 * X64VM_FN(RET, NAME, PARAMS...) { body }
 *
 * Defines the exported function NAME. RET is an ABI type or `void`; PARAMS is a
 * sequence of (type, name) pairs, possibly empty:
 *
 *     X64VM_FN(bool, transfer, (address, to)(u128, amount)) { ... return true; }
 *     X64VM_FN(void, reset) { ... }
 *
 * ABI types are u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 bool bytes string address;
 * in the body they have the C types x64vm_abi_<type> (uint64_t, x64vm_u128_t,
 * bool, x64vm_bytes_t, x64vm_string_t, x64vm_address_t, ...). The macro declares
 * `x64vm_abi_RET NAME(params)` (an ordinary function with C linkage, also in C++,
 * so `x64vm run --entry NAME --arg ...` can call it directly), its signature "NAME(type,type)" and selector, the ABI line
 * "fn NAME(type name, ...) -> RET" in `.x64vm.abi`, and the decoder the
 * dispatcher calls: it reverts if value was sent (X64VM_PAYABLE accepts it), reads
 * the arguments in order, reverts on malformed or trailing input ("x64vm:
 * malformed call arguments"), calls NAME and finishes with the Borsh-encoded
 * result (no output for void).
 *
 * A `bytes` or `string` result is a view: it must point to memory that outlives
 * the function (the input, static data, the heap), not to the function's own
 * stack, because it is encoded after the function returns.
 *
 * Every function defined this way must also be listed in X64VM_MAIN (gcc -Wall
 * warns "x64vm__call_NAME defined but not used" otherwise).
 */
#define X64VM_FN(RET, NAME, ...) X64VM__FN(RET, NAME, "", x64vm__not_payable();, __VA_ARGS__)

/* X64VM_VIEW(RET, NAME, PARAMS...): as X64VM_FN, marked `view` in the ABI (the
 * function does not write state; tools may run it as a read-only query). Views
 * do not check the value (queries carry none). */
#define X64VM_VIEW(RET, NAME, ...) X64VM__FN(RET, NAME, " view", , __VA_ARGS__)

/* X64VM_PAYABLE(RET, NAME, PARAMS...): as X64VM_FN, but accepts value sent with
 * the call (read it with x64vm_value()). Every other X64VM_FN reverts with
 * "x64vm: function is not payable" when value is sent. */
#define X64VM_PAYABLE(RET, NAME, ...) X64VM__FN(RET, NAME, "", , __VA_ARGS__)

#define X64VM__FN(RET, NAME, VIEW, CHECK, ...)                                       \
    X64VM__EXTERN_C x64vm_abi_##RET NAME(X64VM__WALK(DECL, __VA_ARGS__));            \
    static X64VM__CONST char x64vm__sig_##NAME[] =                                   \
        #NAME "(" X64VM__WALK(SIG, __VA_ARGS__) ")";                                 \
    X64VM__SELECTOR_CONST(NAME)                                                      \
    X64VM__ABI_SECTION static const char x64vm__abi_##NAME[] =                       \
        "fn " #NAME "(" X64VM__WALK(PARAMS, __VA_ARGS__) ")" X64VM__ARROW_##RET VIEW "\n"; \
    static void x64vm__call_##NAME(x64vm_reader_t *x64vm__r) {                       \
        CHECK                                                                        \
        X64VM__WALK(READS, __VA_ARGS__)                                              \
        x64vm_reader_end(x64vm__r);                                                  \
        X64VM__RETURN_##RET(NAME(X64VM__WALK(ARGS, __VA_ARGS__)))                    \
    }                                                                                \
    X64VM__EXTERN_C x64vm_abi_##RET NAME(X64VM__WALK(DECL, __VA_ARGS__))

/*
 * X64VM_EVENT(NAME, FIELDS...)
 *
 * Declares the event NAME with a (type, name) sequence of fields, e.g.
 *
 *     X64VM_EVENT(Transfer, (address, from)(address, to)(u128, amount))
 *
 * and defines `void x64vm_emit_NAME(fields...)`, which emits it: the topic is
 * keccak256 of the signature "Transfer(address,address,u128)" (a compile-time
 * constant in C++, one keccak256 host call in C), the data the fields in Borsh
 * layout. Adds "event NAME(type name, ...)" to the ABI text.
 */
#define X64VM_EVENT(NAME, ...)                                                       \
    static X64VM__CONST char x64vm__evsig_##NAME[] =                                 \
        #NAME "(" X64VM__WALK(SIG, __VA_ARGS__) ")";                                 \
    X64VM__TOPIC_CONST(NAME)                                                         \
    X64VM__ABI_SECTION static const char x64vm__evabi_##NAME[] =                     \
        "event " #NAME "(" X64VM__WALK(PARAMS, __VA_ARGS__) ")\n";                   \
    static inline void x64vm_emit_##NAME(X64VM__WALK(DECL, __VA_ARGS__)) {           \
        uint8_t x64vm__b[256];                                                       \
        x64vm_writer_t x64vm__w;                                                     \
        x64vm_writer_init(&x64vm__w, x64vm__b, sizeof x64vm__b);                     \
        X64VM__WALK(WRITES, __VA_ARGS__)                                             \
        x64vm_hash_t x64vm__topic = X64VM__TOPIC(NAME);                              \
        x64vm_emit_event(&x64vm__topic, x64vm__w.buf, x64vm__w.len);                 \
        x64vm_writer_free(&x64vm__w);                                                \
    }

/* X64VM_EMIT(NAME, values...): emits an event declared with X64VM_EVENT. */
#define X64VM_EMIT(NAME, ...) x64vm_emit_##NAME(__VA_ARGS__)

/* X64VM_FUNC(NAME): one entry of X64VM_MAIN's function list. */
#define X64VM_FUNC(NAME) (NAME)

/*
 * X64VM_MAIN(CONTRACT, X64VM_FUNC(a) X64VM_FUNC(b) ...)
 *
 * The dispatcher, once per contract, after the functions. Lists the exported
 * functions (defined with X64VM_FN/X64VM_VIEW) back to back, with no limit on
 * their number. Defines:
 *
 *   - the ELF entry `_start(const uint8_t *input, uint64_t len)`: runs the static
 *     constructors (.init_array), reads the 4-byte selector, finds the function
 *     (reverts "x64vm: unknown function selector" otherwise), decodes its
 *     arguments, calls it and finishes with the encoded result. With X64VM_LINUX,
 *     `main()` instead, which reads the input through the input services;
 *   - the ABI line "# contract CONTRACT" ("# profile linux" follows for
 *     X64VM_LINUX builds);
 *   - for freestanding builds, the few symbols compilers and libraries call on
 *     their own, all weak so a contract can supply its own: memcpy, memmove,
 *     memset, memcmp, strlen, memchr, abort (reverts); in C++ also operator
 *     new/delete (on the VM heap; failure reverts), __cxa_pure_virtual,
 *     __cxa_atexit, __dso_handle, the static-guard functions,
 *     __libc_single_threaded, and libstdc++'s std::__throw_* error paths
 *     (each reverts with its message).
 *
 * In C++ the selectors are compile-time constants and a static_assert rejects two
 * functions with the same selector.
 */
#define X64VM_MAIN(CONTRACT, ...)                                                    \
    X64VM__ABI_SECTION static const char x64vm__abi_contract[] =                     \
        "# contract " #CONTRACT "\n" X64VM__ABI_PROFILE;                             \
    static X64VM__CONST x64vm__row_t x64vm__table[] = {                              \
        X64VM__WALK1(ROWS, __VA_ARGS__){NULL, 0, 0, NULL}};                           \
    X64VM__CHECK_TABLE                                                               \
    X64VM__SUPPORT                                                                   \
    X64VM__ENTRY

/* Looks the selector up in `table` and runs the function (does not return). */
static inline void x64vm__dispatch(const x64vm__row_t *table, const uint8_t *input,
                                   uint64_t len) {
    if (len < 4)
        x64vm_revert("x64vm: call input shorter than a selector");
    uint32_t sel = (uint32_t)input[0] | (uint32_t)input[1] << 8 | (uint32_t)input[2] << 16 |
                   (uint32_t)input[3] << 24;
    for (const x64vm__row_t *row = table; row->call != NULL; row++) {
#ifdef __cplusplus
        uint32_t s = row->selector;
#else
        uint32_t s = x64vm_selector(row->sig, row->sig_len);
#endif
        if (s == sel) {
            x64vm_reader_t r = x64vm_reader(input + 4, len - 4);
            r.error = "x64vm: malformed call arguments";
            row->call(&r);
        }
    }
    x64vm_revert("x64vm: unknown function selector");
}

/* Reverts when value was sent to a function that is not payable. */
static inline void x64vm__not_payable(void) {
    uint8_t v[16];
    x64vm_hc_value(X64VM__P(v));
    for (int i = 0; i < 16; i++)
        if (v[i] != 0)
            x64vm_revert("x64vm: function is not payable");
}

#ifdef __cplusplus
#define X64VM__CHECK_TABLE                                                           \
    static_assert(x64vm__unique_selectors(x64vm__table),                             \
                  "two exported functions have the same 4-byte selector");
#else
#define X64VM__CHECK_TABLE
#endif

#ifdef X64VM_LINUX
#define X64VM__ABI_PROFILE "# profile linux\n"
#else
#define X64VM__ABI_PROFILE ""
#endif

#ifdef X64VM_LINUX
/* Linux profile: the C library starts the program and calls main. */
#define X64VM__SUPPORT
#if defined(__cplusplus) && defined(__cpp_exceptions)
#include <exception>
/* A C++ exception that escapes a function reverts with its what(). */
#define X64VM__DISPATCH_GUARDED(in, n)                                               \
    try {                                                                            \
        x64vm__dispatch(x64vm__table, in, n);                                        \
    } catch (const std::exception &e) {                                              \
        x64vm_revert(e.what());                                                      \
    } catch (...) {                                                                  \
        x64vm_revert("x64vm: uncaught C++ exception");                               \
    }
#else
#define X64VM__DISPATCH_GUARDED(in, n) x64vm__dispatch(x64vm__table, in, n);
#endif
#define X64VM__ENTRY                                                                 \
    int main(void) {                                                                 \
        uint64_t n_ = 0;                                                             \
        uint8_t *in_ = x64vm__linux_input(&n_);                                      \
        X64VM__DISPATCH_GUARDED(in_, n_)                                             \
        return 0;                                                                    \
    }

/* The call input: from the input services, or, when the VM passed none (a plain
 * `x64vm exec` run, which has no call input), from standard input. */
static inline uint8_t *x64vm__linux_input(uint64_t *len) {
    uint64_t n = x64vm_input_len(), cap = n ? n : 256;
    uint8_t *in = (uint8_t *)malloc(cap);
    if (in == NULL)
        x64vm_revert("x64vm: out of memory");
    if (n != 0) {
        x64vm_input_read(in, 0, n);
    } else {
        for (;;) {
            if (n == cap) {
                uint8_t *bigger = (uint8_t *)realloc(in, cap *= 2);
                if (bigger == NULL)
                    x64vm_revert("x64vm: out of memory");
                in = bigger;
            }
            ssize_t got = read(0, in + n, cap - n);
            if (got <= 0)
                break;
            n += (uint64_t)got;
        }
    }
    *len = n;
    return in;
}
#else
/* Freestanding: this is the whole runtime. */
#define X64VM__ENTRY                                                                 \
    X64VM__EXTERN_C void _start(const uint8_t *x64vm__input, uint64_t x64vm__len) {  \
        x64vm__run_init_array();                                                     \
        x64vm__dispatch(x64vm__table, x64vm__input, x64vm__len);                     \
    }

/* Static constructors (C++ globals with non-constant initialisers,
 * __attribute__((constructor))): the linker's default script brackets them. */
typedef void (*x64vm__init_fn)(void);
X64VM__EXTERN_DECL x64vm__init_fn __init_array_start[] __attribute__((weak, visibility("hidden")));
X64VM__EXTERN_DECL x64vm__init_fn __init_array_end[] __attribute__((weak, visibility("hidden")));
static inline void x64vm__run_init_array(void) {
    for (x64vm__init_fn *f = __init_array_start; f != __init_array_end; f++)
        (*f)();
}

/* The C library functions compilers and libstdc++ call on their own. They are
 * defined under internal names bound to the C symbols with asm labels, so they
 * never clash with the declarations of <string.h>/<cstring>/<cstdlib> (C++
 * declares const-correct overloads of memchr, noexcept on all of them). */
X64VM__EXTERN_DECL void *x64vm__memcpy(void *, const void *, size_t) __asm__("memcpy");
X64VM__EXTERN_DECL void *x64vm__memset(void *, int, size_t) __asm__("memset");
X64VM__EXTERN_DECL void *x64vm__memmove(void *, const void *, size_t) __asm__("memmove");
X64VM__EXTERN_DECL int x64vm__memcmp(const void *, const void *, size_t) __asm__("memcmp");
X64VM__EXTERN_DECL size_t x64vm__strlen(const char *) __asm__("strlen");
X64VM__EXTERN_DECL void *x64vm__memchr(const void *, int, size_t) __asm__("memchr");
X64VM__EXTERN_DECL void x64vm__abort(void) __asm__("abort");

#define X64VM__SUPPORT_C                                                             \
    X64VM__EXTERN_C __attribute__((weak)) void *x64vm__memcpy(void *dst, const void *src, \
                                                              size_t n) {            \
        void *d = dst;                                                               \
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");    \
        return dst;                                                                  \
    }                                                                                \
    X64VM__EXTERN_C __attribute__((weak)) void *x64vm__memset(void *dst, int c, size_t n) { \
        void *d = dst;                                                               \
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");        \
        return dst;                                                                  \
    }                                                                                \
    X64VM__EXTERN_C __attribute__((weak)) void *x64vm__memmove(void *dst, const void *src, \
                                                               size_t n) {           \
        if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n) \
            return x64vm__memcpy(dst, src, n);                                       \
        /* dst overlaps the end of src: copy from the last byte down (DF = 1). */    \
        const uint8_t *s = (const uint8_t *)src + n - 1;                             \
        uint8_t *d = (uint8_t *)dst + n - 1;                                         \
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); \
        return dst;                                                                  \
    }                                                                                \
    X64VM__EXTERN_C __attribute__((weak)) int x64vm__memcmp(const void *a, const void *b, \
                                                            size_t n) {              \
        const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;              \
        for (size_t i = 0; i < n; i++)                                               \
            if (x[i] != y[i])                                                        \
                return x[i] < y[i] ? -1 : 1;                                         \
        return 0;                                                                    \
    }                                                                                \
    X64VM__EXTERN_C __attribute__((weak)) size_t x64vm__strlen(const char *s) {      \
        return (size_t)x64vm_strlen(s);                                              \
    }                                                                                \
    X64VM__EXTERN_C __attribute__((weak)) void *x64vm__memchr(const void *p, int c, size_t n) { \
        const uint8_t *q = (const uint8_t *)p;                                       \
        for (size_t i = 0; i < n; i++)                                               \
            if (q[i] == (uint8_t)c)                                                  \
                return (void *)(uintptr_t)(q + i);                                   \
        return NULL;                                                                 \
    }                                                                                \
    /* abort() (e.g. from a standard-library check without exceptions) reverts. */  \
    X64VM__EXTERN_C __attribute__((weak, noreturn)) void x64vm__abort(void) {        \
        x64vm_revert("x64vm: abort");                                                \
    }

/* The standard library's error paths. Without exceptions, libstdc++'s headers
 * call these std::__throw_* functions (std::vector::at out of range, a length
 * error, ...); the library's own versions would throw. Here each reverts with its
 * message, which is what lets std::vector, std::map, std::string (C++20),
 * std::unordered_map, std::function, std::shared_ptr and <algorithm> work in a
 * freestanding contract (link with -lstdc++ for the few non-template pieces,
 * e.g. std::map's tree rebalancing). */
#define X64VM__THROW0(name, message)                                                 \
    __attribute__((weak, noreturn)) void name() { x64vm_revert(message); }
#define X64VM__THROW1(name, type)                                                    \
    __attribute__((weak, noreturn)) void name(type) { x64vm_revert("std::" #name); }
#define X64VM__THROWS(name)                                                          \
    __attribute__((weak, noreturn)) void name(const char *m) { x64vm_revert(m); }
#define X64VM__STD_THROWS                                                            \
    namespace std {                                                                  \
    X64VM__THROW0(__throw_bad_exception, "std::bad_exception")                       \
    X64VM__THROW0(__throw_bad_alloc, "std::bad_alloc")                               \
    X64VM__THROW0(__throw_bad_array_new_length, "std::bad_array_new_length")         \
    X64VM__THROW0(__throw_bad_cast, "std::bad_cast")                                 \
    X64VM__THROW0(__throw_bad_typeid, "std::bad_typeid")                             \
    X64VM__THROW0(__throw_bad_function_call, "std::bad_function_call")               \
    X64VM__THROWS(__throw_logic_error)                                               \
    X64VM__THROWS(__throw_domain_error)                                              \
    X64VM__THROWS(__throw_invalid_argument)                                          \
    X64VM__THROWS(__throw_length_error)                                              \
    X64VM__THROWS(__throw_out_of_range)                                              \
    X64VM__THROWS(__throw_runtime_error)                                             \
    X64VM__THROWS(__throw_range_error)                                               \
    X64VM__THROWS(__throw_overflow_error)                                            \
    X64VM__THROWS(__throw_underflow_error)                                           \
    X64VM__THROWS(__throw_ios_failure)                                               \
    __attribute__((weak, noreturn)) void __throw_out_of_range_fmt(const char *m, ...) { \
        x64vm_revert(m); /* the format, unformatted */                               \
    }                                                                                \
    __attribute__((weak, noreturn)) void __throw_ios_failure(const char *m, int) {   \
        x64vm_revert(m);                                                             \
    }                                                                                \
    X64VM__THROW1(__throw_system_error, int)                                         \
    X64VM__THROW1(__throw_future_error, int)                                         \
    }

#ifdef __cplusplus
#define X64VM__SUPPORT                                                               \
    X64VM__SUPPORT_C                                                                 \
    __attribute__((weak)) void *operator new(size_t n) { return x64vm_xmalloc(n); }  \
    __attribute__((weak)) void *operator new[](size_t n) { return x64vm_xmalloc(n); } \
    __attribute__((weak)) void operator delete(void *p) noexcept { x64vm_free(p); }  \
    __attribute__((weak)) void operator delete[](void *p) noexcept { x64vm_free(p); } \
    __attribute__((weak)) void operator delete(void *p, size_t) noexcept { x64vm_free(p); } \
    __attribute__((weak)) void operator delete[](void *p, size_t) noexcept { x64vm_free(p); } \
    extern "C" {                                                                     \
    __attribute__((weak)) void __cxa_pure_virtual(void) {                            \
        x64vm_revert("x64vm: pure virtual function called");                         \
    }                                                                                \
    /* Destructors of static objects never run: a call ends with finish/revert. */   \
    __attribute__((weak)) int __cxa_atexit(void (*)(void *), void *, void *) { return 0; } \
    __attribute__((weak)) void *__dso_handle = &__dso_handle;                        \
    /* Function-local statics (one thread: a byte flag is enough). */                \
    __attribute__((weak)) int __cxa_guard_acquire(uint64_t *g) {                     \
        return *(volatile uint8_t *)g == 0;                                          \
    }                                                                                \
    __attribute__((weak)) void __cxa_guard_release(uint64_t *g) {                    \
        *(volatile uint8_t *)g = 1;                                                  \
    }                                                                                \
    __attribute__((weak)) void __cxa_guard_abort(uint64_t *) {}                      \
    /* Read by std::shared_ptr's reference counting (glibc's flag): one thread. */   \
    __attribute__((weak)) char __libc_single_threaded = 1;                           \
    }                                                                                \
    X64VM__STD_THROWS
#else
#define X64VM__SUPPORT X64VM__SUPPORT_C
#endif
#endif /* X64VM_LINUX */

/* ------------------------------------------------------------------------------ */
/* C++                                                                            */
/* ------------------------------------------------------------------------------ */
#ifdef __cplusplus

/* Addresses and hashes compare with == and !=. */
inline bool operator==(const x64vm_address_t &a, const x64vm_address_t &b) {
    return x64vm_address_eq(a, b);
}
inline bool operator!=(const x64vm_address_t &a, const x64vm_address_t &b) {
    return !x64vm_address_eq(a, b);
}
inline bool operator==(const x64vm_hash_t &a, const x64vm_hash_t &b) {
    for (int i = 0; i < 32; i++)
        if (a.bytes[i] != b.bytes[i])
            return false;
    return true;
}
inline bool operator!=(const x64vm_hash_t &a, const x64vm_hash_t &b) { return !(a == b); }

namespace x64vm {

using u128 = x64vm_u128_t;
using i128 = x64vm_i128_t;
using Address = x64vm_address_t;
using Hash = x64vm_hash_t;
using Bytes = x64vm_bytes_t;
using String = x64vm_string_t;

/* keccak256 of a string literal or byte range, usable in constant expressions:
 * `constexpr x64vm::Hash t = x64vm::keccak256("Transfer(address,address,u128)");` */
constexpr Hash keccak256(const char *data, size_t len) {
    Hash h{};
    x64vm__keccak256(data, len, h.bytes);
    return h;
}
template <size_t N> constexpr Hash keccak256(const char (&s)[N]) { return keccak256(s, N - 1); }

/* The selector of a signature literal, at compile time:
 * `constexpr uint32_t sel = x64vm::selector("transfer(address,u128)");` */
template <size_t N> constexpr uint32_t selector(const char (&sig)[N]) {
    return x64vm__selector_of(sig);
}

/* Reverts with a message (does not return). */
[[noreturn]] inline void revert(const char *message) { x64vm_revert(message); }
/* Reverts with `message` unless `condition` holds. */
inline void require(bool condition, const char *message) { x64vm_require(condition, message); }

/* Checked arithmetic for any integer type: the result, or a revert with `message`. */
template <class T> T checked_add(T a, T b, const char *message) {
    T r;
    if (__builtin_add_overflow(a, b, &r))
        x64vm_revert(message);
    return r;
}
template <class T> T checked_sub(T a, T b, const char *message) {
    T r;
    if (__builtin_sub_overflow(a, b, &r))
        x64vm_revert(message);
    return r;
}
template <class T> T checked_mul(T a, T b, const char *message) {
    T r;
    if (__builtin_mul_overflow(a, b, &r))
        x64vm_revert(message);
    return r;
}

/* Chain context. */
inline Address caller() { return x64vm_caller(); }
inline Address origin() { return x64vm_origin(); }
inline Address self_address() { return x64vm_self_address(); }
inline u128 value() { return x64vm_value(); }
inline u128 balance(const Address &a) { return x64vm_balance(a); }
inline uint64_t block_number() { return x64vm_block_number(); }
inline uint64_t timestamp() { return x64vm_timestamp(); }
inline String str(const char *s) { return x64vm_str(s); }

/* Borsh encoding of C++ types: Codec<T>::write(writer, value) and ::read(reader).
 * Integers map by size and signedness (unsigned long -> u64, __int128 -> i128),
 * plus bool, Address, Bytes and String. */
template <class T> struct Codec;
#define X64VM__CXX_CODEC(CT, T)                                                      \
    template <> struct Codec<CT> {                                                   \
        static void write(x64vm_writer_t *w, const CT &v) { x64vm_write_##T(w, (x64vm_abi_##T)v); } \
        static CT read(x64vm_reader_t *r) { return (CT)x64vm_read_##T(r); }          \
        static constexpr bool is_view = false;                                       \
    };
X64VM__CXX_CODEC(unsigned char, u8)
X64VM__CXX_CODEC(unsigned short, u16)
X64VM__CXX_CODEC(unsigned int, u32)
X64VM__CXX_CODEC(unsigned long, u64)
X64VM__CXX_CODEC(unsigned long long, u64)
X64VM__CXX_CODEC(x64vm_u128_t, u128)
X64VM__CXX_CODEC(signed char, i8)
X64VM__CXX_CODEC(short, i16)
X64VM__CXX_CODEC(int, i32)
X64VM__CXX_CODEC(long, i64)
X64VM__CXX_CODEC(long long, i64)
X64VM__CXX_CODEC(x64vm_i128_t, i128)
X64VM__CXX_CODEC(bool, bool)
X64VM__CXX_CODEC(Address, address)
#undef X64VM__CXX_CODEC
template <> struct Codec<Bytes> {
    static void write(x64vm_writer_t *w, const Bytes &v) { x64vm_write_bytes(w, v); }
    static Bytes read(x64vm_reader_t *r) { return x64vm_read_bytes(r); }
    static constexpr bool is_view = true; /* points into the buffer it was read from */
};
template <> struct Codec<String> {
    static void write(x64vm_writer_t *w, const String &v) { x64vm_write_string(w, v); }
    static String read(x64vm_reader_t *r) { return x64vm_read_string(r); }
    static constexpr bool is_view = true;
};

/* A Borsh writer with 128 bytes on the stack, then the heap. */
class Writer {
  public:
    Writer() { x64vm_writer_init(&w_, small_, sizeof small_); }
    ~Writer() { x64vm_writer_free(&w_); }
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    /* Appends the Borsh encoding of `v`. */
    template <class T> Writer &operator<<(const T &v) {
        Codec<T>::write(&w_, v);
        return *this;
    }
    /* Appends raw bytes. */
    Writer &raw(const void *p, uint64_t n) {
        x64vm_write_raw(&w_, p, n);
        return *this;
    }
    const uint8_t *data() const { return w_.buf; }
    uint64_t size() const { return w_.len; }
    x64vm_writer_t *c() { return &w_; }

  private:
    x64vm_writer_t w_;
    uint8_t small_[128];
};

/* A Borsh reader over a byte range. */
class Reader {
  public:
    Reader(const void *p, uint64_t n) : r_(x64vm_reader(p, n)) {}
    template <class T> T read() { return Codec<T>::read(&r_); }
    template <class T> Reader &operator>>(T &v) {
        v = Codec<T>::read(&r_);
        return *this;
    }
    /* Reverts unless everything was read. */
    void end() const { x64vm_reader_end(&r_); }

  private:
    x64vm_reader_t r_;
};

/* A storage key: a name, then (for map entries) 0x00 and the Borsh encoding of
 * each field, as x64vm_key/x64vm_key_add build it in C. */
class Key {
  public:
    constexpr explicit Key(const char *prefix) : k_{} {
        while (prefix[k_.len] != 0) {
            k_.bytes[k_.len] = (uint8_t)prefix[k_.len];
            k_.len++;
        }
    }
    /* This key with one more field. */
    template <class T> Key with(const T &field) const {
        Key k = *this;
        Writer w;
        w << field;
        x64vm_key_add(&k.k_, w.data(), w.size());
        return k;
    }
    const x64vm_key_t *c() const { return &k_; }

  private:
    x64vm_key_t k_;
};

/* How a T is stored: its Borsh encoding. A missing value loads as T{}. */
template <class T> struct Stored {
    static T load(const x64vm_key_t *k) {
        if (Codec<T>::is_view) {
            /* Bytes and String point into the heap copy the reader owns. */
            x64vm_reader_t r = x64vm_load_reader(k);
            if (r.len == 0)
                return T{};
            T v = Codec<T>::read(&r);
            x64vm_reader_end(&r);
            return v;
        }
        uint8_t b[64];
        uint64_t n = x64vm_storage_read(k->bytes, k->len, b, sizeof b);
        if (n == X64VM_ABSENT)
            return T{};
        x64vm_reader_t r;
        if (n > sizeof b) {
            r = x64vm_load_reader(k);
        } else {
            r = x64vm_reader(b, n);
            r.error = "x64vm: stored value does not decode";
        }
        T v = Codec<T>::read(&r);
        x64vm_reader_end(&r);
        return v;
    }
    static void store(const x64vm_key_t *k, const T &v) {
        Writer w;
        w << v;
        x64vm_storage_write(k->bytes, k->len, w.data(), w.size());
    }
};

/* One stored value of type T under a key. A missing value reads as T{}.
 *
 *     x64vm::Value<x64vm::u128> total{"total_supply"};
 *     total.set(total.get() + 1);
 */
template <class T> class Value {
  public:
    constexpr explicit Value(const char *name) : key_(name) {}
    explicit Value(const Key &key) : key_(key) {}
    T get() const { return Stored<T>::load(key_.c()); }
    void set(const T &v) const { Stored<T>::store(key_.c(), v); }
    bool exists() const { return x64vm_exists(key_.c()); }
    void remove() const { x64vm_erase(key_.c()); }
    operator T() const { return get(); }
    /* `v = x` stores x. */
    const Value &operator=(const T &v) const {
        set(v);
        return *this;
    }
    /* Deleted so that `a = b` between two Values cannot silently copy the key:
     * write `a = b.get()`. */
    Value &operator=(const Value &) = delete;

  private:
    Key key_;
};

template <class K, class V> class Map;
namespace detail {
/* What Map<K, V>[k] gives: a Value<V>, or a Map for nested maps. */
template <class V> struct Slot {
    using type = Value<V>;
};
template <class K2, class V2> struct Slot<Map<K2, V2>> {
    using type = Map<K2, V2>;
};
} // namespace detail

/* A mapping from K to V in storage; `m[k]` is a Value<V> (or, for
 * Map<K, Map<K2, V>>, another Map), under the key "name:" ‖ Borsh(k).
 *
 *     x64vm::Map<x64vm::Address, x64vm::u128> balances{"balance"};
 *     balances[to].set(balances[to].get() + amount);
 *     x64vm::Map<x64vm::Address, x64vm::Map<x64vm::Address, x64vm::u128>> allowances{"allowance"};
 *     allowances[owner][spender] = 100;
 */
template <class K, class V> class Map {
  public:
    constexpr explicit Map(const char *name) : key_(name) {}
    explicit Map(const Key &key) : key_(key) {}
    typename detail::Slot<V>::type operator[](const K &k) const {
        return typename detail::Slot<V>::type(key_.with(k));
    }

  private:
    Key key_;
};

/* A nested call being built: selector, then arguments.
 *
 *     constexpr uint32_t TRANSFER = x64vm::selector("transfer(address,u128)");
 *     int status = x64vm::Call(TRANSFER).arg(to).arg(amount).send(token);
 *     bool ok = status == X64VM_CALL_SUCCESS && x64vm::return_value<bool>();
 */
class Call {
  public:
    explicit Call(uint32_t selector) { w_ << selector; }
    template <class T> Call &arg(const T &v) {
        w_ << v;
        return *this;
    }
    /* Sends it; returns X64VM_CALL_SUCCESS, _REVERTED or _FAILED. */
    int send(const Address &to, u128 value = 0, uint64_t gas_cap = 0) {
        return x64vm_call(to, w_.data(), w_.size(), value, gas_cap);
    }

  private:
    Writer w_;
};

/* Decodes the last call's output as T (reverts if it does not decode). */
template <class T> T return_value() {
    x64vm_reader_t r = x64vm_return_reader();
    T v = Codec<T>::read(&r);
    x64vm_reader_end(&r);
    return v;
}

} // namespace x64vm
#endif /* __cplusplus */

#endif /* X64VM_H */
