build-dev/host/src/cli/show.o: src/cli/show.c src/cli/cmds.h \
 src/cli/show.h src/trace/reader.h include/mmscope/trace-format.h \
 src/cli/symbolize.h src/util/log.h
src/cli/cmds.h:
src/cli/show.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
src/cli/symbolize.h:
src/util/log.h:
