build-dev/host/src/trace/reader-stream.o: src/trace/reader-stream.c \
 src/trace/reader-internal.h src/trace/reader.h \
 include/mmscope/trace-format.h
src/trace/reader-internal.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
