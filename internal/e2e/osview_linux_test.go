package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// eniExec runs `eni exec` in the instance and returns its output.
func (e *env) eniExec(inst string, argv ...string) (string, error) {
	cmd := exec.Command(eniBinary(e.t), append([]string{"exec", "--prefix", e.prefix, "--endpoint", e.api.Server.URL, inst, "--"}, argv...)...)
	cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1")
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// pidsIn are the processes in the namespace.
func (e *env) pidsIn(nsname string) []string {
	out, err := exec.Command("ip", "netns", "pids", nsname).Output()
	if err != nil {
		e.t.Fatalf("ip netns pids %s: %v", nsname, err)
	}
	return strings.Fields(string(out))
}

// TestExecOSView: eni exec shows the instance's own /sys (its eth1's MAC), sets the
// hostname to the instance's private DNS name, passes its signals to the command and
// takes the command with it when it is killed.
func TestExecOSView(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2's ip is not installed")
	}
	host, _ := os.Hostname()
	e := newEnv(t)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	inst := e.launch(subnet)
	e.waitRunning(inst)
	eth1 := e.createENI(subnet)
	e.attach(*eth1.NetworkInterfaceId, inst, 1)
	ns := e.plane.InstanceNS(inst)
	e.waitFor("eth1 in "+inst, func() (bool, string) { _, ok := e.ifaceIn(ns, "eth1"); return ok, "" })

	if out, err := e.eniExec(inst, "cat", "/sys/class/net/eth1/address"); err != nil || out != *eth1.MacAddress {
		t.Errorf("cat /sys/class/net/eth1/address: %q %v, want %s", out, err, *eth1.MacAddress)
	}
	if out, err := e.eniExec(inst, "ls", "/sys/class/net"); err != nil || !slices.Equal(strings.Fields(out), []string{"eth0", "eth1", "lo"}) {
		t.Errorf("ls /sys/class/net: %q %v, want eth0 eth1 lo", out, err)
	}
	// Its /sys is a sysfs (over the tmpfs that holds the /etc files), its /tmp the host's.
	if out, err := e.eniExec(inst, "stat", "-f", "-c", "%T", "/sys"); err != nil || out != "sysfs" {
		t.Errorf("stat -f /sys: %q %v, want sysfs", out, err)
	}
	mark, err := os.CreateTemp("/tmp", "zqosview")
	e.must(err)
	_ = mark.Close()
	defer os.Remove(mark.Name())
	if out, err := e.eniExec(inst, "ls", mark.Name()); err != nil || out != mark.Name() {
		t.Errorf("ls %s (the host's /tmp): %q %v", mark.Name(), out, err)
	}
	ip := *e.primaryENI(inst).PrivateIpAddress
	want := "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal"
	if out, err := e.eniExec(inst, "hostname"); err != nil || out != want {
		t.Errorf("hostname: %q %v, want %s", out, err, want)
	}
	if now, _ := os.Hostname(); now != host || now == want {
		t.Errorf("the host's hostname changed to %q", now)
	}
	if _, err := os.Stat("/sys/class/net/eth1"); err == nil {
		if b, _ := os.ReadFile("/sys/class/net/eth1/address"); strings.TrimSpace(string(b)) == *eth1.MacAddress {
			t.Errorf("the host's /sys shows the instance's eth1")
		}
	}
	var ee *exec.ExitError
	if _, err := e.eniExec(inst, "sh", "-c", "exit 7"); !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("exit status: %v, want 7", err)
	}

	start := func() *exec.Cmd {
		cmd := exec.Command(eniBinary(e.t), "exec", "--prefix", e.prefix, inst, "--", "sleep", "60")
		e.must(cmd.Start())
		e.waitFor("sleep in "+inst, func() (bool, string) { ps := e.pidsIn(ns); return len(ps) > 0, strings.Join(ps, " ") })
		return cmd
	}
	gone := func(what string) {
		e.waitFor(what, func() (bool, string) { ps := e.pidsIn(ns); return len(ps) == 0, strings.Join(ps, " ") })
	}
	// SIGTERM to eni exec reaches the command; eni exec exits as it did.
	cmd := start()
	e.must(cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
			t.Errorf("eni exec after SIGTERM: %v, want exit status 143", err)
		}
	case <-time.After(eventually):
		t.Fatal("eni exec did not end after SIGTERM")
	}
	gone("the command gone after SIGTERM")
	// SIGKILL to eni exec: the command dies with it. Before that: only the command (and
	// the thread that started it) is in the new mount and UTS namespaces; eni exec
	// itself is in the host's, and none of the command's mounts reaches the host.
	cmd = start()
	for _, kind := range []string{"mnt", "uts"} {
		host, _ := os.Readlink("/proc/self/ns/" + kind)
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, kind)); err != nil || got != host {
			t.Errorf("eni exec's %s namespace: %s %v, want the host's %s", kind, got, err, host)
		}
		for _, pid := range e.pidsIn(ns) {
			if got, _ := os.Readlink("/proc/" + pid + "/ns/" + kind); got == host {
				t.Errorf("the command (pid %s) is in the host's %s namespace", pid, kind)
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err != nil || strings.Contains(string(b), " - tmpfs eni ") || strings.Contains(string(b), " /sys/class/net/eth1") {
		t.Errorf("the host's mounts show the command's (%v):\n%s", err, b)
	}
	e.must(cmd.Process.Kill())
	_ = cmd.Wait() // killed
	gone("the command gone with eni exec")
}
