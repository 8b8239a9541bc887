/* gradcheck of a head's loss(): random truth boxes, and the gradient of the
 * sum of its loss terms with respect to its predictions, which are made
 * leaves so the loss (its sub-modules included) is checked on its own; the
 * forward's own backward is checked separately (wb_gc_check_slot). Any
 * parameter the loss itself uses is probed too. */
#include <stdlib.h>
#include <string.h>
#include "../autograd/tape.h"
#include "../config/params.h"
#include "../config/schema_table.h"
#include "conformance_kit.h"

#define MAX_BOXES 3

typedef struct random_truth {
    float boxes[2][MAX_BOXES * 4];
    int labels[2][MAX_BOXES];
    uint8_t ignore[2][MAX_BOXES];
    wb_gt_image images[2];
    wb_batch_truth batch;
} random_truth;

/* Two images of size x size: two boxes in the first, one in the second, each
 * 20% to 60% of the image per side, labels below num_classes. */
static void make_truth(random_truth *t, int size, int num_classes, uint64_t seed) {
    uint64_t rng = seed * 977 + 3;
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 2; i++) {
        int n = i == 0 ? 2 : 1;
        for (int b = 0; b < n; b++) {
            float w = size * (0.2f + 0.4f * wb_rng_uniform(&rng)), h = size * (0.2f + 0.4f * wb_rng_uniform(&rng));
            float x1 = (size - w) * wb_rng_uniform(&rng), y1 = (size - h) * wb_rng_uniform(&rng);
            float *box = &t->boxes[i][4 * b];
            box[0] = x1, box[1] = y1, box[2] = x1 + w, box[3] = y1 + h;
            t->labels[i][b] = (int)(wb_rng_next(&rng) % (uint64_t)num_classes);
        }
        t->images[i] = (wb_gt_image){
            .struct_size = sizeof(wb_gt_image), .num_boxes = n, .boxes = t->boxes[i], .labels = t->labels[i],
            .ignore = t->ignore[i], .img_h = size, .img_w = size, .ori_h = size, .ori_w = size,
            .scale_x = 1.0f, .scale_y = 1.0f, .image_id = i + 1,
        };
    }
    t->batch = (wb_batch_truth){.struct_size = sizeof(wb_batch_truth), .batch = 2, .pad_h = size, .pad_w = size,
                                .images = t->images};
}

typedef struct loss_eval {
    wb_module_slot *head;
    const wb_batch_truth *truth;
} loss_eval;

static bool eval_loss(void *user, double *value, char *err, size_t n) {
    loss_eval *e = user;
    wb_context *c = &e->head->ctx;
    /* As in training (is_training reads 1); the tape is dropped unreplayed. */
    wb_tape_clear(c);
    wb_ctx_clear_error(c);
    c->grad_enabled = true;
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    if (wb_slot_loss(e->head, e->truth, 0, terms, &n_terms, err, n) != WB_OK) return false;
    *value = 0.0;
    for (int i = 0; i < n_terms; i++) *value += wb_term_is_loss(terms[i].name) ? terms[i].value->data[0] : 0.0;
    return true;
}

/* The predictions of a training forward on x, as leaves in place of
 * head->out; the forward's tape is dropped, so the loss's backward stops at
 * them. */
static bool leaf_predictions(wb_module_slot *head, wb_tensor *const *x, int n_x, int size, FILE *out) {
    char err[2048];
    if (wb_slot_forward(head, x, n_x, size, size, true, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL forward: %s\n", err);
        return false;
    }
    for (int k = 0; k < head->n_out; k++) {
        wb_tensor *p = wb_ctx_tensor_uninit(&head->ctx, head->out[k]->ndim, head->out[k]->shape);
        if (!p) {
            fprintf(out, "FAIL out of memory\n");
            return false;
        }
        memcpy(p->data, head->out[k]->data, (size_t)p->numel * sizeof(float));
        p->requires_grad = true;
        head->out[k] = p;
    }
    return true;
}

int wb_gc_check_head_loss(wb_module_slot *head, wb_tensor *const *x, int n_x, int size, const wb_params *params,
                          const wb_conformance_opts *o, FILE *out) {
    const wb_param_schema *nc = wb_schema_find(head->desc->params, "num_classes");
    int num_classes = nc && nc->type == WB_PARAM_INT ? (int)wb_params_int(params, "num_classes") : 1;
    random_truth truth;
    make_truth(&truth, size, num_classes > 0 ? num_classes : 1, o->seed);
    fprintf(out, "-- loss(): 2 images with 2 and 1 random boxes, labels below %d\n", num_classes);
    if (!leaf_predictions(head, x, n_x, size, out)) return 1;
    wb_context *c = &head->ctx;
    wb_session_zero_grad(c->s);
    wb_tape_clear(c);
    c->grad_enabled = true;
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    char err[2048];
    if (wb_slot_loss(head, &truth.batch, 0, terms, &n_terms, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL loss: %s\n", err);
        return 1;
    }
    fprintf(out, "PASS loss() returns %d finite term(s):", n_terms);
    for (int i = 0; i < n_terms; i++) fprintf(out, " %s %.5g", terms[i].name, terms[i].value->data[0]);
    fputc('\n', out);
    if (wb_slot_seed_loss_grads(head, terms, n_terms, err, sizeof err) != WB_OK ||
        wb_slot_replay(head, err, sizeof err) != WB_OK) {
        fprintf(out, "FAIL backward of the loss: %s\n", err);
        return 1;
    }
    wb_session *s = c->s;
    wb_gc_probe *p = calloc((size_t)(head->n_out + s->n_params), sizeof *p);
    if (!p) {
        fprintf(out, "FAIL out of memory\n");
        return 1;
    }
    int n = 0;
    for (int k = 0; k < head->n_out; k++) {
        p[n].t = head->out[k];
        snprintf(p[n++].name, sizeof p[0].name, "d loss/d pred %s", head->out_specs[k].name);
    }
    /* Only parameters of the loss have a gradient here: the forward's tape was dropped. */
    for (int i = 0; i < s->n_params; i++) {
        if (!s->params[i].tensor->trainable || !s->params[i].tensor->grad_valid) continue;
        p[n].t = s->params[i].tensor;
        snprintf(p[n++].name, sizeof p[0].name, "d loss/d %s", s->params[i].name);
    }
    loss_eval e = {head, &truth.batch};
    uint64_t rng = o->seed * 31 + 13;
    int failures = wb_gc_compare(p, n, eval_loss, &e, o->points > 0 ? o->points : 8, &rng, out);
    free(p);
    return failures;
}
