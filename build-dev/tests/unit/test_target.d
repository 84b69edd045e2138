build-dev/tests/unit/test_target: tests/unit/test_target.c \
 src/debug/rsp.h src/debug/target.h src/debug/x86_64.h \
 tests/unit/../fuzz/fake_target.h
src/debug/rsp.h:
src/debug/target.h:
src/debug/x86_64.h:
tests/unit/../fuzz/fake_target.h:
