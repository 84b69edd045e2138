build-dev/agent/src/engine/arbiter.o: src/engine/arbiter.c \
 src/engine/arbiter.h
src/engine/arbiter.h:
