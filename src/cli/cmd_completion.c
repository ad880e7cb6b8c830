/* cmd_completion.c - sbx completion bash|zsh|fish: prints the completion
 * script for a shell (the files of completion/, built in by
 * completion_data.S, each NUL-terminated). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

extern const char cli_completion_bash[], cli_completion_zsh[], cli_completion_fish[];

int cmd_completion(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_help("completion");
	if (argc != 2)
		return cli_usage_error("completion", "want one shell name");
	if (!strcmp(argv[1], "bash"))
		fputs(cli_completion_bash, stdout);
	else if (!strcmp(argv[1], "zsh"))
		fputs(cli_completion_zsh, stdout);
	else if (!strcmp(argv[1], "fish"))
		fputs(cli_completion_fish, stdout);
	else
		return cli_usage_error("completion", "unknown shell '%s' (bash, zsh, fish)",
				       argv[1]);
	return 0;
}
