#include "manifest_check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../config/config.h"
#include "../data/transforms.h"
#include "registry.h"

/* Sizes of the ABI 1.0 layouts: a struct_size below these lacks fields the
 * core reads. Later minors only append, so larger sizes are fine. */
#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#define MANIFEST_V1_SIZE END_OF(wb_plugin_manifest, num_modules)
#define DESC_V1_SIZE END_OF(wb_module_desc, dataset)
#define MODULE_VT_V1_SIZE END_OF(wb_module_vtable, destroy)
#define DATASET_VT_V1_SIZE END_OF(wb_dataset_vtable, close)
/* Transforms came with ABI 1.3: their descriptors end with the transform vtable. */
#define DESC_TRANSFORM_SIZE END_OF(wb_module_desc, transform)
#define TRANSFORM_VT_SIZE END_OF(wb_transform_vtable, destroy)

static bool fail(char *reason, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *reason, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, size, fmt, ap);
    va_end(ap);
    return false;
}

/* Type and parameter names appear in configs as keys and strings. */
static bool is_identifier(const char *s) {
    if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!(isalnum((unsigned char)s[n]) || s[n] == '_')) return false;
    return n < WB_NAME_MAX;
}

static bool check_param(const char *type, int i, const wb_param_schema *p, char *reason, size_t size) {
    if (p->struct_size != sizeof(wb_param_schema))
        return fail(reason, size, "module '%s': parameter %d has struct_size %u, this host's schema entries are %zu bytes",
                    type, i, p->struct_size, sizeof(wb_param_schema));
    if (!p->name)
        return fail(reason, size, "module '%s': parameter %d has a NULL name but is not the WB_PARAM_END marker "
                    "(type %d)", type, i, (int)p->type);
    if (!is_identifier(p->name))
        return fail(reason, size, "module '%s': parameter %d name '%s' is not an identifier "
                    "(letters, digits, '_', under %d characters)", type, i, p->name, WB_NAME_MAX);
    if (p->type < WB_PARAM_INT || p->type > WB_PARAM_MODULE)
        return fail(reason, size, "module '%s': parameter '%s' has unknown type %d", type, p->name, (int)p->type);
    if (p->type == WB_PARAM_CHOICE && (!p->choices || !p->choices[0]))
        return fail(reason, size, "module '%s': choice parameter '%s' has no choices", type, p->name);
    if (p->type == WB_PARAM_MODULE && !wb_registry_kind_name(p->module_kind))
        return fail(reason, size, "module '%s': module parameter '%s' has unknown module_kind %d",
                    type, p->name, p->module_kind);
    if (p->has_range && !(p->min <= p->max))
        return fail(reason, size, "module '%s': parameter '%s' has range [%g, %g] with min > max",
                    type, p->name, p->min, p->max);
    return true;
}

static bool check_schema(const char *type, const wb_param_schema *params, char *reason, size_t size) {
    if (!params) return true; /* no parameters */
    for (int i = 0; i < WB_MAX_SCHEMA_ENTRIES; i++) {
        const wb_param_schema *p = &params[i];
        if (!p->name && p->type == 0) return true; /* WB_PARAM_END */
        if (!check_param(type, i, p, reason, size)) return false;
        for (int j = 0; j < i; j++)
            if (strcmp(params[j].name, p->name) == 0)
                return fail(reason, size, "module '%s': parameter '%s' is declared twice", type, p->name);
    }
    return fail(reason, size, "module '%s': parameter schema has no WB_PARAM_END within %d entries",
                type, WB_MAX_SCHEMA_ENTRIES);
}

/* Defaults are checked against their own entries (parse, type, range,
 * choices) now, so a broken one is the plugin's rejection, not a config error
 * of the first experiment that leaves the key out. */
static bool check_defaults(const wb_module_desc *d, char *reason, size_t size) {
    char owner[WB_NAME_MAX + 16], err[WB_REASON_MAX];
    snprintf(owner, sizeof owner, "%s '%s'", wb_registry_kind_name(d->kind), d->type_name);
    if (wb_param_schema_check(d->params, owner, err, sizeof err) == 0) return true;
    return fail(reason, size, "%s", err);
}

static bool check_module_vtable(const wb_module_desc *d, char *reason, size_t size) {
    const wb_module_vtable *v = d->module;
    const char *kind = wb_registry_kind_name(d->kind);
    if (!v) return fail(reason, size, "%s '%s' has a NULL module vtable", kind, d->type_name);
    if (v->struct_size < MODULE_VT_V1_SIZE)
        return fail(reason, size, "%s '%s': module vtable struct_size %u is smaller than the %zu bytes of ABI 1.0",
                    kind, d->type_name, v->struct_size, MODULE_VT_V1_SIZE);
    const char *missing = !v->create ? "create" : !v->output_specs ? "output_specs"
                        : !v->forward ? "forward" : !v->destroy ? "destroy" : NULL;
    if (!missing && d->kind == WB_KIND_HEAD) missing = !v->loss ? "loss" : !v->predict ? "predict" : NULL;
    if (!missing && (d->caps & WB_CAP_CUSTOM_BACKWARD)) missing = !v->backward ? "backward" : NULL;
    if (missing) return fail(reason, size, "%s '%s': vtable function %s is NULL", kind, d->type_name, missing);
    return true;
}

static bool check_dataset_vtable(const wb_module_desc *d, char *reason, size_t size) {
    const wb_dataset_vtable *v = d->dataset;
    if (!v) return fail(reason, size, "dataset '%s' has a NULL dataset vtable", d->type_name);
    if (v->struct_size < DATASET_VT_V1_SIZE)
        return fail(reason, size, "dataset '%s': dataset vtable struct_size %u is smaller than the %zu bytes of ABI 1.0",
                    d->type_name, v->struct_size, DATASET_VT_V1_SIZE);
    /* Every function the core calls unconditionally (evaluation and inference need the last three). */
    const char *missing = !v->open ? "open" : !v->length ? "length" : !v->get ? "get"
                        : !v->num_classes ? "num_classes" : !v->close ? "close"
                        : !v->release_sample ? "release_sample" : !v->class_name ? "class_name"
                        : !v->category_id ? "category_id" : NULL;
    if (missing) return fail(reason, size, "dataset '%s': vtable function %s is NULL", d->type_name, missing);
    return true;
}

static bool check_transform_vtable(const wb_module_desc *d, char *reason, size_t size) {
    if (d->struct_size < DESC_TRANSFORM_SIZE)
        return fail(reason, size, "transform '%s': descriptor struct_size %u is smaller than the %zu bytes of ABI 1.3, "
                    "the first with transforms; rebuild the plugin against this SDK", d->type_name, d->struct_size,
                    DESC_TRANSFORM_SIZE);
    const wb_transform_vtable *v = d->transform;
    if (!v) return fail(reason, size, "transform '%s' has a NULL transform vtable", d->type_name);
    if (v->struct_size < TRANSFORM_VT_SIZE)
        return fail(reason, size, "transform '%s': transform vtable struct_size %u is smaller than the %zu bytes of "
                    "ABI 1.3", d->type_name, v->struct_size, TRANSFORM_VT_SIZE);
    if (!v->apply) return fail(reason, size, "transform '%s': vtable function apply is NULL", d->type_name);
    if (!v->create != !v->destroy)
        return fail(reason, size, "transform '%s': create and destroy come together (one of them is NULL)",
                    d->type_name);
    /* A pipeline step's type names a built-in transform first: a plugin of the same name would never run. */
    if (wb_transform_schema(d->type_name))
        return fail(reason, size, "transform '%s' has the name of a built-in transform; give it another type name",
                    d->type_name);
    return true;
}

static bool check_desc(int i, const wb_module_desc *d, char *reason, size_t size) {
    if (!d) return fail(reason, size, "module descriptor %d is NULL", i);
    if (d->struct_size < DESC_V1_SIZE)
        return fail(reason, size, "module descriptor %d: struct_size %u is smaller than the %zu bytes of ABI 1.0",
                    i, d->struct_size, DESC_V1_SIZE);
    if (!d->type_name) return fail(reason, size, "module descriptor %d has a NULL type name", i);
    if (!is_identifier(d->type_name))
        return fail(reason, size, "module descriptor %d: type name '%s' is not an identifier "
                    "(letters, digits, '_', under %d characters)", i, d->type_name, WB_NAME_MAX);
    if (!wb_registry_kind_name(d->kind))
        return fail(reason, size, "module '%s' has unknown kind %d", d->type_name, (int)d->kind);
    if (!d->summary) return fail(reason, size, "module '%s' has a NULL summary", d->type_name);
    bool vt_ok = d->kind == WB_KIND_DATASET     ? check_dataset_vtable(d, reason, size)
                 : d->kind == WB_KIND_TRANSFORM ? check_transform_vtable(d, reason, size)
                                                : check_module_vtable(d, reason, size);
    return vt_ok && check_schema(d->type_name, d->params, reason, size) && check_defaults(d, reason, size);
}

static int compare_kind_and_type(const void *a, const void *b) {
    const wb_module_desc *x = *(const wb_module_desc *const *)a, *y = *(const wb_module_desc *const *)b;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return strcmp(x->type_name, y->type_name);
}

/* Sorted by kind and type, a type defined twice has neighbouring copies:
 * n log n, for manifests of any size. */
static bool check_unique_types(const wb_plugin_manifest *m, char *reason, size_t size) {
    size_t n = (size_t)m->num_modules;
    if (n < 2) return true;
    const wb_module_desc **sorted = malloc(n * sizeof *sorted);
    if (!sorted) return fail(reason, size, "out of memory checking the manifest's %zu modules", n);
    memcpy(sorted, m->modules, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_kind_and_type);
    const wb_module_desc *twice = NULL;
    for (size_t i = 1; i < n && !twice; i++)
        if (compare_kind_and_type(&sorted[i - 1], &sorted[i]) == 0) twice = sorted[i];
    free(sorted);
    if (twice)
        return fail(reason, size, "%s '%s' is defined twice in this plugin", wb_registry_kind_name(twice->kind),
                    twice->type_name);
    return true;
}

bool wb_manifest_check(const wb_plugin_manifest *m, char *reason, size_t size) {
    if (m->struct_size < MANIFEST_V1_SIZE)
        return fail(reason, size, "manifest struct_size %u is smaller than the %zu bytes of ABI 1.0",
                    m->struct_size, MANIFEST_V1_SIZE);
    if (m->abi_major != WB_ABI_MAJOR)
        return fail(reason, size, "built for ABI major %u, this host implements ABI %d.%d; rebuild the plugin "
                    "against this SDK", m->abi_major, WB_ABI_MAJOR, WB_ABI_MINOR);
    if (m->min_host_minor > WB_ABI_MINOR)
        return fail(reason, size, "needs a host with ABI minor >= %u, this host implements ABI %d.%d; "
                    "upgrade workbench", m->min_host_minor, WB_ABI_MAJOR, WB_ABI_MINOR);
    if (!m->name || !m->name[0]) return fail(reason, size, "manifest has no plugin name");
    if (m->num_modules < 0 || (m->num_modules > 0 && !m->modules))
        return fail(reason, size, "manifest lists %d modules but its module array is %s",
                    m->num_modules, m->modules ? "set" : "NULL");
    for (int i = 0; i < m->num_modules; i++)
        if (!check_desc(i, m->modules[i], reason, size)) return false;
    return check_unique_types(m, reason, size);
}
