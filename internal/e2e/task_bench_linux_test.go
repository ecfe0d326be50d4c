package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkRunTaskStart: eni-run-task itself (the binary) from its start to its command
// running inside the task's namespace with the task's ENI up: the command prints
// "listening" once it runs (this test binary's helper, once it listens there: start-*;
// a shell, sh -c 'echo listening; cat', the lightest command: sh-start-*); then the
// command ends (its stdin closes), run-task deletes the task and the data plane settles
// (untimed) before the next start. Reported: the p50 and p90 of each; eni-sh-start-*:
// the shell's through `eni run-task`; and, measured in the same run, binary-p50-ms and
// eni-binary-p50-ms: starting the eni-run-task binary alone (--help) and the eni binary
// alone (`eni version`), the floors of each. ENI_RUN_TASK_B names a second eni-run-task
// (another build of it, to compare with this tree's): its shell's start and its --help
// are timed too, against the same server, before or after this tree's in turn
// (b-sh-start-*, b-binary-p50-ms). And the floor (task_floor_linux_test.go), in the same run: a
// do-nothing Go program's start, an interface made in a namespace and the same sh
// started there (floor-go-, floor-netif-, floor-sh-p50-ms; floor-p50-ms their sum's),
// and sh-start's ratio to it.
func BenchmarkRunTaskStart(b *testing.B) {
	e := newEnv(b)
	vpc := e.vpc("10.0.0.0/16")
	subnet := e.subnet(vpc, "10.0.1.0/24")
	sg := e.sg(vpc, "task", 8080, "10.0.0.0/16")
	bin, lean := eniBinary(b), runTaskBinary(b)
	other := os.Getenv("ENI_RUN_TASK_B")
	if other != "" { // a copy, as this tree's is (installCopy)
		cp := filepath.Join(b.TempDir(), "eni-run-task-b")
		if err := installCopy(other, cp); err != nil {
			b.Fatal(err)
		}
		other = cp
	}
	var starts, shStarts, eniShStarts, bare, eniBare, bShStarts, bBare []time.Duration
	var floorGo, floorNet, floorSh, floor []time.Duration
	floorBin := floorProgram(b, b.TempDir())
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
	sh := []string{"/bin/sh", "-c", "echo listening; cat >/dev/null"}
	shA := func() { // as shB: the binary alone, then its task
		bare = append(bare, timeRun(b, lean, "--help"))
		timed(&shStarts, func() *task { return e.runTaskCmd(subnet, sg, "sh", nil, sh...) })
	}
	shB := func() {
		if other != "" {
			bBare = append(bBare, timeRun(b, other, "--help"))
			timed(&bShStarts, func() *task { return e.runTaskCmdVia([]string{other}, subnet, sg, "sh", nil, sh...) })
		}
	}
	for i := 0; b.Loop(); i++ {
		eniBare = append(eniBare, timeRun(b, bin, "version"))
		timed(&starts, func() *task { return e.runTask(subnet, sg, "task", 8080) })
		if i%2 == 0 { // the two builds' shells in turn first
			shA()
			shB()
		} else {
			shB()
			shA()
		}
		timed(&eniShStarts, func() *task { return e.runTaskCmdVia([]string{bin, "run-task"}, subnet, sg, "sh", nil, sh...) })
		fg := timeRun(b, floorBin)
		fn, fs := floorOnce(b, sh)
		floorGo, floorNet, floorSh, floor = append(floorGo, fg), append(floorNet, fn), append(floorSh, fs), append(floor, fg+fn+fs)
	}
	if other != "" {
		b.ReportMetric(pctMS(bShStarts, 0.5), "b-sh-start-p50-ms")
		b.ReportMetric(pctMS(bShStarts, 0.9), "b-sh-start-p90-ms")
		b.ReportMetric(pctMS(bBare, 0.5), "b-binary-p50-ms")
	}
	b.ReportMetric(pctMS(starts, 0.5), "start-p50-ms")
	b.ReportMetric(pctMS(starts, 0.9), "start-p90-ms")
	b.ReportMetric(pctMS(shStarts, 0.5), "sh-start-p50-ms")
	b.ReportMetric(pctMS(shStarts, 0.9), "sh-start-p90-ms")
	b.ReportMetric(pctMS(eniShStarts, 0.5), "eni-sh-start-p50-ms")
	b.ReportMetric(pctMS(bare, 0.5), "binary-p50-ms")
	b.ReportMetric(pctMS(floorGo, 0.5), "floor-go-p50-ms")
	b.ReportMetric(pctMS(floorNet, 0.5), "floor-netif-p50-ms")
	b.ReportMetric(pctMS(floorSh, 0.5), "floor-sh-p50-ms")
	b.ReportMetric(pctMS(floor, 0.5), "floor-p50-ms")
	if f := pctMS(floor, 0.5); f > 0 {
		b.ReportMetric(pctMS(shStarts, 0.5)/f, "sh-start/floor")
	}
	b.ReportMetric(pctMS(eniBare, 0.5), "eni-binary-p50-ms")
}

// timeRun is how long bin args takes to run.
func timeRun(b *testing.B, bin string, args ...string) time.Duration {
	t0 := time.Now()
	if err := exec.Command(bin, args...).Run(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
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
