#include "confusion_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "figure.h"
#include "heatmap.h"

enum { WIDTH = 1800, HEIGHT = 1350 };

wb_status wb_confusion_plot(const wb_confusion *m, const char *const *names, const char *path, char *err, size_t n) {
    int k = m->num_classes + 1;
    double *norm = malloc((size_t)k * k * sizeof *norm);
    char (*nums)[16] = malloc((size_t)k * sizeof *nums);
    const char **labels = malloc((size_t)k * sizeof *labels);
    if (!norm || !nums || !labels) {
        free(norm), free(nums), free(labels);
        snprintf(err, n, "out of memory plotting %s", path);
        return WB_ERR_NOMEM;
    }
    wb_confusion_normalized(m, norm);
    for (int i = 0; i < k * k; i++)
        if (norm[i] < 0.005) norm[i] = NAN; /* YOLOv5: would read 0.00 */
    for (int c = 0; c < m->num_classes; c++) {
        snprintf(nums[c], sizeof nums[c], "%d", c);
        labels[c] = names ? names[c] : nums[c];
    }
    labels[k - 1] = "background";
    wb_figure f;
    wb_figure_open(&f, WIDTH, HEIGHT);
    /* Class names take the left and bottom margins. */
    double font = m->num_classes < 50 ? 18 : 14, margin = 0;
    for (int c = 0; c < k; c++) margin = fmax(margin, wb_plot_text_width(labels[c], font));
    margin = fmin(margin, 0.25 * WIDTH);
    wb_axes a;
    wb_axes_place(&a, f.cr, margin, 0, WIDTH - margin, HEIGHT - margin, font);
    wb_plot_heatmap(&a, norm, k, k, 1.0, m->num_classes < 30, labels, labels);
    wb_plot_text(f.cr, "True", 1.3 * font, a.left + a.width / 2, HEIGHT - 1.0 * font, 0.5, 1, 0, (wb_rgb){0, 0, 0});
    wb_plot_text(f.cr, "Predicted", 1.3 * font, 0.8 * font, a.top + a.height / 2, 0.5, 0, -M_PI / 2,
                 (wb_rgb){0, 0, 0});
    wb_axes_draw(&a, "Confusion matrix (normalised by true class)", NULL, NULL);
    free(norm), free(nums), free(labels);
    return wb_figure_save(&f, path, err, n);
}
