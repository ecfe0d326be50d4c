// Command eni-bench is a load generator for any EC2-compatible endpoint
// (eni serve or another), through the real aws-sdk-go-v2 EC2 client.
//
// It is a command of its own so that the server (cmd/eni) does not link the
// SDK's EC2 client, the largest package of the module graph to compile.
package main

import (
	"fmt"
	"os"

	"github.com/eni-net/eni/internal/bench"
)

func main() {
	if err := bench.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "eni-bench:", err)
		os.Exit(1)
	}
}
