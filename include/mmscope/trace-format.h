/* SPDX-License-Identifier: MIT */
/*
 * mmscope on-disk trace format, version 4 (see docs/trace-format.md).
 * Version 2 added the WATCH and HIT records.  Version 3 gave ACCESS a
 * count (repeats and string runs), a last time and a byte mask, and
 * defined the record header's third field as that count.  Version 4 put
 * the newest records in a tail inside the file.  Versions 1 to 3 are
 * still read.
 *
 * A trace is a directory.  Every traced thread appends to its own stream
 * file "<pid>-<tid>-<serial>.mms".  Each record starts with a struct
 * mms_rec_hdr; records are 8-byte aligned and self-delimiting (hdr.size).
 * The writer stores the body first and the header word last, so a header
 * of zero marks the end of the valid data.
 *
 * Versions 1-3: the file is a struct mms_file_header followed by records,
 * written through a MAP_SHARED mapping (the unused end of the last chunk
 * is zeros).
 *
 * Version 4: the file is the header, then the tail, tail_len bytes at
 * tail_off, then the records, from tail_off + tail_len on.  The writer
 * writes each record into the tail, which it keeps mapped (MAP_SHARED:
 * a SIGKILLed program loses nothing), and when the tail is full appends
 * its records to the file with one write.  The stream is the file's
 * records up to tail_base, then the tail's records, which stand at
 * tail_base on; with bit 0 of tail_base set, the file's records alone.
 *
 * All integers are little-endian (x86-64 native).
 */
#ifndef MMSCOPE_TRACE_FORMAT_H
#define MMSCOPE_TRACE_FORMAT_H

#include <stdint.h>

#define MMS_MAGIC "MMSCOPE1" /* 8 bytes, no NUL needed */
#define MMS_VERSION 4u
#define MMS_VERSION_MIN 1u /* oldest version a reader accepts */
#define MMS_STREAM_SUFFIX ".mms"
#define MMS_SEQ_FILE "seq" /* shared global sequence counter */
#define MMS_CONFIG_FILE "config"

struct mms_file_header {
	char magic[8];	      /* MMS_MAGIC */
	uint32_t version;     /* MMS_VERSION */
	uint32_t header_size; /* sizeof(struct mms_file_header) */
	uint32_t pid;
	uint32_t tid;
	uint64_t start_ns; /* CLOCK_MONOTONIC when the stream opened */
	uint64_t serial;   /* unique per trace directory */
	/* v4: the tail (see above).  tail_base: the stream offset the
	 * tail's first byte stands for; bit 0 set while the writer empties
	 * the tail (the file then holds everything).  0 in versions 1-3. */
	uint64_t tail_base;
	uint32_t tail_off, tail_len; /* where the tail is in the file */
	uint8_t reserved[8];
}; /* 64 bytes */

enum mms_rec_type {
	MMS_REC_ACCESS = 1,
	MMS_REC_MAP = 2,
	MMS_REC_UNMAP = 3,
	MMS_REC_MARK = 4,
	MMS_REC_PROC = 5,
	MMS_REC_LOST = 6,
	MMS_REC_WATCH = 7, /* v2: a watchpoint armed, moved or removed */
	MMS_REC_HIT = 8,   /* v2: a watchpoint hit */
};

struct mms_rec_hdr {
	uint16_t type;	/* enum mms_rec_type; 0 = end of data */
	uint16_t size;	/* whole record in bytes, multiple of 8, >= 8 */
	uint32_t count; /* v3 ACCESS: how many accesses the record stands for
			   (0 and 1 both mean one); 0 in other records and
			   in versions 1 and 2.  It sits in the header word so
			   that the writer publishes a new count and the
			   record together with one 8-byte store. */
};

/* Every record after the header starts with these two fields. */
struct mms_rec_common {
	struct mms_rec_hdr h;
	uint64_t seq;	/* global order across threads/processes */
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
};

enum mms_dir { MMS_DIR_READ = 1, MMS_DIR_WRITE = 2 };

enum mms_access_flags {
	MMS_AF_VALUE_UNKNOWN = 1u << 0, /* instruction does not reveal value */
	MMS_AF_LOCKED = 1u << 1,	/* atomic (LOCK prefix or XCHG mem) */
	MMS_AF_UNKNOWN_INSN = 1u << 2,	/* completed by single-step, not decoded */
	MMS_AF_SPLIT = 1u << 3,		/* part of an access straddling regions */
	MMS_AF_MASKED = 1u << 4,	/* AVX-512 masked: only the bytes in
					   mask were accessed (v3; in v1/v2
					   no mask: disabled bytes are zero) */
	MMS_AF_STRING = 1u << 5,	/* MOVS/STOS/.. (REP): v3: a run of
					   count elements, see below */
	MMS_AF_PAIRED = 1u << 6,	/* v3 string run whose elements
					   alternate with those of the next
					   ACCESS record of the same stream
					   (MOVS/CMPS with both operands
					   traced): e0 f0 e1 f1 ... */
	MMS_AF_DOWN = 1u << 7,		/* v3 string run with DF set: element
					   i is at addr - i * width */
	MMS_AF_DEBUGGER = 1u << 8,	/* made by the debugger connection
					   (mmscope's gdb stub), not by the
					   program; pc is 0 */
};

/*
 * ACCESS.  Version 3 (96 bytes + value):
 *  - count (in the header word) 1: one access of width bytes at addr;
 *    value holds width bytes.
 *  - count N > 1 without MMS_AF_STRING: N identical consecutive accesses
 *    of this thread (same pc, addr, width, dir, flags, mask and value),
 *    the first at ts_ns, the last at last_ts_ns; value holds width bytes.
 *  - MMS_AF_STRING: a run of count elements of width bytes each made by
 *    one string instruction (REP or not) at pc; element i is at
 *    addr + i * width (addr - i * width with MMS_AF_DOWN) and its value
 *    is value[i * width .. (i + 1) * width).  The record may be sized for
 *    more elements than count (the writer reserves room for the run and
 *    publishes each new count with the header word); bytes past
 *    count * width are zero.
 *  - MMS_AF_MASKED: bit i of mask is set when byte i (of width) was
 *    accessed; value bytes of the others are zero.
 * Versions 1 and 2: the 80-byte struct mms_rec_access_v2 (no last_ts_ns,
 * no mask, value at 80), count is always one; string instructions give one
 * record per element.
 */
struct mms_rec_access {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns; /* the first access */
	uint64_t pc;
	uint64_t addr;	  /* program virtual address accessed (first element) */
	uint64_t offset;  /* addr - region base */
	uint32_t region;  /* region id (see MAP) */
	uint8_t width;	  /* bytes, 1..64 (a string run: element width); 0
				   only with MMS_AF_UNKNOWN_INSN when the
				   instruction could not be decoded;
				   never in a STRING, PAIRED or MASKED
				   record) */
	uint8_t dir;	  /* enum mms_dir */
	uint16_t flags;	  /* enum mms_access_flags */
	uint8_t insn_len; /* valid bytes in insn[] */
	uint8_t pad[7];
	uint8_t insn[16];    /* instruction bytes at pc */
	uint64_t last_ts_ns; /* the last access (count > 1), else ts_ns */
	uint64_t mask;	     /* MMS_AF_MASKED: bytes accessed, bit i = byte i */
	uint8_t value[];     /* see above; memory order, padded to 8 */
};			     /* 96 bytes + value */

/* The ACCESS layout of versions 1 and 2. */
struct mms_rec_access_v2 {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;
	uint64_t addr;
	uint64_t offset;
	uint32_t region;
	uint8_t width;
	uint8_t dir;
	uint16_t flags;
	uint8_t insn_len;
	uint8_t pad[7];
	uint8_t insn[16];
	uint8_t value[]; /* width bytes */
};			 /* 80 bytes + value */

/* Bytes after a record's start, rounded up to the 8-byte record grain. */
#define MMS_PAD8(n) (((n) + 7u) & ~(size_t)7u)

enum mms_map_flags {
	MMS_MF_INHERITED = 1u << 0, /* present at startup / after fork */
	MMS_MF_MREMAP = 1u << 1,    /* the program mremap()ed a traced region */
};

struct mms_rec_map {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;   /* caller of mmap, 0 if unknown */
	uint64_t addr; /* program address of the mapping */
	uint64_t len;
	uint64_t file_offset;
	uint32_t region;
	uint32_t prot;	     /* PROT_* the program asked for */
	uint32_t mmap_flags; /* MAP_* the program asked for */
	uint32_t flags;	     /* enum mms_map_flags */
	char path[];	     /* NUL-terminated, padded to 8 */
};			     /* 72 bytes + path */

struct mms_rec_unmap {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;
	uint64_t addr;
	uint64_t len;
	uint32_t region;
	uint32_t pad;
}; /* 56 bytes */

struct mms_rec_mark {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	char text[]; /* NUL-terminated, padded to 8 */
};

enum mms_proc_event {
	MMS_PROC_START = 1,    /* text: executable path */
	MMS_PROC_FORK = 2,     /* in the child; arg = parent pid */
	MMS_PROC_EXEC = 3,     /* text: new image path */
	MMS_PROC_EXIT = 4,     /* written by `mmscope run`: arg = exit status,
				   or -N if signal N killed the program */
	MMS_PROC_NOTE = 5,     /* text: a message for the user (warnings) */
	MMS_PROC_UNTRACED = 6, /* v3: something the program mapped or did is
				   not traced; text says what and why, arg is
				   the address concerned (0 if none) */
};

struct mms_rec_proc {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint32_t event; /* enum mms_proc_event */
	uint32_t pid;
	int64_t arg;
	char text[]; /* NUL-terminated, padded to 8 */
};

/* Records of this stream that could not be written (disk full, ...),
 * from ts_ns on.  The writer keeps room for one LOST record at the end of
 * every block it reserves, and raises count in place (one 8-byte store)
 * while records keep being lost; the count is exact. */
struct mms_rec_lost {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t count;
};

/*
 * The trace directory's "seq" file: one page shared by every process of
 * the trace (created and fully allocated by `mmscope run`).  seq is the
 * global sequence counter; lost counts records lost in all streams;
 * fail_errno is the last reason a stream could not grow (ENOSPC: disk
 * full); untraced counts PROC untraced records.  `mmscope run` reads it
 * for its summary.
 */
struct mms_seq_page {
	uint64_t seq;
	uint64_t lost;
	uint32_t fail_errno;
	uint32_t untraced;
	uint8_t reserved[4096 - 24];
};

enum mms_watch_type { MMS_WATCH_READ = 1, MMS_WATCH_WRITE = 2, MMS_WATCH_RW = 3 };

enum mms_watch_mech {
	MMS_WM_NONE = 0, /* not armed (removed, or its memory is gone) */
	MMS_WM_HW = 1,	 /* a debug register (perf_event_open breakpoint) */
	MMS_WM_PAGE = 2, /* its pages are armed; other bytes filtered */
};

/* Written when a watchpoint is armed and each time its mechanism changes. */
struct mms_rec_watch {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t addr;
	uint64_t len;
	uint32_t id;  /* the HIT records' watch */
	uint8_t type; /* enum mms_watch_type */
	uint8_t mech; /* enum mms_watch_mech */
	uint16_t pad;
	char expr[]; /* as the user wrote it; NUL-terminated, padded */
};		     /* 48 bytes + expr */

enum mms_hit_flags {
	MMS_HF_HW = 1u << 0,	      /* reported by a debug register */
	MMS_HF_PC_AFTER = 1u << 1,    /* pc is the instruction after the
					   access (a data breakpoint traps
					   after it completes) */
	MMS_HF_OLD_UNKNOWN = 1u << 2, /* old[] not known (device memory not
					   yet written while watched) */
	MMS_HF_NEW_UNKNOWN = 1u << 3,
	MMS_HF_SYSCALL = 1u << 4, /* the kernel accessed the bytes for a
					   system call (read, write, ...); pc
					   is the call's return address */
};

struct mms_rec_hit {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;
	uint64_t addr;	  /* first watched byte the access touched */
	uint32_t watch;	  /* id from the WATCH record */
	uint8_t dir;	  /* enum mms_dir; 0: read or write, undecided
				   (a read/write debug register hit that left
				   the value unchanged) */
	uint8_t width;	  /* value bytes at addr, 1..64 */
	uint16_t flags;	  /* enum mms_hit_flags */
	uint16_t nframes; /* return addresses after the values */
	uint16_t pad[3];
	uint8_t data[]; /* old[width], new[width], each padded to 8
				   (a read: both hold the value read), then
				   nframes uint64_t */
};			/* 56 bytes + data */

#endif
