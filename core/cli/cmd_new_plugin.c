/* workbench new-plugin --kind KIND NAME [DIR]: a plugin skeleton that builds
 * against the installed SDK and loads as it is. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"
#include "new_plugin_templates.h"

const char wb_help_new_plugin[] =
    "Usage: workbench new-plugin --kind backbone|neck|head|loss|dataset|transform NAME [DIR]\n\n"
    "Writes a plugin skeleton into DIR (default: ./NAME), which must not exist or be empty:\n"
    "  NAME.c          one module of the kind, type name NAME: schema, vtable, a working forward\n"
    "                  (datasets: open/get/release_sample; transforms: apply on a sample's\n"
    "                  pixels), the contract in its comments\n"
    "  CMakeLists.txt  find_package(workbench) + wb_add_plugin(NAME NAME.c)\n"
    "  README.md       building with CMake or pkg-config, loading, checking\n"
    "  test.sh         builds it against the workbench on PATH ($WORKBENCH), then checks that\n"
    "                  `workbench plugins` ACCEPTS it, `describe` and `gradcheck` (a transform:\n"
    "                  `browse-dataset` runs it on samples of the synthetic dataset)\n"
    "It builds and loads as it is; replace the skeleton's computation with yours. NAME is the\n"
    "module's type name: a C identifier (letters, digits, '_', not starting with a digit) of\n"
    "at most 63 characters.\n\n"
    "Examples:\n"
    "  workbench new-plugin --kind neck my_pafpn\n"
    "  cd my_pafpn && sh test.sh\n"
    "  workbench new-plugin --kind loss quality_focal_loss plugins/qfl\n"
    "  workbench new-plugin --kind transform my_gamma\n";

static bool is_c_identifier(const char *s) {
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '_')) return false;
    return n < WB_NAME_MAX;
}

/* A new or empty directory; false (with a message) for one with entries or anything else. */
static bool prepare_dir(const char *dir) {
    if (mkdir(dir, 0777) == 0) return true;
    if (errno != EEXIST) {
        fprintf(stderr, "workbench new-plugin: cannot create %s: %s\n", dir, strerror(errno));
        return false;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "workbench new-plugin: %s exists and is not a readable directory; choose another DIR\n", dir);
        return false;
    }
    int entries = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    if (entries) {
        fprintf(stderr, "workbench new-plugin: %s exists and is not empty; nothing was written (choose a new or "
                        "empty DIR)\n", dir);
        return false;
    }
    return true;
}

/* Writes text with every @NAME@, @KIND@ and @GRADCHECK@ replaced. */
static bool write_file(const char *dir, const char *file, const char *text, const char *name, const char *kind,
                       int mode) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "workbench new-plugin: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    const char *gradcheck = wb_template_gradcheck(kind);
    for (const char *p = text; *p;) {
        if (strncmp(p, "@NAME@", 6) == 0) fputs(name, f), p += 6;
        else if (strncmp(p, "@KIND@", 6) == 0) fputs(kind, f), p += 6;
        else if (strncmp(p, "@GRADCHECK@", 11) == 0) { /* it holds @NAME@ itself */
            for (const char *g = gradcheck; *g;)
                if (strncmp(g, "@NAME@", 6) == 0) fputs(name, f), g += 6;
                else fputc(*g++, f);
            p += 11;
        } else fputc(*p++, f);
    }
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (ok && mode) ok = chmod(path, (mode_t)mode) == 0;
    if (!ok) fprintf(stderr, "workbench new-plugin: writing %s failed: %s\n", path, strerror(errno));
    return ok;
}

int wb_cmd_new_plugin(const wb_cli *cli, int argc, char **argv) {
    (void)cli;
    const char *kind = NULL, *name = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0) {
            if (++i == argc) return wb_cli_usage_error("new-plugin", "--kind needs a value");
            kind = argv[i];
        } else if (argv[i][0] == '-') {
            return wb_cli_usage_error("new-plugin", "unknown option '%s'", argv[i]);
        } else if (!name) {
            name = argv[i];
        } else if (!dir) {
            dir = argv[i];
        } else {
            return wb_cli_usage_error("new-plugin", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!kind)
        return wb_cli_usage_error("new-plugin", "--kind is required (backbone, neck, head, loss, dataset or transform)");
    if (!wb_template_source(kind))
        return wb_cli_usage_error("new-plugin", "unknown kind '%s'; choose backbone, neck, head, loss, dataset or "
                                  "transform", kind);
    if (!name) return wb_cli_usage_error("new-plugin", "NAME is required (the module's type name)");
    if (!is_c_identifier(name))
        return wb_cli_usage_error("new-plugin", "NAME '%s' is not a C identifier (letters, digits and '_', not "
                                  "starting with a digit, at most %d characters); it becomes the type name and "
                                  "the C identifiers of the skeleton", name, WB_NAME_MAX - 1);
    if (!dir) dir = name;
    if (!prepare_dir(dir)) return WB_EXIT_USAGE;
    char source[WB_NAME_MAX + 2];
    snprintf(source, sizeof source, "%s.c", name);
    bool ok = write_file(dir, source, wb_template_source(kind), name, kind, 0) &&
              write_file(dir, "CMakeLists.txt", wb_template_cmake, name, kind, 0) &&
              write_file(dir, "README.md", wb_template_readme, name, kind, 0) &&
              write_file(dir, "test.sh", wb_template_test, name, kind, 0755);
    if (!ok) return WB_EXIT_FAILURE;
    printf("wrote a %s plugin skeleton '%s' into %s/: %s, CMakeLists.txt, README.md, test.sh\n", kind, name, dir,
           source);
    printf("build and check it: cd %s && sh test.sh\n", dir);
    return WB_EXIT_OK;
}
