#include "hyp_apply.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <workbench/module.h>
#include "../runtime/log.h"
#include "config_internal.h"
#include "config_tree.h"
#include "core_schema.h"
#include "hyp_file.h"
#include "suggest.h"

typedef enum hyp_target { TO_CORE, TO_HEAD, TO_STEP, TO_NOTHING } hyp_target;

/* where: TO_CORE the section ("optimizer"); TO_STEP the transform type, with
 * ":direction" for random_flip, or types separated by '|'. note: TO_NOTHING,
 * why it has no target (NULL: YOLOv5 ignores it too, so no warning). */
typedef struct hyp_key {
    const char *name;
    hyp_target to;
    const char *where, *key, *note;
} hyp_key;

static const hyp_key g_keys[] = {
    {"lr0", TO_CORE, "optimizer", "lr", NULL},
    {"lrf", TO_CORE, "schedule", "lrf", NULL},
    {"momentum", TO_CORE, "optimizer", "momentum", NULL},
    {"weight_decay", TO_CORE, "optimizer", "weight_decay", NULL},
    {"warmup_epochs", TO_CORE, "schedule", "warmup_epochs", NULL},
    {"warmup_momentum", TO_CORE, "schedule", "warmup_momentum", NULL},
    {"warmup_bias_lr", TO_CORE, "schedule", "warmup_bias_lr", NULL},
    {"box", TO_HEAD, NULL, "box", NULL},
    {"cls", TO_HEAD, NULL, "cls", NULL},
    {"cls_pw", TO_HEAD, NULL, "cls_pw", NULL},
    {"obj", TO_HEAD, NULL, "obj", NULL},
    {"obj_pw", TO_HEAD, NULL, "obj_pw", NULL},
    {"iou_t", TO_NOTHING, NULL, NULL, NULL}, /* read by nothing in YOLOv5 7.0's training either: no warning */
    {"anchor_t", TO_HEAD, NULL, "anchor_t", NULL},
    {"fl_gamma", TO_HEAD, NULL, "fl_gamma", NULL},
    {"label_smoothing", TO_HEAD, NULL, "label_smoothing", NULL},
    {"hsv_h", TO_STEP, "yolo_hsv", "hgain", NULL},
    {"hsv_s", TO_STEP, "yolo_hsv", "sgain", NULL},
    {"hsv_v", TO_STEP, "yolo_hsv", "vgain", NULL},
    {"degrees", TO_STEP, "random_affine", "degrees", NULL},
    {"translate", TO_STEP, "random_affine", "translate", NULL},
    {"scale", TO_STEP, "random_affine", "scale", NULL},
    {"shear", TO_STEP, "random_affine", "shear", NULL},
    {"perspective", TO_STEP, "random_affine", "perspective", NULL},
    {"flipud", TO_STEP, "random_flip:vertical", "prob", NULL},
    {"fliplr", TO_STEP, "random_flip:horizontal", "prob", NULL},
    {"mosaic", TO_STEP, "mosaic|mosaic9", "prob", NULL},
    {"mixup", TO_STEP, "mixup", "prob", NULL},
    {"copy_paste", TO_NOTHING, NULL, NULL, "copy-paste pastes segments, and the datasets here load boxes only"},
    {"anchors", TO_NOTHING, NULL, NULL, "the anchors are the head's own parameter (and autoanchor's)"},
};
#define N_KEYS ((int)(sizeof g_keys / sizeof g_keys[0]))

const char *const *wb_hyp_names(void) {
    static const char *names[N_KEYS + 1];
    for (int i = 0; i < N_KEYS; i++) names[i] = g_keys[i].name;
    return names;
}

static const hyp_key *find_key(const char *name) {
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(g_keys[i].name, name) == 0) return &g_keys[i];
    return NULL;
}

/* What applying one file needs at hand. */
typedef struct hyp_run {
    wb_config *cfg;
    const wb_module_lookup *lookup;
    const char *origin; /* "hyp FILE", interned in cfg */
    const char *path;
    FILE *warn;
    int set, skipped;
} hyp_run;

static const wb_param_schema *schema_param(const wb_param_schema *schema, const char *key) {
    for (const wb_param_schema *p = schema; p && p->name; p++)
        if (strcmp(p->name, key) == 0) return p;
    return NULL;
}

static config_setting_t *child_group(config_setting_t *parent, const char *name) {
    config_setting_t *g = config_setting_get_member(parent, name);
    if (!g) g = config_setting_add(parent, name, CONFIG_TYPE_GROUP);
    return g && config_setting_is_group(g) ? g : NULL;
}

/* Sets group.key = value as the schema's type, unless --set gave it already. */
static void set_value(hyp_run *r, const wb_hyp_entry *e, config_setting_t *group, const wb_param_schema *param,
                      const char *target) {
    config_setting_t *old = config_setting_get_member(group, param->name);
    const char *from = old ? config_setting_source_file(old) : NULL;
    if (from && strcmp(from, WB_CONFIG_CMDLINE) == 0) {
        wb_logf(WB_LOG_INFO, "hyp", "%s: %s = %g not applied: --set gave %s", r->path, e->name, e->value, target);
        return;
    }
    bool as_int = param->type == WB_PARAM_INT;
    if (as_int && (e->value != floor(e->value) || fabs(e->value) > 9e15)) {
        wb_cfg_error_file(r->cfg, r->origin, e->line, "%s (for %s) must be a whole number (got %g)", e->name, target,
                          e->value);
        return;
    }
    if (old) config_setting_remove(group, param->name);
    config_setting_t *s = config_setting_add(group, param->name, as_int ? CONFIG_TYPE_INT64 : CONFIG_TYPE_FLOAT);
    if (!s) {
        wb_cfg_error_file(r->cfg, r->origin, e->line, "out of memory setting %s", target);
        return;
    }
    if (as_int) config_setting_set_int64(s, (long long)e->value);
    else config_setting_set_float(s, e->value);
    wb_tree_set_origin(s, r->origin, e->line);
    wb_logf(WB_LOG_DEBUG, "hyp", "%s: %s = %g -> %s", r->path, e->name, e->value, target);
    r->set++;
}

static void no_target(hyp_run *r, const wb_hyp_entry *e, const char *why) {
    fprintf(r->warn, "warning: hyp %s:%u: %s: %s; ignored\n", r->path, e->line, e->name, why);
    r->skipped++;
}

static void to_core(hyp_run *r, const wb_hyp_entry *e, const hyp_key *k) {
    const wb_config_section *sec = wb_section_child(wb_core_schema(), k->where);
    const wb_param_schema *param = sec ? wb_section_param(sec, k->key) : NULL;
    char target[128];
    snprintf(target, sizeof target, "%s.%s", k->where, k->key);
    if (!param) {
        char why[200];
        snprintf(why, sizeof why, "this build has no %s", target);
        no_target(r, e, why);
        return;
    }
    config_setting_t *group = child_group(config_root_setting(wb_config_tree(r->cfg)), k->where);
    if (!group) {
        wb_cfg_error_file(r->cfg, r->origin, e->line, "%s: the experiment's %s is not a group", e->name, k->where);
        return;
    }
    set_value(r, e, group, param, target);
}

static void to_head(hyp_run *r, const wb_hyp_entry *e, const hyp_key *k) {
    config_setting_t *head = config_lookup(wb_config_tree(r->cfg), "model.head");
    const char *type = NULL;
    if (head && config_setting_is_group(head)) config_setting_lookup_string(head, "type", &type);
    const wb_module_desc *d = type && r->lookup->find ? r->lookup->find(r->lookup->user, WB_KIND_HEAD, type) : NULL;
    const wb_param_schema *param = d ? schema_param(d->params, k->key) : NULL;
    char why[200];
    if (!d) return; /* no such head: validation says so */
    if (!param) {
        snprintf(why, sizeof why, "the head %s%s%s has no parameter '%s'", type ? "(type " : "",
                 type ? type : "", type ? ")" : "", k->key);
        no_target(r, e, why);
        return;
    }
    snprintf(why, sizeof why, "model.head.%s", k->key);
    set_value(r, e, head, param, why);
}

/* Whether pipeline step g is the target `where` ("type" or "type:direction"). */
static bool step_matches(const config_setting_t *g, const char *where) {
    const char *type = NULL, *dir = "horizontal";
    if (!config_setting_is_group(g) || !config_setting_lookup_string(g, "type", &type)) return false;
    const char *colon = strchr(where, ':');
    size_t len = colon ? (size_t)(colon - where) : strlen(where);
    if (strlen(type) != len || strncmp(type, where, len) != 0) return false;
    if (!colon) return true;
    config_setting_lookup_string(g, "direction", &dir);
    return strcmp(dir, colon + 1) == 0;
}

/* The steps of data.train.pipeline matching one alternative `where`
 * ("type" or "type:direction") get the value; returns how many did. */
static int to_steps_of(hyp_run *r, const wb_hyp_entry *e, const char *where, const char *key) {
    config_setting_t *list = config_lookup(wb_config_tree(r->cfg), "data.train.pipeline");
    int n = list && config_setting_is_list(list) ? config_setting_length(list) : 0, found = 0;
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)strcspn(where, ":"), where);
    const wb_param_schema *schema =
        r->lookup->find_transform ? r->lookup->find_transform(r->lookup->user, type) : NULL;
    const wb_param_schema *param = schema_param(schema, key);
    for (int i = 0; param && i < n; i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        if (!step_matches(g, where)) continue;
        char target[128];
        snprintf(target, sizeof target, "data.train.pipeline[%d].%s (%s)", i, key, type);
        set_value(r, e, g, param, target);
        found++;
    }
    return found;
}

static void to_steps(hyp_run *r, const wb_hyp_entry *e, const hyp_key *k) {
    char alternatives[128], types[160] = "", *save = NULL;
    snprintf(alternatives, sizeof alternatives, "%s", k->where);
    int found = 0;
    for (char *w = strtok_r(alternatives, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
        found += to_steps_of(r, e, w, k->key);
        size_t len = strlen(types);
        snprintf(types + len, sizeof types - len, "%s%.*s", len ? " or " : "", (int)strcspn(w, ":"), w);
    }
    /* An augmentation at 0 is off, as it is without the step. */
    if (found || e->value == 0) return;
    char why[256];
    const char *colon = strchr(k->where, ':');
    snprintf(why, sizeof why, "data.train.pipeline has no %s step%s%s", types, colon ? " with direction " : "",
             colon ? colon + 1 : "");
    no_target(r, e, why);
}

static void unknown(hyp_run *r, const wb_hyp_entry *e) {
    const char *const *names = wb_hyp_names();
    char hint[128];
    wb_suggest_text(hint, sizeof hint, e->name, names, N_KEYS);
    char known[1024] = "";
    for (int i = 0, len = 0; i < N_KEYS && len < (int)sizeof known; i++)
        len += snprintf(known + len, sizeof known - (size_t)len, "%s%s", i ? ", " : "", names[i]);
    wb_cfg_error_file(r->cfg, r->origin, e->line, "unknown hyperparameter '%s'%s%s%s", e->name, hint,
                      hint[0] ? "" : "; known: ", hint[0] ? "" : known);
}

int wb_hyp_apply(wb_config *cfg, const char *path, const wb_module_lookup *lookup, FILE *warn) {
    char err[600], origin[4200];
    snprintf(origin, sizeof origin, "hyp %s", path);
    hyp_run r = {cfg, lookup, wb_cfg_intern_file(cfg, origin), path, warn, 0, 0};
    if (!r.origin) {
        wb_cfg_error_file(cfg, "--hyp", 0, "out of memory");
        return wb_config_error_count(cfg);
    }
    wb_hyp_file *file = malloc(sizeof *file); /* 20 KB: off the stack */
    if (!file || wb_hyp_read(path, file, err, sizeof err) != 0) {
        wb_cfg_error_file(cfg, "--hyp", 0, "%s", file ? err : "out of memory");
        free(file);
        return wb_config_error_count(cfg);
    }
    for (int i = 0; i < file->n; i++) {
        const wb_hyp_entry *e = &file->entries[i];
        const hyp_key *k = find_key(e->name);
        if (!k) unknown(&r, e);
        else if (k->to == TO_CORE) to_core(&r, e, k);
        else if (k->to == TO_HEAD) to_head(&r, e, k);
        else if (k->to == TO_STEP) to_steps(&r, e, k);
        else if (e->value != 0 && k->note) no_target(&r, e, k->note);
    }
    free(file);
    wb_logf(WB_LOG_INFO, "hyp", "%s: %d values set, %d without a target in this experiment", path, r.set,
            r.skipped);
    return wb_config_error_count(cfg);
}
