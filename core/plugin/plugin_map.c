#define _GNU_SOURCE /* dl_iterate_phdr */
#include "plugin_map.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>

static wb_mapped_plugin *g_head;

typedef struct span_query {
    const char *path;
    uintptr_t lo, hi;
} span_query;

/* dl_iterate_phdr callback: the span of the PT_LOAD segments of the object named q->path. */
static int find_span(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    span_query *q = arg;
    if (!info->dlpi_name || strcmp(info->dlpi_name, q->path) != 0) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!q->lo || lo < q->lo) q->lo = lo;
        if (hi > q->hi) q->hi = hi;
    }
    return 1;
}

void wb_plugin_map_add(const char *real_path) {
    if (wb_plugin_map_file(real_path)) return;
    span_query q = {real_path, 0, 0};
    dl_iterate_phdr(find_span, &q);
    wb_mapped_plugin *p = calloc(1, sizeof *p);
    char *path = strdup(real_path);
    if (!p || !path) {
        free(p);
        free(path);
        return; /* only messages get less precise */
    }
    *p = (wb_mapped_plugin){.lo = q.lo, .hi = q.hi, .path = path, .next = g_head};
    __atomic_store_n(&g_head, p, __ATOMIC_RELEASE);
}

void wb_plugin_map_name(const char *real_path, const char *name) {
    wb_mapped_plugin *p = (wb_mapped_plugin *)wb_plugin_map_file(real_path);
    if (p) p->name = name;
}

const wb_mapped_plugin *wb_plugin_map_find(const void *addr) {
    uintptr_t a = (uintptr_t)addr;
    for (const wb_mapped_plugin *p = __atomic_load_n(&g_head, __ATOMIC_ACQUIRE); p; p = p->next)
        if (a >= p->lo && a < p->hi) return p;
    return NULL;
}

const wb_mapped_plugin *wb_plugin_map_file(const char *real_path) {
    for (const wb_mapped_plugin *p = __atomic_load_n(&g_head, __ATOMIC_ACQUIRE); p; p = p->next)
        if (strcmp(p->path, real_path) == 0) return p;
    return NULL;
}
