build-dev/host/src/engine/arbiter.o: src/engine/arbiter.c \
 src/engine/arbiter.h
src/engine/arbiter.h:
