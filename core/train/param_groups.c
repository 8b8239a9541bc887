#include "param_groups.h"

#include <fnmatch.h>
#include <string.h>

static bool rule_matches(const char *pattern, const char *name) {
    if (strpbrk(pattern, "*?[")) return fnmatch(pattern, name, 0) == 0;
    return strstr(name, pattern) != NULL;
}

/* Longest matching pattern, as mmcv tries custom_keys longest first. */
static const wb_param_rule *custom_rule(const wb_optim_config *cfg, const char *name) {
    const wb_param_rule *best = NULL;
    for (int i = 0; i < cfg->n_rules; i++) {
        const wb_param_rule *r = &cfg->rules[i];
        if (rule_matches(r->pattern, name) && (!best || strlen(r->pattern) > strlen(best->pattern))) best = r;
    }
    return best;
}

/* A norm layer (BN, GN, LN) is the only layer whose `weight` is 1-D. */
static bool in_norm_layer(const wb_session *s, const char *name) {
    const char *dot = strrchr(name, '.');
    size_t prefix = dot ? (size_t)(dot - name + 1) : 0;
    for (int i = 0; i < s->n_params; i++) {
        const char *other = s->params[i].name;
        if (strncmp(other, name, prefix) == 0 && strcmp(other + prefix, "weight") == 0)
            return s->params[i].tensor->ndim == 1;
    }
    return false;
}

wb_param_group wb_param_group_of(const wb_session *s, const wb_tensor *param, const wb_optim_config *cfg) {
    const char *dot = strrchr(param->name, '.');
    const char *local = dot ? dot + 1 : param->name;
    wb_param_group g = {1.0f, cfg->weight_decay, strcmp(local, "bias") == 0};
    const wb_param_rule *r = custom_rule(cfg, param->name);
    if (r) {
        g.lr_mult = r->lr_mult;
        g.weight_decay *= r->decay_mult;
        return g;
    }
    if (in_norm_layer(s, param->name)) g.weight_decay *= cfg->norm_decay_mult;
    else if (g.bias) g.weight_decay *= cfg->bias_decay_mult;
    return g;
}
