/* Switch statements: a bytecode interpreter whose dispatch is a dense switch
 * (a jump table, `notrack jmp` with endbr64 builds), a value switch that gcc
 * turns into a lookup table, a sparse switch that becomes a compare tree, and
 * threaded code with computed goto. */
#include "common.h"

enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_ADD, OP_SUB, OP_MUL, OP_DIVU,
    OP_MODU, OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR, OP_SAR, OP_NEG, OP_NOT, OP_INC, OP_DEC,
    OP_EQ, OP_LT, OP_LTS, OP_JMP, OP_JZ, OP_JNZ, OP_LOAD, OP_STORE, OP_ROT, OP_MIN, OP_MAX,
    OP_ABS, OP_SQR, OP_HASH, OP_NOP,
};

struct insn {
    uint8_t op;
    int32_t arg;
};

static uint64_t vm_run(const struct insn *code, uint64_t input, uint64_t *steps) {
    uint64_t stack[64];
    uint64_t vars[8] = {0};
    int sp = 0;
    int pc = 0;
    uint64_t n = 0;
    stack[sp++] = input;
    for (;;) {
        const struct insn *in = &code[pc++];
        n++;
        uint64_t a, b;
        switch (in->op) {
        case OP_HALT:
            *steps = n;
            return sp > 0 ? stack[sp - 1] : 0;
        case OP_PUSH:
            stack[sp++] = (uint64_t)(int64_t)in->arg;
            break;
        case OP_POP:
            sp--;
            break;
        case OP_DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case OP_SWAP:
            a = stack[sp - 1];
            stack[sp - 1] = stack[sp - 2];
            stack[sp - 2] = a;
            break;
        case OP_OVER:
            stack[sp] = stack[sp - 2];
            sp++;
            break;
        case OP_ADD:
            b = stack[--sp];
            stack[sp - 1] += b;
            break;
        case OP_SUB:
            b = stack[--sp];
            stack[sp - 1] -= b;
            break;
        case OP_MUL:
            b = stack[--sp];
            stack[sp - 1] *= b;
            break;
        case OP_DIVU:
            b = stack[--sp];
            stack[sp - 1] = b ? stack[sp - 1] / b : 0;
            break;
        case OP_MODU:
            b = stack[--sp];
            stack[sp - 1] = b ? stack[sp - 1] % b : 0;
            break;
        case OP_AND:
            b = stack[--sp];
            stack[sp - 1] &= b;
            break;
        case OP_OR:
            b = stack[--sp];
            stack[sp - 1] |= b;
            break;
        case OP_XOR:
            b = stack[--sp];
            stack[sp - 1] ^= b;
            break;
        case OP_SHL:
            b = stack[--sp];
            stack[sp - 1] <<= (b & 63);
            break;
        case OP_SHR:
            b = stack[--sp];
            stack[sp - 1] >>= (b & 63);
            break;
        case OP_SAR:
            b = stack[--sp];
            stack[sp - 1] = (uint64_t)((int64_t)stack[sp - 1] >> (b & 63));
            break;
        case OP_NEG:
            stack[sp - 1] = 0 - stack[sp - 1];
            break;
        case OP_NOT:
            stack[sp - 1] = ~stack[sp - 1];
            break;
        case OP_INC:
            stack[sp - 1]++;
            break;
        case OP_DEC:
            stack[sp - 1]--;
            break;
        case OP_EQ:
            b = stack[--sp];
            stack[sp - 1] = stack[sp - 1] == b;
            break;
        case OP_LT:
            b = stack[--sp];
            stack[sp - 1] = stack[sp - 1] < b;
            break;
        case OP_LTS:
            b = stack[--sp];
            stack[sp - 1] = (int64_t)stack[sp - 1] < (int64_t)b;
            break;
        case OP_JMP:
            pc = in->arg;
            break;
        case OP_JZ:
            if (stack[--sp] == 0)
                pc = in->arg;
            break;
        case OP_JNZ:
            if (stack[--sp] != 0)
                pc = in->arg;
            break;
        case OP_LOAD:
            stack[sp++] = vars[in->arg & 7];
            break;
        case OP_STORE:
            vars[in->arg & 7] = stack[--sp];
            break;
        case OP_ROT:
            a = stack[sp - 3];
            stack[sp - 3] = stack[sp - 2];
            stack[sp - 2] = stack[sp - 1];
            stack[sp - 1] = a;
            break;
        case OP_MIN:
            b = stack[--sp];
            if (b < stack[sp - 1])
                stack[sp - 1] = b;
            break;
        case OP_MAX:
            b = stack[--sp];
            if (b > stack[sp - 1])
                stack[sp - 1] = b;
            break;
        case OP_ABS:
            if ((int64_t)stack[sp - 1] < 0)
                stack[sp - 1] = 0 - stack[sp - 1];
            break;
        case OP_SQR:
            stack[sp - 1] *= stack[sp - 1];
            break;
        case OP_HASH:
            stack[sp - 1] = mix(stack[sp - 1], vars[0]);
            break;
        case OP_NOP:
            break;
        default:
            *steps = n;
            return 0xdead;
        }
    }
}

/* var0 = input; var1 = 1; while (var0) { var1 = f(var1, var0); var0--; } return g(var1); */
static const struct insn program[] = {
    /* 0 */ {OP_STORE, 0},  /* var0 = input (loop counter) */
    /* 1 */ {OP_PUSH, 1},   {OP_STORE, 1},   /* var1 = 1 */
    /* 3: loop */
    {OP_LOAD, 0},  {OP_JZ, 40},
    {OP_LOAD, 1},  {OP_PUSH, 3},    {OP_MUL, 0},   {OP_INC, 0},   {OP_PUSH, -7},
    {OP_XOR, 0},   {OP_DUP, 0},     {OP_PUSH, 13}, {OP_SHR, 0},   {OP_XOR, 0},
    {OP_LOAD, 0},  {OP_PUSH, 5},    {OP_MODU, 0},  {OP_PUSH, 2},  {OP_LT, 0},
    {OP_JZ, 24},   {OP_HASH, 0},    {OP_PUSH, 3},  {OP_SAR, 0},
    /* 24 */ {OP_DUP, 0}, {OP_ABS, 0}, {OP_SWAP, 0}, {OP_OVER, 0}, {OP_MIN, 0},
    {OP_LOAD, 1},  {OP_ROT, 0},     {OP_MAX, 0},   {OP_ADD, 0},   {OP_NOT, 0},
    {OP_NEG, 0},   {OP_STORE, 1},
    {OP_LOAD, 0},  {OP_DEC, 0},     {OP_STORE, 0}, {OP_JMP, 3},
    /* 40 */ {OP_LOAD, 1}, {OP_DUP, 0}, {OP_SQR, 0}, {OP_PUSH, 1000003}, {OP_DIVU, 0},
    {OP_XOR, 0},   {OP_PUSH, 0x7fffffff}, {OP_AND, 0}, {OP_PUSH, 9}, {OP_SHL, 0},
    {OP_PUSH, 77}, {OP_OR, 0}, {OP_DUP, 0}, {OP_PUSH, -100}, {OP_LTS, 0}, {OP_PUSH, 0},
    {OP_EQ, 0},    {OP_LOAD, 1}, {OP_ADD, 0}, {OP_SUB, 0}, {OP_NOP, 0}, {OP_HALT, 0},
};

/* A switch from values to values: a lookup table (CSWTCH) at -O1 and up. */
static uint32_t days_in_month(uint32_t m) {
    switch (m) {
    case 1: return 31;
    case 2: return 28;
    case 3: return 31;
    case 4: return 30;
    case 5: return 31;
    case 6: return 30;
    case 7: return 31;
    case 8: return 31;
    case 9: return 30;
    case 10: return 31;
    case 11: return 30;
    case 12: return 31;
    default: return 0;
    }
}

/* Sparse cases: a binary tree of compares. */
static uint64_t sparse(uint64_t v) {
    switch (v) {
    case 3: return 1;
    case 100: return 2;
    case 1000: return 3;
    case 4096: return 4;
    case 65537: return 5;
    case 1000000: return 6;
    case 0x7fffffff: return 7;
    case 0x100000000ULL: return 8;
    default: return v & 1 ? 9 : 10;
    }
}

/* Dense cases with distinct bodies and fall-through. */
static uint64_t dense(uint64_t v, uint64_t acc) {
    switch (v % 24) {
    case 0: acc += 1;
    /* fall through */
    case 1: acc ^= 0x55; break;
    case 2: acc = acc * 3 + 1; break;
    case 3: acc >>= 1; break;
    case 4: acc <<= 2; break;
    case 5: acc = ~acc; break;
    case 6: acc -= v; break;
    case 7: acc += v * v; break;
    case 8: acc = mix(acc, v); break;
    case 9: acc |= 1ULL << (v & 63); break;
    case 10: acc &= ~(1ULL << (v & 63)); break;
    case 11: acc = (acc << 7) | (acc >> 57); break;
    case 12: acc ^= acc >> 31; break;
    case 13: acc += 0x9e3779b97f4a7c15ULL; break;
    case 14: acc = acc / 3; break;
    case 15: acc = acc % 1000003; /* fall through */
    case 16: acc += 16; break;
    case 17: acc *= 17; break;
    case 18: acc ^= v << 18; break;
    case 19: acc = acc - (acc >> 19); break;
    case 20: acc += days_in_month((uint32_t)(v % 13)); break;
    case 21: acc += sparse(v); break;
    case 22: acc = (acc & 0xffffffff) * (acc >> 32); break;
    default: acc += 23; break;
    }
    return acc;
}

/* Threaded code with computed goto (labels as values): an indirect jmp per op. */
static uint64_t threaded(const uint8_t *ops, size_t n, uint64_t x) {
    static const void *const labels[] = {&&op_add, &&op_xor, &&op_rot, &&op_mul, &&op_end};
    size_t pc = 0;
    uint64_t acc = x;
#define NEXT() goto *labels[pc < n ? ops[pc++] % 4 : 4]
    NEXT();
op_add:
    acc += pc * 0x9e37;
    NEXT();
op_xor:
    acc ^= acc >> 29;
    NEXT();
op_rot:
    acc = (acc << 13) | (acc >> 51);
    NEXT();
op_mul:
    acc *= 0xbf58476d1ce4e5b9ULL;
    NEXT();
op_end:
#undef NEXT
    return acc;
}

uint64_t run(uint64_t iters) {
    uint64_t steps = 0;
    uint64_t h = CHECKSUM_INIT;
    h = mix(h, vm_run(program, iters, &steps));
    h = mix(h, steps);
    uint64_t acc = 1;
    for (uint64_t i = 0; i < iters * 10; i++)
        acc = dense(i * 7 + (acc & 3), acc);
    h = mix(h, acc);
    uint64_t sp = 0;
    static const uint64_t probes[] = {3, 4, 100, 1000, 4096, 4097, 65537, 1000000,
                                      0x7fffffff, 0x100000000ULL, 5, 0};
    for (int i = 0; i < 12; i++)
        sp = sp * 11 + sparse(probes[i]);
    h = mix(h, sp);
    for (uint32_t m = 0; m < 14; m++)
        h = mix(h, days_in_month(m));
    uint8_t ops[200];
    uint64_t s = iters;
    for (int i = 0; i < 200; i++)
        ops[i] = (uint8_t)lcg_next(&s);
    h = mix(h, threaded(ops, 200, iters));
    return h;
}
