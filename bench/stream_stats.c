/* SPDX-License-Identifier: MIT */
/*
 * stream_stats: how many records a trace directory holds and how many bytes
 * they use, for the writer-throughput figures of bench/run.sh.
 *
 *   stream_stats TRACE_DIR
 *
 * Walks every *.mms stream file by itself (not through mmscope's reader,
 * so the two counts check each other): records follow back to back, each
 * self-delimiting by hdr.size, until a zero header word or the end of the
 * file; in format version 4 the file's records up to tail_base, then the
 * tail's (docs/trace-format.md).  Bytes are the records' own sizes;
 * file_bytes are the blocks the files take on disk.
 *
 * Prints: files=F records=R access=A map=M unmap=U mark=K proc=P lost=L
 *         record_bytes=B access_bytes=AB file_bytes=FB accesses=N
 * (N: the accesses the ACCESS records stand for, their counts summed)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmscope/trace-format.h"

struct stats {
	uint64_t files, records, by_type[8], record_bytes, access_bytes, file_bytes, accesses;
};

/* the records in [pos, end) of m, up to a zero header word; -1 on a bad one */
static int walk(const char *name, const uint8_t *m, uint64_t pos, uint64_t end, struct stats *st)
{
	while (pos + sizeof(struct mms_rec_hdr) <= end) {
		struct mms_rec_hdr h;

		memcpy(&h, m + pos, sizeof(h));
		if (h.type == 0)
			break;
		if (h.size < 8 || h.size % 8 || pos + h.size > end) {
			fprintf(stderr, "stream_stats: %s: bad record at offset %llu\n", name,
				(unsigned long long)pos);
			return -1;
		}
		st->records++;
		st->by_type[h.type < 8 ? h.type : 0]++;
		st->record_bytes += h.size;
		if (h.type == MMS_REC_ACCESS) {
			st->access_bytes += h.size;
			st->accesses += h.count ? h.count : 1;
		}
		pos += h.size;
	}
	return 0;
}

static int stream_count(int dirfd, const char *name, struct stats *st)
{
	const struct mms_file_header *fh;
	struct stat sb;
	const uint8_t *m;
	uint64_t size, data, tb;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(name);
		return -1;
	}
	st->files++;
	st->file_bytes += (uint64_t)sb.st_blocks * 512;
	if ((size_t)sb.st_size < sizeof(*fh)) {
		close(fd);
		return 0; /* a stream cut short before its header */
	}
	size = (uint64_t)sb.st_size;
	m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		perror(name);
		return -1;
	}
	fh = (const void *)m;
	if (memcmp(fh->magic, MMS_MAGIC, 8) || fh->version < MMS_VERSION_MIN ||
	    fh->version > MMS_VERSION) {
		fprintf(stderr, "stream_stats: %s: not an mmscope v%u-v%u stream\n", name,
			MMS_VERSION_MIN, MMS_VERSION);
		r = -1;
		goto out;
	}
	if (fh->version < 4) {
		r = walk(name, m, fh->header_size, size, st);
		goto out;
	}
	/* v4: the file's records up to tail_base, then the tail's */
	data = (uint64_t)fh->tail_off + fh->tail_len;
	tb = fh->tail_base;
	if (data > size) {
		fprintf(stderr, "stream_stats: %s: shorter than its tail\n", name);
		r = -1;
	} else if (tb & 1 || tb > size || tb < data) {
		r = walk(name, m, data, size, st);
	} else {
		r = walk(name, m, data, tb, st);
		if (!r)
			r = walk(name, m, fh->tail_off, data, st);
	}
out:
	munmap((void *)m, size);
	return r;
}

int main(int argc, char **argv)
{
	struct stats st = { 0 };
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: stream_stats TRACE_DIR\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), sl = strlen(MMS_STREAM_SUFFIX);

		if (len > sl && !strcmp(de->d_name + len - sl, MMS_STREAM_SUFFIX))
			r |= stream_count(dirfd(d), de->d_name, &st);
	}
	closedir(d);
	printf("files=%llu records=%llu access=%llu map=%llu unmap=%llu mark=%llu proc=%llu "
	       "lost=%llu record_bytes=%llu access_bytes=%llu file_bytes=%llu accesses=%llu\n",
	       (unsigned long long)st.files, (unsigned long long)st.records,
	       (unsigned long long)st.by_type[MMS_REC_ACCESS],
	       (unsigned long long)st.by_type[MMS_REC_MAP],
	       (unsigned long long)st.by_type[MMS_REC_UNMAP],
	       (unsigned long long)st.by_type[MMS_REC_MARK],
	       (unsigned long long)st.by_type[MMS_REC_PROC],
	       (unsigned long long)st.by_type[MMS_REC_LOST], (unsigned long long)st.record_bytes,
	       (unsigned long long)st.access_bytes, (unsigned long long)st.file_bytes,
	       (unsigned long long)st.accesses);
	return r ? 1 : 0;
}
