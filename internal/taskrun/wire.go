package taskrun

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// maxReply bounds a reply's body.
const maxReply = 4 << 20

// roundTrip sends one HTTP/1.1 request on conn (then closed: Connection: close) with
// the headers hdr (lower-case names; host among them) and body, and reads the whole
// reply. The reply may be delimited by its length, chunked, or end with the
// connection.
func roundTrip(ctx context.Context, conn net.Conn, method string, u *url.URL, hdr [][2]string, body []byte) (status int, reply []byte, err error) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	var b bytes.Buffer
	b.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\n")
	for _, h := range hdr {
		if strings.ContainsAny(h[1], "\r\n") {
			return 0, nil, fmt.Errorf("header %s: a line break in its value", h[0])
		}
		b.WriteString(textproto.CanonicalMIMEHeaderKey(h[0]) + ": " + h[1] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
	b.Write(body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return 0, nil, err
	}
	return readReply(bufio.NewReader(conn), method)
}

// readReply reads a reply's status line, headers and body (none to HEAD).
func readReply(r *bufio.Reader, method string) (status int, body []byte, err error) {
	tp := textproto.NewReader(r)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	if status, err = strconv.Atoi(code); err != nil || !strings.HasPrefix(proto, "HTTP/1.") || status < 100 {
		return 0, nil, fmt.Errorf("not an HTTP reply: %q", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w", err)
	}
	if status < 200 { // 100 Continue and the like: the reply follows
		return readReply(r, method)
	}
	if method == "HEAD" || status == 204 || status == 304 {
		return status, nil, nil
	}
	switch {
	case strings.EqualFold(h.Get("Transfer-Encoding"), "chunked"):
		body, err = readChunked(r)
	case h.Get("Content-Length") != "":
		n, perr := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		if perr != nil || n < 0 || n > maxReply {
			return 0, nil, fmt.Errorf("reply length %q", h.Get("Content-Length"))
		}
		body = make([]byte, n)
		_, err = io.ReadFull(r, body)
	default:
		body, err = io.ReadAll(io.LimitReader(r, maxReply))
	}
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w", err)
	}
	return status, body, nil
}

// readChunked reads a chunked body (its trailer skipped).
func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	tp := textproto.NewReader(r)
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 || int64(len(body))+n > maxReply {
			return nil, fmt.Errorf("chunk size %q", line)
		}
		if n == 0 {
			_, err := tp.ReadMIMEHeader() // the trailer, up to the blank line
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
