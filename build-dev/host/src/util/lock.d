build-dev/host/src/util/lock.o: src/util/lock.c src/util/lock.h \
 src/util/sys.h
src/util/lock.h:
src/util/sys.h:
