build-dev/host/src/util/hwbp.o: src/util/hwbp.c src/util/hwbp.h \
 src/util/sys.h
src/util/hwbp.h:
src/util/sys.h:
