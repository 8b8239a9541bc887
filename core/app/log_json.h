/* A run's log.json read back for tools (analyze-logs): its train and val
 * lines, each a cJSON object, with where they sit on the run's time axis. */
#ifndef WB_CORE_APP_LOG_JSON_H
#define WB_CORE_APP_LOG_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wb_log_json {
    char *path;
    cJSON **lines;        /* train and val lines in file order (resume markers and other modes left out) */
    int n;
    int by_iter;          /* val lines count iterations ("iter"), not epochs */
    int64_t per_epoch;    /* iterations per epoch: the largest "iter" of a train line */
} wb_log_json;

/* Reads path (at most 1 GiB). 0, or 1 with "PATH:LINE: why" in err. */
int wb_log_json_read(wb_log_json *l, const char *path, char *err, size_t err_size);
void wb_log_json_free(wb_log_json *l);

/* Whether line i is a train line. */
int wb_log_json_is_train(const wb_log_json *l, int i);
/* Line i's place on the run's axis: epochs (train lines at epoch - 1 +
 * iter / per_epoch) or, for iteration-based runs, iterations. */
double wb_log_json_x(const wb_log_json *l, int i);
/* The number key holds in line i; 0 when it has none. */
int wb_log_json_number(const wb_log_json *l, int i, const char *key, double *value);

#endif
