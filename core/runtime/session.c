#include "session.h"
#include "host_maps.h"
#include "tensor_refs.h"

#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

wb_session *wb_session_create(const wb_backend *backend, uint64_t seed) {
    wb_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    /* WB_BACKEND=ref runs everything on the reference kernels: the way to
     * tell an optimized-kernel bug from a model bug. */
    const char *forced = getenv("WB_BACKEND");
    if (!backend) backend = forced && strcmp(forced, "ref") == 0 ? wb_backend_ref() : wb_backend_cpu();
    s->backend = backend;
    s->seed = seed;
    wb_arena_init(&s->weights, "weights", (size_t)64 << 20);
    wb_arena_init(&s->compute, "compute", (size_t)64 << 20);
    s->weight_data = &s->weights;
    s->kernel_scratch = &s->compute;
    if (wb_session_host_memory(s)) {
        wb_pool_init(&s->tensors);
    } else {
        wb_arena_init_on(&s->device_weights, "device weights", (size_t)64 << 20, backend, WB_BUF_WEIGHTS);
        wb_arena_init_on(&s->device_scratch, "device scratch", (size_t)16 << 20, backend, WB_BUF_COMPUTE);
        s->weight_data = &s->device_weights;
        s->kernel_scratch = &s->device_scratch;
        wb_pool_init_on(&s->tensors, backend);
    }
    if (backend->attach_scratch) backend->attach_scratch(&s->tensors);
    wb_set_threads(s, 0);
    return s;
}

void wb_session_destroy(wb_session *s) {
    if (!s) return;
    for (wb_cleanup *c = s->cleanups; c; c = c->next) c->fn(c->arg);
    for (int i = 0; i < s->n_params; i++) free(s->params[i].name);
    free(s->params);
    wb_host_maps_end(s);
    free(s->maps);
    wb_arena_release(&s->weights);
    wb_arena_release(&s->compute);
    wb_arena_release(&s->device_weights);
    wb_arena_release(&s->device_scratch);
    if (s->backend->detach_scratch) s->backend->detach_scratch(&s->tensors);
    wb_pool_release(&s->tensors);
    free(s);
}

bool wb_session_on_destroy(wb_session *s, void (*fn)(void *arg), void *arg) {
    /* The weights arena outlives every cleanup: it is released after them. */
    wb_cleanup *c = wb_arena_alloc(&s->weights, sizeof *c);
    if (!c) return false;
    *c = (wb_cleanup){fn, arg, s->cleanups};
    s->cleanups = c;
    return true;
}

void wb_session_reset_compute(wb_session *s) {
    wb_host_maps_end(s);
    for (int i = 0; i < s->n_params; i++) { /* pool-made gradients die with the pool (zero_grad gave them back) */
        wb_tensor *t = s->params[i].tensor;
        if (t->grad_pooled) t->grad = NULL, t->grad_valid = false, t->grad_pooled = false;
    }
    wb_pool_reset(&s->tensors);
    wb_arena_reset(&s->compute);
    wb_arena_reset(&s->device_scratch);
}

wb_param_entry *wb_session_find(wb_session *s, const char *name) {
    for (int i = 0; i < s->n_params; i++)
        if (strcmp(s->params[i].name, name) == 0) return &s->params[i];
    return NULL;
}

void wb_session_zero_grad(wb_session *s) {
    for (int i = 0; i < s->n_params; i++) {
        wb_tensor *t = s->params[i].tensor;
        t->grad_valid = false;
        if (t->grad_pooled) wb_grad_free(s, t);
    }
}

void wb_set_threads(wb_session *s, int n) {
    if (n <= 0) {
        const char *env = getenv("WB_THREADS");
        n = env ? atoi(env) : 0;
    }
#ifdef _OPENMP
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
#else
    if (n <= 0) n = 1;
#endif
    s->threads = n;
    if (s->backend->set_threads) s->backend->set_threads(n);
}
