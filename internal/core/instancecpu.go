package core

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eni-net/eni/internal/ec2wire"
)

// CPU options. An instance type that supports specifying CPU options has a
// default number of cores and threads per core, and the counts a launch may
// choose instead (AWS's table, instance-cpu.tsv, compiled in). RunInstances'
// CpuOptions names both; the instance keeps them through stop and start, and
// a change of instance type resets them to the new type's defaults, as AWS's
// rules for specifying CPU options say. DescribeInstances shows them, and
// DescribeInstanceTypes the type's VCpuInfo, for the types of the table.

// instanceCPUTSV is AWS's table of the types that support CPU options.
//
//go:embed instance-cpu.tsv
var instanceCPUTSV string

// instanceCPUInfo is a type's row of instance-cpu.tsv.
type instanceCPUInfo struct {
	DefaultVCPUs, DefaultCores, DefaultThreads int32
	ValidCores, ValidThreads                   []int32
}

var (
	instanceCPUOnce  sync.Once
	instanceCPUTable map[string]*instanceCPUInfo
)

// instanceCPU returns typ's CPU options, or nil for a type that does not
// support specifying them. A malformed embedded file is a build defect: it
// panics (a test parses it).
func instanceCPU(typ string) *instanceCPUInfo {
	instanceCPUOnce.Do(func() {
		m, err := parseInstanceCPU(instanceCPUTSV)
		if err != nil {
			panic(err)
		}
		instanceCPUTable = m
	})
	return instanceCPUTable[typ]
}

func parseInstanceCPU(text string) (map[string]*instanceCPUInfo, error) {
	m := map[string]*instanceCPUInfo{}
	ints := func(s string) ([]int32, error) {
		var out []int32
		for _, f := range strings.Split(s, ",") {
			v, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				return nil, err
			}
			out = append(out, int32(v))
		}
		return out, nil
	}
	for n, line := range strings.Split(text, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if line == "" || strings.HasPrefix(line, "#") || f[0] == "instance_type" {
			continue
		}
		var cols [5][]int32
		var err error
		for i := range cols {
			if len(f) != 6 {
				err = fmt.Errorf("%d fields", len(f))
			} else {
				cols[i], err = ints(f[i+1])
			}
			if err != nil {
				return nil, fmt.Errorf("instance-cpu.tsv line %d: %w", n+1, err)
			}
		}
		c := &instanceCPUInfo{DefaultVCPUs: cols[0][0], DefaultCores: cols[1][0], DefaultThreads: cols[2][0], ValidCores: cols[3], ValidThreads: cols[4]}
		if c.DefaultVCPUs != c.DefaultCores*c.DefaultThreads || m[f[0]] != nil {
			return nil, fmt.Errorf("instance-cpu.tsv line %d: %s inconsistent or repeated", n+1, f[0])
		}
		m[f[0]] = c
	}
	return m, nil
}

// CPUOptions are the cores and threads per core an instance was launched
// with.
type CPUOptions struct {
	CoreCount      int32 `json:"coreCount"`
	ThreadsPerCore int32 `json:"threadsPerCore"`
}

// launchCPUOptions checks RunInstances' CpuOptions for a type: both counts,
// each one the type allows. nil: the type's defaults.
func launchCPUOptions(typ string, req *ec2wire.CpuOptionsRequest) (*CPUOptions, error) {
	if req == nil || (req.CoreCount == nil && req.ThreadsPerCore == nil) {
		return nil, nil
	}
	info := instanceCPU(typ)
	switch {
	case info == nil:
		return nil, errorf(CodeUnsupportedOperation, "The %s instance type does not support specifying CpuOptions.", typ)
	case req.CoreCount == nil || req.ThreadsPerCore == nil:
		return nil, errorf(CodeMissingParameter, "When specifying CpuOptions you must specify both CoreCount and ThreadsPerCore.")
	}
	c := &CPUOptions{CoreCount: *req.CoreCount, ThreadsPerCore: *req.ThreadsPerCore}
	if !slices.Contains(info.ValidCores, c.CoreCount) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter coreCount is invalid. Valid core counts for %s are %s.", c.CoreCount, typ, joinInts(info.ValidCores))
	}
	if !slices.Contains(info.ValidThreads, c.ThreadsPerCore) {
		return nil, errorf(CodeInvalidParameterValue, "Value (%d) for parameter threadsPerCore is invalid. Valid threads per core for %s are %s.", c.ThreadsPerCore, typ, joinInts(info.ValidThreads))
	}
	return c, nil
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(int(n))
	}
	return strings.Join(s, ", ")
}

// instanceCPUOut is an instance's CpuOptions as described: as launched, or
// its type's defaults; nil for a type whose CPU data is not in the table.
func instanceCPUOut(inst *Instance) *ec2wire.CpuOptions {
	if inst.CPU != nil {
		return &ec2wire.CpuOptions{CoreCount: p(inst.CPU.CoreCount), ThreadsPerCore: p(inst.CPU.ThreadsPerCore)}
	}
	if info := instanceCPU(inst.InstanceType); info != nil {
		return &ec2wire.CpuOptions{CoreCount: p(info.DefaultCores), ThreadsPerCore: p(info.DefaultThreads)}
	}
	return nil
}

// vcpuInfoOut is a type's VCpuInfo in DescribeInstanceTypes.
func vcpuInfoOut(typ string) *ec2wire.VCpuInfo {
	info := instanceCPU(typ)
	if info == nil {
		return nil
	}
	return &ec2wire.VCpuInfo{DefaultVCpus: p(info.DefaultVCPUs), DefaultCores: p(info.DefaultCores),
		DefaultThreadsPerCore: p(info.DefaultThreads), ValidCores: slices.Clone(info.ValidCores), ValidThreadsPerCore: slices.Clone(info.ValidThreads)}
}

// vcpuFilter is a DescribeInstanceTypes filter on the type's VCpuInfo.
func vcpuFilter(get func(*instanceCPUInfo) []int32) func(*instanceTypeInfo) []string {
	return func(t *instanceTypeInfo) []string {
		info := instanceCPU(t.Name)
		if info == nil {
			return nil
		}
		var out []string
		for _, v := range get(info) {
			out = append(out, strconv.Itoa(int(v)))
		}
		return out
	}
}
