/* A minimal contract for deploy/constructor tests: init(u64) stores x (reverts
 * on 0), get() returns it. `sel.h` defines ABI_TEXT, SEL_init and SEL_get. */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define HC(N, a, b, c, d) ({                                                  \
    u64 r_;                                                                   \
    __asm__ volatile("int %1"                                                 \
                     : "=a"(r_)                                               \
                     : "i"(N), "D"((u64)(a)), "S"((u64)(b)), "d"((u64)(c)),   \
                       "c"((u64)(d))                                          \
                     : "memory");                                             \
    r_;                                                                       \
})

__attribute__((used, section(".x64vm.abi"))) static const char abi_text[] = ABI_TEXT;

void _start(const u8 *in, u64 len) {
    if (len < 4) HC(0x23, "short", 5, 0, 0);
    u32 sel = in[0] | in[1] << 8 | in[2] << 16 | (u32)in[3] << 24;
    u64 x = 0;
    if (sel == SEL_init && len == 12) {
        for (int i = 0; i < 8; i++) x |= (u64)in[4 + i] << (8 * i);
        if (x == 0) HC(0x23, "zero", 4, 0, 0);
        HC(0x31, "x", 1, &x, 8);
    } else if (sel == SEL_get) {
        HC(0x30, "x", 1, &x, 8);
        HC(0x22, &x, 8, 0, 0);
    } else {
        HC(0x23, "unknown selector", 16, 0, 0);
    }
}
