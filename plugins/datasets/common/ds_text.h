/* Small text utilities for annotation files: whole-file reads, line
 * iteration tolerant of CRLF and a UTF-8 BOM, path joining. */
#ifndef WB_DS_TEXT_H
#define WB_DS_TEXT_H

#include <stddef.h>

/* Annotation text files above this are refused: no label, XML or list file
 * is this large, and the readers' memory grows with the file. */
#define DS_MAX_TEXT ((size_t)64 << 20)

/* Whole regular file of at most max_bytes, NUL-terminated, UTF-8 BOM removed.
 * NULL with "PATH: why" in err otherwise (a FIFO, directory or device is
 * refused without blocking). */
char *ds_read_text(const char *path, size_t max_bytes, size_t *len, char *err, size_t err_size);
/* Next line of *cursor (modifies the buffer: the line is NUL-terminated,
 * trailing CR and surrounding spaces removed); NULL at the end. */
char *ds_next_line(char **cursor);
/* dir + "/" + name into a new string ("name" alone when dir is empty or name absolute). */
char *ds_path_join(const char *dir, const char *name);
int ds_is_dir(const char *path);
int ds_is_file(const char *path);

#endif
