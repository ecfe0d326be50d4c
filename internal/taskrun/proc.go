package taskrun

import "os/exec"

// NewProc is argv as exec.Command would run it: argv[0] looked up on $PATH unless it
// names a path (its environment is set when it starts). An error is exec.LookPath's.
func NewProc(argv []string) (*Proc, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	return &Proc{Path: path, Args: argv}, nil
}
