/* exec_tty.h - a pseudo-terminal for an exec that asked for one
 * (disableTty: false, koyeb-protocol.md section 3.2).
 *
 * The terminal is made in the sandbox's own devpts (its /dev/pts, which
 * bubblewrap's --dev gives every sandbox), so that inside, `tty` names it
 * and programs can find it by path. sbxd opens the sandbox's ptmx through
 * /proc/PID/root without following any symbolic link the sandbox could have
 * planted, checks it is a ptmx device, and takes the terminal's other side
 * with TIOCGPTPEER (no path lookup at all).
 *
 * With a terminal, the command's stdin, stdout and stderr are all the
 * terminal: what it writes comes back as one stream (sent as stdout), with
 * the terminal's own line handling (CRLF, echo). Its process becomes the
 * terminal's session leader (nsexec and the spawner make a terminal on fd 0
 * the controlling one), so Ctrl-C typed by the client is a SIGINT.
 */
#ifndef SBX_HOST_EXEC_TTY_H
#define SBX_HOST_EXEC_TTY_H

#include <sys/types.h>

/* Largest terminal side we accept from a client. */
#define SBXD_TTY_MAX 10000

/* Makes a terminal in target's devpts, rows x cols (0: leave the default).
 * On success parent[0] (write: the command's input) and parent[1] (read:
 * its output) are two descriptors of the master, O_NONBLOCK; parent[2] is
 * -1; child[0..2] are the terminal's slave side. All O_CLOEXEC, owned by
 * the caller. 0 or -errno (nothing left open). */
int sbxd_exec_tty_open(pid_t target, unsigned rows, unsigned cols, int parent[3], int child[3]);

/* Sets the terminal size behind a master descriptor (the kernel then sends
 * SIGWINCH to its foreground process group). 0 or -errno. */
int sbxd_exec_tty_resize(int master, unsigned rows, unsigned cols);

#endif
