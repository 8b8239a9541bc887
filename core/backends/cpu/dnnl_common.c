/* Shared oneDNN engine, stream, object cache, reorders and scratch. */
#include "dnnl_common.h"

#include "../../memory/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl_debug.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t g_primitives_created;

static void create_engine(void) {
    if (dnnl_engine_create(&g_engine, dnnl_cpu, 0) != dnnl_success) {
        g_engine = NULL;
        return;
    }
    if (dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags) != dnnl_success)
        g_stream = NULL;
}

dnnl_engine_t wb_dnnl_engine(void) {
    pthread_once(&g_once, create_engine);
    return g_stream ? g_engine : NULL;
}

dnnl_stream_t wb_dnnl_stream(void) {
    pthread_once(&g_once, create_engine);
    return g_stream;
}

void wb_dnnl_set_threads(int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

const char *wb_dnnl_status_str(dnnl_status_t st) { return dnnl_status2str(st); }

void wb_dnnl_lock(void) { pthread_mutex_lock(&g_lock); }
void wb_dnnl_unlock(void) { pthread_mutex_unlock(&g_lock); }

dnnl_status_t wb_dnnl_primitive_create(dnnl_primitive_t *prim, const_dnnl_primitive_desc_t pd) {
    dnnl_status_t st = dnnl_primitive_create(prim, pd);
    if (st == dnnl_success) atomic_fetch_add(&g_primitives_created, 1);
    return st;
}

uint64_t wb_dnnl_primitives_created(void) { return atomic_load(&g_primitives_created); }

dnnl_status_t wb_dnnl_execute(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args) {
    dnnl_stream_t stream = wb_dnnl_stream();
    if (!stream) return dnnl_runtime_error;
    dnnl_status_t st = dnnl_primitive_execute(prim, stream, nargs, args);
    return st == dnnl_success ? dnnl_stream_wait(stream) : st;
}

dnnl_status_t wb_dnnl_pd_user_scratch(dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t desc, bool adds) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t st = wb_dnnl_engine() ? dnnl_primitive_attr_create(&attr) : dnnl_runtime_error;
    if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && adds) st = dnnl_post_ops_create(&po);
    if (st == dnnl_success && adds) st = dnnl_post_ops_append_sum(po, 1.0f);
    if (st == dnnl_success && adds) st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (po) dnnl_post_ops_destroy(po);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, desc, attr, wb_dnnl_engine(), NULL);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

dnnl_status_t wb_dnnl_scratchpad_of(const_dnnl_primitive_desc_t pd, dnnl_memory_t *mem, size_t *bytes) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    *mem = NULL;
    *bytes = md ? dnnl_memory_desc_get_size(md) : 0;
    return *bytes > 0 ? wb_dnnl_memory(mem, md) : dnnl_success;
}

bool wb_dnnl_is_reference(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    return dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
           strncmp(impl, "ref", 3) == 0;
}

dnnl_status_t wb_dnnl_matmul_run(dnnl_primitive_t prim, dnnl_memory_t src, const void *a, dnnl_memory_t weights,
                                 const void *b, dnnl_memory_t dst, void *c, dnnl_memory_t scratch,
                                 size_t scratch_bytes) {
    void *pad = scratch ? wb_dnnl_scratch_alloc(scratch_bytes) : NULL;
    dnnl_status_t st = pad || !scratch ? dnnl_success : dnnl_out_of_memory;
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(src, (void *)a);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(weights, (void *)b);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(dst, c);
    if (st == dnnl_success && pad) st = dnnl_memory_set_data_handle(scratch, pad);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst},
                               {DNNL_ARG_SCRATCHPAD, scratch}};
    if (st == dnnl_success) st = wb_dnnl_execute(prim, pad ? 4 : 3, args);
    wb_dnnl_scratch_free(pad, scratch_bytes);
    return st;
}

/* ---- cache: chained hash table; entries live until the cache is cleared ---- */

#define CACHE_BUCKETS 512
/* Variable input sizes (multi-scale training) would grow the cache without
 * bound; past this many entries it starts over, which costs one round of
 * primitive creation. */
#define CACHE_CAPACITY 2048

typedef struct cache_entry {
    struct cache_entry *next;
    const char *kind;
    void *key;
    size_t key_size;
    uint64_t hash;
    void *value;
    wb_dnnl_destroy_fn destroy;
} cache_entry;

static cache_entry *g_buckets[CACHE_BUCKETS];
static int g_cache_count;
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t key_hash(const char *kind, const void *key, size_t key_size) {
    return fnv1a(fnv1a(0xcbf29ce484222325ULL, kind, strlen(kind)), key, key_size);
}

static cache_entry *find_locked(uint64_t h, const char *kind, const void *key, size_t key_size) {
    for (cache_entry *e = g_buckets[h % CACHE_BUCKETS]; e; e = e->next)
        if (e->hash == h && e->key_size == key_size && strcmp(e->kind, kind) == 0 &&
            memcmp(e->key, key, key_size) == 0)
            return e;
    return NULL;
}

void *wb_dnnl_cache_get(const char *kind, const void *key, size_t key_size) {
    uint64_t h = key_hash(kind, key, key_size);
    pthread_mutex_lock(&g_cache_lock);
    cache_entry *e = find_locked(h, kind, key, key_size);
    pthread_mutex_unlock(&g_cache_lock);
    return e ? e->value : NULL;
}

static void clear_locked(void) {
    for (int b = 0; b < CACHE_BUCKETS; b++) {
        cache_entry *e = g_buckets[b];
        while (e) {
            cache_entry *next = e->next;
            if (e->destroy) e->destroy(e->value);
            free(e->key);
            free(e);
            e = next;
        }
        g_buckets[b] = NULL;
    }
    g_cache_count = 0;
}

void *wb_dnnl_cache_put(const char *kind, const void *key, size_t key_size, void *value,
                        wb_dnnl_destroy_fn destroy) {
    uint64_t h = key_hash(kind, key, key_size);
    cache_entry *e = malloc(sizeof *e);
    void *key_copy = malloc(key_size ? key_size : 1);
    if (!e || !key_copy) {
        free(e);
        free(key_copy);
        if (destroy) destroy(value);
        return NULL;
    }
    memcpy(key_copy, key, key_size);
    *e = (cache_entry){.kind = kind, .key = key_copy, .key_size = key_size, .hash = h,
                       .value = value, .destroy = destroy};
    pthread_mutex_lock(&g_cache_lock);
    cache_entry *existing = find_locked(h, kind, key, key_size);
    if (!existing) {
        if (g_cache_count >= CACHE_CAPACITY) clear_locked();
        g_cache_count++;
        e->next = g_buckets[h % CACHE_BUCKETS];
        g_buckets[h % CACHE_BUCKETS] = e;
    }
    pthread_mutex_unlock(&g_cache_lock);
    if (existing) { /* another thread built the same entry first: keep theirs */
        free(key_copy);
        free(e);
        if (destroy) destroy(value);
        return existing->value;
    }
    return value;
}

void wb_dnnl_cache_clear(void) {
    pthread_mutex_lock(&g_cache_lock);
    clear_locked();
    pthread_mutex_unlock(&g_cache_lock);
}

/* ---- reorders and memory objects ---- */

dnnl_status_t wb_dnnl_memory(dnnl_memory_t *mem, const dnnl_memory_desc_t *md) {
    dnnl_engine_t engine = wb_dnnl_engine();
    if (!engine) return dnnl_runtime_error;
    return dnnl_memory_create(mem, md, engine, DNNL_MEMORY_NONE);
}

static dnnl_status_t reorder_init(wb_dnnl_reorder *r, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                  const_dnnl_primitive_attr_t attr) {
    dnnl_engine_t engine = wb_dnnl_engine();
    if (!engine) return dnnl_runtime_error;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr);
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&r->prim, pd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st == dnnl_success) st = wb_dnnl_memory(&r->from, from);
    if (st == dnnl_success) st = wb_dnnl_memory(&r->to, to);
    if (st != dnnl_success) wb_dnnl_reorder_destroy(r);
    return st;
}

dnnl_status_t wb_dnnl_reorder_init(wb_dnnl_reorder *r, const dnnl_memory_desc_t *from,
                                   const dnnl_memory_desc_t *to) {
    memset(r, 0, sizeof *r);
    return dnnl_memory_desc_equal(from, to) ? dnnl_success : reorder_init(r, from, to, NULL);
}

dnnl_status_t wb_dnnl_reorder_init_adding(wb_dnnl_reorder *r, const dnnl_memory_desc_t *from,
                                          const dnnl_memory_desc_t *to) {
    memset(r, 0, sizeof *r);
    if (dnnl_memory_desc_equal(from, to)) return dnnl_unimplemented;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success) st = dnnl_post_ops_create(&po);
    if (st == dnnl_success) st = dnnl_post_ops_append_sum(po, 1.0f);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (st == dnnl_success) st = reorder_init(r, from, to, attr);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

dnnl_status_t wb_dnnl_reorder_run(const wb_dnnl_reorder *r, const void *src, void *dst) {
    if (!r->prim) return src == dst ? dnnl_success : dnnl_invalid_arguments;
    dnnl_status_t st = dnnl_memory_set_data_handle(r->from, (void *)src);
    if (st == dnnl_success) st = dnnl_memory_set_data_handle(r->to, dst);
    if (st != dnnl_success) return st;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, r->from}, {DNNL_ARG_TO, r->to}};
    return wb_dnnl_execute(r->prim, 2, args);
}

void wb_dnnl_reorder_destroy(wb_dnnl_reorder *r) {
    if (r->prim) dnnl_primitive_destroy(r->prim);
    if (r->from) dnnl_memory_destroy(r->from);
    if (r->to) dnnl_memory_destroy(r->to);
    memset(r, 0, sizeof *r);
}

/* ---- scratch ---- */

static wb_pool g_own_pool; /* all zero: an empty pool */
static wb_pool *g_scratch;

void wb_dnnl_scratch_attach(wb_pool *pool) {
    wb_dnnl_lock();
    g_scratch = pool;
    wb_dnnl_unlock();
}

void wb_dnnl_scratch_detach(wb_pool *pool) {
    wb_dnnl_lock();
    if (g_scratch == pool) g_scratch = NULL;
    wb_dnnl_unlock();
}

static wb_pool *scratch_pool(void) { return g_scratch ? g_scratch : &g_own_pool; }

void *wb_dnnl_scratch_alloc(size_t bytes) { return wb_pool_alloc(scratch_pool(), bytes); }

void wb_dnnl_scratch_free(void *ptr, size_t bytes) {
    if (ptr) wb_pool_free(scratch_pool(), ptr, bytes);
}
