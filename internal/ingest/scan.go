package ingest

import (
	"encoding/json"
	"errors"
)

// The ingestion path reads a request's JSON once with a small scanner of its
// own instead of encoding/json's reflection: it checks the text as strictly
// as json.Valid does and splits objects into their members, each member's
// value a slice of the request body (not a copy). Values are decoded later,
// only where a field is read. Whatever the scanner refuses is decoded again
// with encoding/json, so that a client sees the same error message as before.

// maxDepth is how deeply values may nest, as in encoding/json.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

// scanner walks JSON text from position i.
type scanner struct {
	b     []byte
	i     int
	depth int
	kv    []member // an object's members while members reads them
}

type member struct {
	key     []byte
	escaped bool
	value   []byte
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value checks the value at s.i (after optional white space) and moves past it.
func (s *scanner) value() error {
	s.space()
	if s.i >= len(s.b) {
		return errSyntax
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array(nil)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return errSyntax
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errSyntax
	}
	s.i += len(lit)
	return nil
}

// str moves past the string at s.i and reports whether it holds escapes.
func (s *scanner) str() (escaped bool, err error) {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return escaped, errSyntax
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if len(s.b)-s.i < 6 {
					return escaped, errSyntax
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return escaped, errSyntax
					}
				}
				s.i += 6
			default:
				return escaped, errSyntax
			}
		case c < 0x20:
			return escaped, errSyntax
		default:
			s.i++
		}
	}
	return escaped, errSyntax
}

// number moves past -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return errSyntax
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// object checks the object at s.i and moves past it, handing each member to
// member (when not nil): its key as written between the quotes, whether the
// key holds escapes, and its value's text.
func (s *scanner) object(member func(key []byte, escaped bool, value []byte)) error {
	if empty, err := s.enter('}'); empty || err != nil {
		return err
	}
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errSyntax
		}
		k := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.b[k+1 : s.i-1]
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.space()
		v := s.i
		if err := s.value(); err != nil {
			return err
		}
		if member != nil {
			member(key, escaped, s.b[v:s.i])
		}
		if end, err := s.after('}'); end || err != nil {
			return err
		}
	}
}

// enter moves past an opening bracket, one level deeper, and reports
// whether its closing bracket follows at once.
func (s *scanner) enter(closing byte) (empty bool, err error) {
	if s.depth++; s.depth > maxDepth {
		return false, errSyntax
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == closing {
		s.i++
		s.depth--
		return true, nil
	}
	return false, nil
}

// after moves past what follows a member or an element: a comma (end is
// false, another follows) or the closing bracket (end is true).
func (s *scanner) after(closing byte) (end bool, err error) {
	s.space()
	if s.i >= len(s.b) {
		return false, errSyntax
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return false, nil
	case closing:
		s.i++
		s.depth--
		return true, nil
	}
	return false, errSyntax
}

// array checks the array at s.i and moves past it, handing each element's
// text to element (when not nil).
func (s *scanner) array(element func(value []byte)) error {
	if empty, err := s.enter(']'); empty || err != nil {
		return err
	}
	for {
		s.space()
		v := s.i
		if err := s.value(); err != nil {
			return err
		}
		if element != nil {
			element(s.b[v:s.i])
		}
		if end, err := s.after(']'); end || err != nil {
			return err
		}
	}
}

// splitObject splits JSON text holding one object (and white space) into its
// members, as json.Unmarshal into a map[string]json.RawMessage does: a key
// given twice keeps its last value, and the text "null" gives a nil map. ok is
// false when the text is not valid JSON or holds something other than an
// object or null; the caller then decodes it with encoding/json for the error.
func splitObject(b []byte) (m map[string]json.RawMessage, ok bool) {
	s := scanner{b: b}
	s.space()
	if s.i < len(s.b) && s.b[s.i] == 'n' {
		if s.literal("null") != nil {
			return nil, false
		}
		s.space()
		return nil, s.i == len(s.b)
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	m, ok = s.members()
	s.space()
	return m, ok && s.i == len(s.b)
}

// members reads the object at s.i into a map made to its size (Go's maps
// of up to eight entries take one small allocation).
func (s *scanner) members() (map[string]json.RawMessage, bool) {
	s.kv = s.kv[:0]
	err := s.object(func(key []byte, escaped bool, value []byte) {
		s.kv = append(s.kv, member{key: key, escaped: escaped, value: value})
	})
	if err != nil {
		return nil, false
	}
	m := make(map[string]json.RawMessage, len(s.kv))
	for _, kv := range s.kv {
		k := string(kv.key)
		if kv.escaped {
			if json.Unmarshal(append(append([]byte{'"'}, kv.key...), '"'), &k) != nil {
				return nil, false
			}
		}
		m[k] = kv.value
	}
	return m, true
}

// splitObjects splits JSON text holding an array of objects into one map per
// element, as json.Unmarshal into a []map[string]json.RawMessage does (a null
// element gives a nil map). ok is false when the text is not valid JSON, not
// an array, or holds an element that is neither an object nor null.
func splitObjects(b []byte) (objects []map[string]json.RawMessage, ok bool) {
	s := scanner{b: b}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return nil, false
	}
	objects = []map[string]json.RawMessage{}
	bad := false
	var e scanner // one for every element, so that its member list is reused
	err := s.array(func(value []byte) {
		if bad {
			return
		}
		switch value[0] {
		case '{':
			e.b, e.i, e.depth = value, 0, 0
			m, ok := e.members()
			if !ok {
				bad = true
			}
			objects = append(objects, m)
		case 'n':
			objects = append(objects, nil)
		default:
			bad = true
		}
	})
	s.space()
	if err != nil || bad || s.i != len(s.b) {
		return nil, false
	}
	return objects, true
}
