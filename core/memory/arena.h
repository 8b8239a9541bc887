/* Bump-pointer arenas. The weights arena holds what lives for the whole run
 * (parameters, gradients, optimizer state); the compute arena holds one
 * iteration's activations, tape and temporaries and is reset after the
 * optimizer step. After the first reset the compute arena is one block as
 * large as the first iteration's peak, so later iterations allocate nothing
 * from the system. On a device backend the data of the weights arena (and of
 * the kernels' per-iteration scratch) is a second arena whose blocks come
 * from the backend (wb_arena_init_on); headers stay in host arenas. */
#ifndef WB_CORE_ARENA_H
#define WB_CORE_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct wb_arena_block wb_arena_block;
struct wb_backend;

typedef struct wb_arena {
    const char *name;
    wb_arena_block *blocks;   /* newest first */
    size_t default_block;     /* size of a new block when none fits */
    size_t used;              /* bytes handed out since the last reset */
    size_t peak;              /* max of used over the arena's life */
    size_t reserved;          /* bytes held from the system */
    uint64_t system_allocs;   /* blocks ever taken from the system */
    const struct wb_backend *backend; /* NULL: host memory; else blocks from backend->alloc */
    int usage;                /* the wb_buffer_usage of those blocks */
} wb_arena;

void wb_arena_init(wb_arena *a, const char *name, size_t default_block);
/* An arena of backend memory (usage: WB_BUF_WEIGHTS or WB_BUF_COMPUTE); only
 * the backend's kernels and copies may touch what it hands out. */
void wb_arena_init_on(wb_arena *a, const char *name, size_t default_block, const struct wb_backend *backend,
                      int usage);
/* 64-byte aligned, uninitialised; NULL when the system is out of memory. */
void *wb_arena_alloc(wb_arena *a, size_t bytes);
/* Zeroed (by the backend's zero on a backend arena). */
void *wb_arena_calloc(wb_arena *a, size_t bytes);
/* Forget every allocation. If more than one block was in use they are merged
 * into one block of the peak size. */
void wb_arena_reset(wb_arena *a);
void wb_arena_release(wb_arena *a);

#endif
