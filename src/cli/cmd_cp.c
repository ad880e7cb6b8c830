#include "cli/cli.h"
int cmd_cp(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	return cli_usage_error("cp", "not yet");
}
