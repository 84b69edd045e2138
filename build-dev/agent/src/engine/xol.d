build-dev/agent/src/engine/xol.o: src/engine/xol.S
