build-dev/tests/unit/test_shadow: tests/unit/test_shadow.c \
 src/trace/shadow.h include/mmscope/trace-format.h
src/trace/shadow.h:
include/mmscope/trace-format.h:
