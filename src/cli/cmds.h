/* SPDX-License-Identifier: MIT */
/* The mmscope subcommands: one file each, dispatched from main.c. */
#ifndef MMS_CLI_CMDS_H
#define MMS_CLI_CMDS_H

/* Each returns the process exit status (0 ok, 1 runtime error, 2 usage). */
int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_mark(int argc, char **argv);
int cmd_probe(int argc, char **argv);

/* The directory holding libmmscope-agent.so and the mmscope binary. */
const char *cli_self_dir(void);

#endif
