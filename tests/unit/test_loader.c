/* Plugin loader and registry against real fixture .so files (tests/fixtures):
 * every accept/reject reason, the good plugin surviving next to each broken
 * one, duplicates and prefer, static manifests, the search path, and the CLI
 * commands built on them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plugin/registry.h"
#include "plugin/search_path.h"
#include "wbtest.h"

/* Scans one scenario directory of the fixtures into a fresh registry. */
static wb_registry *scan_scenario(const char *scenario) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", WB_FIXTURE_DIR, scenario);
    ck_assert_msg(access(dir, R_OK) == 0, "fixture dir %s is missing: build the fixture targets", dir);
    wb_search_path sp;
    wb_search_path_init(&sp);
    ck_assert(wb_search_path_add(&sp, dir, "test"));
    wb_registry *reg = wb_registry_new();
    ck_assert_ptr_nonnull(reg);
    wb_registry_scan(reg, &sp);
    wb_search_path_free(&sp);
    return reg;
}

static const wb_plugin_record *record_named(const wb_registry *reg, const char *file) {
    for (int i = 0; i < wb_registry_num_plugins(reg); i++) {
        const char *path = wb_registry_plugin(reg, i)->path;
        const char *slash = strrchr(path, '/');
        if (strcmp(slash ? slash + 1 : path, file) == 0) return wb_registry_plugin(reg, i);
    }
    ck_abort_msg("no record for %s", file);
    return NULL;
}

static void assert_good_loaded(const wb_registry *reg) {
    const wb_plugin_record *good = record_named(reg, "good.so");
    ck_assert_msg(good->accepted, "good.so rejected: %s", good->reason);
    const wb_module_desc *d = wb_registry_find(reg, WB_KIND_NECK, "good_identity");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->summary, "Passes its inputs through (loader fixture)");
}

/* One broken file per scenario, and the exact reason it must be rejected for. */
static const struct {
    const char *scenario, *file, *reason;
} g_rejects[] = {
    {"not_so", "bad_text.so", "not a loadable shared object: "},
    {"no_entry", "bad_no_entry.so",
     "no entry point wb_plugin_entry_v1: not a workbench plugin (plugins export it with WB_PLUGIN_DEFINE)"},
    {"entry_v2", "bad_entry_v2.so",
     "no entry point wb_plugin_entry_v1; it exports wb_plugin_entry_v2, so it was built for ABI major 2 and this "
     "host implements ABI 1.6; rebuild it against this SDK"},
    {"major2", "bad_major2.so", "built for ABI major 2, this host implements ABI 1.6; rebuild the plugin against "
                                "this SDK"},
    {"newer_minor", "bad_newer_minor.so",
     "needs a host with ABI minor >= 7, this host implements ABI 1.6; upgrade workbench"},
    {"small_struct", "bad_small_struct.so", "manifest struct_size 8 is smaller than the "},
    {"null_with_message", "bad_null_with_message.so",
     "entry point returned no manifest: fixture: this CPU lacks the instructions the plugin needs"},
    {"null_silent", "bad_null_silent.so", "entry point returned no manifest and gave no reason"},
    {"schema_null_name", "bad_schema_null_name.so",
     "module 'bad_desc_neck': parameter 1 has a NULL name but is not the WB_PARAM_END marker (type 2)"},
    {"dup_param", "bad_dup_param.so", "module 'bad_desc_neck': parameter 'depth' is declared twice"},
    {"no_choices", "bad_no_choices.so", "module 'bad_desc_neck': choice parameter 'norm' has no choices"},
    {"bad_range", "bad_bad_range.so", "module 'bad_desc_neck': parameter 'ratio' has range [1, 0] with min > max"},
    {"null_forward", "bad_null_forward.so", "neck 'bad_desc_neck': vtable function forward is NULL"},
    {"bad_kind", "bad_bad_kind.so", "module 'bad_desc_neck' has unknown kind 42"},
    {"null_type_name", "bad_null_type_name.so", "module descriptor 0 has a NULL type name"},
    {"null_vtable", "bad_null_vtable.so", "neck 'bad_desc_neck' has a NULL module vtable"},
    {"dup_type", "bad_dup_type.so", "neck 'bad_desc_neck' is defined twice in this plugin"},
    /* Defaults are checked at load, not by the first experiment that leaves the key out. */
    {"default_range", "bad_default_range.so",
     "neck 'bad_desc_neck': schema entry 1 ('ratio'): default = 1.5 is out of range [0, 1] (A default outside its "
     "own range)"},
    {"default_choice", "bad_default_choice.so",
     "neck 'bad_desc_neck': schema entry 1 ('norm'): default = \"ln\" is not one of: bn, gn; did you mean 'bn'?"},
    {"default_type", "bad_default_type.so",
     "neck 'bad_desc_neck': schema entry 1 ('widths'): default '[16, \"wide\"]' is not a libconfig value "
     "(mismatched element type in array)"},
};

START_TEST(rejects_with_reason_and_keeps_good) {
    wb_registry *reg = scan_scenario(g_rejects[_i].scenario);
    ck_assert_int_eq(wb_registry_num_plugins(reg), 2);
    const wb_plugin_record *bad = record_named(reg, g_rejects[_i].file);
    ck_assert_msg(!bad->accepted, "%s was accepted", g_rejects[_i].file);
    ck_assert_ptr_null(bad->manifest);
    ck_assert_msg(strncmp(bad->reason, g_rejects[_i].reason, strlen(g_rejects[_i].reason)) == 0,
                  "%s: reason\n  '%s'\ndoes not start with\n  '%s'", g_rejects[_i].file, bad->reason,
                  g_rejects[_i].reason);
    /* Nothing of a rejected plugin is registered. */
    ck_assert_ptr_null(wb_registry_find(reg, WB_KIND_NECK, "bad_desc_neck"));
    ck_assert_ptr_null(wb_registry_find(reg, WB_KIND_NECK, "bad_manifest_neck"));
    ck_assert_int_eq(wb_registry_num_modules(reg), 1);
    assert_good_loaded(reg);
    wb_registry_free(reg);
}
END_TEST

START_TEST(not_so_reason_carries_dlerror) {
    wb_registry *reg = scan_scenario("not_so");
    const wb_plugin_record *bad = record_named(reg, "bad_text.so");
    /* glibc says "file too short" or "invalid ELF header" for a text file. */
    ck_assert_msg(strstr(bad->reason, "bad_text.so: ") &&
                      (strstr(bad->reason, "file too short") || strstr(bad->reason, "invalid ELF header")),
                  "reason lacks dlerror text: %s", bad->reason);
    wb_registry_free(reg);
}
END_TEST

START_TEST(good_alone_lists_and_finds) {
    wb_registry *reg = scan_scenario("good");
    ck_assert_int_eq(wb_registry_num_plugins(reg), 1);
    const wb_plugin_record *r = wb_registry_plugin(reg, 0);
    ck_assert(r->accepted);
    ck_assert_str_eq(r->reason, "");
    ck_assert_str_eq(r->manifest->name, "fixture_good");
    ck_assert_str_eq(r->manifest->version, "1.2.3");
    ck_assert_str_eq(r->source, "test");
    const char *names[4];
    ck_assert_int_eq(wb_registry_list(reg, WB_KIND_NECK, names, 4), 1);
    ck_assert_str_eq(names[0], "good_identity");
    ck_assert_int_eq(wb_registry_list(reg, WB_KIND_HEAD, names, 4), 0);
    /* The kind is part of the key. */
    ck_assert_ptr_null(wb_registry_find(reg, WB_KIND_BACKBONE, "good_identity"));
    char msg[256];
    ck_assert_int_eq(wb_registry_lookup(reg, WB_KIND_HEAD, "nope", NULL, msg, sizeof(msg)), WB_LOOKUP_UNKNOWN);
    ck_assert_str_eq(msg, "no accepted plugin defines head type 'nope'");
    wb_registry_free(reg);
}
END_TEST

START_TEST(runtime_fixtures_load) {
    wb_registry *reg = scan_scenario("runtime");
    ck_assert(record_named(reg, "fixture_create_fails.so")->accepted);
    ck_assert(record_named(reg, "fixture_bad_forward.so")->accepted);
    const wb_module_desc *cf = wb_registry_find(reg, WB_KIND_BACKBONE, "create_fails");
    const wb_module_desc *bf = wb_registry_find(reg, WB_KIND_BACKBONE, "bad_forward");
    ck_assert_ptr_nonnull(cf);
    ck_assert_ptr_nonnull(bf);
    ck_assert_str_eq(bf->params[0].name, "mode");
    assert_good_loaded(reg);
    wb_registry_free(reg);
}
END_TEST

START_TEST(duplicate_type_is_ambiguous_until_preferred) {
    wb_registry *reg = scan_scenario("duplicate");
    const wb_plugin_record *a = record_named(reg, "dup_a.so"), *b = record_named(reg, "dup_b.so");
    ck_assert(a->accepted && b->accepted);
    ck_assert_int_eq(wb_registry_num_conflicts(reg), 1);
    const char *conflict = wb_registry_conflict(reg, 0);
    ck_assert_msg(strstr(conflict, "loss 'dup_loss' is defined by both ") && strstr(conflict, a->path) &&
                      strstr(conflict, b->path),
                  "conflict line: %s", conflict);

    char msg[2048];
    const wb_module_entry *e = NULL;
    ck_assert_int_eq(wb_registry_lookup(reg, WB_KIND_LOSS, "dup_loss", &e, msg, sizeof(msg)), WB_LOOKUP_AMBIGUOUS);
    ck_assert_ptr_null(e);
    ck_assert_ptr_null(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"));
    char expected[2048];
    snprintf(expected, sizeof(expected),
             "loss type 'dup_loss' is ambiguous: it is defined by %s and %s; choose one with plugins.prefer = "
             "[\"<file>\"] (its path or file name)", a->path, b->path);
    ck_assert_str_eq(msg, expected);
    /* Only the duplicated type is affected; list names it once. */
    ck_assert_ptr_nonnull(wb_registry_find(reg, WB_KIND_NECK, "dup_a_neck"));
    ck_assert_ptr_nonnull(wb_registry_find(reg, WB_KIND_NECK, "dup_b_neck"));
    const char *names[4];
    ck_assert_int_eq(wb_registry_list(reg, WB_KIND_LOSS, names, 4), 1);

    ck_assert_int_eq(wb_registry_prefer(reg, "dup_loss", "/nonexistent/x.so"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_error(reg), "plugins.prefer: type 'dup_loss' is not defined by "
                                             "'/nonexistent/x.so' (see `workbench plugins` for the files that "
                                             "define it)");
    ck_assert_int_eq(wb_registry_prefer(reg, "no_such", b->path), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_error(reg), "plugins.prefer: no accepted plugin defines type 'no_such'");

    ck_assert_int_eq(wb_registry_prefer(reg, "dup_loss", b->path), WB_OK);
    ck_assert_int_eq(wb_registry_lookup(reg, WB_KIND_LOSS, "dup_loss", &e, NULL, 0), WB_LOOKUP_FOUND);
    ck_assert_ptr_eq(wb_registry_plugin(reg, e->plugin), b);
    ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"), b->manifest->modules[0]);
    /* A second choice replaces the first. */
    ck_assert_int_eq(wb_registry_prefer(reg, "dup_loss", a->path), WB_OK);
    ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"), a->manifest->modules[0]);
    wb_registry_free(reg);
}
END_TEST

/* plugins.prefer names a file by path or by file name, and only an accepted one. */
START_TEST(prefer_file_by_path_or_name) {
    wb_registry *reg = scan_scenario("duplicate");
    const wb_plugin_record *a = record_named(reg, "dup_a.so"), *b = record_named(reg, "dup_b.so");
    ck_assert_int_eq(wb_registry_prefer_file(reg, "dup_b.so"), WB_OK);
    ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"), b->manifest->modules[0]);
    ck_assert_int_eq(wb_registry_prefer_file(reg, a->path), WB_OK);
    ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"), a->manifest->modules[0]);
    ck_assert_int_eq(wb_registry_prefer_file(reg, "nope.so"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_error(reg), "plugins.prefer: no accepted plugin file is 'nope.so' (`workbench "
                                             "plugins` lists the files and why any was rejected)");
    ck_assert_int_eq(wb_registry_prefer_file(reg, "good.so"), WB_OK); /* defines no duplicate: nothing changes */
    ck_assert_ptr_eq(wb_registry_find(reg, WB_KIND_LOSS, "dup_loss"), a->manifest->modules[0]);
    wb_registry_free(reg);
}
END_TEST

START_TEST(same_file_twice_is_loaded_once) {
    wb_registry *reg = wb_registry_new();
    char path[1024], other[1024];
    snprintf(path, sizeof(path), "%s/good/good.so", WB_FIXTURE_DIR);
    snprintf(other, sizeof(other), "%s/good/../good/good.so", WB_FIXTURE_DIR);
    ck_assert_int_eq(wb_registry_load_file(reg, path, "a"), WB_OK);
    ck_assert_int_eq(wb_registry_load_file(reg, other, "b"), WB_OK);
    ck_assert_int_eq(wb_registry_num_plugins(reg), 1);
    ck_assert_int_eq(wb_registry_num_conflicts(reg), 0);
    ck_assert_int_eq(wb_registry_load_file(reg, "/nonexistent/p.so", "c"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_plugin(reg, 1)->reason, "cannot resolve the path: No such file or directory");
    wb_registry_free(reg);
}
END_TEST

/* 50000 types made at load time register and resolve (scan cost must grow
 * about linearly: quadratic never finished under ASan at 200k); a type the
 * second file defines again is still ambiguous, naming both files. */
START_TEST(many_types_register_and_resolve) {
    wb_registry *reg = scan_scenario("many_types");
    const wb_plugin_record *many = record_named(reg, "many_types.so"), *one = record_named(reg, "one_type.so");
    ck_assert_msg(many->accepted, "%s", many->reason);
    ck_assert_msg(one->accepted, "%s", one->reason);
    ck_assert_int_eq(wb_registry_num_modules(reg), 50000 + 1 + 1); /* and good.so's neck */
    const char *names[4];
    ck_assert_int_eq(wb_registry_list(reg, WB_KIND_NECK, names, 4), 50000 + 1);
    for (int i = 0; i < 50000; i += 997) {
        char type[16];
        snprintf(type, sizeof type, "gen_%05d", i);
        if (i != 4242) ck_assert_msg(wb_registry_find(reg, WB_KIND_NECK, type), "%s does not resolve", type);
    }
    ck_assert_ptr_nonnull(wb_registry_find(reg, WB_KIND_NECK, "gen_49999"));
    ck_assert_ptr_null(wb_registry_find(reg, WB_KIND_BACKBONE, "gen_49999"));
    char msg[2048];
    ck_assert_int_eq(wb_registry_lookup(reg, WB_KIND_NECK, "gen_04242", NULL, msg, sizeof msg), WB_LOOKUP_AMBIGUOUS);
    ck_assert_msg(strstr(msg, "neck type 'gen_04242' is ambiguous: it is defined by ") && strstr(msg, many->path) &&
                      strstr(msg, one->path),
                  "%s", msg);
    ck_assert_int_eq(wb_registry_num_conflicts(reg), 1);
    wb_registry_free(reg);
}
END_TEST

/* Static manifests go through the same validation as loaded ones. */
static const wb_module_desc g_static_loss = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_LOSS,
    .type_name = "static_loss",
    .summary = "Linked into the test",
    .module = NULL,
};
static const wb_module_desc *const g_static_modules[] = {&g_static_loss};

/* Evaluation and inference call release_sample, class_name and category_id
 * unconditionally: a dataset without them is rejected at load, not a crash
 * through a NULL pointer at the end of training. */
static wb_status never_open(wb_ctx *ctx, const wb_params *p, void **ds) {
    (void)ctx, (void)p, (void)ds;
    return WB_ERR_INTERNAL;
}
static int64_t no_length(void *ds) { return (void)ds, 0; }
static wb_status no_get(void *ds, wb_ctx *ctx, int64_t i, wb_sample *smp) {
    (void)ds, (void)ctx, (void)i, (void)smp;
    return WB_ERR_INTERNAL;
}
static int no_classes(void *ds) { return (void)ds, 0; }
static void no_close(void *ds) { (void)ds; }
static const wb_dataset_vtable g_dataset_without_release = {
    .struct_size = sizeof(wb_dataset_vtable), .open = never_open, .length = no_length, .get = no_get,
    .num_classes = no_classes, .close = no_close};
static const wb_module_desc g_static_dataset = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_DATASET,
    .type_name = "static_dataset",
    .summary = "Linked into the test",
    .dataset = &g_dataset_without_release,
};
static const wb_module_desc *const g_static_datasets[] = {&g_static_dataset};

START_TEST(dataset_needs_every_function_the_core_calls) {
    wb_registry *reg = wb_registry_new();
    wb_plugin_manifest m = {sizeof(wb_plugin_manifest), WB_ABI_MAJOR, WB_ABI_MINOR, WB_ABI_MINOR,
                            "static", "1", "MIT", g_static_datasets, 1};
    ck_assert_int_eq(wb_registry_add_manifest(reg, &m, "test:dataset"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_error(reg), "test:dataset: dataset 'static_dataset': vtable function "
                                             "release_sample is NULL");
    wb_registry_free(reg);
}
END_TEST

START_TEST(static_manifest_is_validated) {
    wb_registry *reg = wb_registry_new();
    wb_plugin_manifest m = {sizeof(wb_plugin_manifest), WB_ABI_MAJOR, WB_ABI_MINOR, WB_ABI_MINOR,
                            "static", "1", "MIT", g_static_modules, 1};
    ck_assert_int_eq(wb_registry_add_manifest(reg, &m, "test:static"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_error(reg), "test:static: loss 'static_loss' has a NULL module vtable");
    ck_assert_str_eq(wb_registry_plugin(reg, 0)->source, "static");
    ck_assert_int_eq(wb_registry_add_manifest(reg, NULL, "test:null"), WB_ERR_INVALID);
    ck_assert_str_eq(wb_registry_plugin(reg, 1)->reason, "manifest is NULL");
    ck_assert_int_eq(wb_registry_num_modules(reg), 0);
    wb_registry_free(reg);
}
END_TEST

START_TEST(search_path_order_and_dedup) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/good", WB_FIXTURE_DIR);
    char env[4096];
    snprintf(env, sizeof(env), "::%s/:/nonexistent/wb_dir::%s/runtime", dir, WB_FIXTURE_DIR);
    setenv("WB_PLUGIN_PATH", env, 1);
    wb_search_path sp;
    wb_search_path_init(&sp);
    ck_assert(wb_search_path_add(&sp, dir, "--plugin-dir"));
    ck_assert(wb_search_path_add_defaults(&sp));
    unsetenv("WB_PLUGIN_PATH");
    /* dir given twice (once with a trailing slash) is kept once, at its first place. */
    ck_assert_str_eq(sp.dirs[0].source, "--plugin-dir");
    ck_assert(sp.dirs[0].exists);
    ck_assert_str_eq(sp.dirs[1].path, "/nonexistent/wb_dir");
    ck_assert_str_eq(sp.dirs[1].source, "WB_PLUGIN_PATH");
    ck_assert(!sp.dirs[1].exists);
    ck_assert(strstr(sp.dirs[2].path, "/runtime") != NULL);
    ck_assert_str_eq(sp.dirs[3].source, "host");
    /* The host dir ends the list: never the current directory. */
    ck_assert_int_eq(sp.n, 4);

    wb_registry *reg = wb_registry_new();
    wb_registry_scan(reg, &sp);
    ck_assert(record_named(reg, "fixture_bad_forward.so")->accepted);
    /* good.so exists in both dirs, as two different files: a real duplicate. */
    ck_assert_int_eq(wb_registry_num_conflicts(reg), 1);
    wb_registry_free(reg);
    wb_search_path_free(&sp);
}
END_TEST

/* Runs bin/workbench with args; returns its exit code and its stdout+stderr in out. */
static int run_cli(const char *args, char *out, size_t size) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "env -u WB_PLUGIN_PATH %s/bin/workbench %s 2>&1", WB_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    /* read to the end: closing the pipe early would stop a long listing with SIGPIPE (exit 141) */
    char rest[4096];
    while (fread(rest, 1, sizeof rest, p) > 0) continue;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(cli_plugins_describe_version) {
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/bin/workbench", WB_BINARY_DIR);
    ck_assert_msg(access(bin, X_OK) == 0, "%s is missing: build the workbench target", bin);
    static char out[1 << 20]; /* every loaded plugin listed: tens of KiB and growing */
    char args[2048];

    snprintf(args, sizeof(args), "plugins --plugin-dir %s/no_entry -v", WB_FIXTURE_DIR);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "REJECTED  " WB_FIXTURE_DIR "/no_entry/bad_no_entry.so: no entry point"), "%s", out);
    ck_assert_msg(strstr(out, "ACCEPTED  " WB_FIXTURE_DIR "/no_entry/good.so  (fixture_good 1.2.3, MIT, 1 module)"),
                  "%s", out);
    ck_assert_msg(strstr(out, "[--plugin-dir]"), "%s", out);
    ck_assert_msg(strstr(out, "one of: sum, max"), "verbose schema missing:\n%s", out);

    snprintf(args, sizeof(args), "--plugin-dir %s/duplicate plugins --json", WB_FIXTURE_DIR);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "\"conflicts\":") && strstr(out, "\"status\":\t\"accepted\""), "%s", out);

    snprintf(args, sizeof(args), "describe good_identity --plugin-dir %s/good", WB_FIXTURE_DIR);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "neck 'good_identity': Passes its inputs through") && strstr(out, "num_outs"), "%s", out);

    snprintf(args, sizeof(args), "describe dup_loss --plugin-dir %s/duplicate", WB_FIXTURE_DIR);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "loss type 'dup_loss' is ambiguous"), "%s", out);

    snprintf(args, sizeof(args), "describe nope --plugin-dir %s/good", WB_FIXTURE_DIR);
    ck_assert_int_eq(run_cli(args, out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "no module type 'nope' is loaded") && strstr(out, "good_identity"), "%s", out);

    ck_assert_int_eq(run_cli("version", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "plugin ABI 1.6") && strstr(out, "oneDNN "), "%s", out);
    ck_assert_int_eq(run_cli("--threads 3 version", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "threads: 3\n"), "%s", out);

    ck_assert_int_eq(run_cli("plugins --help", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "Usage: workbench plugins"), "%s", out);
    ck_assert_int_eq(run_cli("--help", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "describe") && strstr(out, "--plugin-dir DIR"), "%s", out);
    ck_assert_int_eq(run_cli("frobnicate", out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "unknown command 'frobnicate'"), "%s", out);
    ck_assert_int_eq(run_cli("plugins --bogus", out, sizeof(out)), 2);
    ck_assert_int_eq(run_cli("--threads zero version", out, sizeof(out)), 2);
    ck_assert_int_eq(run_cli("", out, sizeof(out)), 2);
}
END_TEST

/* A config whose neck type two plugin files define: validate says which files and how to choose. */
START_TEST(validate_names_duplicate_type) {
    char dir[] = "/tmp/wb_prefer_XXXXXX", conf[256], args[1024], in_tree[512];
    static char out[1 << 20]; /* every loaded plugin listed: tens of KiB and growing */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs("model = { backbone = { type = \"tiny_cnn\"; widths = [8, 16]; };\n"
          "          neck = { type = \"fpn\"; out_channels = 8; num_outs = 1; };\n"
          "          head = { type = \"center_head\"; num_classes = 2; feat_channels = 8; }; };\n"
          "data = { train = { dataset = { type = \"synthetic\"; num_images = 4; image_size = 64; num_classes = 2; };\n"
          "                   pipeline = ( { type = \"normalize\"; mean = [0.0, 0.0, 0.0]; std = [1.0, 1.0, 1.0]; } ); }; };\n",
          f);
    fclose(f);
    snprintf(in_tree, sizeof in_tree, "%s/wb_neck_fpn.so", WB_PLUGIN_BUILD_DIR);
    snprintf(args, sizeof args, "--plugin-dir %s/fpn_again validate %s", WB_FIXTURE_DIR, conf);
    ck_assert_int_eq(run_cli(args, out, sizeof out), 2);
    char expected[4096];
    snprintf(expected, sizeof expected, "neck type 'fpn' is ambiguous: it is defined by %s/fpn_again/fpn_again.so and "
             "%s; choose one with plugins.prefer = [\"<file>\"] (its path or file name)", WB_FIXTURE_DIR, in_tree);
    ck_assert_msg(strstr(out, expected) && !strstr(out, "unknown neck type"), "expected\n  %s\nin\n%s", expected, out);

    snprintf(args, sizeof args, "--plugin-dir %s/fpn_again validate %s --set 'plugins.prefer=[\"wb_neck_fpn.so\"]'",
             WB_FIXTURE_DIR, conf);
    ck_assert_msg(run_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "--plugin-dir %s/fpn_again validate %s --set 'plugins.prefer=[\"fpn.so\"]'",
             WB_FIXTURE_DIR, conf);
    ck_assert_int_eq(run_cli(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "plugins.prefer: no accepted plugin file is 'fpn.so'"), "%s", out);
    unlink(conf);
    rmdir(dir);
}
END_TEST

static Suite *loader_suite(void) {
    Suite *s = suite_create("loader");
    TCase *t = tcase_create("registry");
    tcase_add_loop_test(t, rejects_with_reason_and_keeps_good, 0, (int)(sizeof(g_rejects) / sizeof(g_rejects[0])));
    tcase_add_test(t, not_so_reason_carries_dlerror);
    tcase_add_test(t, good_alone_lists_and_finds);
    tcase_add_test(t, runtime_fixtures_load);
    tcase_add_test(t, duplicate_type_is_ambiguous_until_preferred);
    tcase_add_test(t, prefer_file_by_path_or_name);
    tcase_add_test(t, many_types_register_and_resolve);
    tcase_add_test(t, same_file_twice_is_loaded_once);
    tcase_add_test(t, static_manifest_is_validated);
    tcase_add_test(t, dataset_needs_every_function_the_core_calls);
    tcase_add_test(t, search_path_order_and_dedup);
    suite_add_tcase(s, t);
    TCase *cli = tcase_create("cli");
    tcase_add_test(cli, cli_plugins_describe_version);
    tcase_add_test(cli, validate_names_duplicate_type);
    suite_add_tcase(s, cli);
    return s;
}

int main(void) { return wbt_run_suite(loader_suite()); }
