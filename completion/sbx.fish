# fish completion for sbx (print with `sbx completion fish`)
function __sbx_sandboxes
	sbx --json ls 2>/dev/null | string split , | string replace -rf '.*"name": *"([^"]*)".*' '$1'
end

set -l cmds create ls status rm exec ps logs kill port shell cp up mount umount host help version completion
complete -c sbx -f
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a create -d 'create a sandbox'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a ls -d 'list sandboxes'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a status -d 'status of a sandbox'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a rm -d 'delete sandboxes'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a exec -d 'run a command'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a ps -d 'background processes'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a logs -d 'output of a process'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a kill -d 'kill processes'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a port -d 'publish a port'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a shell -d 'interactive shell'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a cp -d 'copy files in or out'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a up -d 'create and mount'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a mount -d 'mount a sandbox'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a umount -d 'unmount'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a host -d 'the local host sbxd'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show help'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a version -d 'print the version'
complete -c sbx -n "not __fish_seen_subcommand_from $cmds" -a completion -d 'completion script'
complete -c sbx -l json -d 'JSON output'
complete -c sbx -s q -l quiet -d 'no progress notes'
complete -c sbx -s h -l help -d 'show help'
complete -c sbx -n "__fish_seen_subcommand_from status rm shell exec ps logs kill port" -a '(__sbx_sandboxes)'
complete -c sbx -n "__fish_seen_subcommand_from cp" -F -a '(__sbx_sandboxes | string replace -r \'$\' :)'
complete -c sbx -n "__fish_seen_subcommand_from mount up umount" -F
complete -c sbx -n "__fish_seen_subcommand_from host" -a 'start stop status env image'
complete -c sbx -n "__fish_seen_subcommand_from help" -a "$cmds"
complete -c sbx -n "__fish_seen_subcommand_from completion" -a 'bash zsh fish'
complete -c sbx -n "__fish_seen_subcommand_from exec" -s i -s t -s n -s w -s e -l timeout
complete -c sbx -n "__fish_seen_subcommand_from exec" -s d -l detach -d 'background process'
complete -c sbx -n "__fish_seen_subcommand_from logs" -s f -l follow -d 'follow to the end'
complete -c sbx -n "__fish_seen_subcommand_from logs" -s t -l timestamps -d 'times of the lines'
complete -c sbx -n "__fish_seen_subcommand_from port" -l unbind -d 'take the binding away'
