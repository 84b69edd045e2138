/* SPDX-License-Identifier: MIT */
/*
 * stream_stats: how many records a trace directory holds and how many bytes
 * they use, for the writer-throughput figures of bench/run.sh.
 *
 *   stream_stats TRACE_DIR
 *
 * Walks every *.mms stream file by itself (not through mmscope's reader,
 * so the two counts check each other): after the struct mms_file_header,
 * records follow back to back, each self-delimiting by hdr.size, until a
 * zero header word (the zero tail of the last preallocated window) or the
 * end of the file.  Bytes are the records' own sizes, headers and the
 * unused tail excluded.
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

static int stream_count(int dirfd, const char *name, struct stats *st)
{
	const struct mms_file_header *fh;
	struct stat sb;
	const uint8_t *m;
	uint64_t pos;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(name);
		return -1;
	}
	st->files++;
	st->file_bytes += (uint64_t)sb.st_size;
	if ((size_t)sb.st_size < sizeof(*fh)) {
		close(fd);
		return 0; /* a stream cut short before its header */
	}
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		perror(name);
		return -1;
	}
	fh = (const void *)m;
	if (memcmp(fh->magic, MMS_MAGIC, 8) || fh->version < MMS_VERSION_MIN ||
	    fh->version > MMS_VERSION) {
		fprintf(stderr, "stream_stats: %s: not an mmscope v%u stream\n", name, MMS_VERSION);
		r = -1;
		goto out;
	}
	for (pos = fh->header_size; pos + sizeof(struct mms_rec_hdr) <= (uint64_t)sb.st_size;) {
		struct mms_rec_hdr h;

		memcpy(&h, m + pos, sizeof(h));
		if (h.type == 0)
			break;
		if (h.size < 8 || h.size % 8 || pos + h.size > (uint64_t)sb.st_size) {
			fprintf(stderr, "stream_stats: %s: bad record at offset %llu\n", name,
				(unsigned long long)pos);
			r = -1;
			goto out;
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
out:
	munmap((void *)m, (size_t)sb.st_size);
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
