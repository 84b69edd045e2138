/* SPDX-License-Identifier: MIT */
/*
 * mmscope on-disk trace format, version 1 (see docs/trace-format.md).
 *
 * A trace is a directory.  Every traced thread appends to its own stream
 * file "<pid>-<tid>-<serial>.mms"; the file is a MAP_SHARED mapping that
 * the agent extends in chunks, so every record the program has produced is
 * in the page cache even if the process is SIGKILLed.  A stream file is a
 * struct mms_file_header followed by records.  Each record starts with a
 * struct mms_rec_hdr; records are 8-byte aligned and self-delimiting
 * (hdr.size).  The writer stores the body first and the header word last,
 * so a header of zero marks the end of the valid data (the unused tail of
 * the last chunk is zero-filled by ftruncate).
 *
 * All integers are little-endian (x86-64 native).
 */
#ifndef MMSCOPE_TRACE_FORMAT_H
#define MMSCOPE_TRACE_FORMAT_H

#include <stdint.h>

#define MMS_MAGIC "MMSCOPE1"          /* 8 bytes, no NUL needed */
#define MMS_VERSION 1u
#define MMS_STREAM_SUFFIX ".mms"
#define MMS_SEQ_FILE "seq"            /* shared global sequence counter */
#define MMS_CONFIG_FILE "config"

struct mms_file_header {
	char magic[8];          /* MMS_MAGIC */
	uint32_t version;       /* MMS_VERSION */
	uint32_t header_size;   /* sizeof(struct mms_file_header) */
	uint32_t pid;
	uint32_t tid;
	uint64_t start_ns;      /* CLOCK_MONOTONIC when the stream opened */
	uint64_t serial;        /* unique per trace directory */
	uint8_t reserved[24];
};                              /* 64 bytes */

enum mms_rec_type {
	MMS_REC_ACCESS = 1,
	MMS_REC_MAP = 2,
	MMS_REC_UNMAP = 3,
	MMS_REC_MARK = 4,
	MMS_REC_PROC = 5,
	MMS_REC_LOST = 6,
};

struct mms_rec_hdr {
	uint16_t type;          /* enum mms_rec_type; 0 = end of data */
	uint16_t size;          /* whole record in bytes, multiple of 8, >= 8 */
	uint32_t reserved;      /* 0 */
};

/* Every record after the header starts with these two fields. */
struct mms_rec_common {
	struct mms_rec_hdr h;
	uint64_t seq;           /* global order across threads/processes */
	uint64_t ts_ns;         /* CLOCK_MONOTONIC */
};

enum mms_dir { MMS_DIR_READ = 1, MMS_DIR_WRITE = 2 };

enum mms_access_flags {
	MMS_AF_VALUE_UNKNOWN = 1u << 0, /* instruction does not reveal value */
	MMS_AF_LOCKED = 1u << 1,        /* atomic (LOCK prefix or XCHG mem) */
	MMS_AF_UNKNOWN_INSN = 1u << 2,  /* completed by single-step, not decoded */
	MMS_AF_SPLIT = 1u << 3,         /* part of an access straddling regions */
	MMS_AF_MASKED = 1u << 4,        /* AVX-512 masked: value bytes of
					   disabled elements are zero */
	MMS_AF_STRING = 1u << 5,        /* element of a MOVS/STOS/.. (REP) run */
};

struct mms_rec_access {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;
	uint64_t addr;          /* program virtual address accessed */
	uint64_t offset;        /* addr - region base */
	uint32_t region;        /* region id (see MAP) */
	uint8_t width;          /* bytes, 1..64; 0 only with MMS_AF_UNKNOWN_INSN
				   when the instruction could not be decoded */
	uint8_t dir;            /* enum mms_dir */
	uint16_t flags;         /* enum mms_access_flags */
	uint8_t insn_len;       /* valid bytes in insn[] */
	uint8_t pad[7];
	uint8_t insn[16];       /* instruction bytes at pc */
	uint8_t value[];        /* width bytes, memory order, padded to 8 */
};                              /* 80 bytes + value */

enum mms_map_flags {
	MMS_MF_INHERITED = 1u << 0,     /* present at startup / after fork */
	MMS_MF_MREMAP = 1u << 1,        /* the program mremap()ed a traced region */
};

struct mms_rec_map {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;            /* caller of mmap, 0 if unknown */
	uint64_t addr;          /* program address of the mapping */
	uint64_t len;
	uint64_t file_offset;
	uint32_t region;
	uint32_t prot;          /* PROT_* the program asked for */
	uint32_t mmap_flags;    /* MAP_* the program asked for */
	uint32_t flags;         /* enum mms_map_flags */
	char path[];            /* NUL-terminated, padded to 8 */
};                              /* 72 bytes + path */

struct mms_rec_unmap {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t pc;
	uint64_t addr;
	uint64_t len;
	uint32_t region;
	uint32_t pad;
};                              /* 56 bytes */

struct mms_rec_mark {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	char text[];            /* NUL-terminated, padded to 8 */
};

enum mms_proc_event {
	MMS_PROC_START = 1,     /* text: executable path */
	MMS_PROC_FORK = 2,      /* in the child; arg = parent pid */
	MMS_PROC_EXEC = 3,      /* text: new image path */
	MMS_PROC_EXIT = 4,      /* written by `mmscope run`: arg = exit status,
				   or -N if signal N killed the program */
	MMS_PROC_NOTE = 5,      /* text: a message for the user (warnings) */
};

struct mms_rec_proc {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint32_t event;         /* enum mms_proc_event */
	uint32_t pid;
	int64_t arg;
	char text[];            /* NUL-terminated, padded to 8 */
};

struct mms_rec_lost {
	struct mms_rec_hdr h;
	uint64_t seq;
	uint64_t ts_ns;
	uint64_t count;
};

#endif
