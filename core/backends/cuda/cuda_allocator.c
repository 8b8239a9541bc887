/* The caching device allocator (cuda_allocator.h says what and why). Blocks
 * of one device segment form an address-ordered list, so freed neighbours
 * merge; free blocks wait in a size-ordered list per pool (small, large) for
 * a best fit; live blocks are found from their pointer in a hash table. */
#include "cuda_allocator.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct block block;
struct block {
    char *ptr;
    size_t size;
    bool live;
    bool small;           /* from a small segment (the small pool) */
    uint64_t freed_epoch; /* epoch of the last free of this memory; 0: never used */
    block *prev, *next;   /* neighbours within the segment */
    block *free_next;     /* the pool's free list, by size */
    block *hash_next;     /* live blocks' table chain */
    block *seg_next;      /* segment heads (prev == NULL) only: the list of segments */
};

struct wb_cuda_allocator {
    wb_cuda_device_ops ops;
    size_t limit;
    uint64_t epoch;
    block *free_small, *free_large;
    block *segments;
    block **table;
    size_t table_size, n_live;
    wb_cuda_alloc_stats st;
};

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static size_t slot_of(const wb_cuda_allocator *a, const void *ptr) {
    uint64_t h = (uint64_t)(uintptr_t)ptr / WB_CUDA_ALLOC_ROUND * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (a->table_size - 1);
}

static bool table_grow(wb_cuda_allocator *a) {
    size_t n = a->table_size ? a->table_size * 2 : 1024;
    block **t = calloc(n, sizeof *t);
    if (!t) return false;
    block **old = a->table;
    size_t old_n = a->table_size;
    a->table = t;
    a->table_size = n;
    for (size_t i = 0; i < old_n; i++)
        for (block *b = old[i], *next; b; b = next) {
            next = b->hash_next;
            size_t s = slot_of(a, b->ptr);
            b->hash_next = t[s];
            t[s] = b;
        }
    free(old);
    return true;
}

static block **table_find(const wb_cuda_allocator *a, const void *ptr) {
    if (!a->table_size) return NULL;
    for (block **p = &a->table[slot_of(a, ptr)]; *p; p = &(*p)->hash_next)
        if ((*p)->ptr == ptr) return p;
    return NULL;
}

static block **pool_of(wb_cuda_allocator *a, const block *b) { return b->small ? &a->free_small : &a->free_large; }

static void free_list_insert(wb_cuda_allocator *a, block *b) {
    block **p = pool_of(a, b);
    while (*p && ((*p)->size < b->size || ((*p)->size == b->size && (*p)->ptr < b->ptr))) p = &(*p)->free_next;
    b->free_next = *p;
    *p = b;
}

static void free_list_remove(wb_cuda_allocator *a, block *b) {
    block **p = pool_of(a, b);
    while (*p != b) p = &(*p)->free_next;
    *p = b->free_next;
    b->free_next = NULL;
}

/* Best fit: the smallest free block that holds `need`, taken off its list. */
static block *take_fit(wb_cuda_allocator *a, size_t need, bool small) {
    for (block **p = small ? &a->free_small : &a->free_large; *p; p = &(*p)->free_next)
        if ((*p)->size >= need) {
            block *b = *p;
            *p = b->free_next;
            b->free_next = NULL;
            return b;
        }
    return NULL;
}

static void release_segment(wb_cuda_allocator *a, block *head) {
    a->ops.free(a->ops.ctx, head->ptr);
    a->st.reserved -= head->size;
    a->st.device_frees++;
    free(head);
}

void wb_cuda_allocator_release_cached(wb_cuda_allocator *a) {
    bool any = false;
    for (block *s = a->segments; s && !any; s = s->seg_next) any = !s->live && !s->next;
    if (!any) return;
    a->ops.synchronize(a->ops.ctx); /* launches still queued may use the cached memory */
    for (block **p = &a->segments; *p;) {
        block *s = *p;
        if (s->live || s->next) {
            p = &s->seg_next;
            continue;
        }
        *p = s->seg_next;
        free_list_remove(a, s);
        release_segment(a, s);
    }
    a->st.cached = a->st.reserved - a->st.allocated;
    a->st.releases++;
}

static void *device_malloc(wb_cuda_allocator *a, size_t bytes) {
    if (a->limit && a->st.reserved + bytes > a->limit) return NULL;
    void *p = a->ops.malloc(a->ops.ctx, bytes);
    if (p) a->st.device_mallocs++;
    return p;
}

/* A new segment for `need` bytes as one free block; NULL when even after
 * releasing the cache neither the usual segment size nor the exact size fits. */
static block *new_segment(wb_cuda_allocator *a, size_t need, bool small) {
    size_t usual = small ? WB_CUDA_SMALL_SEGMENT
                   : need < WB_CUDA_MEDIUM_MAX ? WB_CUDA_MEDIUM_SEGMENT
                                               : round_up(need, WB_CUDA_LARGE_ROUND);
    size_t exact = small ? usual : round_up(need, WB_CUDA_LARGE_ROUND);
    block *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    size_t size = usual;
    void *p = device_malloc(a, size);
    if (!p && exact < usual) p = device_malloc(a, size = exact);
    if (!p) {
        wb_cuda_allocator_release_cached(a);
        size = usual;
        p = device_malloc(a, size);
        if (!p && exact < usual) p = device_malloc(a, size = exact);
    }
    if (!p) {
        free(b);
        return NULL;
    }
    *b = (block){ .ptr = p, .size = size, .small = small, .seg_next = a->segments };
    a->segments = b;
    a->st.reserved += size;
    if (a->st.reserved > a->st.peak_reserved) a->st.peak_reserved = a->st.reserved;
    return b;
}

/* Cuts `need` bytes off the front of b; the rest becomes a free block when
 * it is worth keeping (in the large pool: more than a small request). */
static void split(wb_cuda_allocator *a, block *b, size_t need) {
    size_t rest = b->size - need;
    if (rest < (b->small ? WB_CUDA_ALLOC_ROUND : WB_CUDA_SMALL_MAX + 1)) return;
    block *r = calloc(1, sizeof *r);
    if (!r) return; /* the block just stays whole */
    *r = (block){ .ptr = b->ptr + need, .size = rest, .small = b->small, .freed_epoch = b->freed_epoch,
                  .prev = b, .next = b->next };
    if (b->next) b->next->prev = r;
    b->next = r;
    b->size = need;
    free_list_insert(a, r);
}

void *wb_cuda_allocator_alloc(wb_cuda_allocator *a, size_t bytes) {
    if (bytes > SIZE_MAX - WB_CUDA_LARGE_ROUND) {
        a->st.failures++;
        return NULL;
    }
    size_t need = round_up(bytes ? bytes : 1, WB_CUDA_ALLOC_ROUND);
    bool small = need <= WB_CUDA_SMALL_MAX;
    if (a->n_live + 1 > a->table_size / 2 && !table_grow(a)) return NULL;
    block *b = take_fit(a, need, small);
    if (!b && !(b = new_segment(a, need, small))) {
        a->st.failures++;
        return NULL;
    }
    split(a, b, need);
    b->live = true;
    size_t s = slot_of(a, b->ptr);
    b->hash_next = a->table[s];
    a->table[s] = b;
    a->n_live++;
    a->st.allocated += b->size;
    if (a->st.allocated > a->st.peak_allocated) a->st.peak_allocated = a->st.allocated;
    a->st.cached = a->st.reserved - a->st.allocated;
    return b->ptr;
}

/* b absorbs n, the block after it in the segment (on no free list). */
static void absorb_next(block *b, block *n) {
    b->size += n->size;
    if (n->freed_epoch > b->freed_epoch) b->freed_epoch = n->freed_epoch;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    free(n);
}

bool wb_cuda_allocator_free(wb_cuda_allocator *a, void *ptr) {
    if (!ptr) return true;
    block **p = table_find(a, ptr);
    if (!p) return false;
    block *b = *p;
    *p = b->hash_next;
    b->hash_next = NULL;
    a->n_live--;
    a->st.allocated -= b->size;
    a->st.cached = a->st.reserved - a->st.allocated;
    b->live = false;
    b->freed_epoch = a->epoch;
    if (b->next && !b->next->live) {
        free_list_remove(a, b->next);
        absorb_next(b, b->next);
    }
    if (b->prev && !b->prev->live) {
        block *prev = b->prev;
        free_list_remove(a, prev);
        absorb_next(prev, b);
        b = prev;
    }
    free_list_insert(a, b);
    return true;
}

bool wb_cuda_allocator_settled(const wb_cuda_allocator *a, const void *ptr) {
    block **p = table_find(a, ptr);
    return p && (*p)->freed_epoch < a->epoch;
}

void wb_cuda_allocator_settle(wb_cuda_allocator *a) { a->epoch++; }

wb_cuda_allocator *wb_cuda_allocator_create(const wb_cuda_device_ops *ops, size_t limit) {
    wb_cuda_allocator *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->ops = *ops;
    a->limit = limit;
    a->epoch = 1; /* fresh memory (epoch 0) is settled from the start */
    return a;
}

void wb_cuda_allocator_destroy(wb_cuda_allocator *a) {
    if (!a) return;
    if (a->segments) a->ops.synchronize(a->ops.ctx);
    for (block *s = a->segments, *next_seg; s; s = next_seg) {
        next_seg = s->seg_next;
        for (block *b = s->next, *next; b; b = next) {
            next = b->next;
            free(b);
        }
        release_segment(a, s);
    }
    free(a->table);
    free(a);
}

wb_cuda_alloc_stats wb_cuda_allocator_stats(const wb_cuda_allocator *a) { return a->st; }

static void human(char *buf, size_t size, size_t bytes) {
    if (bytes >= (size_t)1 << 30)
        snprintf(buf, size, "%.2f GiB", (double)bytes / (double)((size_t)1 << 30));
    else
        snprintf(buf, size, "%.1f MiB", (double)bytes / (double)((size_t)1 << 20));
}

void wb_cuda_allocator_describe(const wb_cuda_allocator *a, char *buf, size_t size) {
    char al[32], ca[32], pk[32], li[40] = "no limit but the device's";
    human(al, sizeof al, a->st.allocated);
    human(ca, sizeof ca, a->st.cached);
    human(pk, sizeof pk, a->st.peak_allocated);
    if (a->limit) {
        char l[32];
        human(l, sizeof l, a->limit);
        snprintf(li, sizeof li, "limit %s", l);
    }
    snprintf(buf, size, "allocated %s, cached %s, peak %s, %s, %llu device mallocs", al, ca, pk, li,
             (unsigned long long)a->st.device_mallocs);
}
