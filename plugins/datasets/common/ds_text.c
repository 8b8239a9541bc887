#include "ds_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *not_regular(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO (named pipe)";
    if (S_ISCHR(m) || S_ISBLK(m)) return "is a device";
    return "is not a regular file";
}

char *ds_read_text(const char *path, size_t max_bytes, size_t *len, char *err, size_t err_size) {
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max_bytes) {
        if (S_ISREG(sb.st_mode))
            snprintf(err, err_size, "%s: larger than %zu bytes; is this the right file?", path, max_bytes);
        else
            snprintf(err, err_size, "%s: %s; expected a regular file", path, not_regular(sb.st_mode));
        close(fd);
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = malloc(n + 1);
    int failed = buf ? 0 : ENOMEM;
    while (!failed && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno != EINTR) failed = errno;
        if (r == 0) break; /* shrank while read: what was there */
        if (r > 0) got += (size_t)r;
    }
    close(fd);
    if (failed) {
        snprintf(err, err_size, "%s: %s", path, strerror(failed));
        free(buf);
        return NULL;
    }
    n = got;
    buf[n] = '\0';
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(buf, buf + 3, n - 2);
        n -= 3;
    }
    if (len) *len = n;
    return buf;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

char *ds_next_line(char **cursor) {
    char *p = *cursor;
    if (!p || !*p) return NULL;
    char *nl = strchr(p, '\n');
    *cursor = nl ? nl + 1 : p + strlen(p);
    char *end = nl ? nl : *cursor;
    while (end > p && is_space(end[-1])) end--;
    *end = '\0';
    while (is_space(*p)) p++;
    return p;
}

char *ds_path_join(const char *dir, const char *name) {
    if (!dir || !*dir || name[0] == '/') return strdup(name);
    size_t a = strlen(dir), b = strlen(name);
    int slash = dir[a - 1] != '/';
    char *out = malloc(a + slash + b + 1);
    if (!out) return NULL;
    memcpy(out, dir, a);
    if (slash) out[a] = '/';
    memcpy(out + a + slash, name, b + 1);
    return out;
}

int ds_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int ds_is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
