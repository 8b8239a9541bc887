#include "init.h"

#include <math.h>
#include "context.h"

static void fans(int ndim, const int64_t *shape, double *fan_in, double *fan_out) {
    double rf = 1.0;
    for (int i = 2; i < ndim; i++) rf *= (double)shape[i];
    *fan_in = (double)shape[1] * rf;
    *fan_out = (double)shape[0] * rf;
}

wb_status wb_init_fill(const wb_init *init, int ndim, const int64_t *shape, uint64_t *rng,
                       float *out) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    double fan_in = 0, fan_out = 0;
    bool needs_fans = init->kind >= WB_INIT_KAIMING_UNIFORM;
    if (needs_fans) {
        if (ndim < 2) return WB_ERR_INVALID;
        fans(ndim, shape, &fan_in, &fan_out);
    }
    switch (init->kind) {
    case WB_INIT_ZEROS:
        for (int64_t i = 0; i < n; i++) out[i] = 0.0f;
        return WB_OK;
    case WB_INIT_CONSTANT:
        for (int64_t i = 0; i < n; i++) out[i] = init->value;
        return WB_OK;
    case WB_INIT_NORMAL:
        for (int64_t i = 0; i < n; i++) out[i] = init->mean + init->std * wb_rng_normal(rng);
        return WB_OK;
    case WB_INIT_UNIFORM:
        for (int64_t i = 0; i < n; i++)
            out[i] = init->a + (init->b - init->a) * wb_rng_uniform(rng);
        return WB_OK;
    case WB_INIT_KAIMING_UNIFORM:
    case WB_INIT_KAIMING_NORMAL: {
        double gain = sqrt(2.0 / (1.0 + (double)init->a * init->a));
        double std = gain / sqrt(init->fan_out ? fan_out : fan_in);
        if (init->kind == WB_INIT_KAIMING_UNIFORM) {
            float bound = (float)(sqrt(3.0) * std);
            for (int64_t i = 0; i < n; i++) out[i] = bound * (2.0f * wb_rng_uniform(rng) - 1.0f);
        } else {
            for (int64_t i = 0; i < n; i++) out[i] = (float)std * wb_rng_normal(rng);
        }
        return WB_OK;
    }
    case WB_INIT_XAVIER_UNIFORM:
    case WB_INIT_XAVIER_NORMAL: {
        double gain = init->a != 0.0f ? init->a : 1.0;
        double std = gain * sqrt(2.0 / (fan_in + fan_out));
        if (init->kind == WB_INIT_XAVIER_UNIFORM) {
            float bound = (float)(sqrt(3.0) * std);
            for (int64_t i = 0; i < n; i++) out[i] = bound * (2.0f * wb_rng_uniform(rng) - 1.0f);
        } else {
            for (int64_t i = 0; i < n; i++) out[i] = (float)std * wb_rng_normal(rng);
        }
        return WB_OK;
    }
    }
    return WB_ERR_INVALID;
}
