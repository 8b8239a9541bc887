/* A session is one model's runtime: the backend, both arenas and the named
 * store of parameters and buffers. Module contexts point into it. */
#ifndef WB_CORE_SESSION_H
#define WB_CORE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "../backends/backend.h"
#include "../memory/arena.h"
#include "../memory/pool.h"
#include "../tensor/tensor.h"
#include <workbench/plugin.h>

typedef struct wb_param_entry {
    char *name;           /* full dotted name, e.g. "backbone.layer1.0.conv1.weight" */
    wb_tensor *tensor;
    bool is_buffer;       /* running statistics and the like: saved, not optimized */
} wb_param_entry;

/* How the runtime finds a module type (the plugin registry, or a test's table). */
typedef const wb_module_desc *(*wb_find_module_fn)(void *user, wb_module_kind kind, const char *type);

/* Something to undo when the session ends (a sub-module's plugin instance). */
typedef struct wb_cleanup {
    void (*fn)(void *arg);
    void *arg;
    struct wb_cleanup *next;
} wb_cleanup;

/* A host copy handed out by tensor_map on a device backend (host_maps.c). */
typedef struct wb_host_map {
    wb_tensor *t;
    float *dev;               /* t->data when mapped */
    float *host;
} wb_host_map;

/* Memory: tensor headers, tape and names are host memory; tensor data and
 * gradients are backend memory. On a host backend (device CPU) both are the
 * same arenas; on a device backend the data arenas take their blocks from
 * backend->alloc and only kernels, upload/download/copy/zero touch them. */
typedef struct wb_session {
    const wb_backend *backend;
    wb_arena weights;         /* host: persistent headers, names, cleanups */
    wb_arena *weight_data;    /* parameters, gradients, optimizer state, EMA: &weights or &device_weights */
    wb_arena compute;         /* host: headers, tape, scratch of one iteration */
    wb_arena *kernel_scratch; /* kernels' per-iteration buffers (BN statistics, argmax): &compute or &device_scratch */
    wb_arena device_weights, device_scratch; /* used by device backends only */
    wb_pool tensors;          /* activations and their gradients, freed when dead (backend memory) */
    wb_host_map *maps;        /* live tensor_map copies (device backends) */
    int n_maps, cap_maps;
    wb_param_entry *params;
    int n_params, cap_params;
    uint64_t seed;
    int threads;
    wb_find_module_fn find_module;
    void *find_user;
    uint64_t flops;           /* convolution FLOPs run so far (for GFLOP/s figures) */
    /* Set for an iteration that ends with the optimizer's step and wb_session_zero_grad: the parameter gradients
     * its backward makes are tensor-pool memory, written where activations died and given back at zero_grad
     * (torch's zero_grad(set_to_none=True)), so at the backward's peak only the gradients already written
     * take memory. Clear (micro-batches that accumulate): weights-arena memory kept for the run. */
    bool pool_param_grads;
    wb_cleanup *cleanups;     /* run newest first by wb_session_destroy */
} wb_session;

/* NULL backend means the CPU backend. */
wb_session *wb_session_create(const wb_backend *backend, uint64_t seed);
void wb_session_destroy(wb_session *s);
/* Runs fn(arg) when the session is destroyed. false when out of memory. */
bool wb_session_on_destroy(wb_session *s, void (*fn)(void *arg), void *arg);
/* Ends an iteration: every compute tensor and tape dies. */
void wb_session_reset_compute(wb_session *s);
wb_param_entry *wb_session_find(wb_session *s, const char *name);
/* Whether the backend's memory is host memory (the CPU backends): then host
 * code may read tensor data in place; elsewhere only through host_copy.h. */
static inline bool wb_session_host_memory(const wb_session *s) { return s->backend->device == WB_DEVICE_CPU; }
/* Sets every trainable parameter's gradient to "nothing written yet", and gives pool-made ones back. */
void wb_session_zero_grad(wb_session *s);

/* Number of threads for kernels: WB_THREADS, else every core. 0 = default. */
void wb_set_threads(wb_session *s, int n);

#endif
