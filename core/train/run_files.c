#include "run_files.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../runtime/log.h"

const char *wb_run_unit(const wb_trainer_opts *o) { return o->max_epochs > 0 ? "epoch" : "iter"; }

/* Saves work_dir/<name>.safetensors; saved (last_checkpoint or best_checkpoint) gets its path only once it is written. */
static wb_status save_file(wb_run_ctx *r, const char *name, char *saved, size_t saved_size, char *err, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.safetensors", r->o->work_dir, name);
    wb_status rc = wb_checkpoint_save(path, r->m->s, r->opt, r->ema, r->st, r->o->labels, err, n);
    if (rc == WB_ERR_IO) {
        /* The write went to a temporary file: a full disk costs this checkpoint only. */
        size_t len = strlen(err);
        snprintf(err + len, n - len, " (the checkpoints written before are intact: make room in %s and continue "
                 "with --resume)", r->o->work_dir);
    }
    if (rc != WB_OK) return rc;
    wb_logf(WB_LOG_INFO, "checkpoint", "saved %s", path);
    snprintf(saved, saved_size, "%s", path);
    return WB_OK;
}

wb_status wb_run_save(wb_run_ctx *r, const char *name, char *err, size_t n) {
    wb_status rc = save_file(r, name, r->res->last_checkpoint, sizeof r->res->last_checkpoint, err, n);
    if (rc != WB_OK) return rc;
    char link[4096], tmp[4200], target[512];
    snprintf(link, sizeof link, "%s/latest.safetensors", r->o->work_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", link);
    snprintf(target, sizeof target, "%s.safetensors", name);
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0)
        wb_logf(WB_LOG_WARN, "checkpoint", "could not update %s: %s", link, strerror(errno));
    return WB_OK;
}

void wb_run_prune(const wb_trainer_opts *o, int64_t done_units) {
    if (o->ckpt_keep <= 0 || o->ckpt_interval <= 0) return;
    int64_t old = done_units - (int64_t)o->ckpt_keep * o->ckpt_interval;
    if (old <= 0) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%lld.safetensors", o->work_dir, wb_run_unit(o), (long long)old);
    unlink(path);
}

wb_status wb_run_keep_best(wb_run_ctx *r, const wb_metrics *metrics, int64_t units, char *err, size_t n) {
    const char *key = r->o->save_best;
    int found = -1;
    for (int i = 0; i < metrics->n && found < 0; i++)
        if (strcmp(metrics->names[i], key) == 0) found = i;
    if (found < 0) {
        int off = snprintf(err, n, "checkpoint.save_best = \"%s\" but the validation gives only:", key);
        for (int i = 0; i < metrics->n && off > 0 && (size_t)off < n; i++)
            off += snprintf(err + off, n - (size_t)off, " %s", metrics->names[i]);
        return WB_ERR_INVALID;
    }
    if (strncmp(key, "val/", 4) == 0) { /* lower is better, and the '/' would make a folder of the file name */
        snprintf(err, n, "checkpoint.save_best = \"%s\" is a validation loss, but save_best keeps the highest "
                 "value: name a metric (bbox_mAP, mAP_0.5:0.95, ...)", key);
        return WB_ERR_INVALID;
    }
    double score = metrics->values[found];
    wb_train_state *st = r->st;
    if (st->has_best && !(score > st->best_score)) return WB_OK;
    char old[4096] = "", name[200];
    /* best_name came from a checkpoint: only a plain best_* name in the work dir is ever removed. */
    if (st->has_best && wb_checkpoint_best_name_ok(st->best_name))
        snprintf(old, sizeof old, "%s/%s", r->o->work_dir, st->best_name);
    snprintf(name, sizeof name, "best_%s_%s_%lld", key, wb_run_unit(r->o), (long long)units);
    double previous = st->best_score;
    int had_best = st->has_best;
    st->has_best = 1;
    st->best_score = score;
    snprintf(st->best_name, sizeof st->best_name, "%s.safetensors", name);
    wb_status rc = save_file(r, name, r->res->best_checkpoint, sizeof r->res->best_checkpoint, err, n);
    if (rc != WB_OK) return rc;
    r->res->best_score = score;
    /* The new best is safely on disk before the old one goes. */
    if (old[0] && strcmp(old, r->res->best_checkpoint) != 0) unlink(old);
    if (had_best)
        wb_logf(WB_LOG_INFO, "checkpoint", "best %s %.4f (was %.4f) at %s %lld", key, score, previous,
                wb_run_unit(r->o), (long long)units);
    else
        wb_logf(WB_LOG_INFO, "checkpoint", "best %s %.4f at %s %lld", key, score, wb_run_unit(r->o),
                (long long)units);
    return WB_OK;
}
