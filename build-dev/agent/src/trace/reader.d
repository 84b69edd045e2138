build-dev/agent/src/trace/reader.o: src/trace/reader.c \
 src/trace/reader-internal.h src/trace/reader.h \
 include/mmscope/trace-format.h
src/trace/reader-internal.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
