package e2e

import (
	"os/exec"
	"slices"
	"testing"
	"time"
)

// BenchmarkRunTaskStart: `eni run-task` itself (the binary) from its start to its command
// running inside the task's namespace with the task's ENI up: the command prints
// "listening" once it runs (this test binary's helper, once it listens there: start-*;
// a shell, sh -c 'echo listening; cat', the lightest command: sh-start-*); then the
// command ends (its stdin closes), run-task deletes the task and the data plane settles
// (untimed) before the next start. Reported: the p50 and p90 of each, and, measured in
// the same run, binary-p50-ms: starting the eni binary alone (`eni version`), the floor
// of any run-task.
func BenchmarkRunTaskStart(b *testing.B) {
	e := newEnv(b)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	sg := e.sg(vpc, "task", 8080, "10.0.0.0/16")
	bin := eniBinary(b)
	var starts, shStarts, bare []time.Duration
	timed := func(into *[]time.Duration, start func() *task) {
		t0 := time.Now()
		tk := start()
		*into = append(*into, time.Since(t0))
		_ = tk.stdin.Close()
		select {
		case err := <-tk.done:
			if err != nil {
				b.Fatalf("run-task: %v; stderr: %s", err, tk.stderr)
			}
		case <-time.After(eventually):
			b.Fatalf("run-task did not end within %s; stderr: %s", eventually, tk.stderr)
		}
		e.settle() // the task's deletion realised: the next start is alone
	}
	for b.Loop() {
		t0 := time.Now()
		if err := exec.Command(bin, "version").Run(); err != nil {
			b.Fatal(err)
		}
		bare = append(bare, time.Since(t0))
		timed(&starts, func() *task { return e.runTask(subnet, sg, "task", 8080) })
		timed(&shStarts, func() *task {
			return e.runTaskCmd(subnet, sg, "sh", nil, "/bin/sh", "-c", "echo listening; cat >/dev/null")
		})
	}
	b.ReportMetric(pctMS(starts, 0.5), "start-p50-ms")
	b.ReportMetric(pctMS(starts, 0.9), "start-p90-ms")
	b.ReportMetric(pctMS(shStarts, 0.5), "sh-start-p50-ms")
	b.ReportMetric(pctMS(shStarts, 0.9), "sh-start-p90-ms")
	b.ReportMetric(pctMS(bare, 0.5), "binary-p50-ms")
}

// pctMS is the q-quantile of ds in milliseconds.
func pctMS(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
}
