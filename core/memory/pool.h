/* The tensor pool: storage for activations and their gradients that is
 * handed back as soon as nothing needs it any more, so an iteration's peak
 * is the largest set of tensors alive at one time rather than the sum of
 * every tensor it made. Regions (reserved address space, resident only
 * where touched) come from the system once and are kept:
 * after the first iterations (same shapes, same order of requests, same
 * best-fit choices) nothing is taken from the system again. On a device
 * backend the regions are backend memory (wb_pool_init_on): the bookkeeping
 * only does arithmetic on their addresses, so it never touches them. */
#ifndef WB_CORE_POOL_H
#define WB_CORE_POOL_H

#include <stddef.h>
#include <stdint.h>

struct wb_backend;

typedef struct wb_pool_range {
    unsigned char *p;
    size_t n;
    int region;
} wb_pool_range;

typedef struct wb_pool {
    unsigned char **regions;
    size_t *region_size;
    size_t *region_top;    /* highest offset ever handed out: the touched part */
    int n_regions, region_cap;
    wb_pool_range *free;   /* sorted by address; neighbours in one region are merged */
    int n_free, free_cap;
    size_t in_use, peak;   /* bytes handed out now / at most since creation */
    size_t reserved;       /* bytes of the regions' touched parts: what can be resident */
    uint64_t system_allocs;
    const struct wb_backend *backend; /* NULL: regions of host address space; else WB_BUF_COMPUTE memory */
} wb_pool;

void wb_pool_init(wb_pool *p);
void wb_pool_init_on(wb_pool *p, const struct wb_backend *backend);
/* 64-byte aligned, uninitialised; NULL when the system is out of memory. */
void *wb_pool_alloc(wb_pool *p, size_t bytes);
/* Gives back what wb_pool_alloc(p, bytes) returned (bytes as asked for). */
void wb_pool_free(wb_pool *p, void *ptr, size_t bytes);
/* Forgets every allocation: all regions are free again. */
void wb_pool_reset(wb_pool *p);
void wb_pool_release(wb_pool *p);

#endif
