# bash completion for sbx (print with `sbx completion bash`)
_sbx_sandboxes() {
	sbx --json ls 2>/dev/null | tr ',' '\n' | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'
}

_sbx() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd= i
	local cmds="create ls status rm exec ps logs kill port shell cp up mount umount host help version completion"
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$cmds --json -q --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	status | rm | shell | ps | kill)
		COMPREPLY=($(compgen -W "$(_sbx_sandboxes) --help --json" -- "$cur")) ;;
	logs)
		COMPREPLY=($(compgen -W "$(_sbx_sandboxes) -f -t --follow --timestamps --help --json" -- "$cur")) ;;
	port)
		COMPREPLY=($(compgen -W "$(_sbx_sandboxes) --unbind --help --json" -- "$cur")) ;;
	exec)
		COMPREPLY=($(compgen -W "$(_sbx_sandboxes) -i -t -d -w -e -n --timeout --detach --help" -- "$cur")) ;;
	cp)
		if [[ $cur == *:* ]]; then
			COMPREPLY=()
		else
			COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "$(_sbx_sandboxes | sed 's/$/:/')" -- "$cur"))
			compopt -o nospace 2>/dev/null
		fi ;;
	mount | up | umount)
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	host)
		COMPREPLY=($(compgen -W "start stop status env image" -- "$cur")) ;;
	help)
		COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
	completion)
		COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
	create)
		COMPREPLY=($(compgen -W "--image --name --instance-type --env --region --port --no-ports --timeout --no-wait --json" -- "$cur")) ;;
	esac
}
complete -F _sbx sbx
