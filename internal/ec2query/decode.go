// Package ec2query decodes EC2 Query API parameters (Foo.N, Foo.N.Bar,
// Filter.N.Value.M, ...) into the generated ec2wire types, driven by their
// `query` struct tags. It is the only place that knows the Query encoding.
package ec2query

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxListIndex bounds the N in Foo.N so that a hostile request cannot make the
// decoder allocate a huge slice.
const MaxListIndex = 1000

// Error is a client mistake in the parameters. Code is the EC2 error code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Ignored parameters are protocol-level, not part of any operation's input.
var ignored = map[string]bool{
	"Action": true, "Version": true,
	"AWSAccessKeyId": true, "SignatureVersion": true, "SignatureMethod": true, "Signature": true, "Timestamp": true, "Expires": true,
	"X-Amz-Algorithm": true, "X-Amz-Credential": true, "X-Amz-Date": true, "X-Amz-Expires": true,
	"X-Amz-SignedHeaders": true, "X-Amz-Signature": true, "X-Amz-Security-Token": true,
}

type fieldInfo struct {
	index    int
	query    string
	required bool
}

type structInfo struct {
	fields []fieldInfo
	byName map[string]int // query name -> position in fields
	byLow  map[string]int // lower-cased query name -> position
}

var cache sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := cache.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{byName: map[string]int{}, byLow: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		q := f.Tag.Get("query")
		if q == "" || q == "-" {
			continue
		}
		si.byName[q] = len(si.fields)
		si.byLow[strings.ToLower(q)] = len(si.fields)
		si.fields = append(si.fields, fieldInfo{index: i, query: q, required: f.Tag.Get("required") == "true"})
	}
	cache.Store(t, si)
	return si
}

// Decode fills dst (a pointer to a generated input struct) from params.
// Unknown parameters give UnknownParameter, malformed values
// InvalidParameterValue, absent required ones MissingParameter.
func Decode(params map[string][]string, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error for several bad parameters
	// Sparse indexes (Foo.N.Bar.1000 for many N) would make a small request
	// allocate millions of list members. A dense request makes at most one
	// member per list level of each parameter's path: that, plus one sparse
	// list, is the budget.
	budget := MaxListIndex
	for _, k := range keys {
		budget += strings.Count(k, ".")
	}
	for _, k := range keys {
		if ignored[k] {
			continue
		}
		vals := params[k]
		if len(vals) > 1 {
			return &Error{"InvalidParameterValue", fmt.Sprintf("The parameter %s is given more than once", k)}
		}
		val := ""
		if len(vals) == 1 {
			val = vals[0]
		}
		if err := set(v, k, strings.Split(k, "."), val, &budget); err != nil {
			return err
		}
	}
	return checkRequired(v, "")
}

func set(v reflect.Value, full string, path []string, val string, budget *int) error {
	for {
		switch v.Kind() {
		case reflect.Pointer:
			if v.Type().Elem().Kind() != reflect.Struct {
				if len(path) != 0 {
					return unknown(full)
				}
				if v.IsNil() {
					v.Set(reflect.New(v.Type().Elem()))
				}
				return scalar(v.Elem(), full, val)
			}
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		case reflect.Struct:
			if v.Type() == timeType {
				if len(path) != 0 {
					return unknown(full)
				}
				return scalar(v, full, val)
			}
			if len(path) == 0 {
				return unknown(full)
			}
			si := infoOf(v.Type())
			pos, ok := si.byName[path[0]]
			if !ok {
				pos, ok = si.byLow[strings.ToLower(path[0])]
			}
			if !ok {
				return unknown(full)
			}
			v = v.Field(si.fields[pos].index)
			path = path[1:]
		case reflect.Slice:
			if len(path) == 0 {
				if val == "" { // an empty list written as "Name="
					return nil
				}
				return &Error{"InvalidParameterValue", fmt.Sprintf("The parameter %s is a list: use %s.1, %s.2, ...", full, full, full)}
			}
			n, err := strconv.Atoi(path[0])
			if err != nil || n < 1 {
				return unknown(full)
			}
			if n > MaxListIndex {
				return &Error{"InvalidParameterValue", fmt.Sprintf("The list index in %s exceeds the maximum of %d", full, MaxListIndex)}
			}
			if v.Len() < n {
				if *budget -= n - v.Len(); *budget < 0 {
					return &Error{"InvalidParameterValue", fmt.Sprintf("The list indexes of the request leave too many gaps (at %s): number list members 1, 2, 3, ...", full)}
				}
				v.Set(reflect.AppendSlice(v, reflect.MakeSlice(v.Type(), n-v.Len(), n-v.Len())))
			}
			v = v.Index(n - 1)
			path = path[1:]
		default:
			if len(path) != 0 {
				return unknown(full)
			}
			return scalar(v, full, val)
		}
	}
}

var timeType = reflect.TypeOf(timeValue{}).Field(0).Type

type timeValue struct{ T time.Time }

func scalar(v reflect.Value, name, val string) error {
	switch v.Kind() {
	case reflect.String:
		// A copy: values are substrings of the request body, and a record
		// that kept one (a description, a tag) would keep the whole body.
		v.SetString(strings.Clone(val))
	case reflect.Bool:
		switch strings.ToLower(val) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return invalid(name, val, "a boolean")
		}
	case reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(val, 10, v.Type().Bits())
		if err != nil {
			return invalid(name, val, "an integer")
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return invalid(name, val, "a number")
		}
		v.SetFloat(f)
	case reflect.Struct: // ec2wire.Time embeds time.Time
		if v.NumField() == 1 && v.Field(0).Type() == timeType {
			v = v.Field(0)
		}
		if v.Type() != timeType {
			return unknown(name)
		}
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return invalid(name, val, "a timestamp")
		}
		v.Set(reflect.ValueOf(t))
	default:
		return unknown(name)
	}
	return nil
}

func checkRequired(v reflect.Value, prefix string) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType || (v.NumField() == 1 && v.Field(0).Type() == timeType) {
			return nil
		}
		si := infoOf(v.Type())
		for _, f := range si.fields {
			fv := v.Field(f.index)
			name := f.query
			if prefix != "" {
				name = prefix + "." + f.query
			}
			if f.required && (fv.IsZero()) {
				return &Error{"MissingParameter", fmt.Sprintf("The request must contain the parameter %s", name)}
			}
			if err := checkRequired(fv, name); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := checkRequired(v.Index(i), fmt.Sprintf("%s.%d", prefix, i+1)); err != nil {
				return err
			}
		}
	}
	return nil
}

func unknown(name string) error {
	return &Error{"UnknownParameter", fmt.Sprintf("The parameter %s is not recognized", name)}
}

func invalid(name, val, what string) error {
	if len(val) > 64 {
		val = val[:64] + "..."
	}
	return &Error{"InvalidParameterValue", fmt.Sprintf("Value (%s) for parameter %s is invalid. Expected %s.", val, name, what)}
}
