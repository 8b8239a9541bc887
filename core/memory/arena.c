#include "arena.h"

#include <stdlib.h>
#include <string.h>
#include "../backends/backend.h"

#define ARENA_ALIGN 64

struct wb_arena_block {
    wb_arena_block *next;
    size_t size;
    size_t offset;
    unsigned char *data;
};

static size_t align_up(size_t n) { return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1); }

void wb_arena_init(wb_arena *a, const char *name, size_t default_block) {
    memset(a, 0, sizeof *a);
    a->name = name;
    a->default_block = default_block ? default_block : ((size_t)16 << 20);
}

void wb_arena_init_on(wb_arena *a, const char *name, size_t default_block, const wb_backend *backend, int usage) {
    wb_arena_init(a, name, default_block);
    a->backend = backend;
    a->usage = usage;
}

static void *block_memory(const wb_arena *a, size_t size) {
    return a->backend ? a->backend->alloc(size, (wb_buffer_usage)a->usage) : aligned_alloc(ARENA_ALIGN, size);
}

static void block_memory_free(const wb_arena *a, void *p) {
    if (a->backend) a->backend->free(p, (wb_buffer_usage)a->usage);
    else free(p);
}

static wb_arena_block *block_new(wb_arena *a, size_t size) {
    wb_arena_block *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->data = block_memory(a, align_up(size));
    if (!b->data) {
        free(b);
        return NULL;
    }
    b->size = align_up(size);
    b->offset = 0;
    b->next = a->blocks;
    a->blocks = b;
    a->reserved += b->size;
    a->system_allocs++;
    return b;
}

void *wb_arena_alloc(wb_arena *a, size_t bytes) {
    size_t need = align_up(bytes ? bytes : 1);
    /* Only the newest block is bumped: older ones are full enough. */
    wb_arena_block *b = a->blocks;
    if (!b || b->size - b->offset < need) {
        size_t size = need > a->default_block ? need : a->default_block;
        b = block_new(a, size);
        if (!b) return NULL;
    }
    void *p = b->data + b->offset;
    b->offset += need;
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void *wb_arena_calloc(wb_arena *a, size_t bytes) {
    void *p = wb_arena_alloc(a, bytes);
    if (p && a->backend) a->backend->zero(p, bytes);
    else if (p) memset(p, 0, bytes);
    return p;
}

static void free_blocks(wb_arena *a) {
    wb_arena_block *b = a->blocks;
    while (b) {
        wb_arena_block *next = b->next;
        block_memory_free(a, b->data);
        free(b);
        b = next;
    }
    a->blocks = NULL;
    a->reserved = 0;
}

void wb_arena_reset(wb_arena *a) {
    if (a->blocks && a->blocks->next) {
        /* Several blocks: replace them by one that holds the whole peak
         * (plus slack for alignment), so the next iteration needs no more. */
        size_t want = a->peak + a->peak / 16 + ARENA_ALIGN;
        free_blocks(a);
        block_new(a, want);
    } else if (a->blocks) {
        a->blocks->offset = 0;
    }
    a->used = 0;
}

void wb_arena_release(wb_arena *a) {
    free_blocks(a);
    a->used = 0;
}
