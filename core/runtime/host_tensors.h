/* Host API entries implemented by the runtime (see host.h for their contract). */
#ifndef WB_CORE_HOST_TENSORS_H
#define WB_CORE_HOST_TENSORS_H

#include <workbench/host.h>

wb_status wb_host_set_error(wb_ctx *ctx, wb_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
wb_status wb_host_status(wb_ctx *ctx);
void wb_host_log(wb_ctx *ctx, wb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wb_host_tensor_info(const wb_tensor *t, wb_tensor_info *info);
wb_tensor *wb_host_tensor_new(wb_ctx *ctx, int ndim, const int64_t *shape);
wb_tensor *wb_host_tensor_from_host(wb_ctx *ctx, int ndim, const int64_t *shape, const float *data);
float *wb_host_tensor_map(wb_ctx *ctx, wb_tensor *t);
wb_status wb_host_tensor_unmap(wb_ctx *ctx, wb_tensor *t);
float wb_host_tensor_item(wb_ctx *ctx, wb_tensor *t);
wb_tensor *wb_host_param_create(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                const wb_init *init, int trainable);
wb_tensor *wb_host_buffer_create(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                 const wb_init *init);
float wb_host_rng_uniform(wb_ctx *ctx);
int wb_host_is_training(wb_ctx *ctx);
void wb_host_tensor_release(wb_ctx *ctx, wb_tensor *t);

#endif
