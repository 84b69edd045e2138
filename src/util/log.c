/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sys.h"

int log_fd = 2;
enum log_level log_max = LOG_INFO;
const char *log_prog = "mmscope";

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_msg(enum log_level lvl, const char *domain, const char *fmt, ...)
{
	char buf[1024];
	int n;
	va_list ap;

	if (lvl > log_max || log_fd < 0)
		return;
	if (domain)
		n = snprintf(buf, sizeof(buf), "%s: %s: %s: ", log_prog, level_names[lvl], domain);
	else
		n = snprintf(buf, sizeof(buf), "%s: %s: ", log_prog, level_names[lvl]);
	if (n < 0 || n >= (int)sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	sys_write(log_fd, buf, (size_t)n);
}

/* signal context.  The raw system call: in the agent write() is
 * interposed (kernel buffers), and a log line may be written with the
 * region table locked. */
/* no strlen: the hot sites' fast path may come here, with no vector
 * register saved (src/agent/hot-fast.c) */
void log_raw(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	if (log_fd >= 0)
		sys_write(log_fd, s, n);
}
