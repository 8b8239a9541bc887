/* Class names of a YOLO dataset from its names file, the one reader for the
 * yolo dataset plugin and the dataset doctor: a data.yaml (read with libyaml)
 * whose `names` is a list or an {index: name} mapping with indices 0..n-1,
 * or else a text file with one name per line. libc + libyaml only: compiled
 * into the core and into the plugin (see docs/architecture.md). */
#ifndef WB_YOLO_NAMES_H
#define WB_YOLO_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* More classes than this is not a names file. */
#define YOLO_MAX_NAMES 100000

/* yaml: parse text as YAML (a .yaml / .yml file). Returns the number of
 * names (>= 1) with *names malloc'ed, or 0 with "why (line N)" in err. */
int yolo_names_parse(const char *text, size_t len, bool yaml, char ***names, char *err, size_t err_size);
void yolo_names_free(char **names, int n);
/* The images of a split of a data.yaml (text, read from yaml_path; split
 * "train", "val" or "test"): `path` joined with the split's folder or list
 * file, a relative `path` being relative to the data.yaml's folder (YOLOv5
 * takes it relative to its own checkout; a dataset's folder is what a
 * workbench user has). malloc'ed; NULL with why in err. */
char *yolo_data_split_images(const char *text, size_t len, const char *yaml_path, const char *split, char *err,
                             size_t err_size);
/* Whether path names a YAML file by its extension. */
bool yolo_names_is_yaml(const char *path);

#endif
