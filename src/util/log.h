/* SPDX-License-Identifier: MIT */
/*
 * pr_err/pr_warn/pr_info/pr_debug with a per-file domain (define
 * LOG_DOMAIN before including).  Output goes to log_fd (stderr by default;
 * the agent points it at its own descriptor).  Formatting uses vsnprintf
 * into a stack buffer and one write(2): fine outside signal context; signal
 * handlers use log_raw() only.
 */
#ifndef MMS_UTIL_LOG_H
#define MMS_UTIL_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_fd;
extern enum log_level log_max;
extern const char *log_prog; /* "mmscope" or "mmscope-agent" */

void log_msg(enum log_level lvl, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* signal context: writes a fixed string, no formatting */
void log_raw(const char *s);

#ifndef LOG_DOMAIN
#define LOG_DOMAIN NULL
#endif
#define pr_err(...) log_msg(LOG_ERR, LOG_DOMAIN, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, LOG_DOMAIN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, LOG_DOMAIN, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, LOG_DOMAIN, __VA_ARGS__)

#endif
