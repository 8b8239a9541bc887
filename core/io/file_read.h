/* Reading files named by users or by other files. Only regular files are
 * opened: a FIFO blocks forever, a directory reads as empty, /dev/zero never
 * ends. Every refusal is "PATH: why; what to do" in err. */
#ifndef WB_IO_FILE_READ_H
#define WB_IO_FILE_READ_H

#include <stddef.h>
#include <stdio.h>

/* Opens path read-only if it is a regular file (the open itself cannot block
 * on a FIFO). NULL and a message otherwise. */
FILE *wb_open_regular(const char *path, char *err, size_t n);

/* The whole regular file, NUL-terminated, if it holds at most max_bytes
 * (what: "config", "annotation file", ... for the message). *size gets its
 * length. NULL and a message otherwise; free() the result. */
char *wb_read_file(const char *path, size_t max_bytes, const char *what, size_t *size, char *err,
                   size_t n);

#endif
