/* workbench SDK: basic types shared by every plugin kind.
 * Plugins include only <workbench/workbench.h>; nothing here needs the core. */
#ifndef WORKBENCH_TYPES_H
#define WORKBENCH_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version. The major is part of the entry symbol name; minors only append
 * fields to structs (each struct starts with struct_size) and functions to the
 * end of the host table. */
#define WB_ABI_MAJOR 1
#define WB_ABI_MINOR 6

/* Every ABI call returns a status; details go to the context's error message. */
typedef enum wb_status {
    WB_OK = 0,
    WB_ERR_INVALID = 1,   /* bad argument, shape or parameter value */
    WB_ERR_NOMEM = 2,     /* allocation failed */
    WB_ERR_IO = 3,        /* file missing, unreadable or malformed */
    WB_ERR_UNSUPPORTED = 4,
    WB_ERR_NUMERIC = 5,   /* NaN / Inf where a finite value is required */
    WB_ERR_INTERNAL = 6
} wb_status;

#define WB_MAX_DIMS 6
#define WB_NAME_MAX 64

typedef enum wb_dtype { WB_F32 = 0 } wb_dtype;
typedef enum wb_device { WB_DEVICE_CPU = 0, WB_DEVICE_CUDA = 1 } wb_device;

/* Opaque handles owned by the core. */
typedef struct wb_tensor wb_tensor;
typedef struct wb_params wb_params;     /* a validated, defaulted config section */
typedef struct wb_submodule wb_submodule; /* a module a plugin created through the host (e.g. a loss) */
typedef struct wb_host_api wb_host_api;

/* Every call into a plugin gets a context. Its public head carries the host
 * table, so the inline wrappers in ops.h need no global state. Errors are
 * sticky: once an op fails, later ops on the same context return NULL and the
 * first message is kept, so plugin code may check once at the end. */
typedef struct wb_ctx {
    uint32_t struct_size;
    const wb_host_api *host;
} wb_ctx;

/* Logical view of a tensor: NCHW float32, contiguous, row-major. */
typedef struct wb_tensor_info {
    uint32_t struct_size;
    wb_dtype dtype;
    wb_device device;
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    int64_t strides[WB_MAX_DIMS]; /* in elements */
    int64_t numel;
    int requires_grad;
} wb_tensor_info;

/* What a module declares about one of its feature maps (shape negotiation). */
typedef struct wb_feature_spec {
    char name[WB_NAME_MAX]; /* "c3", "p4", "cls_score", ... */
    int channels;
    int stride;             /* relative to the input image; 0 = not spatial */
} wb_feature_spec;

typedef enum wb_log_level { WB_LOG_DEBUG = 0, WB_LOG_INFO, WB_LOG_WARN, WB_LOG_ERROR } wb_log_level;

#ifdef __cplusplus
}
#endif
#endif
