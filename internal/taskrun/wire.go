package taskrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// The client's HTTP/1.1 (net/http's initialisation alone is milliseconds of a task's
// start; net/textproto links net): one request per connection, to the server on this host. It follows no
// redirects and takes no proxy (the server is local: net/http's client never
// proxies loopback either). A reply is bounded: its status line and headers to
// maxHead, its body to maxReply, at most maxInterim interim (1xx) replies before it.
const (
	maxReply   = 4 << 20
	maxHead    = 1 << 20
	maxInterim = 5
)

// roundTrip sends one HTTP/1.1 request on conn (then closed: Connection: close) with
// the headers hdr (lower-case names; host among them) and body, and reads the whole
// reply.
func roundTrip(ctx context.Context, conn Conn, method string, u *url.URL, hdr [][2]string, body []byte) (status int, reply []byte, err error) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	var b bytes.Buffer
	b.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\n")
	for _, h := range hdr {
		if strings.ContainsAny(h[1], "\r\n") {
			return 0, nil, fmt.Errorf("header %s: a line break in its value", h[0])
		}
		b.WriteString(canonicalKey(h[0]) + ": " + h[1] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
	b.Write(body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return 0, nil, err
	}
	return readReply(conn, method)
}

// capped reads at most n more bytes of r, then fails.
type capped struct {
	r io.Reader
	n int64
}

var errTooLong = errors.New("the reply is too long")

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errTooLong
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// readReply reads from r a reply's status line, headers and body (none to HEAD): its
// interim replies skipped, its body by its length, chunked, or to the connection's
// end.
func readReply(r io.Reader, method string) (status int, body []byte, err error) {
	lim := &capped{r: r, n: maxHead}
	br := bufio.NewReader(lim)
	var h header
	for interim := 0; ; interim++ {
		if status, h, err = readHead(br); err != nil {
			return 0, nil, fmt.Errorf("reading the reply: %w", err)
		}
		if status >= 200 || status == 101 { // 101 ends the exchange as much as a 2xx does
			break
		}
		if interim == maxInterim {
			return 0, nil, errors.New("reading the reply: too many interim replies")
		}
	}
	lim.n = 2 * maxReply // the body's, with its chunks' framing (readBody bounds the body itself)
	if method == "HEAD" || status < 200 || status == 204 || status == 304 {
		return status, nil, nil
	}
	if body, err = readBody(br, h); err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w", err)
	}
	return status, body, nil
}

// readHead reads a status line ("HTTP/1.x NNN reason") and its headers.
func readHead(br *bufio.Reader) (int, header, error) {
	line, err := readLine(br)
	if err != nil {
		return 0, nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if (proto != "HTTP/1.1" && proto != "HTTP/1.0") || len(code) != 3 || err != nil || status < 100 {
		return 0, nil, fmt.Errorf("not an HTTP/1 reply: %.40q", line)
	}
	h, err := readHeader(br)
	return status, h, err
}

// header is a reply's header fields: their values by their lower-case names.
type header map[string][]string

// readLine reads a line, without its CRLF (or LF); the reader's caller bounds it.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = strings.TrimSuffix(line[:len(line)-1], "\r")
	return line, nil
}

// readHeader reads header fields up to the blank line after them. A folded field
// (a line that starts with a space: obsolete since RFC 7230) is refused.
func readHeader(br *bufio.Reader) (header, error) {
	h := header{}
	for {
		line, err := readLine(br)
		if err != nil || line == "" {
			return h, err
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("a malformed header line: %.40q", line)
		}
		k := strings.ToLower(name)
		h[k] = append(h[k], strings.Trim(value, " \t"))
	}
}

// canonicalKey is a header name as net/http sends it: Content-Type, X-Amz-Date.
func canonicalKey(name string) string {
	b := []byte(strings.ToLower(name))
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// readBody reads a body of headers h from br: chunked, of its length, or to the end.
func readBody(br *bufio.Reader, h header) ([]byte, error) {
	te, cl := h["transfer-encoding"], h["content-length"]
	switch {
	case len(te) > 0:
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return nil, fmt.Errorf("transfer encoding %q", strings.Join(te, ", "))
		}
		return readChunked(br)
	case len(cl) > 0:
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil || n > maxReply {
			return nil, fmt.Errorf("length %.20q", cl[0])
		}
		for _, v := range cl[1:] {
			if v != cl[0] {
				return nil, errors.New("two lengths")
			}
		}
		body := make([]byte, n)
		_, err = io.ReadFull(br, body)
		return body, err
	}
	body, err := io.ReadAll(io.LimitReader(br, maxReply+1))
	if len(body) > maxReply {
		return nil, errTooLong
	}
	return body, err
}

// readChunked reads a chunked body (its trailer skipped).
func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(line, ";")
		size = strings.TrimSpace(size)
		n, err := strconv.ParseUint(size, 16, 63)
		if err != nil || int64(n) > maxReply-int64(len(body)) {
			return nil, fmt.Errorf("chunk size %.20q", line)
		}
		if n == 0 {
			_, err := readHeader(r) // the trailer, up to the blank line
			return body, err
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, err
		}
		if !bytes.HasSuffix(chunk, []byte("\r\n")) {
			return nil, errors.New("a chunk not ended by CRLF")
		}
		body = append(body, chunk[:n]...)
	}
}
