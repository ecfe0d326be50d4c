package main

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// warmBytes is how much of the heap warmHeap has the kernel map ahead.
const warmBytes = 1 << 20

// warmHeap has the kernel map the next mebibyte of the heap (MADV_POPULATE_WRITE) once
// run-task knows it will make a task. On this machine kind a page fault costs 8-10 µs and
// a page populated in bulk 0.4-1.8 µs, and a task's start touches a hundred or so pages
// of fresh heap (goroutine and thread stacks, buffers, the reply) while the server makes
// the task and after. It starts at a fresh object's page: the runtime takes pages from the
// lowest free address up, so the next spans come from there. A range that runs past the
// heap's mapping is populated up to it, and a kernel without the advice (before 5.14)
// refuses it: either way nothing changes but the faults.
func warmHeap() { populate(heapAhead()) }

// heapAhead is the page where the heap's next spans start: a fresh object's.
func heapAhead() uintptr {
	p := new([8192]byte)
	start := uintptr(unsafe.Pointer(p)) &^ uintptr(unix.Getpagesize()-1)
	runtime.KeepAlive(p)
	return start
}

// populate has the kernel map warmBytes from start, written to (MADV_POPULATE_WRITE).
func populate(start uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, warmBytes, unix.MADV_POPULATE_WRITE)
}
