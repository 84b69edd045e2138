build-dev/host/src/cli/show-regs.o: src/cli/show-regs.c src/cli/show.h \
 src/trace/reader.h include/mmscope/trace-format.h src/trace/shadow.h \
 src/util/log.h
src/cli/show.h:
src/trace/reader.h:
include/mmscope/trace-format.h:
src/trace/shadow.h:
src/util/log.h:
