build-dev/tests/unit/test_symbolize: tests/unit/test_symbolize.c \
 src/cli/symbolize.h
src/cli/symbolize.h:
