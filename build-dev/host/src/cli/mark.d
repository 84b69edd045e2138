build-dev/host/src/cli/mark.o: src/cli/mark.c src/cli/cmds.h \
 src/cli/outside.h include/mmscope/trace-format.h src/util/config.h
src/cli/cmds.h:
src/cli/outside.h:
include/mmscope/trace-format.h:
src/util/config.h:
