build-dev/host/src/cli/watchspec.o: src/cli/watchspec.c src/cli/cmds.h \
 src/cli/watchspec.h src/util/config.h include/mmscope/trace-format.h
src/cli/cmds.h:
src/cli/watchspec.h:
src/util/config.h:
include/mmscope/trace-format.h:
