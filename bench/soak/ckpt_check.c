/* Loads each checkpoint named on the command line with the reader and the
 * trainer-state checks a resume uses; one line per file, exit 1 if any fails.
 * Used by soak.sh after every kill. */
#include <stdio.h>
#include "train/checkpoint.h"

int main(int argc, char **argv) {
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        char err[2048];
        wb_train_state st;
        if (wb_checkpoint_read_state(argv[i], &st, err, sizeof err) != WB_OK) {
            printf("FAILED %s\n", err);
            failed++;
        } else {
            printf("loads %s (iteration %lld)\n", argv[i], (long long)st.iteration);
        }
    }
    return failed ? 1 : 0;
}
