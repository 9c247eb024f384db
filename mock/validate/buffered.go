package validate

import (
	"io"
	"net/http"
)

// Buffered is a request body already read into memory: the server reads
// each body once, and validation takes Bytes instead of reading a copy.
// Reading it yields Bytes, then Err (a body over the limit) or io.EOF,
// as the original stream would have.
type Buffered struct {
	Bytes []byte
	Err   error
	off   int
}

func (b *Buffered) Read(p []byte) (int, error) {
	if b.off >= len(b.Bytes) {
		if b.Err != nil {
			return 0, b.Err
		}
		return 0, io.EOF
	}
	n := copy(p, b.Bytes[b.off:])
	b.off += n
	return n, nil
}

// Close does nothing: the stream behind the bytes was closed when read.
func (b *Buffered) Close() error { return nil }

// ReadBody reads r's body once, up to limit bytes, into a Buffered that
// replaces it and that GetBody re-opens, so every later reader (validation,
// the generated binder, Body) sees the same bytes. w is the response, which
// a body over the limit closes after the answer, as http.MaxBytesReader does.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) *Buffered {
	b, err := readAll(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	_ = r.Body.Close()
	buf := &Buffered{Bytes: b, Err: err}
	r.Body = buf
	if err == nil {
		r.GetBody = func() (io.ReadCloser, error) { return &Buffered{Bytes: b}, nil }
	}
	return buf
}

// readAll is io.ReadAll sized by the declared length, so a body with a
// Content-Length is read into one allocation.
func readAll(r io.Reader, n int64) ([]byte, error) {
	if n <= 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, n+1) // +1: the read that sees EOF needs no growth
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}
