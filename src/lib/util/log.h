/* log.h - the one log module.
 *
 * Library code logs at debug level only; the boundary (CLI, daemon request
 * handler) reports errors once. Debug output is on when the environment
 * variable SBX_DEBUG is set to a non-empty value other than "0". Never pass a
 * token or secret to these functions.
 */
#ifndef SBX_UTIL_LOG_H
#define SBX_UTIL_LOG_H

#include <stdbool.h>

enum sbx_log_level { SBX_LOG_DEBUG, SBX_LOG_INFO, SBX_LOG_WARN, SBX_LOG_ERR };

bool sbx_log_debug_enabled(void);
void sbx_log(enum sbx_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sbx_debug(...)                                                                             \
	do {                                                                                       \
		if (sbx_log_debug_enabled())                                                       \
			sbx_log(SBX_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
