/* data.single_cls's dataset view: every label 0 ("item", category 1), the
 * dataset's own arrays and bookkeeping handed back intact on release, and
 * closing the view closes the dataset. */
#include <string.h>
#include "data/dataset_single_cls.h"
#include "wbtest.h"

typedef struct fake {
    int labels[3];
    float boxes[12];
    int released, closed;
} fake;

static int64_t f_length(void *ds) {
    (void)ds;
    return 2;
}

static wb_status f_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *s) {
    (void)ctx;
    fake *f = ds;
    s->num_boxes = index == 0 ? 3 : 0;
    s->labels = index == 0 ? f->labels : NULL;
    s->boxes = index == 0 ? f->boxes : NULL;
    s->priv = f;
    return WB_OK;
}

static void f_release(void *ds, wb_sample *s) {
    fake *f = ds;
    ck_assert_ptr_eq(s->priv, f);
    ck_assert_ptr_eq(s->labels, s->num_boxes ? f->labels : NULL);
    f->released++;
}

static int f_num_classes(void *ds) {
    (void)ds;
    return 7;
}

static void f_close(void *ds) { ((fake *)ds)->closed++; }

static const wb_dataset_vtable fake_vt = {.struct_size = sizeof fake_vt, .length = f_length, .get = f_get,
                                          .release_sample = f_release, .num_classes = f_num_classes,
                                          .close = f_close};

START_TEST(one_class_view) {
    fake f = {{2, 6, 1}, {0}, 0, 0};
    const wb_dataset_vtable *vt;
    void *ds;
    ck_assert_int_eq(wb_single_cls_wrap(&fake_vt, &f, &vt, &ds), WB_OK);
    ck_assert_int_eq(vt->length(ds), 2);
    ck_assert_int_eq(vt->num_classes(ds), 1);
    ck_assert_str_eq(vt->class_name(ds, 0), "item");
    ck_assert_int_eq(vt->category_id(ds, 0), 1);
    for (int64_t i = 0; i < 2; i++) {
        wb_sample s = {.struct_size = sizeof s};
        ck_assert_int_eq(vt->get(ds, NULL, i, &s), WB_OK);
        for (int k = 0; k < s.num_boxes; k++) ck_assert_int_eq(s.labels[k], 0);
        ck_assert_ptr_eq(s.boxes, i == 0 ? f.boxes : NULL);
        vt->release_sample(ds, &s);
    }
    ck_assert_int_eq(f.released, 2);
    ck_assert_int_eq(f.labels[0], 2); /* the dataset's own labels are untouched */
    vt->close(ds);
    ck_assert_int_eq(f.closed, 1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("single_cls");
    TCase *tc = tcase_create("single_cls");
    tcase_add_test(tc, one_class_view);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
