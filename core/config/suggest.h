/* "did you mean" for misspelled keys, module types and choices. */
#ifndef WB_CORE_CONFIG_SUGGEST_H
#define WB_CORE_CONFIG_SUGGEST_H

/* The candidate closest to typed: edit distance (with transpositions,
 * ignoring case) of at most 2, or one a prefix of the other; ties go to the
 * earlier candidate. NULL when none is close. */
const char *wb_suggest(const char *typed, const char *const *candidates, int n);

/* Writes "; did you mean 'x'?" into buf when there is a suggestion, else "". */
const char *wb_suggest_text(char *buf, unsigned size, const char *typed, const char *const *candidates, int n);

#endif
