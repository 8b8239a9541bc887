#include "report.h"

#include <stdarg.h>
#include <string.h>

static const char *const names[WB_DEFECT_COUNT] = {
    [WB_DEFECT_MISSING_IMAGE] = "missing image file",
    [WB_DEFECT_BAD_IMAGE] = "unreadable or truncated image",
    [WB_DEFECT_SIZE_MISMATCH] = "annotated size differs from the image",
    [WB_DEFECT_BOX_OUTSIDE] = "box outside the image",
    [WB_DEFECT_BOX_EMPTY] = "zero or negative box area",
    [WB_DEFECT_BOX_NAN] = "NaN or infinite coordinate",
    [WB_DEFECT_BAD_LABEL] = "label out of range or unknown class",
    [WB_DEFECT_DUPLICATE_ID] = "duplicate image id",
    [WB_DEFECT_BAD_LINE] = "empty or malformed label line",
    [WB_DEFECT_ORPHAN_LABEL] = "label file without an image",
    [WB_DEFECT_BAD_ANNOTATION] = "annotation file does not parse",
    [WB_DEFECT_MISSING_ANNOTATION] = "split names a missing annotation",
    [WB_DEFECT_NO_OBJECTS] = "image without annotations (note)",
    [WB_DEFECT_NO_LABEL_FILE] = "image without a label file (note)",
};

const char *wb_defect_name(wb_defect kind) { return kind < WB_DEFECT_COUNT ? names[kind] : "?"; }

bool wb_defect_is_note(wb_defect kind) { return kind == WB_DEFECT_NO_OBJECTS || kind == WB_DEFECT_NO_LABEL_FILE; }

void wb_check_add(wb_check_report *r, wb_defect kind, const char *where, const char *fmt, ...) {
    int64_t i = r->count[kind]++;
    if (i >= WB_CHECK_EXAMPLES) return;
    char *ex = r->example[kind][i];
    size_t n = sizeof r->example[kind][i];
    int used = snprintf(ex, n, "%s%s", where ? where : "", where ? ": " : "");
    if (used < 0 || (size_t)used >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex + used, n - (size_t)used, fmt, ap);
    va_end(ap);
}

int64_t wb_check_errors(const wb_check_report *r) {
    int64_t n = 0;
    for (int k = 0; k < WB_DEFECT_COUNT; k++)
        if (!wb_defect_is_note((wb_defect)k)) n += r->count[k];
    return n;
}

void wb_check_print(const wb_check_report *r, FILE *out) {
    fprintf(out, "== data.%s: %s\n", r->split, r->source);
    if (!r->scanned) return;
    fprintf(out, "   %lld images, %lld boxes declared\n", (long long)r->images, (long long)r->boxes);
    for (int k = 0; k < WB_DEFECT_COUNT; k++) {
        if (!r->count[k]) continue;
        fprintf(out, "   %s: %lld\n", names[k], (long long)r->count[k]);
        for (int i = 0; i < WB_CHECK_EXAMPLES && i < r->count[k]; i++) fprintf(out, "     %s\n", r->example[k][i]);
        if (r->count[k] > WB_CHECK_EXAMPLES)
            fprintf(out, "     ... and %lld more\n", (long long)(r->count[k] - WB_CHECK_EXAMPLES));
    }
    if (wb_check_errors(r) == 0) fprintf(out, "   clean\n");
}

void wb_check_print_summary(const wb_check_report *reports, int n, FILE *out) {
    fprintf(out, "\n%-40s", "summary");
    for (int s = 0; s < n; s++) fprintf(out, " %8s", reports[s].split);
    fputc('\n', out);
    for (int k = 0; k < WB_DEFECT_COUNT; k++) {
        fprintf(out, "%-40s", names[k]);
        for (int s = 0; s < n; s++) {
            if (reports[s].scanned) fprintf(out, " %8lld", (long long)reports[s].count[k]);
            else fprintf(out, " %8s", "-");
        }
        fputc('\n', out);
    }
}
