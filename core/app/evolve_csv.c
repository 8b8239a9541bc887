#include "evolve_csv.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../anchors/anchor_random.h"

#define TOP_PARENTS 5

const char *const wb_evolve_result_names[WB_EVOLVE_N_RESULTS] = {
    "metrics/precision", "metrics/recall", "metrics/mAP_0.5", "metrics/mAP_0.5:0.95",
    "val/box_loss",      "val/obj_loss",   "val/cls_loss",
};

static const char *column_name(int c) {
    return c < WB_EVOLVE_N_RESULTS ? wb_evolve_result_names[c] : wb_evolve_keys[c - WB_EVOLVE_N_RESULTS].name;
}

double wb_evolve_fitness(const double *row) { return 0.1 * row[2] + 0.9 * row[3]; }

/* The next comma-separated field of *p without its surrounding blanks (cut in place). */
static char *field(char **p) {
    char *s = *p;
    if (!s) return NULL;
    char *comma = strchr(s, ',');
    *p = comma ? comma + 1 : NULL;
    if (comma) *comma = 0;
    while (*s == ' ' || *s == '\t') s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r')) *--end = 0;
    return s;
}

static int check_header(char *line, const char *path, char *err, size_t n) {
    char *p = line;
    for (int c = 0; c < WB_EVOLVE_N_COLS; c++) {
        char *name = field(&p);
        if (!name || strcmp(name, column_name(c)) != 0) {
            snprintf(err, n, "%s:1: column %d is '%s', expected '%s': not an evolve.csv of this workbench; move it "
                     "away or use another --work-dir", path, c + 1, name ? name : "(missing)", column_name(c));
            return -1;
        }
    }
    if (p) {
        snprintf(err, n, "%s:1: more than the %d columns of an evolve.csv", path, WB_EVOLVE_N_COLS);
        return -1;
    }
    return 0;
}

static int parse_row(char *line, double *row, const char *path, int line_no, char *err, size_t n) {
    char *p = line;
    for (int c = 0; c < WB_EVOLVE_N_COLS; c++) {
        char *text = field(&p), *end = NULL;
        errno = 0;
        row[c] = text ? strtod(text, &end) : 0;
        if (!text || !*text || *end || errno == ERANGE || !isfinite(row[c])) {
            snprintf(err, n, "%s:%d: column %d (%s) is '%s', not a number; the file was cut or edited: fix or "
                     "remove that line to continue the evolution", path, line_no, c + 1, column_name(c),
                     text ? text : "(missing)");
            return -1;
        }
    }
    if (p) {
        snprintf(err, n, "%s:%d: more than the %d columns of an evolve.csv", path, line_no, WB_EVOLVE_N_COLS);
        return -1;
    }
    return 0;
}

int wb_evolve_csv_read(const char *path, wb_evolve_rows *rows, char *err, size_t n) {
    memset(rows, 0, sizeof *rows);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, n, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[WB_EVOLVE_MAX_LINE + 2]; /* room to tell a longer line */
    int line_no = 0, rc = 0, rows_cap = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len > WB_EVOLVE_MAX_LINE) { /* a row of '%20.5g' values is 36 x 21 characters */
            snprintf(err, n, "%s:%d: a line of more than %d characters, not a row of an evolve.csv", path,
                     line_no + 1, WB_EVOLVE_MAX_LINE);
            rc = -1;
            break;
        }
        line_no++;
        if (line_no == 1) {
            rc = check_header(line, path, err, n);
            continue;
        }
        if (line[0] == '\n') continue;
        if (rows->n == WB_EVOLVE_MAX_ROWS) {
            snprintf(err, n, "%s: more than %d generations", path, WB_EVOLVE_MAX_ROWS);
            rc = -1;
            break;
        }
        if (rows->n == rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 64;
            void *v = realloc(rows->v, sizeof *rows->v * (size_t)rows_cap);
            if (!v) {
                snprintf(err, n, "out of memory reading %s", path);
                rc = -1;
                break;
            }
            rows->v = v;
        }
        rc = parse_row(line, rows->v[rows->n], path, line_no, err, n);
        if (rc == 0) rows->n++;
    }
    fclose(f);
    if (rc != 0) wb_evolve_rows_free(rows);
    return rc;
}

int wb_evolve_csv_append(const char *path, const double *row, char *err, size_t n) {
    bool is_new = access(path, F_OK) != 0;
    FILE *f = fopen(path, "a");
    if (!f) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    for (int c = 0; is_new && c < WB_EVOLVE_N_COLS; c++) fprintf(f, "%20s%s", column_name(c), c + 1 < WB_EVOLVE_N_COLS ? "," : "\n");
    for (int c = 0; c < WB_EVOLVE_N_COLS; c++) fprintf(f, "%20.5g%s", row[c], c + 1 < WB_EVOLVE_N_COLS ? "," : "\n");
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && !ferror(f);
    if (fclose(f) != 0 || !ok) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int wb_evolve_best(const wb_evolve_rows *rows) {
    int best = -1;
    for (int i = 0; i < rows->n; i++)
        if (best < 0 || wb_evolve_fitness(rows->v[i]) > wb_evolve_fitness(rows->v[best])) best = i;
    return best;
}

const double *wb_evolve_select_parent(const wb_evolve_rows *rows, uint64_t *rng) {
    int top[TOP_PARENTS], n = 0;
    for (int i = 0; i < rows->n; i++) { /* insertion into the five best, fittest first */
        double f = wb_evolve_fitness(rows->v[i]);
        int at = n < TOP_PARENTS ? n++ : TOP_PARENTS;
        while (at > 0 && wb_evolve_fitness(rows->v[top[at - 1]]) < f) {
            if (at < TOP_PARENTS) top[at] = top[at - 1];
            at--;
        }
        if (at < TOP_PARENTS) top[at] = i;
    }
    double lowest = wb_evolve_fitness(rows->v[top[n - 1]]), w[TOP_PARENTS], total = 0;
    for (int i = 0; i < n; i++) total += w[i] = wb_evolve_fitness(rows->v[top[i]]) - lowest + 1e-6;
    double u = wb_anchor_uniform(rng) * total;
    int pick = 0;
    while (pick < n - 1 && u >= w[pick]) u -= w[pick++];
    return rows->v[top[pick]];
}

void wb_evolve_rows_free(wb_evolve_rows *rows) {
    free(rows->v);
    memset(rows, 0, sizeof *rows);
}
