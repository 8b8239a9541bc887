#include <stdio.h>
#include <string.h>
#include "check/doctor.h"
#include "experiment_args.h"

const char wb_help_check[] =
    "Usage: workbench check EXP.conf [--set key=value]... [--split train|val|test|all] [--fix-to DIR]\n\n"
    "EXP.conf may be a whole experiment or a file with only a `data` section (configs/_base_/datasets/*.conf).\n"
    "The dataset doctor: reads the annotation files of every split in the experiment's data section (coco, voc,\n"
    "yolo; synthetic has nothing to scan; any other type through its dataset plugin, sample by sample), decodes\n"
    "every image in full, and reports with counts and the first\n"
    "examples (file:line or entry and id): missing image files, unreadable or truncated images, annotated sizes\n"
    "that differ from the real image, boxes outside the image, zero or negative area, NaN, labels out of range\n"
    "or classes not in the list, duplicate image ids, empty or malformed YOLO label lines, label files without\n"
    "an image, annotation files that do not parse, split files naming missing annotations. Images without\n"
    "annotations and without a label file are listed as notes (background images) and do not fail the check.\n\n"
    "Options:\n"
    "  --split S     only data.S (default all)\n"
    "  --fix-to DIR  write cleaned annotations under DIR/<split>/ (the originals are never touched):\n"
    "                coco: the JSON without bad images and annotations; voc: cleaned XML copies and the split\n"
    "                file; yolo: cleaned label files. Overhanging boxes are clipped, the rest of a bad entry\n"
    "                dropped; an image whose real size differs from its annotation is dropped. Nothing is\n"
    "                written for datasets checked through their plugin (their format is the plugin's own).\n"
    "                A DIR/<split> that is, lies inside or holds the dataset's files is refused (exit 2).\n\n"
    "Exit 0 when every split is clean, 1 when a defect was found (summary table printed), 2 on usage errors.\n\n"
    "Examples:\n"
    "  workbench check my_experiment.conf\n"
    "  workbench check my_exp.conf --split val --fix-to /tmp/cleaned\n";

/* Takes --split and --fix-to out of argv (in place), leaving the shared experiment options. */
static int take_own_options(int *argc, char **argv, const char **split, const char **fix_dir) {
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char **slot = strcmp(argv[i], "--split") == 0 ? split : strcmp(argv[i], "--fix-to") == 0 ? fix_dir : NULL;
        if (!slot) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) return wb_cli_usage_error("check", "%s wants a value", argv[i]);
        *slot = argv[++i];
    }
    *argc = kept;
    return WB_EXIT_OK;
}

int wb_cmd_check(const wb_cli *cli, int argc, char **argv) {
    wb_doctor_opts o = {0};
    int rc = take_own_options(&argc, argv, &o.split, &o.fix_dir);
    wb_cli_experiment x;
    if (rc == WB_EXIT_OK) rc = wb_cli_parse_experiment("check", cli, argc, argv, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    x.args.data_only = true; /* the doctor reads data only: a dataset config alone will do */
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    /* A session runs the dataset plugins of types without a format scanner. */
    wb_session *s = wb_experiment_session(&e, cli->threads, stderr);
    if (!s) {
        wb_experiment_close(&e);
        return WB_EXIT_FAILURE;
    }
    o.reg = e.reg;
    o.session = s;
    static wb_check_report reports[WB_CHECK_MAX_SPLITS];
    char err[1024];
    int n = wb_doctor_run(e.cfg, &o, reports, stdout, err, sizeof err);
    wb_session_destroy(s);
    wb_experiment_close(&e);
    if (n < 0) {
        fprintf(stderr, "workbench check: %s\n", err);
        return strncmp(err, "--", 2) == 0 || strstr(err, "no data.") ? WB_EXIT_USAGE : WB_EXIT_FAILURE;
    }
    int64_t defects = 0;
    for (int s = 0; s < n; s++) defects += wb_check_errors(&reports[s]);
    if (defects) printf("\n%lld defect(s) found%s\n", (long long)defects, o.fix_dir ? "; cleaned annotations written" : "");
    else printf("\nclean%s\n", o.fix_dir ? "; annotations copied" : "");
    if (o.fix_dir) printf("cleaned annotations: %s/<split>/\n", o.fix_dir);
    return defects ? WB_EXIT_FAILURE : WB_EXIT_OK;
}
