package aggregate

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// logTimeLayout is the timestamp that starts every chat-log entry.
const logTimeLayout = "2006-01-02 15:04:05"

// continuation starts the second and later lines of a multi-line message.
// No entry starts with a space, so no text can forge an entry.
const continuation = "  "

// Role is how a sender is labelled in the chat log.
func (t SenderType) Role() string {
	switch t {
	case SenderVisitor:
		return "customer"
	case SenderAgent:
		return "agent"
	case SenderBot:
		return "bot"
	default:
		return "system"
	}
}

// RenderChatLog renders messages, already in seq order, as SPEC §5's chat
// log: one entry per message, times in loc. With maxChars > 0 it keeps the
// leading entries that fit, together with a final "[… N more messages]"
// line, within maxChars characters.
func RenderChatLog(msgs []Message, loc *time.Location, maxChars int) string {
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	used := 0 // characters in b
	for i, m := range msgs {
		entry := renderEntry(m, loc)
		if maxChars > 0 {
			sep := 0
			if i > 0 {
				sep = 1
			}
			n := utf8.RuneCountInString(entry)
			rest := len(msgs) - i - 1
			// The entry fits if it and, when messages remain after it, the
			// marker for them fit too.
			need := used + sep + n
			if rest > 0 {
				need += 1 + utf8.RuneCountInString(moreMarker(rest))
			}
			if need > maxChars {
				return appendMarker(&b, len(msgs)-i)
			}
			used += sep + n
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(entry)
	}
	return b.String()
}

// moreMarker is the last line of a cut log. SPEC §5 spells it with
// "messages" whatever N is, and so does this, for anyone parsing it.
func moreMarker(n int) string { return fmt.Sprintf("[… %d more messages]", n) }

func appendMarker(b *strings.Builder, n int) string {
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(moreMarker(n))
	return b.String()
}

// renderEntry renders one message; it contains a '\n' only where the text
// has a line break, and each one is followed by the continuation indent.
func renderEntry(m Message, loc *time.Location) string {
	role := m.Sender.Type.Role()
	name := singleLine(m.Sender.Name)
	if name == "" {
		name = role
	}
	var b strings.Builder
	b.WriteString(m.SentAt.In(loc).Format(logTimeLayout))
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(" (")
	b.WriteString(role)
	b.WriteString("): ")
	for i, line := range splitLines(m.Text) {
		if i > 0 {
			b.WriteByte('\n')
			b.WriteString(continuation)
		}
		b.WriteString(line)
	}
	return b.String()
}

// splitLines splits text at every kind of line break (\n, \r\n, \r and the
// Unicode separators a viewer may break at) and cleans each line.
func splitLines(text string) []string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var lines []string
	start := 0
	for i, r := range text {
		if isLineBreak(r) {
			lines = append(lines, cleanLine(text[start:i]))
			start = i + utf8.RuneLen(r)
		}
	}
	return append(lines, cleanLine(text[start:]))
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// cleanLine drops control and format characters other than tab, so that no
// terminal escape or invisible character reaches the card.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
}

// singleLine cleans a name: line breaks become spaces, so that a name can
// never start a new log line either.
func singleLine(s string) string {
	return strings.TrimSpace(strings.Join(splitLines(s), " "))
}
