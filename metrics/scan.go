package metrics

// eventOf returns the raw contents of the string member key of the JSON
// object data, at its top level, without decoding it: a name with escapes
// is reported as not found (it counts as "other"). It reads the whole
// object, never allocates, and gives up at the first malformed byte.
func eventOf(data []byte, key string) ([]byte, bool) {
	var (
		found []byte
		ok    bool
	)
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(data, i)
		if i < len(data) && data[i] == '}' {
			return found, ok // {} or a trailing comma, which is not JSON anyway
		}
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		k, escaped, next := str(data, i)
		if next < 0 {
			return nil, false
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		if !escaped && string(k) == key {
			// A repeated member counts with its last value, as in
			// encoding/json and the event dispatcher.
			found, ok = nil, false
			if i < len(data) && data[i] == '"' {
				if v, esc, _ := str(data, i); !esc {
					found, ok = v, true
				}
			}
		}
		if i = skipValue(data, i); i < 0 {
			return nil, false
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == '}' {
			return found, ok
		}
		if i >= len(data) || data[i] != ',' {
			return nil, false
		}
		i++
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// str reads the string starting at data[i] == '"': its contents, whether
// they hold escapes, and the index after its closing quote (-1 if none).
func str(data []byte, i int) ([]byte, bool, int) {
	escaped := false
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return data[i+1 : j], escaped, j + 1
		}
	}
	return nil, false, -1
}

// skipValue returns the index after the JSON value at data[i], or -1.
// Values are skipped, not validated: brackets are balanced outside
// strings.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch data[i] {
		case '"':
			_, _, next := str(data, i)
			if next < 0 {
				return -1
			}
			i = next
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}
