package redisstore

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
)

// Codec turns records into the bytes Redis keeps and back.
type Codec[T any] interface {
	Marshal(T) ([]byte, error)
	Unmarshal([]byte) (T, error)
}

// JSON is the default Codec: readable with redis-cli, and the fastest of
// those measured for the vendors' small records (docs/redis.md).
type JSON[T any] struct{}

// Marshal encodes v as JSON.
func (JSON[T]) Marshal(v T) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON into a fresh T.
func (JSON[T]) Unmarshal(b []byte) (T, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// jsonLossless reports where JSON would silently drop part of a T: an
// unexported field or one tagged `json:"-"` (the vendors' fixture types
// hide runtime counters that way). Types that marshal themselves count as
// lossless.
func jsonLossless(t reflect.Type) error {
	return walkJSON(t, t.String(), map[reflect.Type]bool{})
}

func walkJSON(t reflect.Type, path string, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	pt := reflect.PointerTo(t)
	if (t.Implements(jsonMarshaler) || pt.Implements(jsonMarshaler)) && pt.Implements(jsonUnmarshaler) ||
		(t.Implements(textMarshaler) || pt.Implements(textMarshaler)) && pt.Implements(textUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return walkJSON(t.Elem(), path, seen)
	case reflect.Map:
		return walkJSON(t.Elem(), path, seen)
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("%s: a %s does not survive JSON", path, t.Kind())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			p := path + "." + f.Name
			if f.Tag.Get("json") == "-" {
				return fmt.Errorf("%s is tagged json:\"-\"", p)
			}
			if !f.IsExported() && !f.Anonymous {
				return fmt.Errorf("%s is unexported", p)
			}
			if err := walkJSON(f.Type, p, seen); err != nil {
				return err
			}
		}
	}
	return nil
}
