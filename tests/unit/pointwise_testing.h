/* Helpers shared by the pointwise op tests: torch parity of forward and
 * backward from a tests/parity/gen_pointwise.py case, the optimized backend
 * against the reference one on larger inputs, and error message checks. */
#ifndef WB_TEST_POINTWISE_TESTING_H
#define WB_TEST_POINTWISE_TESTING_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "opcheck.h"

#define PW_MAX_IN 8

static inline double pw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void pw_assert_shape(const char *what, const wb_tensor *t, int ndim, const int64_t *shape) {
    char s[96];
    ck_assert_msg(t->ndim == ndim, "%s: rank %d (%s), expected %d", what, t->ndim, wb_shape_str(t, s, sizeof s),
                  ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_msg(t->shape[d] == shape[d], "%s: shape %s, dim %d expected %lld", what,
                      wb_shape_str(t, s, sizeof s), d, (long long)shape[d]);
}

/* Runs fn on the case's inputs `names` on backend be, checks the output
 * against torch's "y", back-propagates torch's "dy" through the tape and
 * checks each input's gradient against "d<name>". */
static inline void pw_parity(const char *case_name, const wb_backend *be, opcheck_fn fn, void *user,
                             const char *const *names, int n_in, double atol, double rtol) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    char what[160];
    wb_tensor *in[PW_MAX_IN];
    for (int i = 0; i < n_in; i++) {
        const wb_st_tensor *t = wb_st_find(&f, names[i]);
        ck_assert_msg(t != NULL, "%s: no input '%s'", case_name, names[i]);
        in[i] = wbt_from(&e, t->ndim, t->shape, t->data);
        in[i]->requires_grad = true;
    }
    wb_tensor *y = fn(e.ctx, in, user);
    ck_assert_msg(y != NULL, "%s on %s: forward failed: %s", case_name, be->name, e.c.msg);
    const wb_st_tensor *ty = wb_st_find(&f, "y");
    ck_assert_ptr_nonnull(ty);
    snprintf(what, sizeof what, "%s on %s: output", case_name, be->name);
    if (wbt_parity_attr(&f, "y_ndim") == 0)
        ck_assert_msg(y->ndim == 0, "%s: rank %d, expected 0 (a scalar)", what, y->ndim);
    else
        pw_assert_shape(what, y, ty->ndim, ty->shape);
    wbt_assert_close(what, y->data, ty->data, ty->numel, atol, rtol);

    const float *dy = wbt_parity_tensor(&f, "dy", y->numel);
    float *g = wb_grad_begin(&e.c, y);
    memcpy(g, dy, (size_t)y->numel * sizeof *g);
    wb_grad_end(&e.c, y, g);
    ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "%s: backward failed: %s", case_name, e.c.msg);
    for (int i = 0; i < n_in; i++) {
        char name[WB_NAME_MAX];
        snprintf(name, sizeof name, "d%s", names[i]);
        const float *expect = wbt_parity_tensor(&f, name, in[i]->numel);
        snprintf(what, sizeof what, "%s on %s: gradient %s", case_name, be->name, name);
        ck_assert_msg(in[i]->grad_valid, "%s: never written", what);
        wbt_assert_close(what, in[i]->grad, expect, in[i]->numel, atol, rtol);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}

/* Forward and backward of fn on backend be with inputs drawn from a fixed
 * seed, four times: the first warms the compute arena and the thread team
 * like a training step's first iteration; the best of the other three is
 * returned (the machine is shared). Leaves the last output and gradients in e. */
static inline double pw_run(wbt_env *e, const wb_backend *be, opcheck_fn fn, void *user,
                            const opcheck_input *inputs, int n_in, wb_tensor **in, wb_tensor **out) {
    wbt_env_init(e, be, 1);
    double best = 1e30;
    for (int iter = 0; iter < 4; iter++) {
        wbt_env_reset(e);
        uint64_t rng = 12345;
        for (int i = 0; i < n_in; i++) {
            in[i] = wbt_random(e, inputs[i].ndim, inputs[i].shape, inputs[i].lo, inputs[i].hi, &rng);
            in[i]->requires_grad = inputs[i].grad;
        }
        double t0 = pw_now();
        *out = fn(e->ctx, in, user);
        ck_assert_msg(*out != NULL, "%s forward failed: %s", be->name, e->c.msg);
        float *g = wb_grad_begin(&e->c, *out);
        for (int64_t k = 0; k < (*out)->numel; k++) g[k] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&e->c, *out, g);
        ck_assert_msg(wb_tape_backward(&e->c) == WB_OK, "%s backward failed: %s", be->name, e->c.msg);
        double seconds = pw_now() - t0;
        if (iter > 0 && seconds < best) best = seconds;
    }
    return best;
}

/* The CPU backend against the reference on the same inputs: output and
 * every requested gradient within atol + rtol*|ref|. Prints both times. */
static inline void pw_cpu_vs_ref(const char *what, opcheck_fn fn, void *user, const opcheck_input *inputs,
                                 int n_in, double atol, double rtol) {
    wbt_env er, ec;
    wb_tensor *ir[PW_MAX_IN], *ic[PW_MAX_IN], *yr, *yc;
    double tr = pw_run(&er, wb_backend_ref(), fn, user, inputs, n_in, ir, &yr);
    double tc = pw_run(&ec, wb_backend_cpu(), fn, user, inputs, n_in, ic, &yc);
    char label[160];
    snprintf(label, sizeof label, "%s: cpu vs ref output", what);
    ck_assert_int_eq(yc->numel, yr->numel);
    wbt_assert_close(label, yc->data, yr->data, yr->numel, atol, rtol);
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i].grad) continue;
        snprintf(label, sizeof label, "%s: cpu vs ref gradient of input %d", what, i);
        wbt_assert_close(label, ic[i]->grad, ir[i]->grad, ir[i]->numel, atol, rtol);
    }
    printf("%-44s forward+backward: ref %8.2f ms, cpu %8.2f ms (%.1fx)\n", what, 1e3 * tr, 1e3 * tc, tr / tc);
    wbt_env_free(&er);
    wbt_env_free(&ec);
}

/* Asserts the context failed with a message containing each of the parts. */
static inline void pw_assert_error(wbt_env *e, const char *part1, const char *part2) {
    ck_assert_msg(e->c.err != WB_OK, "expected an error containing '%s'", part1);
    ck_assert_msg(strstr(e->c.msg, part1) != NULL, "message '%s' lacks '%s'", e->c.msg, part1);
    if (part2) ck_assert_msg(strstr(e->c.msg, part2) != NULL, "message '%s' lacks '%s'", e->c.msg, part2);
    wbt_env_reset(e);
}

#endif
