build-dev/host/src/cli/symbolize.o: src/cli/symbolize.c \
 src/cli/symbolize.h src/util/log.h
src/cli/symbolize.h:
src/util/log.h:
