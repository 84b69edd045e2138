build-dev/host/src/cli/show-watch.o: src/cli/show-watch.c src/cli/show.h \
 src/trace/reader.h include/mmscope/trace-format.h src/cli/symbolize.h
src/cli/show.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
src/cli/symbolize.h:
