package bench

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// serverTime receives the endpoint's own time for one call, from the
// response's Server-Timing header (ENI sends "app;dur=<ms>"; an endpoint
// that sends none leaves ok false).
type serverTime struct {
	d  time.Duration
	ok bool
}

type serverTimeKey struct{}

// withServerTime returns ctx carrying st: calls made with it record their
// server time there.
func withServerTime(ctx context.Context, st *serverTime) context.Context {
	return context.WithValue(ctx, serverTimeKey{}, st)
}

// addServerTiming is an APIOptions entry that reads Server-Timing from
// every response into the call's serverTime.
func addServerTiming(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("eniBenchServerTiming",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			st, _ := ctx.Value(serverTimeKey{}).(*serverTime)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && st != nil {
				st.d, st.ok = parseServerTiming(resp.Header.Values("Server-Timing"))
			}
			return out, md, err
		}), middleware.Before)
}

// parseServerTiming sums the dur= parameters of Server-Timing header
// values (e.g. "app;dur=0.412", durations in milliseconds).
func parseServerTiming(values []string) (time.Duration, bool) {
	var total float64
	found := false
	for _, v := range values {
		for _, metric := range strings.Split(v, ",") {
			for _, param := range strings.Split(metric, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(k, "dur") {
					continue
				}
				f, err := strconv.ParseFloat(strings.Trim(val, `"`), 64)
				if err != nil || f < 0 {
					continue
				}
				total += f
				found = true
			}
		}
	}
	return time.Duration(total * float64(time.Millisecond)), found
}
