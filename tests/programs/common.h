/* Shared header of the whole-program tests (crates/x64vm/tests/programs.rs).
 *
 * Every program is one translation unit that includes this header and defines
 * `uint64_t run(uint64_t arg)`. It is built two ways:
 *
 *   - as an x64vm guest: freestanding, no libc. The host services are `int imm8`
 *     (numbers from x64vm-abi) and this header supplies the few libc symbols gcc
 *     may call on its own (memcpy, memset, memmove, memcmp).
 *   - natively with -DX64VM_NATIVE, linked with native_main.c, which implements
 *     the host services with libc and prints what run() produced. That run is the
 *     reference the VM is compared with.
 */
#ifndef X64VM_TEST_COMMON_H
#define X64VM_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

uint64_t run(uint64_t arg);

/* libc's declarations; the guest build defines them below, the native one uses libc. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#ifdef X64VM_NATIVE

void host_debug(const void *ptr, uint64_t len);
void host_output(const void *ptr, uint64_t len);
void *host_alloc(uint64_t size, uint64_t align);
void host_free(void *ptr);
uint64_t host_input_len(void);
uint64_t host_input_read(void *dst, uint64_t off, uint64_t len);

#else /* the x64vm guest */

static inline void host_debug(const void *ptr, uint64_t len) {
    uint64_t r;
    __asm__ volatile("int $0x24" : "=a"(r) : "D"(ptr), "S"(len) : "memory");
    (void)r;
}

static inline void host_output(const void *ptr, uint64_t len) {
    uint64_t r;
    __asm__ volatile("int $0x22" : "=a"(r) : "D"(ptr), "S"(len) : "memory");
    (void)r;
}

static inline void *host_alloc(uint64_t size, uint64_t align) {
    void *r;
    __asm__ volatile("int $0x25" : "=a"(r) : "D"(size), "S"(align) : "memory");
    return r;
}

static inline void host_free(void *ptr) {
    uint64_t r;
    __asm__ volatile("int $0x26" : "=a"(r) : "D"(ptr) : "memory");
    (void)r;
}

static inline uint64_t host_input_len(void) {
    uint64_t r;
    __asm__ volatile("int $0x20" : "=a"(r) : : "memory");
    return r;
}

static inline uint64_t host_input_read(void *dst, uint64_t off, uint64_t len) {
    uint64_t r;
    __asm__ volatile("int $0x21" : "=a"(r) : "D"(dst), "S"(off), "d"(len) : "memory");
    return r;
}

/* gcc emits calls to these for struct copies, array initialisers and loops it
 * recognises, even with -ffreestanding. Written with string instructions so that
 * they cannot be turned back into calls to themselves. */
void *memcpy(void *dst, const void *src, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    return ret;
}

void *memset(void *dst, int c, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n) {
    void *ret = dst;
    if ((uintptr_t)dst - (uintptr_t)src >= n) {
        __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    } else if (n > 0) {
        /* Overlapping with dst above src: copy backwards (DF = 1). */
        unsigned char *d = (unsigned char *)dst + n - 1;
        const unsigned char *s = (const unsigned char *)src + n - 1;
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return ret;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

/* The ELF entry point, for `x64vm run` without --entry. */
uint64_t _start(void) { return run(0); }

#endif /* X64VM_NATIVE */

/* Helpers shared by the programs. */

/* A 64-bit LCG (Knuth's MMIX constants); the high bits are the useful ones. */
static inline uint64_t lcg_next(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state >> 17;
}

/* Mixes a value into a running checksum (FNV-1a style over the 8 bytes). */
static inline uint64_t mix(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define CHECKSUM_INIT 0xcbf29ce484222325ULL

/* Appends the decimal form of v to buf; returns the new length. */
static inline size_t put_u64(char *buf, size_t len, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

/* Appends a NUL-terminated string to buf; returns the new length. */
static inline size_t put_str(char *buf, size_t len, const char *s) {
    while (*s)
        buf[len++] = *s++;
    return len;
}

#endif /* X64VM_TEST_COMMON_H */
