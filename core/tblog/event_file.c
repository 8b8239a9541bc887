#include "event_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "../runtime/log.h"
#include "tensorboard.pb-c.h"
#include "tfrecord.h"

/* TensorBoard's DataType for strings (types.proto). */
enum { DT_STRING = 7 };

struct wb_event_file {
    FILE *f;
    int failed;
    char path[4096];
};

static double wall_time(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

static int write_event(wb_event_file *f, const Wb__Tensorboard__Event *ev) {
    if (f->failed) return -1;
    size_t len = protobuf_c_message_get_packed_size(&ev->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf || protobuf_c_message_pack(&ev->base, buf) != len || wb_tfrecord_write(f->f, buf, len) != 0) {
        f->failed = 1;
        wb_logf(WB_LOG_WARN, "tensorboard", "cannot write %s: %s; the TensorBoard log stops here, the run goes on",
                f->path, buf ? strerror(errno) : "out of memory");
    }
    free(buf);
    return f->failed ? -1 : 0;
}

/* An event holding one summary value. */
static int write_value(wb_event_file *f, int64_t step, Wb__Tensorboard__Summary__Value *value) {
    Wb__Tensorboard__Summary__Value *values[1] = {value};
    Wb__Tensorboard__Summary summary = WB__TENSORBOARD__SUMMARY__INIT;
    summary.n_value = 1;
    summary.value = values;
    Wb__Tensorboard__Event ev = WB__TENSORBOARD__EVENT__INIT;
    ev.wall_time = wall_time();
    ev.step = step;
    ev.what_case = WB__TENSORBOARD__EVENT__WHAT_SUMMARY;
    ev.summary = &summary;
    return write_event(f, &ev);
}

wb_event_file *wb_event_file_open(const char *dir, char *err, size_t n) {
    wb_event_file *f = calloc(1, sizeof *f);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    if (!f) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s/events.out.tfevents.%lld.%s.%ld", dir, (long long)time(NULL), host,
             (long)getpid());
    /* O_EXCL | O_NOFOLLOW: never append to a planted file or another process's log. */
    int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    f->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f->f) {
        snprintf(err, n, "cannot create %s: %s", f->path, strerror(errno));
        if (fd >= 0) close(fd);
        free(f);
        return NULL;
    }
    Wb__Tensorboard__Event ev = WB__TENSORBOARD__EVENT__INIT;
    ev.wall_time = wall_time();
    ev.what_case = WB__TENSORBOARD__EVENT__WHAT_FILE_VERSION;
    ev.file_version = (char *)"brain.Event:2";
    if (write_event(f, &ev) != 0) {
        snprintf(err, n, "cannot write %s", f->path);
        wb_event_file_close(f);
        return NULL;
    }
    wb_event_file_flush(f);
    return f;
}

const char *wb_event_file_path(const wb_event_file *f) { return f->path; }

int wb_event_file_scalar(wb_event_file *f, const char *tag, int64_t step, double value) {
    Wb__Tensorboard__Summary__Value v = WB__TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = WB__TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = (float)value;
    return write_value(f, step, &v);
}

int wb_event_file_image(wb_event_file *f, const char *tag, int64_t step, const void *png, size_t len, int width,
                        int height) {
    Wb__Tensorboard__Summary__Image image = WB__TENSORBOARD__SUMMARY__IMAGE__INIT;
    image.width = width;
    image.height = height;
    image.colorspace = 3;
    image.encoded_image_string = (ProtobufCBinaryData){len, (uint8_t *)png};
    Wb__Tensorboard__Summary__Value v = WB__TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = WB__TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE;
    v.image = &image;
    return write_value(f, step, &v);
}

int wb_event_file_text(wb_event_file *f, const char *tag, int64_t step, const char *text) {
    /* The text plugin finds its summaries by plugin name and reads a string tensor. */
    Wb__Tensorboard__SummaryMetadata__PluginData plugin = WB__TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    plugin.plugin_name = (char *)"text";
    Wb__Tensorboard__SummaryMetadata meta = WB__TENSORBOARD__SUMMARY_METADATA__INIT;
    meta.plugin_data = &plugin;
    ProtobufCBinaryData str = {strlen(text), (uint8_t *)text};
    Wb__Tensorboard__TensorShapeProto shape = WB__TENSORBOARD__TENSOR_SHAPE_PROTO__INIT; /* a scalar */
    Wb__Tensorboard__TensorProto tensor = WB__TENSORBOARD__TENSOR_PROTO__INIT;
    tensor.dtype = DT_STRING;
    tensor.tensor_shape = &shape;
    tensor.n_string_val = 1;
    tensor.string_val = &str;
    Wb__Tensorboard__Summary__Value v = WB__TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.metadata = &meta;
    v.value_case = WB__TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &tensor;
    return write_value(f, step, &v);
}

void wb_event_file_flush(wb_event_file *f) {
    if (f && f->f && !f->failed && fflush(f->f) != 0) f->failed = 1;
}

void wb_event_file_close(wb_event_file *f) {
    if (!f) return;
    if (f->f) fclose(f->f);
    free(f);
}
