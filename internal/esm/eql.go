package esm

import (
	"fmt"
	"regexp"
	"strings"
)

// codePattern is what this client accepts as an attribute code: enough for
// Efecte's codes, and nothing that could end a $…$ token in EQL or a
// selectedAttributes list.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// ValidCode reports whether code can be used as an attribute code.
func ValidCode(code string) error {
	if !codePattern.MatchString(code) {
		return fmt.Errorf("invalid attribute code %q: want letters, digits and _", code)
	}
	return nil
}

// Quote returns s as an EQL string literal: in single quotes, with every
// single quote inside doubled. Whatever s holds ($, AND/OR, line breaks)
// stays data.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Eq returns the EQL condition $attr$ = 'value'. Static menu attributes
// compare by display value. It fails when attr is not a valid code, so that
// neither argument can change the meaning of the query.
func Eq(attr, value string) (string, error) {
	if err := ValidCode(attr); err != nil {
		return "", err
	}
	return "$" + attr + "$ = " + Quote(value), nil
}

// And joins conditions made by Eq with AND. Empty conditions are left out.
func And(conds ...string) string {
	kept := make([]string, 0, len(conds))
	for _, c := range conds {
		if c != "" {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, " AND ")
}
