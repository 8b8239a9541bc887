#include "experiment_args.h"

#include <stdio.h>
#include <string.h>
#include "app/trained_model.h"
#include "io/file_read.h"

int wb_cli_parse_experiment(const char *cmd, const wb_cli *cli, int argc, char **argv, bool allow_run_options,
                            wb_cli_experiment *out) {
    memset(out, 0, sizeof *out);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--set") == 0 || strncmp(a, "--set=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !strchr(v, '=')) return wb_cli_usage_error(cmd, "--set wants key=value");
            if (out->args.n_overrides == WB_CLI_MAX_OVERRIDES)
                return wb_cli_usage_error(cmd, "at most %d --set options", WB_CLI_MAX_OVERRIDES);
            out->overrides[out->args.n_overrides++] = v;
        } else if (strcmp(a, "--hyp") == 0) {
            if (i + 1 >= argc) return wb_cli_usage_error(cmd, "--hyp wants a YOLOv5 hyp file (hyp.scratch-low.yaml)");
            out->args.hyp = argv[++i];
        } else if (allow_run_options && strcmp(a, "--work-dir") == 0) {
            if (i + 1 >= argc) return wb_cli_usage_error(cmd, "--work-dir wants a directory");
            out->work_dir = argv[++i];
        } else if (allow_run_options && strcmp(a, "--resume") == 0) {
            /* An optional value: a checkpoint file, else the work dir's latest. */
            bool has_value = i + 1 < argc && argv[i + 1][0] != '-' && strstr(argv[i + 1], ".safetensors");
            out->resume = has_value ? argv[++i] : "auto";
        } else if (a[0] == '-' && a[1] != '\0') {
            return wb_cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (out->n_positional < WB_CLI_MAX_POSITIONAL) {
            out->positional[out->n_positional++] = a;
        } else {
            return wb_cli_usage_error(cmd, "too many arguments ('%s')", a);
        }
    }
    if (out->n_positional < 1) return wb_cli_usage_error(cmd, "missing the experiment file (EXP.conf)");
    out->args.path = out->positional[0];
    out->args.overrides = out->overrides;
    out->args.plugin_dirs = cli->plugin_dirs;
    out->args.n_plugin_dirs = cli->n_plugin_dirs;
    return WB_EXIT_OK;
}

int wb_cli_check_checkpoint(const char *cmd, const char *path) {
    char err[4096 + 256];
    FILE *f = wb_open_regular(path, err, sizeof err);
    if (f) {
        fclose(f);
        return WB_EXIT_OK;
    }
    fprintf(stderr, "workbench %s: %s\n", cmd, err);
    return WB_EXIT_FAILURE;
}

int wb_cli_open_trained(const wb_cli *cli, const wb_cli_experiment *x, const char *checkpoint, wb_cli_trained *t) {
    memset(t, 0, sizeof *t);
    if (wb_experiment_open(&t->e, &x->args, stderr) != 0) return WB_EXIT_USAGE;
    t->s = wb_experiment_session(&t->e, cli->threads, stderr);
    t->m = t->s ? wb_trained_model(&t->e, t->s, checkpoint, stderr) : NULL;
    return t->m ? WB_EXIT_OK : WB_EXIT_FAILURE;
}

void wb_cli_close_trained(wb_cli_trained *t) {
    wb_model_destroy(t->m);
    wb_session_destroy(t->s);
    wb_experiment_close(&t->e);
}
