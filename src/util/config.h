/* SPDX-License-Identifier: MIT */
/*
 * The one interface between `mmscope run` and the agent: a small versioned
 * text file in the trace directory, named by MMSCOPE_CONFIG.
 *
 *   mmscope-config 1
 *   out /abs/trace.d
 *   map /dev/shm/ring*          (repeatable; none = the default selection)
 *   device /memfd:bar0*         (repeatable: device memory, also selected)
 *   verbose 1
 *   no_backtrace 1
 *   hw_invasive 1
 *   no_raw_mmap 1               (raw mmap-family system calls not trapped)
 *   hw 4 2 15                   (data slots that fire, how many mmscope may
 *                                use, mask of working lengths: bit i = 1 << i)
 *   gdb unix:/path | tcp:HOST:PORT   (the debugger connection, part 4)
 *   gdb_wait 1                  (stop at the entry point until one connects)
 *   core 0|1|2                  (--core=off|on|full, part 5)
 *   core_device_reads 1         (--dump-device-reads)
 *   gdb_open 1                  (--gdb-bind: TCP beyond loopback, peers from
 *                                other machines accepted unchecked)
 *   device_reads_live 1         (debugger reads of device mappings are real)
 *   hot N                       (--hot: faults before a site is patched, 0 off)
 *   watch<TAB>TYPE<TAB>LEN<TAB>VADDR<TAB>EXPR<TAB>MODULE     (repeatable)
 *
 * A watch's address is VADDR plus the load address of MODULE (an absolute
 * path, as `mmscope run` resolved it), or VADDR itself when MODULE is "-".
 */
#ifndef MMS_UTIL_CONFIG_H
#define MMS_UTIL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_VERSION 1
#define CONFIG_MAPS_MAX 64
#define CONFIG_DEVICES_MAX 64
#define CONFIG_PATTERN_MAX 512
#define CONFIG_ENV "MMSCOPE_CONFIG"

#define CONFIG_EXPR_MAX 256

struct config_watch {
	int type; /* enum mms_watch_type */
	uint64_t len;
	uint64_t vaddr;
	char expr[CONFIG_EXPR_MAX];
	char module[PATH_MAX]; /* "-": vaddr is absolute */
};

struct config {
	char out[PATH_MAX];
	int nmaps;
	char maps[CONFIG_MAPS_MAX][CONFIG_PATTERN_MAX];
	int ndevices;
	char devices[CONFIG_DEVICES_MAX][CONFIG_PATTERN_MAX]; /* --device */
	int verbose;
	int no_backtrace;      /* hits without their call chain */
	int hw_invasive;       /* watches outrank the program's breakpoints */
	int no_raw_mmap;       /* do not trap raw mmap-family system calls */
	int hw_slots;	       /* data watchpoint slots that fire (probe) */
	int hw_max;	       /* how many of them mmscope may hold */
	unsigned hw_lens;      /* lengths that fire: bit i = length 1 << i */
	char gdb[PATH_MAX];    /* "unix:PATH" or "tcp:HOST:PORT"; "" none */
	int gdb_wait;	       /* stop at the entry point until a debugger */
	int gdb_open;	       /* --gdb-bind: listen beyond loopback */
	int core;	       /* --core: 0 off, 1 on, 2 full (agent/core.h) */
	int core_device_reads; /* --dump-device-reads: cores read devices */
	int device_reads_live; /* debugger reads of a device are real */
	int hot;	       /* --hot=N: faults before a site is patched; 0 off */
	int nwatches;
	struct config_watch *watches; /* malloc'd; config_free() */
};

/* Append a watch (copied); 0 or -ENOMEM. */
int config_add_watch(struct config *c, const struct config_watch *w);
void config_free(struct config *c);

/* Creates path (O_EXCL, never following a symlink, 0600) relative to
 * dirfd; 0 or -errno. */
int config_write(const struct config *c, int dirfd, const char *path);
/* 0, or -errno with a message in err */
int config_read(struct config *c, const char *path, char *err, size_t errlen);

/* signal context.  Does this mapped object match the selection?  path is
 * what the kernel shows in /proc/self/maps; is_chardev from fstat of the
 * object.  The --map patterns, or the default selection when there are
 * none (character devices but /dev/zero, PCI resource files); the
 * --device patterns always select. */
bool config_selects(const struct config *c, const char *path, bool is_chardev);

/* signal context.  Is this selected object device memory, whose reads
 * have side effects?  A --device pattern matches it, or it is a character
 * device other than /dev/zero, or a PCI resource file. */
bool config_is_device(const struct config *c, const char *path, bool is_chardev);

/* signal context.  Glob match of one --map or --device pattern (util/glob.h);
 * an exact string match always counts. */
bool config_pattern_matches(const char *pattern, const char *path);

/* Is pattern usable as a --map/--device pattern?  0, or -EINVAL with the
 * reason in err: empty, too long, a malformed glob, or neither an absolute
 * path nor a kernel object name ("anon_inode:[io_uring]", "socket:[*]",
 * "[aio]"), which are the only names /proc/PID/maps shows. */
int config_pattern_check(const char *pattern, char *err, size_t errlen);

#endif
