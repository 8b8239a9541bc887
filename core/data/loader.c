#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../runtime/log.h"
#include "image_limits.h"
#include "image_weights.h"
#include "loader_fetch.h"
#include "sampler.h"

typedef enum slot_state { SLOT_FREE = 0, SLOT_FILLING, SLOT_READY, SLOT_HELD } slot_state;

/* One place in the ring. Batch number g always goes to slot g % capacity, so
 * a worker may start g only once the consumer released g - capacity: that is
 * both the prefetch bound and what keeps delivery in order. */
typedef struct slot {
    slot_state state;
    int64_t number;
    wb_batch batch;
    wb_status status;
    char message[1024];
} slot;

typedef struct worker {
    wb_loader *l;
    pthread_t thread;
    bool started;
    wb_context ctx;
    wb_data_sample *samples; /* batch_size, reused */
    wb_data_sample extra[WB_MAX_EXTRA_SAMPLES]; /* other samples of a mosaic */
    int64_t *indices;
} worker;

struct wb_loader {
    wb_loader_opts o;
    wb_fetch_source src, src_late; /* src_late: close_mosaic's epochs */
    wb_sampler_opts so;
    uint8_t *groups;
    double *weights;
    int32_t *sizes;      /* rect: per item [w, h] */
    wb_rect_opts rect;
    int64_t batches_per_epoch, total_batches;

    pthread_mutex_t mu;
    pthread_cond_t work_cv, ready_cv;
    slot *slots;
    int capacity;
    int64_t next_claim, next_deliver;
    bool stop;
    wb_epoch_plan plans[2]; /* the two most recent epochs workers asked for */

    wb_status error;
    char error_message[1024];
    wb_bad_log bad;

    worker *workers;
    int n_workers;
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Copies the dataset indices of batch `in_epoch` of `epoch` into out (and
 * its rect shape into shape), planning the epoch if neither cached plan is
 * it (mu held). */
static wb_status batch_indices(wb_loader *l, int64_t epoch, int64_t in_epoch, int64_t *out, int *n, int shape[2]) {
    wb_epoch_plan *p = l->plans[0].epoch == epoch && l->plans[0].order ? &l->plans[0]
                       : l->plans[1].epoch == epoch && l->plans[1].order ? &l->plans[1]
                                                                          : NULL;
    if (!p) {
        p = l->plans[0].epoch < l->plans[1].epoch || !l->plans[0].order ? &l->plans[0] : &l->plans[1];
        wb_epoch_plan_free(p);
        wb_status st = wb_sampler_plan(&l->so, epoch, p);
        if (st != WB_OK) return st;
    }
    *n = (int)(p->starts[in_epoch + 1] - p->starts[in_epoch]);
    memcpy(out, p->order + p->starts[in_epoch], (size_t)*n * sizeof *out);
    shape[0] = p->shapes ? p->shapes[2 * in_epoch] : 0;
    shape[1] = p->shapes ? p->shapes[2 * in_epoch + 1] : 0;
    return WB_OK;
}

/* Loads, transforms and collates one batch outside the lock. */
static void build_batch(worker *w, slot *s, int64_t epoch, int64_t in_epoch, int n, const int shape[2]) {
    wb_loader *l = w->l;
    /* negative "indices" name batches: never an item's own stream */
    wb_batch_share batch = {wb_transform_rng(l->o.seed, epoch, -1 - in_epoch), shape[0], shape[1]};
    const wb_fetch_source *src = l->o.late_pipeline && epoch >= l->o.late_from_epoch ? &l->src_late : &l->src;
    wb_data_sample *ok[n > 0 ? n : 1];
    int n_ok = 0;
    s->status = WB_OK;
    for (int i = 0; i < n; i++) {
        char msg[400];
        wb_data_sample *smp = &w->samples[i];
        wb_status st =
            wb_fetch_sample(src, &w->ctx, w->extra, epoch, w->indices[i], &batch, smp, msg, sizeof msg);
        bool fail = l->o.on_bad_sample == WB_BAD_SAMPLE_FAIL || st == WB_ERR_NOMEM, stop = false;
        pthread_mutex_lock(&l->mu);
        if (st == WB_OK)
            wb_bad_log_success(&l->bad);
        else if (fail)
            wb_bad_log_record(&l->bad, w->indices[i], msg);
        else
            stop = wb_bad_log_add(&l->bad, w->indices[i], msg, s->message, sizeof s->message);
        pthread_mutex_unlock(&l->mu);
        if (st == WB_OK) {
            ok[n_ok++] = smp;
        } else if (fail || stop) {
            s->status = fail ? st : WB_ERR_IO;
            if (fail) snprintf(s->message, sizeof s->message, "sample %lld: %s", (long long)w->indices[i], msg);
            return;
        }
    }
    s->batch.n = 0;
    if (n_ok > 0)
        s->status = wb_collate(&s->batch, ok, n_ok, l->o.size_divisor, s->message, sizeof s->message);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    wb_loader *l = w->l;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && l->next_claim < l->total_batches &&
               l->slots[l->next_claim % l->capacity].state != SLOT_FREE)
            pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->stop || l->next_claim >= l->total_batches) break;
        int64_t g = l->next_claim++;
        slot *s = &l->slots[g % l->capacity];
        s->state = SLOT_FILLING;
        s->number = g;
        int64_t epoch = l->o.start_epoch + g / l->batches_per_epoch, in_epoch = g % l->batches_per_epoch;
        int n = 0, shape[2];
        wb_status st = batch_indices(l, epoch, in_epoch, w->indices, &n, shape);
        pthread_mutex_unlock(&l->mu);
        if (st == WB_OK) {
            build_batch(w, s, epoch, in_epoch, n, shape);
        } else {
            s->status = st;
            snprintf(s->message, sizeof s->message, "out of memory planning epoch %lld", (long long)epoch);
        }
        s->batch.epoch = epoch;
        s->batch.iter = in_epoch;
        s->batch.last_in_epoch = in_epoch == l->batches_per_epoch - 1;
        pthread_mutex_lock(&l->mu);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&l->ready_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static wb_status fail_create(char *err, size_t n, const char *msg) {
    snprintf(err, n, "loader: %s", msg);
    return WB_ERR_INVALID;
}

/* rect: every item's size, for the sampler's batch shapes. */
static bool compute_rect(wb_loader *l, char *err, size_t n) {
    l->sizes = malloc((size_t)l->so.n_items * 2 * sizeof *l->sizes);
    if (!l->sizes) return fail_create(err, n, "out of memory for rect batch shapes") == WB_OK;
    int64_t unknown = 0;
    for (int64_t i = 0; i < l->so.n_items; i++) {
        int w, h;
        wb_fetch_size(&l->src, &l->workers[0].ctx, i, &w, &h);
        unknown += w <= 0 || h <= 0;
        l->sizes[2 * i] = w, l->sizes[2 * i + 1] = h;
    }
    if (unknown)
        wb_logf(WB_LOG_WARN, "data", "rect batches: size of %lld of %lld images unknown; counted as square",
                (long long)unknown, (long long)l->so.n_items);
    l->rect = (wb_rect_opts){l->sizes, l->o.rect_img_size, l->o.rect_stride, l->o.rect_pad};
    l->so.rect = &l->rect;
    return true;
}

/* Portrait/landscape flags from each item's size (mmdet GroupSampler's rule). */
static bool compute_groups(wb_loader *l, char *err, size_t n) {
    l->groups = calloc((size_t)l->so.n_items, 1);
    if (!l->groups) return fail_create(err, n, "out of memory for aspect groups") == WB_OK;
    int64_t unknown = 0;
    for (int64_t i = 0; i < l->so.n_items; i++) {
        int w, h;
        wb_fetch_size(&l->src, &l->workers[0].ctx, i, &w, &h);
        unknown += w <= 0 || h <= 0;
        l->groups[i] = w > h;
    }
    if (unknown)
        wb_logf(WB_LOG_WARN, "data",
                "aspect grouping: size of %lld of %lld images unknown; grouped as portrait",
                (long long)unknown, (long long)l->so.n_items);
    l->so.groups = l->groups;
    return true;
}

/* Every item's labels, one get() each, as a flat list with offsets. */
static bool read_labels(wb_loader *l, int num_classes, int **labels, int64_t *first) {
    int64_t n = 0, cap = 1024;
    int *all = malloc((size_t)cap * sizeof *all);
    bool ok = all != NULL;
    for (int64_t i = 0; ok && i < l->so.n_items; i++) {
        first[i] = n;
        int got = wb_fetch_labels(&l->src, &l->workers[0].ctx, i, num_classes, all + n, (int)(cap - n));
        if (got > cap - n) {
            while (cap - n < got) cap *= 2;
            int *grown = realloc(all, (size_t)cap * sizeof *all);
            ok = grown != NULL;
            all = grown ? grown : all;
            if (ok) got = wb_fetch_labels(&l->src, &l->workers[0].ctx, i, num_classes, all + n, (int)(cap - n));
        }
        n += got > 0 ? got : 0; /* an item get() refuses weighs 0; training reports it as a bad sample */
        first[i + 1] = n;
    }
    *labels = all;
    return ok;
}

/* image_weights: the per-item weights the sampler draws with. */
static bool compute_weights(wb_loader *l, char *err, size_t n) {
    int nc = l->src.vt->num_classes ? l->src.vt->num_classes(l->src.dataset) : 0;
    int64_t *first = calloc((size_t)l->so.n_items + 1, sizeof *first);
    int *labels = NULL;
    l->weights = malloc((size_t)l->so.n_items * sizeof *l->weights);
    bool ok = first && l->weights && nc > 0 && read_labels(l, nc, &labels, first);
    int64_t unweighted = ok ? wb_image_weights(labels, first, l->so.n_items, nc, l->weights) : -1;
    if (ok && unweighted < 0)
        snprintf(err, n, "loader: data.image_weights: no image of the split has a label, so none can be drawn");
    else if (!ok)
        snprintf(err, n, "loader: data.image_weights: %s", nc > 0 ? "out of memory" : "the dataset has no classes");
    else
        wb_logf(WB_LOG_INFO, "data", "image_weights: %lld labels of %d classes weigh the draws (1 / class frequency); "
                "%lld of %lld images have no label and are never drawn", (long long)first[l->so.n_items], nc,
                (long long)unweighted, (long long)l->so.n_items);
    free(first);
    free(labels);
    l->so.weights = l->weights;
    return ok && unweighted >= 0;
}

static bool setup_workers(wb_loader *l, char *err, size_t n) {
    l->workers = calloc((size_t)l->n_workers, sizeof *l->workers);
    if (!l->workers) return fail_create(err, n, "out of memory for workers") == WB_OK;
    for (int i = 0; i < l->n_workers; i++) {
        worker *w = &l->workers[i];
        w->l = l;
        /* no session: dataset get() may report errors and log, nothing else */
        wb_context_init(&w->ctx, NULL, "data", false);
        w->samples = calloc((size_t)l->o.batch_size, sizeof *w->samples);
        w->indices = calloc((size_t)l->o.batch_size, sizeof *w->indices);
        if (!w->samples || !w->indices) return fail_create(err, n, "out of memory for workers") == WB_OK;
    }
    return true;
}

wb_loader *wb_loader_create(const wb_loader_opts *o, const wb_dataset_vtable *vt, void *dataset,
                            char *err, size_t err_size) {
    if (o->batch_size < 1) {
        fail_create(err, err_size, "batch_size must be >= 1");
        return NULL;
    }
    int64_t n_items = vt->length(dataset);
    if (n_items <= 0) {
        fail_create(err, err_size, "the dataset has no samples; check its paths and filters");
        return NULL;
    }
    wb_loader *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->o = *o;
    l->n_workers = o->workers > 0 ? o->workers : 1;
    l->capacity = o->prefetch > 0 ? o->prefetch : 2 * l->n_workers;
    l->src = (wb_fetch_source){vt,
                               dataset,
                               o->pipeline,
                               o->seed,
                               {.min_side = wb_pipeline_decode_min_side(o->pipeline),
                                .shrink_above = WB_IMAGE_SHRINK_ABOVE,
                                .max_pixels = o->max_image_pixels,
                                .limit_key = "data.max_image_pixels"},
                               o->max_boxes,
                               n_items};
    l->src_late = l->src;
    l->src_late.pipeline = o->late_pipeline;
    l->src_late.decode.min_side = wb_pipeline_decode_min_side(o->late_pipeline);
    l->so = (wb_sampler_opts){.n_items = n_items, .batch_size = o->batch_size, .shuffle = o->shuffle,
                              .drop_last = o->drop_last, .seed = o->seed, .rank = o->rank, .world = o->world,
                              .uneven = o->uneven};
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->ready_cv, NULL);
    l->slots = calloc((size_t)l->capacity, sizeof *l->slots);
    bool ok = l->slots && wb_bad_log_init(&l->bad, n_items) && setup_workers(l, err, err_size) &&
              (!o->group_by_aspect || compute_groups(l, err, err_size)) &&
              (!o->image_weights || compute_weights(l, err, err_size)) &&
              (o->rect_img_size <= 0 || compute_rect(l, err, err_size));
    if (ok) {
        l->batches_per_epoch = wb_sampler_batches(&l->so);
        if (l->batches_per_epoch == 0) {
            snprintf(err, err_size, "loader: %lld samples make no full batch of %d with drop_last",
                     (long long)n_items, o->batch_size);
            ok = false;
        }
        l->total_batches = o->max_epochs > 0 ? o->max_epochs * l->batches_per_epoch : INT64_MAX;
    }
    for (int i = 0; ok && i < l->n_workers; i++) {
        if (pthread_create(&l->workers[i].thread, NULL, worker_main, &l->workers[i]) != 0) {
            snprintf(err, err_size, "loader: could not start worker thread %d of %d", i + 1, l->n_workers);
            ok = false;
        }
        l->workers[i].started = ok;
    }
    if (!ok) {
        if (!l->slots || !l->bad.seen) snprintf(err, err_size, "loader: out of memory");
        wb_loader_destroy(l);
        return NULL;
    }
    return l;
}

wb_status wb_loader_next(wb_loader *l, wb_batch **out) {
    *out = NULL;
    double t0 = now_seconds();
    pthread_mutex_lock(&l->mu);
    while (l->error == WB_OK && l->next_deliver < l->total_batches) {
        slot *s = &l->slots[l->next_deliver % l->capacity];
        if (s->state == SLOT_HELD) {
            l->error = WB_ERR_INVALID;
            snprintf(l->error_message, sizeof l->error_message,
                     "loader: the trainer holds %d batches, the whole prefetch ring; release one first",
                     l->capacity);
            break;
        }
        if (s->state != SLOT_READY || s->number != l->next_deliver) {
            pthread_cond_wait(&l->ready_cv, &l->mu);
            continue;
        }
        if (s->status != WB_OK) {
            l->error = s->status;
            snprintf(l->error_message, sizeof l->error_message, "%s", s->message);
            break;
        }
        l->next_deliver++;
        if (s->batch.n == 0) { /* every sample of it was bad and skipped */
            s->state = SLOT_FREE;
            pthread_cond_broadcast(&l->work_cv);
            continue;
        }
        s->state = SLOT_HELD;
        s->batch.data_time = now_seconds() - t0;
        *out = &s->batch;
        break;
    }
    wb_status st = l->error;
    if (st != WB_OK) { /* no worker should keep loading for a run that ended */
        l->stop = true;
        pthread_cond_broadcast(&l->work_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return st;
}

void wb_loader_release(wb_loader *l, wb_batch *b) {
    if (!b) return;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->capacity; i++) {
        if (&l->slots[i].batch == b && l->slots[i].state == SLOT_HELD) {
            l->slots[i].state = SLOT_FREE;
            pthread_cond_broadcast(&l->work_cv);
        }
    }
    pthread_mutex_unlock(&l->mu);
}

const char *wb_loader_error(const wb_loader *l) { return l->error_message; }

int64_t wb_loader_batches_per_epoch(const wb_loader *l) { return l->batches_per_epoch; }

int wb_loader_bad_sample_count(wb_loader *l) {
    pthread_mutex_lock(&l->mu);
    int n = l->bad.n_kept;
    pthread_mutex_unlock(&l->mu);
    return n;
}

bool wb_loader_bad_sample_at(wb_loader *l, int i, wb_bad_sample *out) {
    pthread_mutex_lock(&l->mu);
    bool ok = i >= 0 && i < l->bad.n_kept;
    if (ok) *out = l->bad.kept[i];
    pthread_mutex_unlock(&l->mu);
    return ok;
}

void wb_loader_destroy(wb_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; l->workers && i < l->n_workers; i++) {
        worker *w = &l->workers[i];
        if (w->started) pthread_join(w->thread, NULL);
        for (int k = 0; w->samples && k < l->o.batch_size; k++) wb_data_sample_free(&w->samples[k]);
        for (int k = 0; k < WB_MAX_EXTRA_SAMPLES; k++) wb_data_sample_free(&w->extra[k]);
        free(w->samples);
        free(w->indices);
    }
    for (int i = 0; l->slots && i < l->capacity; i++) wb_batch_free(&l->slots[i].batch);
    wb_epoch_plan_free(&l->plans[0]);
    wb_epoch_plan_free(&l->plans[1]);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->ready_cv);
    free(l->slots);
    free(l->workers);
    free(l->groups);
    free(l->weights);
    free(l->sizes);
    wb_bad_log_free(&l->bad);
    free(l);
}
