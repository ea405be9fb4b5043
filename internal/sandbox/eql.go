package sandbox

import (
	"fmt"
	"strings"
)

// cond is one `$attr$ = 'value'` of an EQL filter.
type cond struct {
	attr  int    // index into the template's attributes
	value string // unquoted value
	lower string // strings.ToLower(value)
}

// parseEQL parses the EQL subset of SPEC §4.2:
//
//	filter := cond { AND cond }
//	cond   := '$' code '$' '=' quoted
//	quoted := "'" { any character but "'" | "''" } "'"
//
// AND is case-insensitive; blanks around tokens are free. Anything else
// is an error, so a value can never escape its quotes.
func parseEQL(t *template, filter string) ([]cond, error) {
	p := eqlParser{src: filter}
	var conds []cond
	for {
		c, err := p.cond(t)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
		p.blanks()
		if p.done() {
			return conds, nil
		}
		if !p.keyword("AND") {
			return nil, p.errorf("expected AND")
		}
	}
}

type eqlParser struct {
	src string
	pos int
}

func (p *eqlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid filter at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *eqlParser) done() bool { return p.pos >= len(p.src) }

func (p *eqlParser) blanks() {
	for !p.done() && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

// keyword consumes kw (case-insensitive) followed by a blank.
func (p *eqlParser) keyword(kw string) bool {
	end := p.pos + len(kw)
	if end >= len(p.src) || !strings.EqualFold(p.src[p.pos:end], kw) {
		return false
	}
	if strings.IndexByte(" \t\r\n", p.src[end]) < 0 {
		return false
	}
	p.pos = end
	return true
}

func (p *eqlParser) cond(t *template) (cond, error) {
	p.blanks()
	if p.done() || p.src[p.pos] != '$' {
		return cond{}, p.errorf("expected $attribute$")
	}
	end := strings.IndexByte(p.src[p.pos+1:], '$')
	if end < 0 {
		return cond{}, p.errorf("unterminated $attribute$")
	}
	code := p.src[p.pos+1 : p.pos+1+end]
	i, _, ok := t.attr(code)
	if !ok {
		return cond{}, p.errorf("unknown attribute %q of template %s", code, t.code)
	}
	p.pos += end + 2
	p.blanks()
	if p.done() || p.src[p.pos] != '=' {
		return cond{}, p.errorf("expected =")
	}
	p.pos++
	p.blanks()
	v, err := p.quoted()
	if err != nil {
		return cond{}, err
	}
	return cond{attr: i, value: v, lower: strings.ToLower(v)}, nil
}

func (p *eqlParser) quoted() (string, error) {
	if p.done() || p.src[p.pos] != '\'' {
		return "", p.errorf("expected a quoted value")
	}
	var b strings.Builder
	for i := p.pos + 1; i < len(p.src); i++ {
		if p.src[i] != '\'' {
			b.WriteByte(p.src[i])
			continue
		}
		if i+1 < len(p.src) && p.src[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		p.pos = i + 1
		return b.String(), nil
	}
	return "", p.errorf("unterminated quoted value")
}
