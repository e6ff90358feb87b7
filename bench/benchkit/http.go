package benchkit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Conn is a load generator's HTTP/1.1 client on one kept-alive TCP
// connection, in the manner of wrk: it writes a request and reads the
// status and body of the answer, and little else, so that the clients take
// less of the cores the measured server shares with them than net/http's
// client does. It speaks to cxloop's server only (Content-Length or chunked
// bodies); it is not a general HTTP client.
type Conn struct {
	addr string
	host string
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	line []byte
}

// NewConn returns a client for the server at base (http://host:port); it
// dials on first use and again after the server closes the connection.
func NewConn(base string) (*Conn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("benchkit: %s: only http", base)
	}
	return &Conn{addr: u.Host, host: u.Host}, nil
}

// Do sends one request (header lines given whole, each ending in CRLF) and
// returns the status code of the answer, its body discarded.
func (c *Conn) Do(method, path string, header, body []byte) (int, error) {
	status, err := c.do(method, path, header, body)
	if err != nil && c.conn != nil {
		// The server may have closed a kept-alive connection: try once on a new one.
		c.Close()
		status, err = c.do(method, path, header, body)
	}
	if err != nil {
		c.Close()
	}
	return status, err
}

// Close closes the connection.
func (c *Conn) Close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *Conn) do(method, path string, header, body []byte) (int, error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return 0, err
		}
		c.conn, c.r, c.w = conn, bufio.NewReaderSize(conn, 64<<10), bufio.NewWriterSize(conn, 64<<10)
	}
	w := c.w
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(c.host)
	w.WriteString("\r\n")
	w.Write(header)
	if body != nil || method == "POST" {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return c.read()
}

func (c *Conn) read() (int, error) {
	line, err := c.readLine()
	if err != nil {
		return 0, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("benchkit: bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("benchkit: bad status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err := c.readLine()
		if err != nil {
			return 0, err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, fmt.Errorf("benchkit: bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := c.readLine()
			if err != nil {
				return 0, err
			}
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("benchkit: bad chunk size %q", line)
			}
			if n == 0 {
				for { // trailers, then the blank line
					line, err := c.readLine()
					if err != nil {
						return 0, err
					}
					if len(line) == 0 {
						break
					}
				}
				break
			}
			if _, err := c.r.Discard(int(n) + 2); err != nil {
				return 0, err
			}
		}
	case length >= 0:
		if _, err := c.r.Discard(length); err != nil {
			return 0, err
		}
	default:
		return 0, errors.New("benchkit: an answer without Content-Length or chunked body")
	}
	if closing {
		c.Close()
	}
	return status, nil
}

// readLine returns the next line without its CRLF; it is valid until the
// next read.
func (c *Conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.line = append(c.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.r.ReadSlice('\n')
			c.line = append(c.line, line...)
		}
		line = c.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// Client sends a load generator's requests on one connection at a time.
type Client interface {
	// Do sends a request (header lines given whole, each ending in CRLF)
	// and returns the status code of the answer, its body discarded.
	Do(method, path string, header, body []byte) (int, error)
	Close()
}

// NewClient returns a client of the server at base: "lean" a Conn,
// "nethttp" Go's net/http client, for comparison.
func NewClient(kind, base string) (Client, error) {
	switch kind {
	case "lean":
		return NewConn(base)
	case "nethttp":
		tr := &http.Transport{MaxIdleConnsPerHost: 1}
		return &netClient{base: base, tr: tr, c: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
	}
	return nil, fmt.Errorf("benchkit: unknown client %q (lean or nethttp)", kind)
}

type netClient struct {
	base string
	tr   *http.Transport
	c    *http.Client
}

func (n *netClient) Do(method, path string, header, body []byte) (int, error) {
	req, err := http.NewRequest(method, n.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(header, []byte("\r\n")) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok {
			req.Header.Add(string(k), string(bytes.TrimSpace(v)))
		}
	}
	resp, err := n.c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (n *netClient) Close() { n.tr.CloseIdleConnections() }
