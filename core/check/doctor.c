#include "doctor.h"

#include <stdlib.h>
#include <string.h>
#include "config/params.h"
#include "data/data_root.h"
#include "fix_target.h"
#include "plugin/plugin_guard.h"
#include "scan_common.h"
#include "scan_plugin.h"
#include "scanners.h"

static const char *const split_names[WB_CHECK_MAX_SPLITS] = {"train", "val", "test"};

static const struct {
    const char *type;
    wb_scanner_fn scan;
} scanners[] = {
    {"coco", wb_scan_coco},
    {"voc", wb_scan_voc},
    {"yolo", wb_scan_yolo},
};

static wb_scanner_fn scanner_of(const char *type) {
    for (size_t i = 0; i < sizeof scanners / sizeof scanners[0]; i++)
        if (strcmp(scanners[i].type, type) == 0) return scanners[i].scan;
    return NULL;
}

/* A split of a type without a format scanner, through its plugin. */
static bool scan_with_plugin(const wb_doctor_opts *o, const wb_params *p, const char *path, const char *type,
                             wb_check_report *r, char *err, size_t err_size) {
    const wb_module_desc *desc = wb_registry_find(o->reg, WB_KIND_DATASET, type);
    if (!desc) {
        snprintf(r->source, sizeof r->source, "%s: no dataset plugin of this type is loaded; not checked", type);
        return true;
    }
    wb_context c;
    wb_context_init(&c, o->session, path, false);
    void *ds = NULL;
    wb_status opened;
    WB_PLUGIN_CALL(desc, "open", path, opened = desc->dataset->open(&c.pub, p, &ds));
    if (opened != WB_OK || !ds) {
        snprintf(r->source, sizeof r->source, "%s (through its plugin)", type);
        r->scanned = true;
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, path, "the plugin cannot open the dataset: %s",
                     c.msg[0] ? c.msg : "no message");
        return true;
    }
    snprintf(r->source, sizeof r->source, "%s (through its plugin: %lld samples%s)", type,
             (long long)desc->dataset->length(ds), o->fix_dir ? "; --fix-to writes nothing for it" : "");
    r->scanned = true;
    bool ok = wb_scan_through_plugin(desc->dataset, ds, &c, r, err, err_size);
    desc->dataset->close(ds);
    return ok;
}

static bool scan_split(wb_config *cfg, const char *split, const wb_doctor_opts *o, wb_check_report *r, char *err,
                       size_t err_size) {
    char path[64];
    snprintf(path, sizeof path, "data.%s.dataset", split);
    const wb_params *p = wb_config_params(cfg, path);
    const char *type = p ? wb_params_string(p, "type") : NULL;
    snprintf(r->split, sizeof r->split, "%s", split);
    wb_scanner_fn scan = type ? scanner_of(type) : NULL;
    if (type && strcmp(type, "synthetic") == 0) {
        snprintf(r->source, sizeof r->source, "synthetic: generated, no files to scan");
        return true;
    }
    if (!scan) {
        if (type && o->reg && o->session) return scan_with_plugin(o, p, path, type, r, err, err_size);
        snprintf(r->source, sizeof r->source, "%s: no scanner for this dataset type; not checked", type ? type : "?");
        return true;
    }
    char *fix_dir = o->fix_dir ? wb_scan_join(o->fix_dir, split) : NULL;
    if (o->fix_dir && !fix_dir) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    bool ok = scan(p, fix_dir, r, err, err_size);
    free(fix_dir);
    return ok;
}

static bool wanted(wb_config *cfg, const wb_doctor_opts *o, int s) {
    char path[64];
    snprintf(path, sizeof path, "data.%s", split_names[s]);
    bool all = !o->split || strcmp(o->split, "all") == 0;
    return all ? wb_config_params(cfg, path) != NULL : strcmp(o->split, split_names[s]) == 0;
}

/* Every split's --fix-to folder is checked before any is written. */
static bool fix_targets_ok(wb_config *cfg, const wb_doctor_opts *o, char *err, size_t err_size) {
    for (int s = 0; o->fix_dir && s < WB_CHECK_MAX_SPLITS; s++) {
        char path[64];
        snprintf(path, sizeof path, "data.%s.dataset", split_names[s]);
        const wb_params *p = wb_config_params(cfg, path);
        if (!wanted(cfg, o, s) || !p) continue;
        char *fix_dir = wb_scan_join(o->fix_dir, split_names[s]);
        bool ok = fix_dir && wb_fix_target_ok(fix_dir, p, err, err_size);
        if (!fix_dir) snprintf(err, err_size, "out of memory");
        free(fix_dir);
        if (!ok) return false;
    }
    return true;
}

int wb_doctor_run(wb_config *cfg, const wb_doctor_opts *o, wb_check_report reports[WB_CHECK_MAX_SPLITS], FILE *out,
                  char *err, size_t err_size) {
    bool all = !o->split || strcmp(o->split, "all") == 0;
    if (!all && strcmp(o->split, "train") && strcmp(o->split, "val") && strcmp(o->split, "test")) {
        snprintf(err, err_size, "--split must be train, val, test or all, not '%s'", o->split);
        return -1;
    }
    int n = 0;
    err[0] = '\0';
    wb_data_root_fill(cfg, NULL); /* configs read without plugins get it too */
    if (!fix_targets_ok(cfg, o, err, err_size)) return -1;
    for (int s = 0; s < WB_CHECK_MAX_SPLITS; s++) {
        char path[64];
        snprintf(path, sizeof path, "data.%s", split_names[s]);
        if (!wanted(cfg, o, s)) continue;
        if (!wb_config_params(cfg, path)) {
            snprintf(err, err_size, "the experiment has no data.%s section", split_names[s]);
            return -1;
        }
        wb_check_report *r = &reports[n++];
        memset(r, 0, sizeof *r);
        if (!scan_split(cfg, split_names[s], o, r, err, err_size)) return -1;
        wb_check_print(r, out);
    }
    wb_check_print_summary(reports, n, out);
    return n;
}
