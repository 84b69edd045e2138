/* SPDX-License-Identifier: MIT */
/* The mmscope subcommands: one file each, dispatched from main.c. */
#ifndef MMS_CLI_CMDS_H
#define MMS_CLI_CMDS_H

/* Each returns the process exit status (0 ok, 1 runtime error, 2 usage). */
int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_gdb(int argc, char **argv);
int cmd_dump(int argc, char **argv);

#include <stddef.h>

#include <stdbool.h>
#include <stdint.h>

#define CLI_AGENT_NAME "libmmscope-agent.so"
/* where `make install` puts the agent, relative to the binary's bin/ */
#define CLI_AGENT_LIBDIR "lib/mmscope"

/* The trace config of process pid (its MMSCOPE_CONFIG, or a traced
 * child's: pid may be the `mmscope run` that started the program) into
 * out; the traced process's pid, -ENOENT not traced, or -errno
 * (cli/mark.c). */
long cli_config_of_pid(long pid, char *out, size_t cap);
/* The running process that writes the trace of config cfgpath (the first
 * of them, when it has forked); -1 with err when none or several. */
long cli_pid_of_trace(const char *cfgpath, char *err, size_t errlen);
/* Open the debugger connection of process pid, which was started without
 * --gdb, at OUT/gdb-PID.sock (cli/attach.c); "unix:PATH" into spec, 0, or
 * -1 with err. */
int cli_attach_late(long pid, const char *out, char *spec, size_t cap, char *err, size_t errlen);
struct maps_line;
/* The first mapping of process pid that match(line, arg) accepts, into
 * out; 0, -ENOENT, or -errno (cli/attach.c). */
int cli_find_mapping(long pid, bool (*match)(const struct maps_line *, const void *),
		     const void *arg, struct maps_line *out);
/* The first number of the "Name:" line of /proc/PID/status, or -1
 * (cli/mark.c). */
long cli_proc_status(long pid, const char *name);
/* The symbol name's value in ELF file path; 0, or -errno (cli/watchspec.c). */
int cli_elf_symbol(const char *path, const char *name, uint64_t *value);
/* The load bias of module (a path as /proc/PID/maps names it) in process
 * pid; 0, or -errno (cli/ctl.c). */
int cli_module_base(long pid, const char *module, uint64_t *base);
/* target's debugger address ("unix:PATH", "tcp:HOST:PORT") from its config
 * (a pid or trace directory), or "unix:TARGET"; 0, or -1 with err (cli/ctl.c) */
int cli_debug_spec(const char *target, char *spec, size_t cap, char *err, size_t errlen);

/* The directory holding the mmscope binary. */
const char *cli_self_dir(void);

/* The agent library: beside the binary (a build directory), else in
 * ../lib/mmscope/ from it (an installed tree).  0 with its path in out,
 * or -errno. */
int cli_agent_path(char *out, size_t cap);

#endif
