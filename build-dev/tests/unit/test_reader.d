build-dev/tests/unit/test_reader: tests/unit/test_reader.c \
 src/trace/reader.h include/mmscope/trace-format.h
src/trace/reader.h:
include/mmscope/trace-format.h:
