/* agent_blob.S - the sbx-agent binary, built into libsbx so that a client
 * can deliver it to any sandbox through the exec channel (agent_boot.c).
 * SBX_AGENT_FILE is the path of the built agent (set by CMake). */
	.section .rodata
	.balign 16
	.globl sbx_agent_blob_start
	.hidden sbx_agent_blob_start
	.type sbx_agent_blob_start, @object
sbx_agent_blob_start:
	.incbin SBX_AGENT_FILE
	.globl sbx_agent_blob_end
	.hidden sbx_agent_blob_end
sbx_agent_blob_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
