/* SPDX-License-Identifier: MIT */
/*
 * The libc functions the agent interposes, as libc itself provides them.
 * All are looked up at once, in a constructor that runs before the
 * agent's own (and before main), so an interposer reached from a signal
 * handler never calls dlsym().  A library constructor that runs earlier
 * still works: real_get() resolves on first use in that case.
 */
#ifndef MMS_AGENT_REAL_H
#define MMS_AGENT_REAL_H

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct io_uring;
struct io_uring_params;

struct real_fns {
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	int (*close)(int);
	long (*syscall)(long, ...);
	int (*nanosleep)(const struct timespec *, struct timespec *);
	int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	/* liburing, when the program links it dynamically; else NULL */
	int (*io_uring_queue_init_params)(unsigned, struct io_uring *, struct io_uring_params *);
	int (*io_uring_queue_init)(unsigned, struct io_uring *, unsigned);
	int (*io_uring_queue_mmap)(int, struct io_uring_params *, struct io_uring *);
	void (*io_uring_queue_exit)(struct io_uring *);
};

/* Resolved; never NULL except for the liburing entries. */
const struct real_fns *real_get(void);

#define REAL(name) (real_get()->name)

#endif
