/* Small text utilities for annotation files: whole-file reads, line
 * iteration tolerant of CRLF and a UTF-8 BOM, path joining. */
#ifndef WB_DS_TEXT_H
#define WB_DS_TEXT_H

#include <stddef.h>

/* Whole file, NUL-terminated, UTF-8 BOM removed. NULL with errno set on failure. */
char *ds_read_text(const char *path, size_t *len);
/* Next line of *cursor (modifies the buffer: the line is NUL-terminated,
 * trailing CR and surrounding spaces removed); NULL at the end. */
char *ds_next_line(char **cursor);
/* dir + "/" + name into a new string ("name" alone when dir is empty or name absolute). */
char *ds_path_join(const char *dir, const char *name);
int ds_is_dir(const char *path);
int ds_is_file(const char *path);

#endif
