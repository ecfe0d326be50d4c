package apitest

import (
	"io"
	"net/http"
)

// WrapTransport returns rt (http.DefaultTransport when nil) with a guard
// against an aws-sdk-go-v2 / net/http interaction that makes the client close
// its own connection while it is still reading a reply. Every HTTP client
// that carries SDK requests (apitest.HTTPClient, eni bench) goes through it.
//
// Symptom: on large replies (tens of KB), a few percent of calls fail with
// "deserialization failed, failed to decode response body, read tcp ...:
// use of closed network connection" even against a healthy local server
// (about 7% of 68 KB DescribeNetworkInterfaces/DescribeVpcs replies, at
// concurrency 1). Upstream reports: aws/aws-sdk-go-v2#1825 and #2737 (whose
// stack trace shows net/http's persistConn.writeLoop closing the connection);
// the SDK answered with aws/aws-sdk-go-v2#2949 (retry net.ErrClosed), which
// only hides the failure and does nothing when retries are off, as here.
//
// Root cause (smithy-go v1.28 transport/http, Go 1.26 net/http):
//
//  1. smithy-go's Request.Build wraps the body in
//     iointernal.NewSafeReadCloser(io.NopCloser(stream)). The stream is a
//     *bytes.Reader, so the wrapper is a safeWriteToReadCloser: it has
//     WriteTo, and once closed, WriteTo returns (0, io.EOF) (Read does too).
//  2. ClientHandler.Handle closes that body as soon as client.Do returns,
//     i.e. once the reply headers have arrived (smithy-go#226).
//  3. The wrapper is not a reader net/http knows to be in memory, so
//     newTransferWriter sets FlushHeaders: the headers are flushed first and
//     the body is then copied straight to the socket (bufio.Writer.ReadFrom
//     with an empty buffer -> persistConnWriter.ReadFrom). The server now has
//     the whole request and may answer at once.
//  4. transferWriter.writeBody then makes one more copy,
//     io.Copy(io.Discard, body), to detect a body longer than
//     ContentLength. io.Copy uses the body's WriteTo. If step 2 has already
//     happened (the reply headers won the race against the write goroutine),
//     WriteTo returns io.EOF, and io.Copy passes an error from WriteTo
//     through unchanged (it only forgives io.EOF from Read). writeBody
//     returns io.EOF, persistConn.writeLoop treats it as a write failure and
//     calls pc.close: the connection is torn down under the reply body the
//     caller is still reading. Small replies usually survive because they
//     are already in the read buffer.
//
// Fix: hide WriteTo. The body below exposes only Read and Close, so the
// extra copy goes through Read, and io.EOF from Read is a normal end of
// stream for io.Copy. Nothing else changes: the SDK still closes its body,
// the transport still closes it too (both are idempotent).
func WrapTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if _, ok := rt.(bodyGuardTransport); ok {
		return rt
	}
	return bodyGuardTransport{rt: rt}
}

// bodyGuardTransport is the RoundTripper of WrapTransport.
type bodyGuardTransport struct{ rt http.RoundTripper }

// RoundTrip sends r with its body (if it has WriteTo) seen through readOnlyBody.
// r itself is not modified: a shallow copy carries the wrapped body.
func (g bodyGuardTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		if _, ok := r.Body.(io.WriterTo); ok {
			r2 := new(http.Request)
			*r2 = *r
			r2.Body = readOnlyBody{r.Body}
			r = r2
		}
	}
	return g.rt.RoundTrip(r)
}

// CloseIdleConnections forwards to the wrapped transport, so that
// http.Client.CloseIdleConnections keeps working.
func (g bodyGuardTransport) CloseIdleConnections() {
	if c, ok := g.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// readOnlyBody is a request body without WriteTo (see WrapTransport).
type readOnlyBody struct{ rc io.ReadCloser }

func (b readOnlyBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readOnlyBody) Close() error               { return b.rc.Close() }
