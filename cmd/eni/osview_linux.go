package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The OS view of a command run in an instance (eni exec) or a task (eni run-task): as
// `ip netns exec` does, the command gets a mount namespace of its own with /sys
// mounted afresh, so /sys/class/net shows the instance's interfaces (eth0, eth1, ...)
// and not the host's; and a UTS namespace of its own whose hostname is the instance's
// private DNS name, as an EC2 instance's is. The new namespaces need code between fork
// and exec, which Go does not run: eni re-executes itself as nsInitCmd, which mounts,
// sets the hostname and then replaces itself (execve) with the command, so the
// command is the process eni exec started, and gets the signals sent to it.

// nsInitCmd is the hidden subcommand that eni re-executes itself as.
const nsInitCmd = "__ns-init"

// osView returns the command that runs cmd (resolved, with its stdio and environment)
// in new mount and UTS namespaces with hostname and the files etc (none when empty,
// resolvconf.go); it is to be started inside the network namespace. It is killed when
// the thread that starts it dies (every thread dies with this process).
func osView(cmd *exec.Cmd, hostname string, etc etcFiles) (*exec.Cmd, error) {
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.Command(self, append([]string{nsInitCmd, hostname, etc.resolvConf, etc.hosts, cmd.Path}, cmd.Args...)...)
	c.Stdin, c.Stdout, c.Stderr, c.Env = cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env
	c.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS, Pdeathsig: syscall.SIGKILL}
	return c, nil
}

// nsInit runs as the first process of the new namespaces: args are the hostname, the
// contents of resolv.conf and hosts (or empty), the command's path and its argv.
func nsInit(args []string) error {
	if len(args) < 5 {
		return errors.New("ns-init: need a hostname, resolv.conf, hosts, a path and argv")
	}
	hostname, etc, path, argv := args[0], etcFiles{resolvConf: args[1], hosts: args[2]}, args[3], args[4:]
	// Mounts made here stay here (as ip netns exec: the tree becomes a slave of the
	// host's), then /sys is the network namespace's.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("ns-init: make / a slave: %w", err)
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("ns-init: unmount /sys: %w", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		return fmt.Errorf("ns-init: mount /sys: %w", err)
	}
	if err := mountEtc(etc); err != nil { // the command runs on, as under ip netns exec
		fmt.Fprintf(os.Stderr, "eni: the instance's /etc files: %v\n", err)
	}
	if hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("ns-init: hostname: %w", err)
		}
	}
	return syscall.Exec(path, argv, os.Environ())
}

// primaryIPv4 is the primary IPv4 address of eth0 in the calling thread's namespace.
func primaryIPv4() (string, error) {
	l, err := netlink.LinkByName("eth0")
	if err != nil {
		return "", err
	}
	as, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.Flags&unix.IFA_F_SECONDARY == 0 {
			return a.IP.String(), nil
		}
	}
	return "", fmt.Errorf("eth0 has no IPv4 address")
}

// mountEtc bind-mounts etc's files over /etc/resolv.conf and /etc/hosts, in this
// mount namespace only: they are written to a tmpfs mounted over /tmp for the time of
// the bind mounts (which keep it), then /tmp is the host's again.
func mountEtc(etc etcFiles) error {
	if etc.resolvConf == "" && etc.hosts == "" {
		return nil
	}
	if err := unix.Mount("eni", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("tmpfs for /etc files: %w", err)
	}
	var errs []error
	for _, f := range []struct{ name, content string }{{"resolv.conf", etc.resolvConf}, {"hosts", etc.hosts}} {
		if f.content == "" {
			continue
		}
		src := "/tmp/" + f.name
		if err := os.WriteFile(src, []byte(f.content), 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(src, "/etc/"+f.name, "", unix.MS_BIND, ""); err != nil {
			errs = append(errs, fmt.Errorf("bind %s over /etc/%s: %w", src, f.name, err))
		}
	}
	if err := unix.Unmount("/tmp", unix.MNT_DETACH); err != nil {
		errs = append(errs, fmt.Errorf("unmount the tmpfs: %w", err))
	}
	return errors.Join(errs...)
}
