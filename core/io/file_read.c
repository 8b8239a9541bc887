#include "file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO (named pipe)";
    if (S_ISCHR(m) || S_ISBLK(m)) return "is a device";
    if (S_ISSOCK(m)) return "is a socket";
    return "is not a regular file";
}

FILE *wb_open_regular(const char *path, char *err, size_t n) {
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, n, "%s: %s; expected a regular file", path,
                 fstat(fd, &st) != 0 ? strerror(errno) : kind_of(st.st_mode));
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

char *wb_read_file(const char *path, size_t max_bytes, const char *what, size_t *size, char *err,
                   size_t n) {
    FILE *f = wb_open_regular(path, err, n);
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            size_t grown_cap = cap ? 2 * cap : 8192;
            if (grown_cap > max_bytes + 1) grown_cap = max_bytes + 1;
            if (grown_cap <= len) break; /* at the limit: one byte past it was read */
            char *grown = realloc(buf, grown_cap + 1);
            if (!grown) {
                snprintf(err, n, "%s: out of memory reading %zu bytes", path, len);
                goto fail;
            }
            buf = grown;
            cap = grown_cap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, n, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    if (len > max_bytes) {
        snprintf(err, n, "%s: %s larger than %zu bytes; is this the right file?", path, what, max_bytes);
        goto fail;
    }
    fclose(f);
    if (!buf) buf = malloc(1);
    if (!buf) return NULL;
    buf[len] = '\0';
    if (size) *size = len;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}
