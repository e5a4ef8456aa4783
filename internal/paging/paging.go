// Package paging is the one way lists are cut into pages: a page number from
// the URL, a fixed size, and one extra row fetched to know whether a next
// page exists (no COUNT over the whole table).
package paging

import "strconv"

// DefaultSize is the page size of Mend's lists.
const DefaultSize = 25

// Request is which page to fetch.
type Request struct {
	Number int // 1-based
	Size   int
}

// MaxNumber is the highest page number Mend serves: far beyond any list,
// and small enough that the SQL OFFSET cannot overflow.
const MaxNumber = 100000

// Parse reads a page number as typed in a URL; anything unusable is page 1.
func Parse(s string) Request {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxNumber {
		n = 1
	}
	return Request{Number: n, Size: DefaultSize}
}

// Valid reports whether s is a page number Mend serves ("" means page 1).
// The web layer refuses any other value before a handler runs.
func Valid(s string) bool {
	if s == "" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= MaxNumber
}

// First is page 1 of the default size.
func First() Request { return Request{Number: 1, Size: DefaultSize} }

func (r Request) norm() Request {
	if r.Number < 1 {
		r.Number = 1
	}
	if r.Size < 1 {
		r.Size = DefaultSize
	}
	return r
}

// Limit is the SQL LIMIT: one more row than the page shows.
func (r Request) Limit() int { return r.norm().Size + 1 }

// Offset is the SQL OFFSET.
func (r Request) Offset() int {
	r = r.norm()
	return (r.Number - 1) * r.Size
}

// Page is one page of a list.
type Page[T any] struct {
	Items   []T
	Number  int
	HasNext bool
}

// Of cuts the rows fetched with r.Limit() into a page.
func Of[T any](r Request, rows []T) Page[T] {
	r = r.norm()
	p := Page[T]{Number: r.Number}
	if len(rows) > r.Size {
		rows = rows[:r.Size]
		p.HasNext = true
	}
	p.Items = rows
	return p
}

// HasPrev reports whether an earlier page exists.
func (p Page[T]) HasPrev() bool { return p.Number > 1 }

// Prev and Next are the neighbouring page numbers.
func (p Page[T]) Prev() int { return p.Number - 1 }

// Next is the following page number.
func (p Page[T]) Next() int { return p.Number + 1 }
