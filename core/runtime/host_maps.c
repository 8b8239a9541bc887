#include "host_maps.h"

#include <stdlib.h>

static void end_at(wb_session *s, int i, bool upload) {
    wb_host_map *m = &s->maps[i];
    if (upload && m->t->numel > 0) s->backend->upload(m->dev, m->host, (size_t)m->t->numel * sizeof(float));
    free(m->host);
    s->maps[i] = s->maps[--s->n_maps];
}

static int find(const wb_session *s, const float *dev) {
    for (int i = 0; i < s->n_maps; i++)
        if (s->maps[i].dev == dev) return i;
    return -1;
}

float *wb_host_maps_map(wb_session *s, wb_tensor *t) {
    int i = find(s, t->data);
    if (i >= 0) return s->maps[i].host;
    if (s->n_maps == s->cap_maps) {
        int cap = s->cap_maps ? 2 * s->cap_maps : 16;
        wb_host_map *grown = realloc(s->maps, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        s->maps = grown;
        s->cap_maps = cap;
    }
    float *host = malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
    if (!host) return NULL;
    if (t->numel > 0) s->backend->download(host, t->data, (size_t)t->numel * sizeof(float));
    s->maps[s->n_maps++] = (wb_host_map){t, t->data, host};
    return host;
}

void wb_host_maps_unmap(wb_session *s, wb_tensor *t) {
    int i = find(s, t->data);
    if (i >= 0) end_at(s, i, true);
}

static bool overlaps(const wb_host_map *m, const float *p, int64_t n) {
    return p < m->dev + m->t->numel && m->dev < p + n;
}

void wb_host_maps_flush(wb_session *s, wb_tensor *const *in, int n) {
    for (int k = 0; k < n && s->n_maps; k++)
        for (int i = s->n_maps - 1; in[k] && i >= 0; i--)
            if (overlaps(&s->maps[i], in[k]->data, in[k]->numel)) end_at(s, i, true);
}

void wb_host_maps_forget(wb_session *s, const float *dev, size_t bytes) {
    for (int i = s->n_maps - 1; i >= 0; i--)
        if (overlaps(&s->maps[i], dev, (int64_t)(bytes / sizeof(float)))) end_at(s, i, false);
}

void wb_host_maps_end(wb_session *s) {
    while (s->n_maps) end_at(s, s->n_maps - 1, s->maps[s->n_maps - 1].t->persistent);
}
