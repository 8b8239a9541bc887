#include "pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../backends/backend.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
/* Freed storage is poisoned so that a kernel reading a tensor the tape did
 * not keep fails loudly under ASan instead of reading stale numbers. Device
 * memory has no shadow to poison. */
#define POISON(ptr, n) (p->backend ? (void)0 : ASAN_POISON_MEMORY_REGION(ptr, n))
#define UNPOISON(ptr, n) (p->backend ? (void)0 : ASAN_UNPOISON_MEMORY_REGION(ptr, n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_ALIGN 64
/* A region is address space reserved without backing (MAP_NORESERVE): pages
 * become resident only when first touched, and allocations that fit in freed
 * ranges keep the touched part low. One region large enough for any
 * iteration keeps every tensor in one address range: with 1 GiB regions,
 * yolov5s training (a live peak of 1.26 GiB) split over two regions and
 * touched 2 GiB of them. Where the system refuses the reservation
 * (overcommit disabled) it is halved. */
#define POOL_REGION ((size_t)64 << 30)
#define POOL_REGION_MIN ((size_t)1 << 30)
/* Device memory is committed when allocated, so device regions are smaller
 * and taken as needed (halved down to the request when refused). */
#define POOL_DEVICE_REGION ((size_t)1 << 30)

static size_t align_up(size_t n) { return (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1); }

void wb_pool_init(wb_pool *p) { memset(p, 0, sizeof *p); }

void wb_pool_init_on(wb_pool *p, const wb_backend *backend) {
    wb_pool_init(p);
    p->backend = backend;
}

static unsigned char *region_memory(const wb_pool *p, size_t need, size_t *size) {
    size_t want = p->backend ? POOL_DEVICE_REGION : POOL_REGION;
    size_t floor = p->backend ? need : POOL_REGION_MIN;
    *size = need > want ? need : want;
    for (;;) {
        void *mem = p->backend ? p->backend->alloc(*size, WB_BUF_COMPUTE)
                               : mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                      -1, 0);
        if (mem == MAP_FAILED) mem = NULL;
        if (mem || *size / 2 < need || *size / 2 < floor) return mem;
        *size /= 2;
    }
}

static void region_memory_free(const wb_pool *p, unsigned char *mem, size_t size) {
    if (p->backend) p->backend->free(mem, WB_BUF_COMPUTE);
    else munmap(mem, size);
}

static int insert_at(wb_pool *p, int at, wb_pool_range r) {
    if (p->n_free == p->free_cap) {
        int cap = p->free_cap ? 2 * p->free_cap : 256;
        wb_pool_range *grown = realloc(p->free, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        p->free = grown;
        p->free_cap = cap;
    }
    memmove(p->free + at + 1, p->free + at, (size_t)(p->n_free - at) * sizeof *p->free);
    p->free[at] = r;
    p->n_free++;
    return at;
}

static void remove_at(wb_pool *p, int at) {
    memmove(p->free + at, p->free + at + 1, (size_t)(p->n_free - at - 1) * sizeof *p->free);
    p->n_free--;
}

/* Index of the first range at an address above ptr. */
static int upper_bound(const wb_pool *p, const unsigned char *ptr) {
    int lo = 0, hi = p->n_free;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (p->free[mid].p <= ptr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Adds a free range, merging it with its neighbours in the same region. */
static void add_free(wb_pool *p, wb_pool_range r) {
    int at = upper_bound(p, r.p);
    if (at > 0) {
        wb_pool_range *left = &p->free[at - 1];
        if (left->region == r.region && left->p + left->n == r.p) {
            left->n += r.n;
            if (at < p->n_free && p->free[at].region == r.region && left->p + left->n == p->free[at].p) {
                left->n += p->free[at].n;
                remove_at(p, at);
            }
            return;
        }
    }
    if (at < p->n_free && p->free[at].region == r.region && r.p + r.n == p->free[at].p) {
        p->free[at].p = r.p;
        p->free[at].n += r.n;
        return;
    }
    /* Out of bookkeeping memory: the range stays unused until the next reset. */
    (void)insert_at(p, at, r);
}

static int add_region(wb_pool *p, size_t need) {
    if (p->n_regions == p->region_cap) {
        int cap = p->region_cap ? 2 * p->region_cap : 16;
        unsigned char **r = realloc(p->regions, (size_t)cap * sizeof *r);
        if (!r) return -1;
        p->regions = r;
        size_t *s = realloc(p->region_size, (size_t)cap * sizeof *s);
        if (!s) return -1;
        p->region_size = s;
        size_t *top = realloc(p->region_top, (size_t)cap * sizeof *top);
        if (!top) return -1;
        p->region_top = top;
        p->region_cap = cap;
    }
    size_t size;
    unsigned char *mem = region_memory(p, need, &size);
    if (!mem) return -1;
    int id = p->n_regions++;
    p->regions[id] = mem;
    p->region_size[id] = size;
    p->region_top[id] = 0;
    p->system_allocs++;
    add_free(p, (wb_pool_range){mem, size, id});
    return id;
}

/* Best fit: the smallest free range that holds need, the lowest of equals.
 * It leaves the large ranges whole for the large tensors to come, where
 * first fit by address cut them for small ones and left holes nothing could
 * use: Faster R-CNN R-50 training (512x512, batch 2) touched 916 MiB of
 * regions for a live peak of 772, 892 now; the other detectors the same or
 * less. The touched part stays low as most requests fit in the holes. */
static int best_fit(const wb_pool *p, size_t need) {
    int best = -1;
    for (int i = 0; i < p->n_free; i++)
        if (p->free[i].n >= need && (best < 0 || p->free[i].n < p->free[best].n)) best = i;
    return best;
}

void *wb_pool_alloc(wb_pool *p, size_t bytes) {
    size_t need = align_up(bytes ? bytes : 1);
    int i = best_fit(p, need);
    if (i < 0) {
        if (add_region(p, need) < 0) return NULL;
        i = best_fit(p, need);
        if (i < 0) return NULL;
    }
    unsigned char *ptr = p->free[i].p;
    int r = p->free[i].region;
    size_t end = (size_t)(ptr - p->regions[r]) + need;
    if (end > p->region_top[r]) {
        p->reserved += end - p->region_top[r];
        p->region_top[r] = end;
    }
    if (p->free[i].n == need) {
        remove_at(p, i);
    } else {
        p->free[i].p += need;
        p->free[i].n -= need;
    }
    p->in_use += need;
    if (p->in_use > p->peak) p->peak = p->in_use;
    UNPOISON(ptr, need);
    return ptr;
}

static int region_of(const wb_pool *p, const unsigned char *ptr) {
    for (int r = 0; r < p->n_regions; r++)
        if (ptr >= p->regions[r] && ptr < p->regions[r] + p->region_size[r]) return r;
    return -1;
}

void wb_pool_free(wb_pool *p, void *ptr, size_t bytes) {
    if (!ptr) return;
    size_t n = align_up(bytes ? bytes : 1);
    int region = region_of(p, ptr);
    if (region < 0) return;
    POISON(ptr, n);
    p->in_use -= n;
    add_free(p, (wb_pool_range){ptr, n, region});
}

void wb_pool_reset(wb_pool *p) {
    p->n_free = 0;
    for (int r = 0; r < p->n_regions; r++) {
        POISON(p->regions[r], p->region_top[r]);
        add_free(p, (wb_pool_range){p->regions[r], p->region_size[r], r});
    }
    p->in_use = 0;
}

void wb_pool_release(wb_pool *p) {
    for (int r = 0; r < p->n_regions; r++) {
        UNPOISON(p->regions[r], p->region_top[r]);
        region_memory_free(p, p->regions[r], p->region_size[r]);
    }
    free(p->regions);
    free(p->region_size);
    free(p->region_top);
    free(p->free);
    wb_pool_init_on(p, p->backend);
}
