build-dev/tests/unit/test_rsp: tests/unit/test_rsp.c src/debug/rsp.h
src/debug/rsp.h:
