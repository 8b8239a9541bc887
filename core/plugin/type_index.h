/* The registry's index from (kind, type name) to its module entries, so
 * registering and looking up n types costs O(n), not O(n^2): a hash table
 * of the first entry of each type, and per entry the next one of the same
 * type (duplicates: the same type from several plugin files), in
 * registration order. Entries are the registry's wb_module_entry array,
 * passed in because it moves when it grows. */
#ifndef WB_CORE_TYPE_INDEX_H
#define WB_CORE_TYPE_INDEX_H

#include <stdbool.h>
#include "registry.h"

typedef struct wb_type_index {
    int *first;           /* hash slots: index of a type's first entry, -1 when empty */
    size_t n_slots;       /* a power of two, at least twice the number of types */
    size_t n_types;
    int *next;            /* per entry: the next entry of the same type, -1 at the end */
    int cap_next;
} wb_type_index;

void wb_type_index_free(wb_type_index *ix);
/* Indexes entries[i] (the newest). *earlier is the first entry of the same
 * kind and type registered before it, or -1. false when out of memory. */
bool wb_type_index_add(wb_type_index *ix, const wb_module_entry *entries, int i, int *earlier);
/* The first entry of a type of a kind, or -1. */
int wb_type_index_first(const wb_type_index *ix, const wb_module_entry *entries, int kind, const char *type);
/* The entry after entry i of the same type, or -1. */
int wb_type_index_next(const wb_type_index *ix, int i);

#endif
