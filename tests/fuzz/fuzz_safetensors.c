/* The safetensors reader on arbitrary bytes: whatever it accepts must be
 * safe to use (every tensor found by its name, every value readable inside
 * the data buffer, class names in the metadata within their caps), whatever
 * it refuses must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "train/checkpoint_labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wb_st_file f;
    char err[1024] = "";
    if (wb_st_parse(data, size, "fuzz.safetensors", &f, err, sizeof err) != WB_OK) {
        if (strncmp(err, "fuzz.safetensors: ", 18) != 0 || err[18] == '\0') abort();
        return 0;
    }
    volatile float sum = 0.0f;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *t = &f.tensors[i];
        if (wb_st_find(&f, t->name) != t) abort(); /* names are unique */
        const unsigned char *begin = (const unsigned char *)t->data, *end = begin + t->numel * (int64_t)sizeof(float);
        if (begin < f.data || end > f.data + f.data_size) abort();
        for (int64_t j = 0; j < t->numel; j++) sum += t->data[j];
    }
    for (int i = 0; i < f.n_meta; i++)
        if (wb_st_meta(&f, f.meta_keys[i]) != f.meta_values[i]) abort();
    /* Class names in the metadata: accepted ones are within their caps, refused ones say why. */
    wb_checkpoint_labels l;
    int found = wb_checkpoint_labels_read(&f, &l, err, sizeof err);
    if (found < 0 && err[0] == '\0') abort();
    for (int k = 0; found == 1 && k < l.num_classes; k++)
        if (strlen(l.class_names[k]) >= WB_LABEL_NAME_MAX) abort();
    if (found == 1) wb_checkpoint_labels_free(&l);
    wb_st_free(&f);
    return 0;
}
