package web

import (
	"fmt"
	"strconv"
	"strings"
)

// pathTo is the one way a path inside Mend is built: its segments joined
// with slashes, strings as they are and ids in decimal. pathTo("pairs", 12,
// "homework") is "/pairs/12/homework". Templates call it as {{path …}}.
func pathTo(segments ...any) string {
	var b strings.Builder
	for _, seg := range segments {
		b.WriteByte('/')
		switch v := seg.(type) {
		case string:
			b.WriteString(v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	return b.String()
}
