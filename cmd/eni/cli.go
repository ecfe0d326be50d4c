package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// errHelp says a command printed its help: nothing more to do.
var errHelp = errors.New("help printed")

// usageError is a mistake on the command line: main prints it with one line
// pointing to --help (not the whole usage) and exits 2, as flag's users expect.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%s: %v\nRun 'eni %s --help' for usage.", e.cmd, e.err, e.cmd)
}

func (e *usageError) Unwrap() error { return e.err }

// parseFlags parses a command's flags. A mistake comes back as a
// *usageError without the usage printed; -h/--help prints the usage on
// stdout and returns errHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return errHelp
	}
	fs.SetOutput(os.Stderr)
	if err != nil {
		return &usageError{cmd: fs.Name(), err: err}
	}
	return nil
}

// version is the module's version (a tag for `go install …@v1.2.3`) and the
// VCS revision it was built from, as the Go toolchain records them;
// -ldflags "-X main.versionOverride=..." replaces both.
var versionOverride string

func version() string {
	if versionOverride != "" {
		return versionOverride
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module support)"
	}
	return versionOf(bi)
}

// versionOf formats what a build recorded: "v1.2.3", "(devel) rev 1a2b3c4d5e6f
// 2026-12-02T16:00:00Z, modified".
func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := v + " rev " + rev
	if at != "" {
		s += " " + at
	}
	return s + modified
}
