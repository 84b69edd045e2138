build-dev/host/src/cli/show-follow.o: src/cli/show-follow.c \
 src/cli/show.h src/trace/reader.h include/mmscope/trace-format.h \
 src/util/log.h
src/cli/show.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
src/util/log.h:
