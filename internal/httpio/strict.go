package httpio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
)

// DecodeJSON reads b into v strictly: a key v has no field for, a value of
// the wrong type or a value a field refuses (a duration it cannot read, say)
// is an invalid-input error naming the field by its path ("when.nps_max",
// "questions[2].type") and, for an unknown key, listing the accepted ones.
// Keys match field names as encoding/json matches them (case-insensitively);
// maps and free-form values (map[string]any) take any key.
func DecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	err := dec.Decode(v)
	if err == nil {
		return Strict(b, reflect.TypeOf(v))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// The path names the field; a value a nested type refuses is
		// found by the walk below, which gives the clearer message.
		if werr := Strict(b, reflect.TypeOf(v)); werr != nil && fault.FieldOf(werr) == te.Field {
			return werr
		}
		return fault.Field(te.Field, "%s must be a JSON %s, not %s", te.Field, kind(te.Type.Kind().String()), article(te.Value))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.EOF) {
		return fault.Field("body", "body is not valid JSON: %v", err)
	}
	if te != nil {
		return fault.Field("body", "body must be a JSON %s, not %s", kind(te.Type.Kind().String()), article(te.Value))
	}
	// The JSON is valid but a field's own reader refused its value: find which.
	if werr := Strict(b, reflect.TypeOf(v)); werr != nil {
		return werr
	}
	return fault.Field("body", "body is not valid JSON: %v", err)
}

// Strict checks the JSON document b against the Go type t (as DecodeJSON
// decodes it), returning the first unknown key or refused value as an
// invalid-input error naming its path. b must be valid JSON.
func Strict(b []byte, t reflect.Type) error {
	return walk(b, t, "")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func walk(raw json.RawMessage, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		u := reflect.New(t).Interface().(json.Unmarshaler)
		if err := u.UnmarshalJSON(raw); err != nil {
			if path == "" {
				path = "body"
			}
			var fe *fault.Error
			if errors.As(err, &fe) {
				return fault.Field(path, "%s", fe.Message)
			}
			return fault.Field(path, "%s: %s", path, strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not an object: the decoder reports the type
		}
		fields := fieldsOf(t)
		for _, key := range sortedKeys(obj) {
			f, ok := lookup(fields, key)
			if !ok {
				names := make([]string, len(fields))
				for i, f := range fields {
					names[i] = f.name
				}
				return fault.Field(join(path, key), "unknown field %q; accepted: %s", join(path, key), strings.Join(names, ", "))
			}
			if err := walk(obj[key], f.typ, join(path, f.name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return nil
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		for i, item := range list {
			if err := walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return nil
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for _, key := range sortedKeys(obj) {
			if err := walk(obj[key], t.Elem(), join(path, key)); err != nil {
				return err
			}
		}
	}
	return nil
}

type field struct {
	name string
	typ  reflect.Type
}

// fieldsOf lists the JSON fields of a struct type in declaration order,
// embedded structs' fields promoted as encoding/json promotes them.
func fieldsOf(t reflect.Type) []field {
	var out []field
	seen := map[string]bool{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					add(et)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, field{name, ft})
			}
		}
	}
	add(t)
	return out
}

func lookup(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return field{}, false
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// article puts "a" or "an" before a JSON kind ("a number", "an array").
func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
