package taskrun

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/eni-net/eni/internal/nsname"
)

// The OS view of a command run in an instance (eni exec) or a task (eni run-task): as
// `ip netns exec` does, the command gets a mount namespace of its own with /sys
// mounted afresh, so /sys/class/net shows the instance's interfaces (eth0, eth1, ...)
// and not the host's; and a UTS namespace of its own whose hostname is the instance's
// private DNS name, as an EC2 instance's is. The namespaces are made on an OS thread of
// eni's own, locked and never given back to Go: it joins the instance's network
// namespace, unshares its mount and UTS namespaces, mounts and sets the hostname there,
// and starts the command, which inherits all three from it. (eni re-executed itself for
// that before, to run code between fork and exec: a second start of the binary, 10-16 ms
// of every eni exec and run-task.)

// An OSView is the locked thread that starts a command with the OS view above. It is
// made ahead of the command's network namespace (PrepareOSView): it unshares its mount
// and UTS namespaces and mounts its scratch tmpfs while run-task's create is under
// way; then Start joins the namespace and does the rest.
type OSView struct {
	work chan func(scratch bool) error
	errc chan error
	done chan struct{}
}

// PrepareOSView starts an OS view's thread. Start it, or Abort it.
func PrepareOSView() *OSView {
	v := &OSView{work: make(chan func(bool) error), errc: make(chan error, 1), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread's namespaces are the instance's
		scratch, err := prepareView()
		f, ok := <-v.work
		if !ok {
			return
		}
		if err == nil {
			err = f(scratch)
		}
		v.errc <- err
		<-v.done
	}()
	return v
}

// Abort ends a view that will not be started.
func (v *OSView) Abort() { close(v.work) }

// Start starts a command with start, called on the view's thread in the data plane's
// namespace ns with the view's OS view (a command it starts inherits them all, and is
// killed when the thread ends); view, called inside ns (and the view's own mount
// namespace, where /sys is the scratch tmpfs, not yet the instance's sysfs), names the
// hostname and the /etc files (none when empty, etc.go). Call release once the command
// has been waited for (and every thread ends with this process).
func (v *OSView) Start(ns string, start func() error, view func() (string, EtcFiles)) (release func(), err error) {
	fd, err := nsname.Open(ns) // by this thread: the view's mount namespace predates ns's name
	if err != nil {
		v.Abort()
		return nil, err
	}
	defer unix.Close(fd) // read-only fd
	v.work <- func(scratch bool) error {
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("netns %s: join: %w", ns, err)
		}
		return finishView(start, view, scratch)
	}
	if err := <-v.errc; err != nil {
		close(v.done)
		return nil, err
	}
	return func() { close(v.done) }, nil
}

// StartOSView is PrepareOSView and Start, of cmd (resolved, with its stdio and
// environment), which is killed when the view's thread ends.
func StartOSView(ns string, cmd *exec.Cmd, view func() (string, EtcFiles)) (release func(), err error) {
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	return PrepareOSView().Start(ns, func() error {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		return cmd.Start()
	}, view)
}

// prepareView, on the view's thread, makes what is the same whatever the namespace:
// its own mount and UTS namespaces, its mounts kept from the host (as ip netns exec:
// the tree becomes a slave of the host's), the host's /sys gone and in its place a
// small tmpfs for the /etc files (finishView); scratch says whether that tmpfs is there
// (without it the command runs on, with the host's files, as it would under ip netns
// exec).
func prepareView() (scratch bool, err error) {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_NEWUTS); err != nil {
		return false, fmt.Errorf("os view: new mount and UTS namespaces: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return false, fmt.Errorf("os view: make / a slave: %w", err)
	}
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return false, fmt.Errorf("os view: unmount /sys: %w", err)
	}
	err = unix.Mount("eni", "/sys", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755")
	if err != nil {
		fmt.Fprintf(os.Stderr, "eni: the instance's /etc files: tmpfs: %v\n", err)
	}
	return err == nil, nil
}

// finishView, on the view's thread inside the namespace, mounts its /etc files and its
// /sys (over the tmpfs that holds the files: nothing is unmounted, which here would
// wait for an RCU grace period while the command's start waits), sets the hostname
// and starts the command. The command's mount table shows that tmpfs ("eni", 64k) on
// /sys under the sysfs; one that unmounts its /sys finds its own /etc files there.
func finishView(start func() error, view func() (string, EtcFiles), scratch bool) error {
	hostname, etc := view()
	if err := mountEtc(etc, scratch); err != nil { // the command runs on, as under ip netns exec
		fmt.Fprintf(os.Stderr, "eni: the instance's /etc files: %v\n", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		return fmt.Errorf("os view: mount /sys: %w", err)
	}
	if hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("os view: hostname: %w", err)
		}
	}
	return start()
}

// mountEtc bind-mounts etc's files over /etc/resolv.conf and /etc/hosts, in this
// mount namespace only: they are written to the tmpfs on /sys (prepareView; scratch: it
// is there), which the bind mounts keep and the instance's sysfs then covers.
func mountEtc(etc EtcFiles, scratch bool) error {
	if !scratch {
		return nil
	}
	var errs []error
	for _, f := range []struct{ name, content string }{{"resolv.conf", etc.ResolvConf}, {"hosts", etc.Hosts}} {
		if f.content == "" {
			continue
		}
		src := "/sys/" + f.name
		if err := os.WriteFile(src, []byte(f.content), 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(src, "/etc/"+f.name, "", unix.MS_BIND, ""); err != nil {
			errs = append(errs, fmt.Errorf("bind %s over /etc/%s: %w", src, f.name, err))
		}
	}
	return errors.Join(errs...)
}
