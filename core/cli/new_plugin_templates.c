/* The templates of `workbench new-plugin` (the .in files of core/cli/new_plugin/, embedded
 * at build time by cmake/embed_files.cmake) and which one serves which kind. */
#include "new_plugin_templates.h"

#include <stddef.h>
#include <string.h>

extern const char wb_template_backbone[], wb_template_neck[], wb_template_head[], wb_template_loss[],
    wb_template_dataset[], wb_template_transform[];

const char *wb_template_source(const char *kind) {
    static const struct {
        const char *kind, *source;
    } sources[] = {{"backbone", wb_template_backbone}, {"neck", wb_template_neck}, {"head", wb_template_head},
                   {"loss", wb_template_loss},         {"dataset", wb_template_dataset},
                   {"transform", wb_template_transform}};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(kind, sources[i].kind) == 0) return sources[i].source;
    return NULL;
}

/* Datasets have no backward to check; a head needs its required num_classes;
 * a transform runs in a pipeline of the synthetic dataset (an installed plugin). */
const char *wb_template_gradcheck(const char *kind) {
    if (strcmp(kind, "dataset") == 0) return "# (datasets have no backward: nothing for gradcheck)";
    if (strcmp(kind, "transform") == 0)
        return "# (transforms have no backward: the step runs on 4 samples of the synthetic dataset instead)\n"
               "printf 'data = { train = { dataset = { type = \"synthetic\"; num_images = 4; }; pipeline = ( "
               "{ type = \"@NAME@\"; p = 1.0; } ); }; };\\n' > build/pipeline.conf\n"
               "\"$wb\" browse-dataset build/pipeline.conf --num 4 --out build/pictures";
    if (strcmp(kind, "head") == 0) return "\"$wb\" gradcheck @NAME@ --quick --set num_classes=3";
    return "\"$wb\" gradcheck @NAME@ --quick";
}
