/* The heap and the input: a hash map and a binary search tree built with the
 * alloc/free host calls, over words read from the call input. */
#include "common.h"

struct entry {
    struct entry *next;
    uint64_t hash;
    uint32_t len;
    uint32_t count;
    char word[];
};

struct tree {
    struct tree *left, *right;
    uint64_t key;
    uint64_t count;
};

static uint64_t hash_bytes(const char *p, uint32_t n) {
    uint64_t h = CHECKSUM_INIT;
    for (uint32_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static struct tree *tree_insert(struct tree *t, uint64_t key, uint64_t *allocs) {
    struct tree **slot = &t;
    while (*slot) {
        if (key == (*slot)->key) {
            (*slot)->count++;
            return t;
        }
        slot = key < (*slot)->key ? &(*slot)->left : &(*slot)->right;
    }
    struct tree *n = host_alloc(sizeof(struct tree), 8);
    (*allocs)++;
    n->left = n->right = 0;
    n->key = key;
    n->count = 1;
    *slot = n;
    return t;
}

static uint64_t tree_walk(const struct tree *t, uint64_t h, uint64_t depth, uint64_t *max_depth) {
    if (!t)
        return h;
    if (depth > *max_depth)
        *max_depth = depth;
    h = tree_walk(t->left, h, depth + 1, max_depth);
    h = mix(h, t->key ^ t->count);
    return tree_walk(t->right, h, depth + 1, max_depth);
}

static void tree_free(struct tree *t) {
    if (!t)
        return;
    tree_free(t->left);
    tree_free(t->right);
    host_free(t);
}

uint64_t run(uint64_t buckets_log2) {
    uint64_t len = host_input_len();
    char *text = host_alloc(len + 1, 1);
    uint64_t got = 0;
    /* Read in uneven pieces to exercise offsets. */
    while (got < len) {
        uint64_t piece = 1 + got % 37;
        uint64_t n = host_input_read(text + got, got, piece);
        if (n == 0)
            break;
        got += n;
    }
    text[got] = 0;
    uint64_t past_end = host_input_read(text, len + 5, 10);

    uint64_t nb = 1ULL << (buckets_log2 & 15);
    struct entry **table = host_alloc(nb * sizeof(struct entry *), 64);
    for (uint64_t i = 0; i < nb; i++)
        table[i] = 0;

    uint64_t words = 0, distinct = 0, allocs = 0;
    struct tree *root = 0;
    for (uint64_t i = 0; i < got;) {
        while (i < got && (text[i] == ' ' || text[i] == '\n' || text[i] == ','))
            i++;
        uint64_t start = i;
        while (i < got && !(text[i] == ' ' || text[i] == '\n' || text[i] == ','))
            i++;
        if (i == start)
            continue;
        uint32_t wl = (uint32_t)(i - start);
        uint64_t hv = hash_bytes(text + start, wl);
        words++;
        struct entry **slot = &table[hv & (nb - 1)];
        while (*slot && !((*slot)->hash == hv && (*slot)->len == wl &&
                          memcmp((*slot)->word, text + start, wl) == 0))
            slot = &(*slot)->next;
        if (*slot) {
            (*slot)->count++;
        } else {
            struct entry *e = host_alloc(sizeof(struct entry) + wl + 1, 8);
            allocs++;
            e->next = 0;
            e->hash = hv;
            e->len = wl;
            e->count = 1;
            memcpy(e->word, text + start, wl);
            e->word[wl] = 0;
            *slot = e;
            distinct++;
        }
        root = tree_insert(root, hv % 1000, &allocs);
    }

    uint64_t h = CHECKSUM_INIT;
    uint64_t max_chain = 0;
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t chain = 0;
        for (struct entry *e = table[b]; e; e = e->next) {
            chain++;
            h ^= mix(e->hash, e->count);   /* order-independent within the table */
        }
        if (chain > max_chain)
            max_chain = chain;
    }
    uint64_t depth = 0;
    h = tree_walk(root, h, 0, &depth);

    for (uint64_t b = 0; b < nb; b++) {
        struct entry *e = table[b];
        while (e) {
            struct entry *n = e->next;
            host_free(e);
            e = n;
        }
    }
    tree_free(root);
    host_free(table);
    host_free(text);
    /* Everything was freed: a large allocation fits again. */
    void *again = host_alloc(1 << 20, 4096);
    uint64_t ok = again != 0 && ((uintptr_t)again & 4095) == 0;
    host_free(again);

    h = mix(h, words);
    h = mix(h, distinct);
    h = mix(h, allocs);
    h = mix(h, max_chain);
    h = mix(h, depth);
    h = mix(h, past_end);
    h = mix(h, got);
    return h * 2 + ok;
}
