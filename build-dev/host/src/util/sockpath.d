build-dev/host/src/util/sockpath.o: src/util/sockpath.c \
 src/util/sockpath.h
src/util/sockpath.h:
