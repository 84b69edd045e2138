/* SPDX-License-Identifier: MIT */
/*
 * Memory as the program sees it, for the debugger (and later the core
 * dumper): a traced mapping through its alias in naturally aligned
 * accesses of at most 8 bytes, a watched private page through
 * /proc/self/mem, anything else with process_vm_readv/writev, which keep
 * the program's own protection (its PROT_NONE pages and holes are
 * errors, never a fault in mmscope).  A device mapping is never read
 * unless the caller says MEM_DEVICE_LIVE (a read can have side effects):
 * reads are answered from its shadow register file (shadow.h) instead,
 * as far as the program's own accesses have shown its bytes.
 */
#ifndef MMS_AGENT_MEM_H
#define MMS_AGENT_MEM_H

#include <stddef.h>
#include <stdint.h>

enum mem_flags {
	MEM_DEVICE_LIVE = 1u << 0, /* reading a device mapping is wanted */
	MEM_DEBUGGER = 1u << 1,	   /* the debugger's: traced accesses are
				      recorded, flagged MMS_AF_DEBUGGER */
};

/* Open /proc/self/mem (at start, and in a fork child: the inherited
 * descriptor reads the parent); 0 or -errno. */
int mem_setup(void);
/* signal context: the bytes of any memory of ours through /proc/self/mem
 * (ignores protection, mmscope's and the program's; no data breakpoint
 * sees it); 0 or -errno */
int mem_peek(uint64_t addr, void *buf, unsigned len);
int mem_poke(uint64_t addr, const void *buf, unsigned len);

/* Bytes read from addr (short at the first byte that cannot be), or
 * -errno when not even the first can: -EFAULT unmapped or protected,
 * -EIO a device mapping without MEM_DEVICE_LIVE whose shadow does not
 * know the byte at addr. */
long mem_read(uint64_t addr, void *buf, size_t len, unsigned flags);
/* The same for writes (a device mapping is written: the user asked). */
long mem_write(uint64_t addr, const void *buf, size_t len, unsigned flags);
/* Write code bytes (a breakpoint) whatever the page's protection, as
 * ptrace does, without making the page writable; 0 or -errno. */
int mem_patch_text(uint64_t addr, const void *buf, size_t len);

#endif
