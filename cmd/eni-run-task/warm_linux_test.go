package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const warmHelperEnv = "ENI_RUN_TASK_WARM_HELPER"

func init() {
	if os.Getenv(warmHelperEnv) == "" {
		return
	}
	// The helper, before the tests' own allocations: the share of the heap's next
	// mebibyte (as much of it as the heap's mapping holds, its first 64 KiB left out)
	// that is resident before and after populate, in percent.
	start := heapAhead()
	page := uintptr(unix.Getpagesize())
	from, to := start+64<<10, min(start+warmBytes, mappedTo(start))
	if to < from+128<<10 {
		fmt.Println("too little of the window in the heap's mapping")
		os.Exit(0)
	}
	vec := make([]byte, (to-from)/page)
	resident := func() int {
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, from, uintptr(len(vec))*page, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			fmt.Println("mincore:", e)
			os.Exit(0)
		}
		n := 0
		for _, v := range vec {
			n += int(v & 1)
		}
		return n * 100 / len(vec)
	}
	before := resident()
	populate(start)
	fmt.Println(before, resident())
	os.Exit(0)
}

// mappedTo is where the mapping that holds addr ends (/proc/self/maps), or 0.
func mappedTo(addr uintptr) uintptr {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		lo, rest, ok := strings.Cut(l, "-")
		hi, _, _ := strings.Cut(rest, " ")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if ok && err1 == nil && err2 == nil && uint64(addr) >= a && uint64(addr) < z {
			return uintptr(z)
		}
	}
	return 0
}

// TestWarmHeapMapsAhead: populate (warmHeap's) leaves the heap's next mebibyte resident,
// as much of it as the heap's mapping holds, where most of it was still to fault in.
func TestWarmHeapMapsAhead(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^$")
	cmd.Env = append(os.Environ(), warmHelperEnv+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the helper: %v", err)
	}
	var before, after int
	if _, err := fmt.Sscan(string(out), &before, &after); err != nil {
		t.Fatalf("the helper said %q", out)
	}
	t.Logf("the heap's next mebibyte resident: %d%% before, %d%% after", before, after)
	if after < 95 || after-before < 20 {
		t.Fatalf("resident %d%% before populate and %d%% after, want all of it after, and a fifth more at least", before, after)
	}
}
