/* The native reference harness: linked with a test program compiled with
 * -DX64VM_NATIVE, it serves the host calls with libc, calls run(arg) and prints
 *
 *   rax <decimal>
 *   output <hex, or "-" when the program never called output>
 *   debug <hex>
 *
 * Usage: prog.native <arg> [<input as hex>]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t run(uint64_t arg);

static unsigned char *out_buf;
static size_t out_len;
static int out_set;
static unsigned char *dbg_buf;
static size_t dbg_len;
static unsigned char *in_buf;
static size_t in_len;

void host_debug(const void *ptr, uint64_t len) {
    dbg_buf = realloc(dbg_buf, dbg_len + len + 1);
    memcpy(dbg_buf + dbg_len, ptr, len);
    dbg_len += len;
}

void host_output(const void *ptr, uint64_t len) {
    free(out_buf);
    out_buf = malloc(len + 1);
    memcpy(out_buf, ptr, len);
    out_len = len;
    out_set = 1;
}

void *host_alloc(uint64_t size, uint64_t align) {
    if (align < sizeof(void *))
        align = sizeof(void *);
    size_t rounded = (size + align - 1) / align * align;
    return aligned_alloc(align, rounded ? rounded : align);
}

void host_free(void *ptr) { free(ptr); }

uint64_t host_input_len(void) { return in_len; }

uint64_t host_input_read(void *dst, uint64_t off, uint64_t len) {
    if (off >= in_len)
        return 0;
    if (len > in_len - off)
        len = in_len - off;
    memcpy(dst, in_buf + off, len);
    return len;
}

static void print_hex(const char *label, const unsigned char *p, size_t n) {
    printf("%s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <arg> [<input hex>]\n", argv[0]);
        return 2;
    }
    uint64_t arg = strtoull(argv[1], NULL, 0);
    if (argc > 2) {
        const char *h = argv[2];
        in_len = strlen(h) / 2;
        in_buf = malloc(in_len + 1);
        for (size_t i = 0; i < in_len; i++) {
            unsigned v;
            sscanf(h + 2 * i, "%2x", &v);
            in_buf[i] = (unsigned char)v;
        }
    }
    uint64_t r = run(arg);
    printf("rax %llu\n", (unsigned long long)r);
    if (out_set)
        print_hex("output", out_buf, out_len);
    else
        printf("output -\n");
    print_hex("debug", dbg_buf, dbg_len);
    return 0;
}
