package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

// conn is a minimal keep-alive HTTP/1.1 client on one loopback connection.
// net/http's client costs about as much CPU as the server it measures; on a
// 2-core machine that would flatten every ratio, so requests are written
// from a reused buffer and answers parsed just enough (status, length).
type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	wbuf []byte
	body []byte
}

func dial(addr string) (*conn, error) {
	k := &conn{addr: addr}
	return k, k.redial()
}

func (k *conn) redial() error {
	if k.c != nil {
		_ = k.c.Close()
	}
	c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
	if err != nil {
		return err
	}
	k.c = c
	k.br = bufio.NewReaderSize(c, 32<<10)
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		_ = k.c.Close()
	}
}

// do sends req and reads the answer; the body is valid until the next do.
func (k *conn) do(req workload.Request) (int, []byte, error) {
	b := k.wbuf[:0]
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.Path...)
	b = append(b, " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idpbench\r\nAccept: application/json\r\nAuthorization: "...)
	b = append(b, workload.Bearer...)
	b = append(b, "\r\n"...)
	if req.Body != nil {
		b = append(b, "Content-Type: "...)
		b = append(b, req.ContentType...)
		b = append(b, "\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, req.Body...)
	k.wbuf = b
	_ = k.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := k.c.Write(b); err != nil {
		return 0, nil, err
	}
	return k.read()
}

var errProto = errors.New("malformed HTTP answer")

func (k *conn) read() (int, []byte, error) {
	line, err := k.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("%w: %q", errProto, line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %q", errProto, line)
	}
	length, chunked, closing := -1, false, false
	for {
		line, err = k.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(value))
			if err != nil {
				return 0, nil, fmt.Errorf("%w: Content-Length %q", errProto, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	k.body = k.body[:0]
	switch {
	case chunked:
		for {
			line, err = k.br.ReadSlice('\n')
			if err != nil {
				return 0, nil, err
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("%w: chunk size %q", errProto, line)
			}
			if n == 0 {
				if _, err := k.br.ReadSlice('\n'); err != nil { // trailer end
					return 0, nil, err
				}
				break
			}
			if err := k.readN(int(n)); err != nil {
				return 0, nil, err
			}
			if _, err := k.br.Discard(2); err != nil {
				return 0, nil, err
			}
		}
	case length >= 0:
		if err := k.readN(length); err != nil {
			return 0, nil, err
		}
	default:
		return 0, nil, fmt.Errorf("%w: no length", errProto)
	}
	if closing {
		if err := k.redial(); err != nil {
			return 0, nil, err
		}
	}
	return status, k.body, nil
}

func (k *conn) readN(n int) error {
	start := len(k.body)
	k.body = slices.Grow(k.body, n)[:start+n]
	_, err := io.ReadFull(k.br, k.body[start:])
	return err
}
