/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps). */
#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WB_SUGGEST_MAX_LEN 64 /* longer words are never typos of config keys */
#define WB_SUGGEST_MAX_DIST 2

static int min3(int a, int b, int c) { return a < b ? (a < c ? a : c) : (b < c ? b : c); }

static int osa_distance(const char *a, const char *b) {
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > WB_SUGGEST_MAX_LEN || m > WB_SUGGEST_MAX_LEN) return WB_SUGGEST_MAX_LEN;
    int d[WB_SUGGEST_MAX_LEN + 1][WB_SUGGEST_MAX_LEN + 1];
    for (int i = 0; i <= n; i++) d[i][0] = i;
    for (int j = 0; j <= m; j++) d[0][j] = j;
    for (int i = 1; i <= n; i++) {
        for (int j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[n][m];
}

static int is_prefix(const char *shorter, const char *longer) {
    size_t n = strlen(shorter);
    return n >= 2 && strncasecmp(shorter, longer, n) == 0;
}

const char *wb_suggest(const char *typed, const char *const *candidates, int n) {
    const char *best = NULL;
    int best_score = WB_SUGGEST_MAX_DIST + 2;
    int len = (int)strlen(typed);
    for (int i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c || strcmp(c, typed) == 0) continue;
        int dist = osa_distance(typed, c);
        /* A distance as long as the word itself would suggest anything for "x". */
        int score = dist <= WB_SUGGEST_MAX_DIST && dist < len ? dist
                    : is_prefix(typed, c) || is_prefix(c, typed) ? WB_SUGGEST_MAX_DIST + 1
                                                                  : WB_SUGGEST_MAX_DIST + 2;
        if (score < best_score) {
            best = c;
            best_score = score;
        }
    }
    return best;
}

const char *wb_suggest_text(char *buf, unsigned size, const char *typed, const char *const *candidates, int n) {
    const char *s = wb_suggest(typed, candidates, n);
    if (s)
        snprintf(buf, size, "; did you mean '%s'?", s);
    else if (size)
        buf[0] = '\0';
    return buf;
}
