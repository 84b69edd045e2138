build-dev/agent/src/agent/hot-common.o: src/agent/hot-common.S
