/* A TensorBoard event file: events.out.tfevents.<seconds>.<host>.<pid> in a
 * folder, each record an Event (tensorboard.proto, encoded by protobuf-c) in
 * TFRecord framing. TensorBoard reads every such file of a folder as one run. */
#ifndef WB_CORE_TBLOG_EVENT_FILE_H
#define WB_CORE_TBLOG_EVENT_FILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct wb_event_file wb_event_file;

/* Creates the file in dir (which must exist) and writes its version record.
 * NULL with the reason in err. */
wb_event_file *wb_event_file_open(const char *dir, char *err, size_t err_size);
const char *wb_event_file_path(const wb_event_file *f);

/* Each returns 0, or -1 once a write has failed: the file then takes nothing
 * more (a training run must not stop for its TensorBoard log). */
int wb_event_file_scalar(wb_event_file *f, const char *tag, int64_t step, double value);
/* png: an encoded PNG of width x height. */
int wb_event_file_image(wb_event_file *f, const char *tag, int64_t step, const void *png, size_t len, int width,
                        int height);
/* A text summary (TensorBoard's text plugin; Markdown). */
int wb_event_file_text(wb_event_file *f, const char *tag, int64_t step, const char *text);
/* Makes what was written visible to a reader. */
void wb_event_file_flush(wb_event_file *f);
void wb_event_file_close(wb_event_file *f);

#endif
