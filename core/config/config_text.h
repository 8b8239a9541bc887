/* Config text as libconfig 1.5 should have read it. That version quietly
 * stops at a NUL byte or at an unterminated block comment, and reads an
 * integer literal that does not fit in 32 bits with atoi (4294967298 becomes
 * 2, 9223372036854775807 becomes -1). Each file and each --set value passes
 * here first. */
#ifndef WB_CORE_CONFIG_TEXT_H
#define WB_CORE_CONFIG_TEXT_H

#include <stddef.h>

/* Called once per problem, with the 1-based line it is on. */
typedef void (*wb_text_error_fn)(void *user, unsigned line, const char *msg);

/* Checks len bytes of text (NULs included) and returns a NUL-terminated copy
 * in which integer literals beyond 32 bits carry libconfig's 64-bit suffix
 * `L` (with the other integers of their [array], which must share one type).
 * Reports NUL bytes, an unterminated / * comment, integers beyond 64 bits and
 * more settings (`name = value`) than *settings_left, which is decreased
 * (NULL: no limit; libconfig's time grows with the square of a group's
 * size), and then returns NULL (also when out of memory, reported as well). */
char *wb_config_text_prepare(const char *text, size_t len, size_t *settings_left, wb_text_error_fn report,
                             void *user);

#endif
