#include "tensor.h"

#include <stdio.h>
#include <string.h>

int64_t wb_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

bool wb_shape_equal(const wb_tensor *a, const wb_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *wb_shape_str(const wb_tensor *t, char *buf, size_t size) {
    size_t off = 0;
    off += (size_t)snprintf(buf + off, size - off, "[");
    for (int i = 0; i < t->ndim && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (off < size) snprintf(buf + off, size - off, "]");
    return buf;
}

void wb_tensor_fill_info(const wb_tensor *t, wb_tensor_info *info) {
    uint32_t size = info->struct_size;
    wb_tensor_info full;
    memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    full.dtype = WB_F32;
    full.device = t->device;
    full.ndim = t->ndim;
    full.numel = t->numel;
    full.requires_grad = t->requires_grad;
    int64_t stride = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        full.shape[i] = t->shape[i];
        full.strides[i] = stride;
        stride *= t->shape[i];
    }
    /* A reader built against an older minor gets only the fields it knows. */
    if (size == 0 || size > sizeof full) size = sizeof full;
    memcpy(info, &full, size);
    info->struct_size = size;
}
