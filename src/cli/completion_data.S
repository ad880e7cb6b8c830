/* completion_data.S - the shell completion scripts of completion/, built
 * into sbx so that `sbx completion SHELL` prints the very files that
 * `cmake --install` puts in place. CMake sets the three paths. */
	.section .rodata
	.globl cli_completion_bash
	.hidden cli_completion_bash
cli_completion_bash:
	.incbin SBX_COMPLETION_BASH
	.byte 0
	.globl cli_completion_zsh
	.hidden cli_completion_zsh
cli_completion_zsh:
	.incbin SBX_COMPLETION_ZSH
	.byte 0
	.globl cli_completion_fish
	.hidden cli_completion_fish
cli_completion_fish:
	.incbin SBX_COMPLETION_FISH
	.byte 0
	.section .note.GNU-stack,"",@progbits
