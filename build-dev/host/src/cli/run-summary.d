build-dev/host/src/cli/run-summary.o: src/cli/run-summary.c \
 src/cli/run-summary.h include/mmscope/trace-format.h src/trace/reader.h \
 src/util/config.h
src/cli/run-summary.h:
include/mmscope/trace-format.h:
src/trace/reader.h:
src/util/config.h:
