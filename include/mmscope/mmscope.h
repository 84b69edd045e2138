/* SPDX-License-Identifier: MIT */
/*
 * mmscope marker API.  Include this header and call mmscope_mark("text") to
 * put a MARK record into the trace.  Outside mmscope it does nothing and
 * costs one predictable branch; no library needs to be linked.
 */
#ifndef MMSCOPE_MMSCOPE_H
#define MMSCOPE_MMSCOPE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Defined by the mmscope agent when it is preloaded. */
extern void mmscope_agent_mark(const char *text) __attribute__((weak));

static inline void mmscope_mark(const char *text)
{
	if (mmscope_agent_mark)
		mmscope_agent_mark(text);
}

#ifdef __cplusplus
}
#endif

#endif
