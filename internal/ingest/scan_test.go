package ingest

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

var scanSeeds = []string{
	`{"a":1,"b":"x","c":null,"d":[1,{"e":[]}],"f":true,"g":false}`,
	`  {"a" : -0.5e+10 , "b" : "\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00" }  `,
	`{"\u0074ype":"track","type":"identify"}`, `{"a":1,"a":2}`, `null`, ` null `, `{}`, `[]`, `[{}]`,
	`[{"a":1},null,{"b":[2]}]`, `[{"a":1},2]`, `[1]`, `"x"`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`,
	`{"a":1e}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":tru}`,
	`{"a":nul}`, `{"a":[1,]}`, `{"a":1}x`, `{"a":1} {}`, `{`, `[`, `{"a":"`, ``, ` `, `{"a":[[[[[]]]]]}`,
	`{"a":"\ud800"}`, `{"\ud800":1}`, `{"a":1E5,"b":-0,"c":0.0e-0}`,
}

// FuzzSplitObject checks the ingestion scanner against encoding/json on
// any UTF-8 text (request bodies are checked to be UTF-8 before): it accepts
// exactly what json.Unmarshal into a map of raw messages accepts, with the
// same members and values.
func FuzzSplitObject(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return
		}
		var want map[string]json.RawMessage
		werr := json.Unmarshal(data, &want)
		got, ok := splitObject(data)
		if ok != (werr == nil) {
			t.Fatalf("%q: scanner ok=%t, encoding/json error %v", data, ok, werr)
		}
		if ok {
			sameMembers(t, data, got, want)
		}
		if json.Valid(data) != validText(data) {
			t.Fatalf("%q: scanner validity differs from json.Valid", data)
		}

		var wantAll []map[string]json.RawMessage
		werr = json.Unmarshal(data, &wantAll)
		gotAll, ok := splitObjects(data)
		if wantAll == nil && werr == nil {
			// "null" decodes to a nil slice; the batch handler refuses both.
			return
		}
		if ok != (werr == nil) {
			t.Fatalf("%q: array scanner ok=%t, encoding/json error %v", data, ok, werr)
		}
		if ok {
			if len(gotAll) != len(wantAll) {
				t.Fatalf("%q: %d objects, encoding/json %d", data, len(gotAll), len(wantAll))
			}
			for i := range gotAll {
				sameMembers(t, data, gotAll[i], wantAll[i])
			}
		}
	})
}

// validText says whether the scanner takes data as one JSON value.
func validText(data []byte) bool {
	s := scanner{b: data}
	if s.value() != nil {
		return false
	}
	s.space()
	return s.i == len(data)
}

func sameMembers(t *testing.T, data []byte, got, want map[string]json.RawMessage) {
	t.Helper()
	if (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("%q: members %v, encoding/json %v", data, got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Fatalf("%q: member %q is %q, encoding/json %q", data, k, g, v)
		}
	}
}

func TestSplitObjectSeeds(t *testing.T) {
	for _, s := range scanSeeds {
		var want map[string]json.RawMessage
		werr := json.Unmarshal([]byte(s), &want)
		got, ok := splitObject([]byte(s))
		if ok != (werr == nil) {
			t.Errorf("%q: scanner ok=%t, encoding/json error %v", s, ok, werr)
			continue
		}
		if ok {
			sameMembers(t, []byte(s), got, want)
		}
	}
	m, ok := splitObject([]byte(`{"\u0074ype":"track","a":1,"a":2}`))
	if !ok || string(m["type"]) != `"track"` || string(m["a"]) != "2" {
		t.Fatalf("escaped key or repeated key: %v %t", m, ok)
	}
	deep := bytes.Repeat([]byte("["), maxDepth+1)
	if _, ok := splitObject(append(append([]byte(`{"a":`), deep...), bytes.Repeat([]byte("]"), maxDepth+1)...)); ok {
		t.Fatal("nesting deeper than encoding/json allows was accepted")
	}
}
