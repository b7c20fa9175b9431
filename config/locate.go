package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// The TOML decoder keeps key positions to itself, and its key paths have no
// array index ("merchant.sftp.host" for every [[merchant]]). keyLines reads
// the file once more, line by line, to give each key its indexed path
// ("merchant[1].sftp.host") and line, so problems can point at the line to
// fix. It understands what a configuration file uses (tables, arrays of
// tables, dotted keys, multi-line arrays and strings); for anything it does
// not follow, a problem simply has no line.
type keyLines struct {
	entries []keyEntry
	used    []bool
}

type keyEntry struct {
	plain   string // "merchant.sftp.host"
	indexed string // "merchant[1].sftp.host"
	line    int
}

func locateKeys(data []byte) *keyLines {
	kl := &keyLines{}
	counts := make(map[string]int) // array-of-tables plain path → elements so far
	table := ""                    // indexed path of the current table
	tablePlain := ""
	var closer string // while inside a multi-line value: what ends it
	depth := 0        // open brackets of a multi-line array
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if closer != "" {
			if strings.Contains(line, closer) {
				closer = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(line)
			continue
		}
		t := strings.TrimSpace(stripComment(line))
		switch {
		case t == "":
		case strings.HasPrefix(t, "[["):
			plain := keyPath(strings.TrimSuffix(strings.TrimPrefix(t, "[["), "]]"))
			counts[plain]++
			table = index(plain, counts) // counts now includes this element
			tablePlain = plain
			kl.add(plain, table, n)
		case strings.HasPrefix(t, "["):
			plain := keyPath(strings.TrimSuffix(strings.TrimPrefix(t, "["), "]"))
			table = index(plain, counts)
			tablePlain = plain
			kl.add(plain, table, n)
		default:
			eq := strings.Index(t, "=")
			if eq < 0 {
				continue
			}
			k := keyPath(t[:eq])
			plain, indexed := k, k
			if table != "" {
				plain, indexed = tablePlain+"."+k, table+"."+k
			}
			kl.add(plain, indexed, n)
			v := strings.TrimSpace(t[eq+1:])
			switch {
			case strings.HasPrefix(v, `"""`) && !strings.Contains(v[3:], `"""`):
				closer = `"""`
			case strings.HasPrefix(v, `'''`) && !strings.Contains(v[3:], `'''`):
				closer = `'''`
			case strings.HasPrefix(v, "["):
				depth = bracketDelta(v)
			case strings.HasPrefix(v, "{"):
				kl.addInline(plain, indexed, v, n)
			}
		}
	}
	kl.used = make([]bool, len(kl.entries))
	return kl
}

func (kl *keyLines) add(plain, indexed string, line int) {
	kl.entries = append(kl.entries, keyEntry{plain, indexed, line})
}

// addInline records the keys of a one-line inline table "{ a = 1, b = { c = 2 } }".
func (kl *keyLines) addInline(plain, indexed, v string, line int) {
	v = strings.TrimSpace(stripComment(v))
	v = strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}")
	for _, kv := range splitTop(v) {
		eq := strings.Index(kv, "=")
		if eq < 0 {
			continue
		}
		k := keyPath(kv[:eq])
		kl.add(plain+"."+k, indexed+"."+k, line)
		if iv := strings.TrimSpace(kv[eq+1:]); strings.HasPrefix(iv, "{") {
			kl.addInline(plain+"."+k, indexed+"."+k, iv, line)
		}
	}
}

// splitTop splits s at commas outside quotes, brackets and braces.
func splitTop(s string) []string {
	var parts []string
	var q byte
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// undecoded names a key the decoder did not use. The decoder lists them in
// file order, so each one takes the first entry with its plain path not
// yet taken.
func (kl *keyLines) undecoded(k toml.Key) (string, int) {
	plain := k.String()
	for i, e := range kl.entries {
		if !kl.used[i] && e.plain == plain {
			kl.used[i] = true
			return e.indexed, e.line
		}
	}
	return plain, 0
}

// line is the line of key, or of the nearest enclosing table written in the
// file (a missing key is reported at its table), or 0.
func (kl *keyLines) line(key string) int {
	for k := key; k != ""; {
		for _, e := range kl.entries {
			if e.indexed == k {
				return e.line
			}
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// index turns a plain table path into an indexed one, using the latest
// element of every array of tables along it.
func index(plain string, counts map[string]int) string {
	var b strings.Builder
	parts := strings.Split(plain, ".")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(p)
		if c := counts[strings.Join(parts[:i+1], ".")]; c > 0 {
			fmt.Fprintf(&b, "[%d]", c-1)
		}
	}
	return b.String()
}

// keyPath normalises a written key ("sftp . host", `"id"`) to "sftp.host".
func keyPath(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// stripComment drops a # comment that is outside quotes.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

// bracketDelta counts [ minus ] outside quotes and comments.
func bracketDelta(s string) int {
	s = stripComment(s)
	d := 0
	var q byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '[':
			d++
		case c == ']':
			d--
		}
	}
	return d
}
