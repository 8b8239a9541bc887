#include "type_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void wb_type_index_free(wb_type_index *ix) {
    free(ix->first);
    free(ix->next);
    memset(ix, 0, sizeof *ix);
}

/* FNV-1a over the kind and the name. */
static size_t hash_of(int kind, const char *type) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
    for (const unsigned char *p = (const unsigned char *)type; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return (size_t)h;
}

static bool is_type(const wb_module_entry *e, int kind, const char *type) {
    return (int)e->desc->kind == kind && strcmp(e->desc->type_name, type) == 0;
}

/* The slot holding the type, or the empty slot where it would go. */
static size_t slot_of(const int *first, size_t n_slots, const wb_module_entry *entries, int kind, const char *type) {
    size_t s = hash_of(kind, type) & (n_slots - 1);
    while (first[s] >= 0 && !is_type(&entries[first[s]], kind, type)) s = (s + 1) & (n_slots - 1);
    return s;
}

static bool grow_slots(wb_type_index *ix, const wb_module_entry *entries) {
    size_t n_slots = ix->n_slots ? ix->n_slots * 2 : 64;
    int *first = malloc(n_slots * sizeof *first);
    if (!first) return false;
    memset(first, 0xff, n_slots * sizeof *first); /* every slot -1 */
    for (size_t s = 0; s < ix->n_slots; s++) {
        int i = ix->first[s];
        if (i >= 0) first[slot_of(first, n_slots, entries, (int)entries[i].desc->kind, entries[i].desc->type_name)] = i;
    }
    free(ix->first);
    ix->first = first;
    ix->n_slots = n_slots;
    return true;
}

bool wb_type_index_add(wb_type_index *ix, const wb_module_entry *entries, int i, int *earlier) {
    if (i >= ix->cap_next) {
        int cap = ix->cap_next ? ix->cap_next * 2 : 64;
        int *next = realloc(ix->next, (size_t)cap * sizeof *next);
        if (!next) return false;
        ix->next = next;
        ix->cap_next = cap;
    }
    if (2 * (ix->n_types + 1) > ix->n_slots && !grow_slots(ix, entries)) return false;
    int kind = (int)entries[i].desc->kind;
    size_t s = slot_of(ix->first, ix->n_slots, entries, kind, entries[i].desc->type_name);
    ix->next[i] = -1;
    *earlier = ix->first[s];
    if (ix->first[s] < 0) {
        ix->first[s] = i;
        ix->n_types++;
        return true;
    }
    int last = ix->first[s];
    while (ix->next[last] >= 0) last = ix->next[last];
    ix->next[last] = i;
    return true;
}

int wb_type_index_first(const wb_type_index *ix, const wb_module_entry *entries, int kind, const char *type) {
    return ix->n_slots ? ix->first[slot_of(ix->first, ix->n_slots, entries, kind, type)] : -1;
}

int wb_type_index_next(const wb_type_index *ix, int i) { return ix->next[i]; }
