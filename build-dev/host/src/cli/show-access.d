build-dev/host/src/cli/show-access.o: src/cli/show-access.c \
 src/cli/show.h src/trace/reader.h include/mmscope/trace-format.h \
 src/cli/symbolize.h
src/cli/show.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
src/cli/symbolize.h:
