/* The experiment loader on arbitrary bytes: the input is split at 0x01 bytes
 * into an experiment file, a base it may `@include "base.conf"`, and up to
 * four `--set` assignments. Both files are written to a private folder under
 * /tmp; then load, overrides and validation against the core schema (every
 * module and transform type exists and takes no keys: no plugins needed),
 * and the params view every module reads its keys through. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/params.h"

#define MAX_PARTS 6

/* libconfig 1.5 leaks a string token when a syntax error follows it (plain
 * config_read_string does it too); only its lexer's and string buffer's
 * allocations are excused, our own leaks still count. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:strbuf_append\nleak:libconfig_yylex\n"; }

static char dir[] = "/tmp/wb_fuzz_config.XXXXXX";
static int have_dir;

static const wb_param_schema no_params[] = { WB_PARAM_END };
static const wb_module_desc any_module = { sizeof(wb_module_desc), WB_KIND_BACKBONE, "any", "any type", 0, NULL,
                                           NULL, NULL, NULL };

static const wb_module_desc *find(void *user, wb_module_kind kind, const char *type) {
    (void)user, (void)kind, (void)type;
    return &any_module;
}

static const wb_param_schema *find_transform(void *user, const char *type) {
    (void)user, (void)type;
    return no_params;
}

static const wb_module_lookup lookup = { find, NULL, find_transform, NULL, NULL, NULL };

static void write_file(const char *name, const uint8_t *data, size_t n) {
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
}

static void remove_dir(void) {
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/exp.conf", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/base.conf", dir);
    unlink(path);
    rmdir(dir);
}

/* Reads what validation filled in, the way modules and the trainer do. */
static void read_back(wb_config *cfg) {
    static const char *const sections[] = { "", "optimizer", "schedule", "checkpoint", "evaluation", "data" };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        const wb_params *p = wb_config_params(cfg, sections[i]);
        if (!p) continue;
        volatile int64_t sink = wb_params_int(p, "max_epochs") + wb_params_int(p, "threads");
        for (int k = 0; k < wb_params_list_len(p, "milestones"); k++) sink += wb_params_int_at(p, "milestones", k);
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!have_dir) {
        if (!mkdtemp(dir)) abort();
        have_dir = 1;
        atexit(remove_dir);
    }
    const uint8_t *part[MAX_PARTS];
    size_t len[MAX_PARTS], n = 0;
    for (size_t start = 0, i = 0; i <= size && n < MAX_PARTS; i++) {
        if (i < size && data[i] != 0x01) continue;
        part[n] = data + start;
        len[n++] = i - start;
        start = i + 1;
    }
    write_file("exp.conf", part[0], len[0]);
    write_file("base.conf", n > 1 ? part[1] : NULL, n > 1 ? len[1] : 0);

    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/exp.conf", dir);
    wb_config *cfg = wb_config_new();
    if (!cfg) return 0;
    if (wb_config_load(cfg, path) == 0) {
        for (size_t k = 2; k < n; k++) {
            char *assignment = strndup((const char *)part[k], len[k]); /* a NUL ends an argv string too */
            if (!assignment) break;
            wb_config_override(cfg, assignment);
            free(assignment);
        }
        if (wb_config_validate(cfg, &lookup) == 0) read_back(cfg);
    }
    for (int i = 0; i < wb_config_error_count(cfg); i++)
        if (!wb_config_error(cfg, i)) abort();
    wb_config_free(cfg);
    return 0;
}
