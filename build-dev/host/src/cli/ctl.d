build-dev/host/src/cli/ctl.o: src/cli/ctl.c src/cli/cmds.h \
 src/cli/watchspec.h src/util/config.h include/mmscope/trace-format.h \
 src/util/dumpargs.h src/util/fmt.h src/util/maps.h src/util/sockpath.h
src/cli/cmds.h:
src/cli/watchspec.h:
src/util/config.h:
include/mmscope/trace-format.h:
src/util/dumpargs.h:
src/util/fmt.h:
src/util/maps.h:
src/util/sockpath.h:
