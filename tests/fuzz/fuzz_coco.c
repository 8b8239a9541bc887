/* The shared COCO reader (core/formats/coco/) on arbitrary bytes, once as
 * training and eval call it (the first bad entry ends the read) and once as
 * the dataset doctor does (bad entries reported, reading goes on); plus the
 * exact-id rule checked against strtod on every number token. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/coco/coco_reader.h"
#include "formats/coco/json_pull.h"

static bool keep_image(void *user, int64_t index, const coco_image_entry *e) {
    (void)index;
    *(size_t *)user += e->file_name ? strlen(e->file_name) : 0;
    return true;
}

static bool keep_category(void *user, int64_t index, const coco_category_entry *e) {
    (void)index;
    *(size_t *)user += strlen(e->name);
    return true;
}

static bool keep_annotation(void *user, int64_t index, const coco_annotation_entry *e) {
    (void)index;
    if (!isfinite(e->bbox[0] + e->bbox[1] + e->bbox[2] + e->bbox[3])) abort();
    *(size_t *)user += 1;
    return true;
}

static bool note_bad(void *user, const coco_problem *p) {
    char text[512];
    coco_problem_text(p, text, sizeof text);
    *(size_t *)user += strlen(text);
    return true;
}

/* Every number token that passes as an id is the integer strtod reads. */
static void check_ids(const char *text, size_t n) {
    json_pull j;
    json_init(&j, text, n);
    while (j.p < j.end) {
        const char *tok;
        size_t len;
        int64_t id;
        double v;
        if (json_peek(&j) != JSON_NUMBER) {
            j.p++;
            continue;
        }
        if (!json_number_token(&j, &tok, &len)) break;
        if (json_token_id(tok, len, &id) && (!json_token_double(tok, len, &v) || v != (double)id)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    size_t sink = 0;
    coco_problem problem;
    coco_visitor v = {&sink, COCO_NEED_FILE_NAME | COCO_NEED_SIZE, keep_image, keep_category, keep_annotation, NULL};
    coco_parse(text, size, &v, &problem);
    v.need = COCO_NEED_ANNOTATION_ID;
    v.bad_entry = note_bad;
    coco_parse(text, size, &v, &problem);
    check_ids(text, size);
    return sink == (size_t)-1;
}
