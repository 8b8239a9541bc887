/* Pascal VOC XML on arbitrary bytes, through both readers: the voc dataset
 * plugin's (plugins/datasets/voc/voc_xml.c) and the dataset doctor's
 * (core/check/voc_read.c). Both must refuse or read without crashing,
 * leaking or growing without bound (entity bombs, deep nesting). */
#include <stdint.h>
#include <stdlib.h>

#include "check/voc_read.h"
#include "voc_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    char err[512];
    voc_annotation a;
    if (voc_parse_text("fuzz.xml", text, size, &a, err, sizeof err)) voc_annotation_free(&a);
    voc_doc d;
    if (voc_doc_parse(text, size, &d, err, sizeof err)) voc_doc_free(&d);
    return 0;
}
