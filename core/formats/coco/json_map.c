#include "json_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *not_regular(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO (named pipe)";
    if (S_ISCHR(m) || S_ISBLK(m)) return "is a device";
    return "is not a regular file";
}

int json_map_open(json_map *m, const char *path, char *err, size_t err_size) {
    *m = (json_map){0};
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return 0;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
        snprintf(err, err_size, "%s: %s; expected a JSON file", path,
                 S_ISREG(sb.st_mode) ? "file is empty" : not_regular(sb.st_mode));
        close(fd);
        return 0;
    }
    /* Pages are read once, sequentially, and may be dropped again
     * (json_drop_consumed), so the parse needs no copy of the file. */
    void *base = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(err, err_size, "%s: cannot map (%s)", path, strerror(errno));
        return 0;
    }
    madvise(base, (size_t)sb.st_size, MADV_SEQUENTIAL);
    *m = (json_map){base, (size_t)sb.st_size, base, (size_t)sb.st_size};
    if (m->length >= 3 && memcmp(m->text, "\xEF\xBB\xBF", 3) == 0) m->text += 3, m->length -= 3;
    return 1;
}

void json_map_close(json_map *m) {
    if (m->base) munmap(m->base, m->size);
    *m = (json_map){0};
}
