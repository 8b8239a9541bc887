#include "tensor_refs.h"
#include "host_maps.h"

void wb_storage_retain(wb_tensor *t) {
    if (t && t->storage) t->storage->refs++;
}

void wb_storage_drop(wb_session *s, wb_tensor *t) {
    wb_storage *st = t ? t->storage : NULL;
    if (!st || st->refs <= 0) return;
    if (--st->refs == 0) {
        if (s->n_maps) wb_host_maps_forget(s, st->data, st->bytes);
        wb_pool_free(&s->tensors, st->data, st->bytes);
        st->data = NULL;
    }
}

void wb_tensor_release(wb_session *s, wb_tensor *t) {
    if (!t || !t->storage || t->owner_released) return;
    t->owner_released = true;
    wb_storage_drop(s, t);
}

float *wb_grad_alloc(wb_session *s, wb_tensor *t) {
    size_t bytes = (size_t)t->numel * sizeof(float);
    /* An activation's gradient lives in the pool; a parameter's too where the
     * iteration ends with zero_grad, else it is made on its first backward
     * and kept for the run (inference never pays for it). */
    if (t->persistent && !s->pool_param_grads) return wb_arena_alloc(s->weight_data, bytes);
    float *g = wb_pool_alloc(&s->tensors, bytes);
    t->grad_pooled = t->persistent && g;
    return g;
}

void wb_grad_free(wb_session *s, wb_tensor *t) {
    if (!t || (t->persistent && !t->grad_pooled) || !t->grad) return;
    if (s->n_maps) wb_host_maps_forget(s, t->grad, (size_t)t->numel * sizeof(float));
    wb_pool_free(&s->tensors, t->grad, (size_t)t->numel * sizeof(float));
    t->grad = NULL;
    t->grad_valid = false;
    t->grad_pooled = false;
}
