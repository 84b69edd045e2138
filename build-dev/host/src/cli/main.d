build-dev/host/src/cli/main.o: src/cli/main.c src/cli/cmds.h \
 include/mmscope/trace-format.h
src/cli/cmds.h:
include/mmscope/trace-format.h:
