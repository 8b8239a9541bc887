/* conv2d on oneDNN. Each (pass, shape) gets a cached plan: the convolution
 * primitive plus the reorders between our plain NCHW/OIHW buffers and the
 * layout the primitive runs in (none where it takes the plain layout
 * directly). Blocked copies and scratchpads are scratch from the tensor pool
 * for the length of the call, so a steady-state call creates nothing and
 * takes no memory from the system.
 *
 * The bf16 table (amp = "bf16") runs the same passes with the primitive's
 * inputs in bfloat16: the reorders that feed it convert our fp32 buffers,
 * its outputs (y, dx, dw, db) stay fp32 and oneDNN accumulates in fp32, as
 * torch.autocast does on the CPU. Weights stay fp32 everywhere else. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "../families.h"
#include "../kernels_conv.h"
#include "../kernels_layout.h"
#include "../kernels_pointwise.h"
#include "conv_dnnl.h"
#include "conv_1x1_matmul.h"
#include "conv_wgrad_1x1.h"
#include "dnnl_common.h"

enum { PASS_FORWARD = 0, PASS_BACKWARD_DATA = 1, PASS_BACKWARD_WEIGHTS = 2 };

/* shape is what one run computes: the whole batch, a group of images, or a
 * band of one image's rows (run_bands), whose rows sit in images of
 * image_h_in / image_h_out rows and which pads pad_h above and pad_bottom
 * below. */
typedef struct conv_key {
    wb_conv_shape shape;
    int64_t pass;
    int64_t with_bias;
    int64_t bf16;  /* inputs of the primitive in bfloat16 */
    int64_t act;   /* forward: 1 + the wb_act_kind applied to y inside the primitive, 0 for none */
    int64_t adds;  /* backward-data: dx is added into what the output holds */
    int64_t image_h_in, image_h_out, pad_bottom;
    int64_t x_blocked, y_blocked; /* forward at inference: x, y in nChw16c (kernels_layout.h) */
    int64_t residual;             /* forward: a tensor of y's layout added to y before act */
} conv_key;

/* One tensor argument of the primitive (the bias is always plain and
 * handled apart). */
typedef struct conv_operand {
    int arg;                 /* DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, ... */
    bool is_output;
    wb_dnnl_reorder reorder; /* plain -> primitive layout (inputs) or back (outputs) */
    dnnl_memory_t mem;       /* the primitive's view */
    size_t bytes;            /* size in the primitive's layout */
} conv_operand;

typedef struct conv_plan {
    dnnl_primitive_t prim;
    conv_operand ops[3];
    dnnl_memory_t bias;      /* NULL without bias */
    int bias_arg;
    dnnl_memory_t residual;  /* the binary post-op's operand (conv_key.residual); NULL without */
    dnnl_memory_t scratch;   /* NULL when the primitive needs no scratchpad */
    size_t scratch_bytes;
} conv_plan;

static wb_status to_status(dnnl_status_t st) {
    switch (st) {
    case dnnl_success: return WB_OK;
    case dnnl_out_of_memory: return WB_ERR_NOMEM;
    case dnnl_unimplemented: return WB_ERR_UNSUPPORTED;
    default: return WB_ERR_INTERNAL;
    }
}

static void plan_destroy(void *value) {
    conv_plan *p = value;
    if (!p) return;
    for (int i = 0; i < 3; i++) {
        wb_dnnl_reorder_destroy(&p->ops[i].reorder);
        if (p->ops[i].mem) dnnl_memory_destroy(p->ops[i].mem);
    }
    if (p->bias) dnnl_memory_destroy(p->bias);
    if (p->residual) dnnl_memory_destroy(p->residual);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    if (p->prim) dnnl_primitive_destroy(p->prim);
    free(p);
}

/* Our plain descriptors of x, w, y, b and those the primitive is created
 * with (format "any" lets oneDNN choose). */
typedef struct conv_descs {
    dnnl_memory_desc_t x_plain, w_plain, y_plain, b_plain;
    dnnl_memory_desc_t x_run, w_run, y_run;
    dnnl_dims_t strides, dilates, padding, padding_r;
    dnnl_alg_kind_t alg;
} conv_descs;

/* A 1x1, stride-1, unpadded, ungrouped conv is a GEMM per image in NCHW in
 * all three passes (the weight gradient sums dy_n x_n^T over the images),
 * which beats reordering the activations to a blocked layout and back
 * (bench/ops). oneDNN's gemm convolution runs forward and backward-data
 * there without im2col (~4% less CPU time than the blocked one in yolov5s
 * training), except on narrow layers, where a batched matmul is faster
 * (conv_1x1_matmul.c); the weight gradient is always a batched matmul over
 * pixel chunks (conv_wgrad_1x1.c). Everything else runs faster in the
 * blocked layout oneDNN picks (format "any") despite the reorders. */
static bool runs_plain(const wb_conv_shape *s) {
    return s->k_h == 1 && s->k_w == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h == 0 && s->pad_w == 0 &&
           s->groups == 1;
}

/* Winograd F(4x4, 3x3) does 2.25x fewer multiplies on 3x3 stride-1 convs
 * and runs about twice as fast in all three passes (bench/ops); its float32
 * error (~1e-5 relative instead of ~1e-6) is well inside training noise and
 * test_conv holds it to the direct kernels' tolerance. Its scratchpad holds
 * the transformed weights (36 x c_in x c_out) and tiles, and below 20x20
 * the transforms cost more than they save (at 20x20 yolov5s's last
 * 256-channel convs run twice as fast in each pass, its training at 640
 * ~4% faster). In training the scratchpad sits on top of every saved
 * activation, so wide layers (RetinaNet's 819-channel classifier: 112 MiB
 * at batch 2) run direct there; at inference it reuses pool memory the
 * backbone's activations freed, and speed wins. Shapes it does not
 * implement fall back to oneDNN's own choice. */
static bool wants_winograd(const wb_conv_shape *s) {
    bool shape_ok = s->k_h == 3 && s->k_w == 3 && s->stride_h == 1 && s->stride_w == 1 && s->dil_h == 1 &&
                    s->dil_w == 1 && s->groups == 1 && (int64_t)s->h_out * s->w_out >= 20 * 20;
    double transformed_weights = 36.0 * (double)s->c_in * (double)s->c_out * sizeof(float);
    return shape_ok && (s->inference || transformed_weights <= 16.0 * 1048576.0);
}

/* The primitive's inputs of a pass: the ones amp runs in bfloat16. */
static bool is_input(int pass, char operand) {
    switch (pass) {
    case PASS_FORWARD: return operand == 'x' || operand == 'w';
    case PASS_BACKWARD_DATA: return operand == 'y' || operand == 'w';
    default: return operand == 'x' || operand == 'y';
    }
}

/* NCHW rows [0, h) of images of image_h rows. */
static dnnl_status_t plain_rows_desc(dnnl_memory_desc_t *md, const dnnl_dims_t dims, int64_t image_h) {
    dnnl_dims_t strides = {dims[1] * image_h * dims[3], image_h * dims[3], dims[3], 1};
    return dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides);
}

/* x or y: rows [0, h) of images of image_h rows in nChw16c (each block's
 * rows are image_h * w * 16 floats apart), or as plain_rows_desc. */
static dnnl_status_t user_desc(dnnl_memory_desc_t *md, const dnnl_dims_t dims, int64_t image_h, bool blocked) {
    if (!blocked) return plain_rows_desc(md, dims, image_h);
    dnnl_dims_t image = {dims[0], dims[1], image_h, dims[3]}, at = {0, 0, 0, 0};
    dnnl_memory_desc_t whole;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&whole, 4, image, dnnl_f32, dnnl_nChw16c);
    return st == dnnl_success ? dnnl_memory_desc_init_submemory(md, &whole, dims, at) : st;
}

static dnnl_status_t init_descs(const conv_key *key, conv_descs *d) {
    const wb_conv_shape *s = &key->shape;
    int pass = (int)key->pass;
    bool bf16 = key->bf16 != 0;
    dnnl_dims_t x_dims = {s->n, s->c_in, s->h_in, s->w_in};
    dnnl_dims_t y_dims = {s->n, s->c_out, s->h_out, s->w_out};
    dnnl_dims_t b_dims = {s->c_out};
    bool grouped = s->groups > 1;
    /* goihw is [g, O/g, I/g, kh, kw]: the same bytes as our OIHW. */
    dnnl_dims_t w_dims = {s->c_out, s->c_in / s->groups, s->k_h, s->k_w};
    dnnl_dims_t gw_dims = {s->groups, s->c_out / s->groups, s->c_in / s->groups, s->k_h, s->k_w};
    int w_nd = grouped ? 5 : 4;
    const int64_t *wd = grouped ? gw_dims : w_dims;
    dnnl_status_t st = user_desc(&d->x_plain, x_dims, key->image_h_in, key->x_blocked != 0);
    if (st == dnnl_success) st = user_desc(&d->y_plain, y_dims, key->image_h_out, key->y_blocked != 0);
    if (st == dnnl_success)
        st = dnnl_memory_desc_init_by_tag(&d->w_plain, w_nd, wd, dnnl_f32, grouped ? dnnl_goihw : dnnl_oihw);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->b_plain, 1, b_dims, dnnl_f32, dnnl_x);
    /* bf16 needs a converting copy anyway, so it takes the blocked layout
     * too, and so does a 1x1 conv whose activations are blocked already. */
    bool gemm = runs_plain(s) && !bf16 && !key->x_blocked && !key->y_blocked;
    dnnl_format_tag_t act = gemm ? dnnl_nchw : dnnl_format_tag_any;
    dnnl_data_type_t xt = bf16 && is_input(pass, 'x') ? dnnl_bf16 : dnnl_f32;
    dnnl_data_type_t yt = bf16 && is_input(pass, 'y') ? dnnl_bf16 : dnnl_f32;
    dnnl_data_type_t wt = bf16 && is_input(pass, 'w') ? dnnl_bf16 : dnnl_f32;
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->x_run, 4, x_dims, xt, act);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->y_run, 4, y_dims, yt, act);
    if (st == dnnl_success) st = dnnl_memory_desc_init_by_tag(&d->w_run, w_nd, wd, wt, dnnl_format_tag_any);
    /* oneDNN counts dilation from 0 (torch from 1); symmetric padding with
     * oneDNN's floor rule gives torch's output size. */
    d->strides[0] = s->stride_h, d->strides[1] = s->stride_w;
    d->dilates[0] = s->dil_h - 1, d->dilates[1] = s->dil_w - 1;
    d->padding[0] = s->pad_h, d->padding[1] = s->pad_w;
    d->padding_r[0] = key->pad_bottom, d->padding_r[1] = s->pad_w;
    d->alg = wants_winograd(s) && !bf16 ? dnnl_convolution_winograd : dnnl_convolution_auto;
    return st;
}

/* An activation the forward applies to y as an eltwise post-op, while the
 * output is still in cache (dnnl_alg_kind_undef: none). */
static dnnl_alg_kind_t post_op_alg(int64_t act) {
    switch (act) {
    case 1 + WB_ACT_RELU: return dnnl_eltwise_relu;
    case 1 + WB_ACT_SILU: return dnnl_eltwise_swish; /* x * sigmoid(alpha x), alpha 1 */
    default: return dnnl_alg_kind_undef;
    }
}

/* residual: the operand of an add before the activation (NULL: none). */
static dnnl_status_t attr_add_post_ops(dnnl_primitive_attr_t attr, dnnl_alg_kind_t alg,
                                       const dnnl_memory_desc_t *residual) {
    dnnl_post_ops_t po = NULL;
    float alpha = alg == dnnl_eltwise_swish ? 1.0f : 0.0f; /* relu: negative slope 0 */
    dnnl_status_t st = dnnl_post_ops_create(&po);
    if (st == dnnl_success && residual) st = dnnl_post_ops_append_binary(po, dnnl_binary_add, residual);
    if (st == dnnl_success && alg != dnnl_alg_kind_undef) st = dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, 0.0f);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, po);
    if (po) dnnl_post_ops_destroy(po);
    return st;
}

/* Primitives get their scratchpad from us, per call, instead of each
 * holding its own for the life of the plan. */
static dnnl_status_t create_pd(dnnl_primitive_desc_t *pd, const dnnl_convolution_desc_t *cd,
                               const_dnnl_primitive_desc_t hint, dnnl_alg_kind_t post_op,
                               const dnnl_memory_desc_t *residual) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && (post_op != dnnl_alg_kind_undef || residual))
        st = attr_add_post_ops(attr, post_op, residual);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, cd, attr, wb_dnnl_engine(), hint);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st;
}

static dnnl_status_t forward_pd(const conv_descs *d, bool with_bias, dnnl_alg_kind_t post_op,
                                const dnnl_memory_desc_t *residual, dnnl_primitive_desc_t *pd) {
    dnnl_convolution_desc_t cd;
    dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(
        &cd, dnnl_forward_training, d->alg, &d->x_run, &d->w_run,
        with_bias ? &d->b_plain : NULL, &d->y_run, d->strides, d->dilates, d->padding, d->padding_r);
    return st == dnnl_success ? create_pd(pd, &cd, NULL, post_op, residual) : st;
}

static dnnl_status_t backward_pd(int pass, const conv_descs *d, bool with_bias, dnnl_primitive_desc_t *pd) {
    /* The hint is the forward of the same layer: in bf16 that is bf16 x and
     * w into fp32 y, whatever this pass's inputs are. */
    conv_descs fwd = *d;
    if (d->w_run.data_type == dnnl_bf16 || d->x_run.data_type == dnnl_bf16) {
        fwd.x_run.data_type = fwd.w_run.data_type = dnnl_bf16;
        fwd.y_run.data_type = dnnl_f32;
    }
    dnnl_primitive_desc_t hint = NULL;
    dnnl_status_t st = forward_pd(&fwd, with_bias, dnnl_alg_kind_undef, NULL, &hint);
    dnnl_convolution_desc_t cd;
    if (st == dnnl_success) {
        if (pass == PASS_BACKWARD_DATA)
            st = dnnl_dilated_convolution_backward_data_desc_init(&cd, d->alg, &d->x_run,
                                                                  &d->w_run, &d->y_run, d->strides,
                                                                  d->dilates, d->padding, d->padding_r);
        else
            st = dnnl_dilated_convolution_backward_weights_desc_init(
                &cd, d->alg, &d->x_run, &d->w_run, with_bias ? &d->b_plain : NULL, &d->y_run,
                d->strides, d->dilates, d->padding, d->padding_r);
    }
    if (st == dnnl_success) st = create_pd(pd, &cd, hint, dnnl_alg_kind_undef, NULL);
    if (hint) dnnl_primitive_desc_destroy(hint);
    return st;
}

static dnnl_status_t pass_pd(const conv_key *key, const conv_descs *d, dnnl_primitive_desc_t *pd) {
    bool with_bias = key->with_bias != 0;
    const dnnl_memory_desc_t *residual = key->residual ? &d->y_plain : NULL;
    return key->pass == PASS_FORWARD ? forward_pd(d, with_bias, post_op_alg(key->act), residual, pd)
                                     : backward_pd((int)key->pass, d, with_bias, pd);
}

/* adds: an output reorder that adds into the plain buffer (unimplemented
 * where the primitive writes the plain layout itself). */
static dnnl_status_t operand_init(conv_operand *o, const_dnnl_primitive_desc_t pd, int arg, bool is_output,
                                  const dnnl_memory_desc_t *plain, bool adds) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (!md) return dnnl_runtime_error;
    o->arg = arg;
    o->is_output = is_output;
    o->bytes = dnnl_memory_desc_get_size(md);
    dnnl_status_t st = !is_output ? wb_dnnl_reorder_init(&o->reorder, plain, md)
                       : adds     ? wb_dnnl_reorder_init_adding(&o->reorder, md, plain)
                                  : wb_dnnl_reorder_init(&o->reorder, md, plain);
    return st == dnnl_success ? wb_dnnl_memory(&o->mem, md) : st;
}

static dnnl_status_t plan_create(const conv_key *key, conv_plan **out) {
    conv_descs d;
    dnnl_primitive_desc_t pd = NULL;
    bool with_bias = key->with_bias != 0;
    conv_plan *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    if (!wb_dnnl_engine()) {
        free(p);
        return dnnl_runtime_error;
    }
    dnnl_status_t st = init_descs(key, &d);
    if (st == dnnl_success) st = pass_pd(key, &d, &pd);
    if (st == dnnl_unimplemented && d.alg != dnnl_convolution_auto) { /* Winograd lacks this shape */
        d.alg = dnnl_convolution_auto;
        st = pass_pd(key, &d, &pd);
    }
    if (st == dnnl_success) st = wb_dnnl_primitive_create(&p->prim, pd);
    if (st == dnnl_success) {
        switch (key->pass) {
        case PASS_FORWARD:
            st = operand_init(&p->ops[0], pd, DNNL_ARG_SRC, false, &d.x_plain, false);
            if (st == dnnl_success) st = operand_init(&p->ops[1], pd, DNNL_ARG_WEIGHTS, false, &d.w_plain, false);
            if (st == dnnl_success) st = operand_init(&p->ops[2], pd, DNNL_ARG_DST, true, &d.y_plain, false);
            p->bias_arg = DNNL_ARG_BIAS;
            break;
        case PASS_BACKWARD_DATA:
            st = operand_init(&p->ops[0], pd, DNNL_ARG_DIFF_DST, false, &d.y_plain, false);
            if (st == dnnl_success) st = operand_init(&p->ops[1], pd, DNNL_ARG_WEIGHTS, false, &d.w_plain, false);
            if (st == dnnl_success)
                st = operand_init(&p->ops[2], pd, DNNL_ARG_DIFF_SRC, true, &d.x_plain, key->adds != 0);
            break;
        default:
            st = operand_init(&p->ops[0], pd, DNNL_ARG_SRC, false, &d.x_plain, false);
            if (st == dnnl_success) st = operand_init(&p->ops[1], pd, DNNL_ARG_DIFF_DST, false, &d.y_plain, false);
            if (st == dnnl_success)
                st = operand_init(&p->ops[2], pd, DNNL_ARG_DIFF_WEIGHTS, true, &d.w_plain, false);
            p->bias_arg = DNNL_ARG_DIFF_BIAS;
            break;
        }
    }
    if (st == dnnl_success && with_bias) st = wb_dnnl_memory(&p->bias, &d.b_plain);
    /* The residual is added where the primitive writes y, so y must need no reorder after it. */
    if (st == dnnl_success && key->residual)
        st = p->ops[2].reorder.prim ? dnnl_unimplemented : wb_dnnl_memory(&p->residual, &d.y_plain);
    const dnnl_memory_desc_t *scratch =
        st == dnnl_success ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
    p->scratch_bytes = scratch ? dnnl_memory_desc_get_size(scratch) : 0;
    if (p->scratch_bytes > 0) st = wb_dnnl_memory(&p->scratch, scratch);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success) {
        plan_destroy(p);
        return st;
    }
    *out = p;
    return dnnl_success;
}

/* Scratch of one call: blocked copies of the operands that need a reorder
 * and the primitive's scratchpad. */
typedef struct conv_scratch {
    void *buf[4];
    size_t bytes[4];
} conv_scratch;

static void *scratch_take(conv_scratch *sc, int i, size_t bytes) {
    sc->bytes[i] = bytes;
    return sc->buf[i] = wb_dnnl_scratch_alloc(bytes);
}

static void scratch_give_back(conv_scratch *sc) {
    for (int i = 3; i >= 0; i--) wb_dnnl_scratch_free(sc->buf[i], sc->bytes[i]);
}

/* Inputs are reordered into scratch first; outputs are reordered back after. */
static dnnl_status_t plan_run(const conv_plan *p, const float *const user[3], float *bias, const float *residual,
                              conv_scratch *sc) {
    dnnl_exec_arg_t args[6];
    void *prim_buf[3];
    dnnl_status_t st = dnnl_success;
    for (int i = 0; i < 3 && st == dnnl_success; i++) {
        const conv_operand *o = &p->ops[i];
        prim_buf[i] = (void *)user[i];
        if (o->reorder.prim) {
            prim_buf[i] = scratch_take(sc, i, o->bytes);
            if (!prim_buf[i]) return dnnl_out_of_memory;
            if (!o->is_output) st = wb_dnnl_reorder_run(&o->reorder, user[i], prim_buf[i]);
        }
        if (st == dnnl_success) st = dnnl_memory_set_data_handle(o->mem, prim_buf[i]);
        args[i] = (dnnl_exec_arg_t){o->arg, o->mem};
    }
    int nargs = 3;
    if (st == dnnl_success && p->bias && bias) {
        st = dnnl_memory_set_data_handle(p->bias, bias);
        args[nargs++] = (dnnl_exec_arg_t){p->bias_arg, p->bias};
    }
    if (st == dnnl_success && p->residual) {
        st = dnnl_memory_set_data_handle(p->residual, (void *)residual);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, p->residual};
    }
    if (st == dnnl_success && p->scratch) {
        void *buf = scratch_take(sc, 3, p->scratch_bytes);
        if (!buf) return dnnl_out_of_memory;
        st = dnnl_memory_set_data_handle(p->scratch, buf);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    }
    if (st == dnnl_success) st = wb_dnnl_execute(p->prim, nargs, args);
    const conv_operand *out = &p->ops[2];
    if (st == dnnl_success && out->reorder.prim)
        st = wb_dnnl_reorder_run(&out->reorder, prim_buf[2], (void *)user[2]);
    return st;
}

/* The cached plan for key, created on first use. Call with wb_dnnl_lock held. */
static dnnl_status_t plan_get(const conv_key *key, conv_plan **out) {
    conv_plan *p = wb_dnnl_cache_get("conv", key, sizeof *key);
    if (p) {
        *out = p;
        return p->prim ? dnnl_success : dnnl_unimplemented;
    }
    dnnl_status_t st = plan_create(key, &p);
    /* A pass that cannot add into dx, or a residual into y, is remembered
     * as an empty plan, so the next call declines without creating the
     * primitive again. */
    if (st == dnnl_unimplemented && (key->adds || key->residual)) {
        p = calloc(1, sizeof *p);
        if (p && wb_dnnl_cache_put("conv", key, sizeof *key, p, plan_destroy)) return dnnl_unimplemented;
        return dnnl_out_of_memory;
    }
    if (st != dnnl_success) return st;
    *out = wb_dnnl_cache_put("conv", key, sizeof *key, p, plan_destroy);
    return *out ? dnnl_success : dnnl_out_of_memory;
}

static size_t plan_scratch_bytes(const conv_plan *p) {
    size_t bytes = p->scratch_bytes;
    for (int i = 0; i < 3; i++)
        if (p->ops[i].reorder.prim) bytes += p->ops[i].bytes;
    return bytes;
}

/* A call whose scratch for the whole batch passes this runs a group of
 * images at a time: Winograd's tiles and the blocked copies scale with the
 * batch (RetinaNet's classifier at 512x512, batch 2: 147 MiB; Faster R-CNN's
 * RPN conv on P2: some 220 MiB in backward, on top of every saved
 * activation). Images are independent in the forward and backward-data;
 * backward-weights sums the groups (run_group). Where one image's scratch
 * still passes it, the image runs in bands of output rows (run_bands): that
 * RPN conv's backward-data took 121 MiB of scratch for one image, the peak
 * of Faster R-CNN R-18's training. At 48 MiB rather than 64 its training
 * touched 490 MiB of the tensor pool instead of 527 for the same peak, at
 * the same speed; below 32 the bands get slower. */
static size_t g_group_limit = (size_t)48 << 20;

size_t wb_cpu_conv_set_group_limit(size_t bytes) {
    wb_dnnl_lock();
    size_t before = g_group_limit;
    g_group_limit = bytes;
    wb_dnnl_unlock();
    return before;
}

/* Of n (images, or rows of an image) whose run takes whole bytes of
 * scratch, how many one run takes. */
static int64_t share_within_limit(int64_t n, size_t whole) {
    if (whole <= g_group_limit) return n;
    int64_t share = n * (int64_t)g_group_limit / (int64_t)whole;
    return share > 0 ? share : 1;
}

/* Floats from one image to the next in each of a pass's three operands (a,
 * b, out of run_pass); 0 for the weights and the weight gradient, which
 * every group shares. */
static void image_steps(int pass, const wb_conv_shape *s, int64_t step[3]) {
    int64_t x = s->c_in * s->h_in * s->w_in, y = s->c_out * s->h_out * s->w_out;
    int64_t steps[3][3] = {[PASS_FORWARD] = {x, 0, y}, [PASS_BACKWARD_DATA] = {y, 0, x},
                           [PASS_BACKWARD_WEIGHTS] = {x, y, 0}};
    for (int i = 0; i < 3; i++) step[i] = steps[pass][i];
}

static void add_into(float *dst, const float *src, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

/* One group of images. The weight gradient (and bias gradient) is a sum
 * over the images: the first group writes it, later ones write scratch that
 * is added to it. That is another order of the same float sum than
 * oneDNN's whole-batch run, whose own order already depends on its threads
 * and blocking; the two differ by rounding alone (at most 2 n eps times the
 * sum of the terms' magnitudes for n terms, in practice a few ulps per
 * group: test_conv holds it to the kernels' tolerance against the whole
 * batch). */
static dnnl_status_t run_group(const conv_plan *p, int pass, bool first, const float *const user[3], float *bias,
                               const float *residual, int64_t n_out, int64_t n_bias) {
    conv_scratch sc = {0};
    bool adds = pass == PASS_BACKWARD_WEIGHTS && !first;
    float *out = (float *)user[2], *b = bias;
    if (adds) {
        out = wb_dnnl_scratch_alloc((size_t)n_out * sizeof *out);
        b = bias && out ? wb_dnnl_scratch_alloc((size_t)n_bias * sizeof *b) : NULL;
        if (!out || (bias && !b)) {
            wb_dnnl_scratch_free(out, (size_t)n_out * sizeof *out);
            return dnnl_out_of_memory;
        }
    }
    const float *args[3] = {user[0], user[1], out};
    dnnl_status_t st = plan_run(p, args, b, residual, &sc);
    scratch_give_back(&sc);
    if (adds) {
        if (st == dnnl_success) add_into((float *)user[2], out, n_out);
        if (st == dnnl_success && bias) add_into(bias, b, n_bias);
        wb_dnnl_scratch_free(b, (size_t)n_bias * sizeof *b);
        wb_dnnl_scratch_free(out, (size_t)n_out * sizeof *out);
    }
    return st;
}

/* Output rows [o0, o1) of one image and the input rows [r0, r1) they read;
 * the band's own conv pads pad_top rows above and pad_bottom below where
 * the window reaches past the image (inside it, the rows are real). */
typedef struct conv_band {
    int64_t o0, o1, r0, r1, pad_top, pad_bottom;
} conv_band;

static conv_band band_of(const wb_conv_shape *s, int64_t o0, int64_t o1) {
    int64_t i0 = o0 * s->stride_h - s->pad_h;
    int64_t i1 = (o1 - 1) * s->stride_h - s->pad_h + (s->k_h - 1) * s->dil_h + 1;
    conv_band b = {.o0 = o0, .o1 = o1, .r0 = i0 > 0 ? i0 : 0, .r1 = i1 < s->h_in ? i1 : s->h_in};
    b.pad_top = b.r0 - i0;
    b.pad_bottom = i1 - b.r1;
    return b;
}

/* The key of a band's own conv, from its image's. */
static conv_key band_key(conv_key key, const conv_band *b) {
    key.shape.h_in = b->r1 - b->r0, key.shape.h_out = b->o1 - b->o0;
    key.shape.pad_h = b->pad_top, key.pad_bottom = b->pad_bottom;
    return key;
}

/* Output rows per band of one image (key: the image whole, p: its plan):
 * all of them where its scratch fits the limit, and for the plain GEMM
 * convs (no scratch). Nor where an output row's window could lie wholly in
 * the padding or skip input rows (stride over the window): every band
 * reads, and backward-data writes, real rows that meet. */
static int64_t rows_per_band(const conv_key *key, const conv_plan *p) {
    const wb_conv_shape *s = &key->shape;
    int64_t window = (s->k_h - 1) * s->dil_h + 1;
    int64_t rows = share_within_limit(s->h_out, plan_scratch_bytes(p));
    if (rows >= s->h_out || runs_plain(s) || s->pad_h >= window || s->stride_h > window) return s->h_out;
    return rows;
}

/* Rows [r0, r1) of each of c NCHW planes of h rows of w: set aside into
 * kept, or added back from it. */
static void keep_rows(float *kept, const float *image, int64_t c, int64_t h, int64_t w, int64_t r0, int64_t r1) {
    int64_t n = (r1 - r0) * w;
    for (int64_t k = 0; k < c; k++) memcpy(kept + k * n, image + (k * h + r0) * w, (size_t)n * sizeof *kept);
}

static void add_back_rows(float *image, const float *kept, int64_t c, int64_t h, int64_t w, int64_t r0,
                          int64_t r1) {
    int64_t n = (r1 - r0) * w;
    for (int64_t k = 0; k < c; k++) add_into(image + (k * h + r0) * w, kept + k * n, n);
}

/* One image (key.shape.n == 1) in bands of output rows. Each band is a conv
 * of its own on the input rows it reads, padded only at the image's edges.
 * The forward writes each output row once; backward-weights sums the bands
 * as run_group sums images. Backward-data's bands write input rows that
 * overlap (a window reaches into the next band's rows): the rows the band
 * before wrote are set aside and added back, and rows below the last
 * window are zero (where the pass adds into dx, the overlap adds up by
 * itself and untouched rows keep what they held). */
static dnnl_status_t run_bands(conv_key key, int pass, bool first, const float *const user[3], float *bias,
                               int64_t rows, int64_t n_dw) {
    const wb_conv_shape s = key.shape;
    /* which of a, b, out (run_pass) are input rows and which output rows */
    bool is_x[3] = {pass != PASS_BACKWARD_DATA, false, pass == PASS_BACKWARD_DATA};
    bool is_y[3] = {pass == PASS_BACKWARD_DATA, pass == PASS_BACKWARD_WEIGHTS, pass == PASS_FORWARD};
    bool overlaps = pass == PASS_BACKWARD_DATA && !key.adds; /* adding bands sum the overlap themselves */
    size_t kept_bytes = overlaps ? (size_t)(s.c_in * ((s.k_h - 1) * s.dil_h + 1) * s.w_in) * sizeof(float) : 0;
    float *kept = overlaps ? wb_dnnl_scratch_alloc(kept_bytes) : NULL;
    if (overlaps && !kept) return dnnl_out_of_memory;
    float *dx = (float *)user[2];
    dnnl_status_t st = dnnl_success;
    int64_t written_to = 0; /* backward-data: earlier bands wrote input rows [0, written_to) */
    for (int64_t o0 = 0; o0 < s.h_out && st == dnnl_success; o0 += rows) {
        conv_band b = band_of(&s, o0, o0 + rows < s.h_out ? o0 + rows : s.h_out);
        conv_key band = band_key(key, &b);
        conv_plan *p = NULL;
        st = plan_get(&band, &p);
        const float *band_user[3];
        for (int i = 0; i < 3; i++) {
            int64_t lanes = (is_x[i] && key.x_blocked) || (is_y[i] && key.y_blocked) ? WB_LAYOUT_BLOCK : 1;
            band_user[i] = user[i] + ((is_x[i] ? b.r0 * s.w_in : 0) + (is_y[i] ? b.o0 * s.w_out : 0)) * lanes;
        }
        int64_t shared_to = overlaps && written_to > b.r0 ? written_to : b.r0;
        if (shared_to > b.r0) keep_rows(kept, dx, s.c_in, s.h_in, s.w_in, b.r0, shared_to);
        if (st == dnnl_success) st = run_group(p, pass, first && o0 == 0, band_user, bias, NULL, n_dw, s.c_out);
        if (st == dnnl_success && shared_to > b.r0) add_back_rows(dx, kept, s.c_in, s.h_in, s.w_in, b.r0, shared_to);
        written_to = b.r1;
    }
    if (st == dnnl_success && overlaps && written_to < s.h_in)
        for (int64_t k = 0; k < s.c_in; k++)
            memset(dx + (k * s.h_in + written_to) * s.w_in, 0, (size_t)((s.h_in - written_to) * s.w_in) * sizeof *dx);
    wb_dnnl_scratch_free(kept, kept_bytes);
    return st;
}

/* Every plan the runs of one pass take (groups of group images, bands of
 * rows where rows < h_out), created before any of them writes: an adding
 * pass that declined halfway would leave dx partly added. */
static dnnl_status_t plans_ready(conv_key key, int64_t group, int64_t rows) {
    const wb_conv_shape s = key.shape;
    dnnl_status_t st = dnnl_success;
    conv_plan *p = NULL;
    for (int64_t i = 0; i < s.n && st == dnnl_success; i += group) {
        key.shape.n = i + group <= s.n ? group : s.n - i;
        if (rows >= s.h_out) st = plan_get(&key, &p);
        for (int64_t o0 = 0; rows < s.h_out && o0 < s.h_out && st == dnnl_success; o0 += rows) {
            conv_band b = band_of(&s, o0, o0 + rows < s.h_out ? o0 + rows : s.h_out);
            conv_key band = band_key(key, &b);
            st = plan_get(&band, &p);
        }
    }
    return st;
}

/* act: 1 + the wb_act_kind the forward applies, 0 for none; adds: see
 * conv_key. */
static conv_key key_of(int pass, bool bf16, int64_t act, bool adds, const wb_conv_shape *s, bool with_bias) {
    return (conv_key){.shape = *s, .pass = pass, .with_bias = with_bias, .bf16 = bf16, .act = act, .adds = adds,
                      .image_h_in = s->h_in, .image_h_out = s->h_out, .pad_bottom = s->pad_h};
}

/* One pass of key over a (x or dy), b (w or dy) into out; a and out may be
 * nChw16c (x_blocked, y_blocked). A residual (key.residual) is added by the
 * whole batch's run only. */
static wb_status run_key(conv_key key, const float *a, const float *b, float *out, float *bias,
                         const float *residual) {
    const wb_conv_shape whole = key.shape, *s = &whole;
    int pass = (int)key.pass;
    bool adds = key.adds != 0;
    wb_dnnl_lock();
    conv_plan *p = NULL;
    dnnl_status_t st = plan_get(&key, &p);
    int64_t group = st == dnnl_success ? share_within_limit(s->n, plan_scratch_bytes(p)) : s->n;
    int64_t rows = s->h_out;
    if (st == dnnl_success && group == 1 && s->n > 1) {
        key.shape.n = 1;
        st = plan_get(&key, &p);
    }
    if (st == dnnl_success && group == 1) rows = rows_per_band(&key, p);
    if (st == dnnl_success && key.residual && (group < s->n || rows < s->h_out)) st = dnnl_unimplemented;
    key.shape.n = s->n;
    if (st == dnnl_success && adds) st = plans_ready(key, group, rows);
    int64_t step[3], n_dw = s->c_out * (s->c_in / s->groups) * s->k_h * s->k_w;
    image_steps(pass, s, step);
    for (int64_t i = 0; i < s->n && st == dnnl_success; i += group) {
        key.shape.n = i + group <= s->n ? group : s->n - i;
        if (key.shape.n != s->n) st = plan_get(&key, &p);
        const float *user[3] = {a + i * step[0], b + i * step[1], out + i * step[2]};
        if (st == dnnl_success)
            st = rows < s->h_out ? run_bands(key, pass, i == 0, user, bias, rows, n_dw)
                                 : run_group(p, pass, i == 0, user, bias, residual, n_dw, s->c_out);
    }
    wb_dnnl_unlock();
    return to_status(st);
}

static wb_status run_pass(int pass, bool bf16, int64_t act, bool adds, const wb_conv_shape *s, const float *a,
                          const float *b, float *out, float *bias) {
    return run_key(key_of(pass, bf16, act, adds, s, bias != NULL), a, b, out, bias, NULL);
}

static wb_status forward_dnnl(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                              float *y) {
    dnnl_status_t st = runs_plain(s) ? wb_cpu_conv_1x1_forward(s, x, w, b, y) : dnnl_unimplemented;
    if (st != dnnl_unimplemented) return to_status(st);
    return run_pass(PASS_FORWARD, false, 0, false, s, x, w, y, (float *)b);
}

static wb_status backward_data_dnnl(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    dnnl_status_t st = runs_plain(s) ? wb_cpu_conv_1x1_backward_data(s, dy, w, dx, false) : dnnl_unimplemented;
    if (st != dnnl_unimplemented) return to_status(st);
    return run_pass(PASS_BACKWARD_DATA, false, 0, false, s, dy, w, dx, NULL);
}

/* Where the matmul declines a plain 1x1 conv's adding backward-data: the
 * gemm convolution writes NCHW itself, with no reorder to add in, so this
 * is one GEMM per image, dx_n += w^T dy_n (beta 1). */
static wb_status backward_data_add_gemm(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    int64_t hw = s->h_in * s->w_in;
    dnnl_status_t st = dnnl_success;
    for (int64_t n = 0; n < s->n && st == dnnl_success; n++)
        st = dnnl_sgemm('T', 'N', s->c_in, hw, s->c_out, 1.0f, w, s->c_in, dy + n * s->c_out * hw, hw, 1.0f,
                        dx + n * s->c_in * hw, hw);
    return to_status(st);
}

/* A second gradient of a tensor added where it is written, with no
 * temporary of its size: in the output reorder where the primitive runs in
 * a blocked layout, by the matmul's sum post-op (or the GEMM's beta) for
 * the plain 1x1 convs. Faster R-CNN's P2 takes one from RoIAlign and one
 * from the RPN conv, the RPN's feature one from each 1x1 conv after it:
 * 32 MiB each at 512x512, batch 2, at the training peak. */
static wb_status backward_data_add_dnnl(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    if (runs_plain(s)) {
        dnnl_status_t st = wb_cpu_conv_1x1_backward_data(s, dy, w, dx, true);
        return st == dnnl_unimplemented ? backward_data_add_gemm(s, dy, w, dx) : to_status(st);
    }
    return run_pass(PASS_BACKWARD_DATA, false, 0, true, s, dy, w, dx, NULL);
}

static wb_status backward_weights_dnnl(const wb_conv_shape *s, const float *x, const float *dy, float *dw,
                                       float *db) {
    dnnl_status_t st = runs_plain(s) ? wb_cpu_conv_wgrad_1x1(s, x, dy, dw, db) : dnnl_unimplemented;
    if (st != dnnl_unimplemented) return to_status(st);
    return run_pass(PASS_BACKWARD_WEIGHTS, false, 0, false, s, x, dy, dw, db);
}

static wb_status forward_bf16(const wb_conv_shape *s, const float *x, const float *w, const float *b, float *y) {
    return run_pass(PASS_FORWARD, true, 0, false, s, x, w, y, (float *)b);
}

static wb_status backward_data_bf16(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    return run_pass(PASS_BACKWARD_DATA, true, 0, false, s, dy, w, dx, NULL);
}

static wb_status backward_data_add_bf16(const wb_conv_shape *s, const float *dy, const float *w, float *dx) {
    return run_pass(PASS_BACKWARD_DATA, true, 0, true, s, dy, w, dx, NULL);
}

static wb_status backward_weights_bf16(const wb_conv_shape *s, const float *x, const float *dy, float *dw,
                                       float *db) {
    return run_pass(PASS_BACKWARD_WEIGHTS, true, 0, false, s, x, dy, dw, db);
}

/* ReLU and SiLU run inside the direct JIT convolutions, and ReLU inside
 * Winograd, whose only eltwise post-op it is (for a SiLU the direct kernel
 * it would fall back to costs more than the pass saved). Not inside the
 * plain 1x1 GEMM ones, whose post-ops oneDNN applies element by element
 * (yolov5s: 3x slower than the separate vectorised pass). 0: declined, the
 * core runs the two passes. */
static int64_t fused_act(const wb_conv_shape *s, wb_act_kind act, bool bf16) {
    bool winograd = !bf16 && wants_winograd(s);
    bool direct_jit = bf16 || (!runs_plain(s) && !winograd);
    bool fused = (direct_jit && (act == WB_ACT_RELU || act == WB_ACT_SILU)) || (winograd && act == WB_ACT_RELU);
    return fused ? 1 + (int64_t)act : 0;
}

static wb_status forward_act_dnnl(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                                  wb_act_kind act, float *y) {
    int64_t fused = fused_act(s, act, false);
    return fused ? run_pass(PASS_FORWARD, false, fused, false, s, x, w, y, (float *)b) : WB_ERR_UNSUPPORTED;
}

static wb_status forward_act_bf16(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                                  wb_act_kind act, float *y) {
    int64_t fused = fused_act(s, act, true);
    return fused ? run_pass(PASS_FORWARD, true, fused, false, s, x, w, y, (float *)b) : WB_ERR_UNSUPPORTED;
}

/* Inference over blocked activations: y stays nChw16c wherever its
 * channels fill whole blocks, except after a plain 1x1 conv, which runs as
 * a GEMM in NCHW (a blocked input would have made it run blocked). The
 * activation runs inside the kernel wherever it is a direct JIT one (the
 * blocked 1x1 ones too) and a ReLU inside Winograd too (its one eltwise
 * post-op), after it on y otherwise; a residual only inside (oneDNN's
 * binary post-op, before the activation), in y's layout. */
static wb_status forward_blocked_dnnl(const wb_conv_shape *s, const float *x, bool x_blocked, const float *w,
                                      const float *b, const float *residual, bool residual_blocked, int act,
                                      float *y, bool *y_blocked) {
    bool gemm = runs_plain(s) && !x_blocked;
    bool out_blocked = !gemm && s->c_out % WB_LAYOUT_BLOCK == 0;
    bool direct = !gemm && !wants_winograd(s);
    bool fusable = act == WB_ACT_RELU || act == WB_ACT_SILU;
    *y_blocked = false;
    if (residual && (!direct || (act >= 0 && !fusable) || residual_blocked != out_blocked)) return WB_ERR_UNSUPPORTED;
    bool wino_relu = !gemm && !direct && act == WB_ACT_RELU && !residual;
    int64_t fused = (fusable && direct) || wino_relu ? 1 + (int64_t)act : 0;
    conv_key key = key_of(PASS_FORWARD, false, fused, false, s, b != NULL);
    key.x_blocked = x_blocked, key.y_blocked = out_blocked, key.residual = residual != NULL;
    wb_status st = run_key(key, x, w, y, (float *)b, residual);
    if (st == WB_OK && act >= 0 && !fused)
        wb_cpu_pointwise_kernels()->act_forward((wb_act_kind)act, 0.0f, y, y, s->n * s->c_out * s->h_out * s->w_out);
    *y_blocked = st == WB_OK && out_blocked;
    return st;
}

static const wb_conv_kernels g_cpu_conv = {forward_dnnl, backward_data_dnnl, backward_weights_dnnl,
                                           forward_act_dnnl, backward_data_add_dnnl, forward_blocked_dnnl};
static const wb_conv_kernels g_cpu_conv_bf16 = {forward_bf16, backward_data_bf16, backward_weights_bf16,
                                                forward_act_bf16, backward_data_add_bf16, NULL};

const wb_conv_kernels *wb_cpu_conv_kernels(void) { return &g_cpu_conv; }
const wb_conv_kernels *wb_cpu_conv_bf16_kernels(void) { return &g_cpu_conv_bf16; }
