build-dev/host/src/cli/run.o: src/cli/run.c src/cli/cmds.h \
 src/cli/hwprobe.h src/cli/outside.h src/cli/run-summary.h \
 src/cli/tracedir.h src/cli/watchspec.h src/util/config.h \
 include/mmscope/trace-format.h src/util/elf.h src/util/sockpath.h
src/cli/cmds.h:
src/cli/hwprobe.h:
src/cli/outside.h:
src/cli/run-summary.h:
src/cli/tracedir.h:
src/cli/watchspec.h:
src/util/config.h:
include/mmscope/trace-format.h:
src/util/elf.h:
src/util/sockpath.h:
