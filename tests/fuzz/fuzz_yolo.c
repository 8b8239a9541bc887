/* YOLO labels and names files on arbitrary bytes: every line of the input
 * through the plugin's label-line parser, and the whole input through the
 * shared names reader (core/formats/yolo/) both as data.yaml (libyaml) and
 * as a one-name-per-line file. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/yolo/yolo_names.h"
#include "yolo_labels.h"

static void labels(const char *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *state, *line = strtok_r(text, "\n", &state); line; line = strtok_r(NULL, "\n", &state)) {
        int cls;
        float box[4];
        const char *why;
        if (yolo_parse_line(line, 80, &cls, box, &why) > 0 &&
            (cls < 0 || cls >= 80 || !isfinite(box[0] + box[1] + box[2] + box[3])))
            abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    labels(text, size);
    char err[512], **names;
    for (int yaml = 0; yaml < 2; yaml++) {
        int n = yolo_names_parse(text, size, yaml, &names, err, sizeof err);
        for (int i = 0; i < n; i++)
            if (!names[i] || !names[i][0]) abort();
        yolo_names_free(names, n);
    }
    return 0;
}
