build-dev/host/src/cli/probe.o: src/cli/probe.c src/cli/cmds.h \
 src/cli/hwprobe.h
src/cli/cmds.h:
src/cli/hwprobe.h:
