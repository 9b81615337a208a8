package router

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/forgekit/forge/apidoc"
)

// parsedPath is a route path in the three forms the router needs.
type parsedPath struct {
	pattern  string         // chi routing pattern: ":name" rewritten to "{name}", regexps kept
	template string         // document form: "{name}" without regexps
	key      string         // conflict key: parameter names blanked out
	params   []apidoc.Param // in path order
}

// parsePath validates a route path and rewrites it for chi. A segment
// ":name" becomes "{name}"; chi's "{name}", "{name:regexp}" and a final "*"
// are kept. The error text is used in registration panics.
func parsePath(path string) (parsedPath, error) {
	if path == "" || path[0] != '/' {
		return parsedPath{}, fmt.Errorf("path %q must begin with '/'", path)
	}
	var pat, tpl, key strings.Builder
	var p parsedPath
	addParam := func(name, rx string) error {
		for _, q := range p.params {
			if q.Name == name {
				return fmt.Errorf("path %q repeats parameter %q", path, name)
			}
		}
		p.params = append(p.params, apidoc.Param{Name: name, Pattern: rx})
		return nil
	}
	for i := 0; i < len(path); {
		c := path[i]
		switch {
		case c == ':' && path[i-1] == '/':
			end := strings.IndexByte(path[i:], '/')
			if end < 0 {
				end = len(path) - i
			}
			name := path[i+1 : i+end]
			if err := checkParamName(path, name); err != nil {
				return parsedPath{}, err
			}
			if err := addParam(name, ""); err != nil {
				return parsedPath{}, err
			}
			pat.WriteString("{" + name + "}")
			tpl.WriteString("{" + name + "}")
			key.WriteString("{}")
			i += end
		case c == '{':
			// Find the matching brace; a regexp may contain braces itself.
			depth, end := 0, -1
			for j := i; j < len(path) && end < 0; j++ {
				switch path[j] {
				case '{':
					depth++
				case '}':
					depth--
					if depth == 0 {
						end = j
					}
				}
			}
			if end < 0 {
				return parsedPath{}, fmt.Errorf("path %q: parameter has no closing '}'", path)
			}
			name, rx, hasRx := strings.Cut(path[i+1:end], ":")
			if err := checkParamName(path, name); err != nil {
				return parsedPath{}, err
			}
			if hasRx {
				if rx == "" {
					return parsedPath{}, fmt.Errorf("path %q: parameter %q has an empty regexp", path, name)
				}
				if _, err := regexp.Compile(rx); err != nil {
					return parsedPath{}, fmt.Errorf("path %q: parameter %q: %w", path, name, err)
				}
			}
			if err := addParam(name, rx); err != nil {
				return parsedPath{}, err
			}
			pat.WriteString(path[i : end+1])
			tpl.WriteString("{" + name + "}")
			if hasRx {
				key.WriteString("{:" + rx + "}")
			} else {
				key.WriteString("{}")
			}
			i = end + 1
		case c == '}':
			return parsedPath{}, fmt.Errorf("path %q: unexpected '}'", path)
		case c == '*':
			if i != len(path)-1 {
				return parsedPath{}, fmt.Errorf("path %q: '*' must be the last character", path)
			}
			if err := addParam("*", ""); err != nil {
				return parsedPath{}, err
			}
			pat.WriteByte(c)
			tpl.WriteByte(c)
			key.WriteByte(c)
			i++
		default:
			pat.WriteByte(c)
			tpl.WriteByte(c)
			key.WriteByte(c)
			i++
		}
	}
	p.pattern, p.template, p.key = pat.String(), tpl.String(), key.String()
	return p, nil
}

func checkParamName(path, name string) error {
	if name == "" {
		return fmt.Errorf("path %q has a parameter with an empty name", path)
	}
	if strings.ContainsAny(name, "{}:*/") {
		return fmt.Errorf("path %q: invalid parameter name %q", path, name)
	}
	return nil
}

// cleanPrefix validates a group prefix and normalizes it: "" and "/" mean
// no prefix, and a trailing slash is dropped.
func cleanPrefix(prefix string) (string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return "", nil
	}
	if strings.Contains(prefix, "*") {
		return "", fmt.Errorf("group prefix %q must not contain '*'", prefix)
	}
	if _, err := parsePath(prefix); err != nil {
		return "", fmt.Errorf("group prefix: %w", err)
	}
	return prefix, nil
}

// joinPath joins a cleaned group prefix and a route path. A path of "/"
// names the prefix itself, so Group("/users").GET("/", h) serves "/users".
func joinPath(prefix, path string) string {
	if prefix == "" {
		return path
	}
	if path == "/" {
		return prefix
	}
	return prefix + path
}
