package main

import (
	"os"
	"os/signal"
	"syscall"
)

// catchSignals catches, from now on, the signals a user sends to eni (so that eni does
// not die of them); forward passes them, those caught before included, to the
// command's process until stop is called.
func catchSignals() (forward func(*os.Process), stop func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	quit := make(chan struct{})
	forward = func(p *os.Process) {
		go func() {
			for {
				select {
				case s := <-sigs:
					_ = p.Signal(s) // it may have exited meanwhile
				case <-quit:
					return
				}
			}
		}()
	}
	stop = func() {
		signal.Stop(sigs)
		close(quit)
	}
	return forward, stop
}

// awsRegion is the region of the AWS environment variables, us-east-1 by default.
func awsRegion() string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "us-east-1"
}
