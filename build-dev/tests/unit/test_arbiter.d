build-dev/tests/unit/test_arbiter: tests/unit/test_arbiter.c \
 src/engine/arbiter.h
src/engine/arbiter.h:
