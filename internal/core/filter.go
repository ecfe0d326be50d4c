package core

import (
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eni-net/eni/internal/ec2wire"
)

// A filterSet maps a Describe call's filter names to the values a resource
// has for them. Tag filters (tag:<key>, tag-key, tag-value) are generic.
type filterSet[T any] map[string]func(*T) []string

// Matcher decides which resources a list of EC2 filters selects.
type matcher[T any] struct {
	preds []func(*T) bool
}

func (m *matcher[T]) match(v *T) bool {
	for _, p := range m.preds {
		if !p(v) {
			return false
		}
	}
	return true
}

// MaxFilterValueLen is the longest filter value EC2 accepts.
const maxFilterValueLen = 255

func newMatcher[T any](fs filterSet[T], tags func(*T) Tags, filters []ec2wire.Filter) (*matcher[T], error) {
	m := &matcher[T]{}
	total := 0 // values over all filters: each may cost a wildcard match per resource
	for _, f := range filters {
		name := str(f.Name)
		if name == "" {
			return nil, errorf(CodeInvalidParameterValue, "The filter 'null' is invalid")
		}
		vals := f.Values
		for _, v := range vals {
			if len(v) > maxFilterValueLen {
				return nil, errorf(CodeFilterLimitExceeded, "The maximum length for a filter value is %d characters", maxFilterValueLen)
			}
		}
		if total += len(vals); total > 200 {
			return nil, errorf(CodeFilterLimitExceeded, "The maximum number of filter values specified on a single call is 200")
		}
		var get func(*T) []string
		switch {
		case strings.HasPrefix(name, "tag:") && tags != nil:
			key := name[4:]
			get = func(v *T) []string {
				if val, ok := tags(v)[key]; ok {
					return []string{val}
				}
				return nil
			}
		case name == "tag-key" && tags != nil:
			get = func(v *T) []string { return sortedKeys(tags(v)) }
		case name == "tag-value" && tags != nil:
			get = func(v *T) []string {
				t := tags(v)
				out := make([]string, 0, len(t))
				for _, val := range t {
					out = append(out, val)
				}
				return out
			}
		default:
			get = fs[name]
			if get == nil {
				return nil, errorf(CodeInvalidParameterValue, "The filter '%s' is invalid", name)
			}
		}
		if len(vals) == 0 {
			continue // a filter without values selects everything
		}
		m.preds = append(m.preds, func(v *T) bool {
			for _, have := range get(v) {
				for _, want := range vals {
					if Wildcard(want, have) {
						return true
					}
				}
			}
			return false
		})
	}
	return m, nil
}

// Wildcard reports whether s matches the EC2 filter pattern p: '*' is any run
// of characters, '?' any one character, and '\' makes the next one literal.
func Wildcard(p, s string) bool {
	// Iterative matching with one backtrack point, as for glob patterns,
	// stepping by UTF-8 characters ('?' is one character, not one byte).
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, rw := utf8.DecodeRuneInString(s[si:])
		if pi < len(p) {
			c, cw := utf8.DecodeRuneInString(p[pi:])
			switch {
			case c == '*':
				starP, starS = pi, si
				pi++
				continue
			case c == '?':
				pi += cw
				si += rw
				continue
			case c == '\\' && pi+1 < len(p):
				if n, nw := utf8.DecodeRuneInString(p[pi+1:]); n == r {
					pi += 1 + nw
					si += rw
					continue
				}
			case c == r:
				pi += cw
				si += rw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		si = starS
		pi = starP + 1
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func sortedKeys(t Tags) []string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// tokenPrefix marks our pagination tokens, so that a made-up token is
// refused rather than read as a position.
const tokenPrefix = "eni1:"

// paginate returns one page of items (sorted by key) after nextToken.
func paginate[T any](items []*T, key func(*T) string, maxResults *int32, nextToken *string, lo, hi int32) ([]*T, *string, error) {
	start := 0
	if nextToken != nil && *nextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(*nextToken)
		after, ok := strings.CutPrefix(string(b), tokenPrefix)
		if err != nil || !ok || after == "" {
			return nil, nil, errorf(CodeInvalidNextToken, "The token '%s' is invalid", *nextToken)
		}
		start, _ = slices.BinarySearchFunc(items, after, func(v *T, k string) int { return strings.Compare(key(v), k) })
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	if maxResults == nil {
		if start > 0 {
			return items[start:], nil, nil
		}
		return items, nil, nil
	}
	n := *maxResults
	if n < lo || (hi > 0 && n > hi) {
		return nil, nil, errorf(CodeInvalidParameterValue, "Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", n, lo, hi)
	}
	end := start + int(n)
	if end >= len(items) {
		return items[start:], nil, nil
	}
	tok := base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + key(items[end-1])))
	return items[start:end], &tok, nil
}

// Wire helpers.

func p[T any](v T) *T { return &v }

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func boolv(b *bool) bool { return b != nil && *b }

func i32(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

// strs returns the string form of a bool for filters.
func bstr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
