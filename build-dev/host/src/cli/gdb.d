build-dev/host/src/cli/gdb.o: src/cli/gdb.c src/cli/cmds.h
src/cli/cmds.h:
