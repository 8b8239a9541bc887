#include "loss_scaler.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wb_loss_scale_cfg wb_loss_scale_dynamic(void) {
    return (wb_loss_scale_cfg){.enabled = true, .dynamic = true, .init_scale = 65536.0, .growth_factor = 2.0,
                               .backoff_factor = 0.5, .growth_interval = 2000};
}

wb_loss_scale_cfg wb_loss_scale_fixed(double scale) {
    return (wb_loss_scale_cfg){.enabled = true, .dynamic = false, .init_scale = scale, .growth_factor = 1.0,
                               .backoff_factor = 1.0, .growth_interval = 0};
}

void wb_loss_scale_begin(const wb_loss_scale_cfg *c, wb_loss_scale_state *s, bool resumed) {
    if (!c->enabled) {
        memset(s, 0, sizeof *s);
        return;
    }
    if (resumed && s->scale > 0) {
        if (!c->dynamic) s->scale = c->init_scale;
        return;
    }
    *s = (wb_loss_scale_state){.scale = c->init_scale};
}

float wb_loss_scale_factor(const wb_loss_scale_cfg *c, const wb_loss_scale_state *s) {
    return c->enabled ? (float)s->scale : 1.0f;
}

float wb_loss_scale_unscale(const wb_loss_scale_cfg *c, const wb_loss_scale_state *s) {
    return c->enabled ? (float)(1.0 / s->scale) : 1.0f;
}

bool wb_loss_scale_update(const wb_loss_scale_cfg *c, wb_loss_scale_state *s, bool finite) {
    if (!c->enabled) return finite;
    if (!finite) {
        s->skipped++;
        s->skipped_in_a_row++;
        s->good_steps = 0;
        if (c->dynamic) s->scale *= c->backoff_factor;
        return false;
    }
    s->skipped_in_a_row = 0;
    if (!c->dynamic) return true;
    if (++s->good_steps < c->growth_interval) return true;
    /* torch's _amp_update_scale_: the count restarts; a scale that would overflow stays. */
    double grown = s->scale * c->growth_factor;
    if (isfinite((float)grown)) s->scale = grown;
    s->good_steps = 0;
    return true;
}

static const char *const k_keys[] = {"loss_scale", "loss_scale_good_steps", "loss_scale_skipped",
                                     "loss_scale_skipped_in_a_row"};
enum { N_KEYS = sizeof k_keys / sizeof k_keys[0] };

void wb_loss_scale_write_meta(const wb_loss_scale_state *s, wb_st_writer *w) {
    if (s->scale <= 0) return;
    char num[40];
    snprintf(num, sizeof num, "%.17g", s->scale);
    wb_st_writer_meta(w, k_keys[0], num);
    const int64_t counts[N_KEYS - 1] = {s->good_steps, s->skipped, s->skipped_in_a_row};
    for (int i = 1; i < N_KEYS; i++) {
        snprintf(num, sizeof num, "%" PRId64, counts[i - 1]);
        wb_st_writer_meta(w, k_keys[i], num);
    }
}

static wb_status bad(const char *path, const char *key, const char *value, const char *what, char *err, size_t n) {
    snprintf(err, n, "%s: cannot resume: __metadata__.%s = \"%.40s\" is not %s; the file is damaged or was not "
             "written by workbench: resume from an earlier checkpoint of the run or train without --resume", path,
             key, value ? value : "(missing)", what);
    return WB_ERR_INVALID;
}

wb_status wb_loss_scale_read_meta(wb_loss_scale_state *s, const wb_st_file *f, const char *path, char *err,
                                  size_t n) {
    memset(s, 0, sizeof *s);
    const char *v[N_KEYS];
    int present = 0;
    for (int i = 0; i < N_KEYS; i++) present += (v[i] = wb_st_meta(f, k_keys[i])) != NULL;
    if (present == 0) return WB_OK;
    for (int i = 0; i < N_KEYS; i++)
        if (!v[i]) return bad(path, k_keys[i], NULL, "there although the other loss_scale_* keys are", err, n);
    char *end;
    errno = 0;
    double scale = strtod(v[0], &end);
    if (end == v[0] || *end || errno == ERANGE || !isfinite(scale) || scale <= 0 || !isfinite((float)scale))
        return bad(path, k_keys[0], v[0], "a positive finite number", err, n);
    int64_t counts[N_KEYS - 1];
    for (int i = 1; i < N_KEYS; i++) {
        size_t digits = strspn(v[i], "0123456789");
        errno = 0;
        long long x = digits > 0 && v[i][digits] == '\0' ? strtoll(v[i], NULL, 10) : -1;
        if (x < 0 || errno == ERANGE) return bad(path, k_keys[i], v[i], "an integer from 0 to 2^63-1", err, n);
        counts[i - 1] = x;
    }
    if (counts[2] > counts[1]) return bad(path, k_keys[3], v[3], "at most loss_scale_skipped", err, n);
    *s = (wb_loss_scale_state){scale, counts[0], counts[1], counts[2]};
    return WB_OK;
}
