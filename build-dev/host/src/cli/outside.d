build-dev/host/src/cli/outside.o: src/cli/outside.c src/cli/outside.h \
 src/cli/tracedir.h include/mmscope/trace-format.h src/trace/stream.h
src/cli/outside.h:
src/cli/tracedir.h:
include/mmscope/trace-format.h:
src/trace/stream.h:
