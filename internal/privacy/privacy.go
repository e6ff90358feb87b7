// Package privacy erases and exports everything cxloop holds on one
// customer (docs/privacy.md), and keeps the list of suppressed identities
// that ingestion refuses.
//
// Each capability package declares the tables it owns that hold customer
// data, as Tables with a predicate naming the customer; this package runs
// those predicates for an erasure (DELETE) or an export (SELECT). It imports
// only the store, so every owner can import it.
package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/store"
)

// Subject is one customer as erasure and export see them: every profile id
// (the customer's and the ones merged into it) and every identity value.
type Subject struct {
	Customers    []string `json:"customers"`
	UserIDs      []string `json:"userIds"`
	AnonymousIDs []string `json:"anonymousIds"`
	Emails       []string `json:"emails"`
	Phones       []string `json:"phones"`
	// Contacts are the email addresses and phone numbers in the customer's
	// traits as they were sent ("Zelda@Example.org", "+44 7700 900123"),
	// beside their normal forms above: they find mentions in bodies.
	Contacts []string `json:"-"`
}

// Keys are the short identity keys projections store ("u:" userId, "a:"
// anonymousId).
func (s Subject) Keys() []string {
	var out []string
	for _, u := range s.UserIDs {
		out = append(out, "u:"+u)
	}
	for _, a := range s.AnonymousIDs {
		out = append(out, "a:"+a)
	}
	return out
}

// Values are every raw identity value: userIds, anonymousIds, emails,
// phones.
func (s Subject) Values() []string {
	return uniq(slices.Concat(s.UserIDs, s.AnonymousIDs, s.Emails, s.Phones))
}

// Mentions are the values that name the customer wherever they appear
// whole: identity values, contacts as sent, profile ids. Names are not
// among them (many people share one), nor values under four characters.
func (s Subject) Mentions() []string {
	var out []string
	for _, v := range slices.Concat(s.Values(), s.Contacts, s.Customers) {
		if len([]rune(v)) >= 4 {
			out = append(out, v)
		}
	}
	return uniq(out)
}

// TextMentions are the mentions distinctive enough to find inside free
// text (a mail's body): emails, phones and profile ids, not userIds or
// anonymousIds, which may be short words or numbers.
func (s Subject) TextMentions() []string {
	var out []string
	for _, v := range slices.Concat(s.Emails, s.Phones, s.Contacts, s.Customers) {
		if len([]rune(v)) >= 6 {
			out = append(out, v)
		}
	}
	return uniq(out)
}

// Empty reports whether the subject names nobody.
func (s Subject) Empty() bool { return len(s.Customers) == 0 && len(s.Values()) == 0 }

func uniq(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Table is one owned table holding customer data and how to find the
// customer's rows in it. Where is SQL with these markers, each replaced by
// a list of bound values (or a condition):
//
//	{customers} profile ids        {users}  userIds      {anons} anonymousIds
//	{emails}    emails             {values} every identity value
//	{keys}      identity keys ("u:…", "a:…")
//	{mentions COLUMN}  COLUMN, JSON, holds a string value that is exactly a
//	                   mention (Subject.Mentions), in any case
//	{text COLUMN}      COLUMN, text, contains an email, phone or profile id
//	                   of the customer (Subject.TextMentions)
//
// Erasure deletes the matching rows in the order the tables are given, so a
// table whose predicate reads another (notes of the customer's cases) comes
// before it. Scrub, when set, is an UPDATE … SET clause run instead of the
// DELETE: the row is kept (it is someone else's) without the customer in it.
type Table struct {
	Name  string
	Where string
	Scrub string
}

var marker = regexp.MustCompile(`\{(customers|users|anons|emails|values|keys|mentions [a-z_]+|text [a-z_]+)\}`)

// where expands t's markers for s, with bound values numbered after the
// ones already in args.
func (t Table) where(s Subject, args []any) (string, []any) {
	list := func(vs []string) string {
		if len(vs) == 0 {
			return "NULL"
		}
		ps := make([]string, len(vs))
		for i, v := range vs {
			args = append(args, v)
			ps[i] = fmt.Sprintf("$%d", len(args))
		}
		return strings.Join(ps, ", ")
	}
	out := marker.ReplaceAllStringFunc(t.Where, func(m string) string {
		m = strings.Trim(m, "{}")
		switch m {
		case "customers":
			return list(s.Customers)
		case "users":
			return list(s.UserIDs)
		case "anons":
			return list(s.AnonymousIDs)
		case "emails":
			return list(s.Emails)
		case "values":
			return list(s.Values())
		case "keys":
			return list(s.Keys())
		}
		kind, col, _ := strings.Cut(m, " ")
		ms, quote := s.Mentions(), `"`
		if kind == "text" {
			ms, quote = s.TextMentions(), ""
		}
		if len(ms) == 0 {
			return "1 = 0"
		}
		ors := make([]string, len(ms))
		for i, v := range ms {
			args = append(args, "%"+quote+store.EscapeLike(strings.ToLower(v))+quote+"%")
			ors[i] = fmt.Sprintf("LOWER(%s) LIKE $%d ESCAPE '\\'", col, len(args))
		}
		return "(" + strings.Join(ors, " OR ") + ")"
	})
	return out, args
}

// EraseTables deletes (or scrubs) the subject's rows from each table, in
// order, inside tx, and returns how many rows each table lost.
func EraseTables(ctx context.Context, tx *store.Tx, s Subject, tables []Table) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, t := range tables {
		where, args := t.where(s, nil)
		q := `DELETE FROM ` + t.Name + ` WHERE ` + where
		if t.Scrub != "" {
			q = `UPDATE ` + t.Name + ` SET ` + t.Scrub + ` WHERE ` + where
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("erase from %s: %w", t.Name, err)
		}
		n, _ := res.RowsAffected()
		counts[t.Name] += n
	}
	return counts, nil
}

// Querier reads rows; *store.DB and *store.Tx satisfy it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ExportTables returns the subject's rows of each table, as column → value
// maps. Text columns holding JSON stay text.
func ExportTables(ctx context.Context, q Querier, s Subject, tables []Table) (map[string][]map[string]any, error) {
	out := map[string][]map[string]any{}
	for _, t := range tables {
		if t.Scrub != "" {
			continue // someone else's row that mentions the customer
		}
		where, args := t.where(s, nil)
		rows, err := q.QueryContext(ctx, `SELECT * FROM `+t.Name+` WHERE `+where, args...)
		if err != nil {
			return nil, fmt.Errorf("export from %s: %w", t.Name, err)
		}
		list, err := scanMaps(rows)
		if err != nil {
			return nil, fmt.Errorf("export from %s: %w", t.Name, err)
		}
		out[t.Name] = list
	}
	return out, nil
}

func scanMaps(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// Hash is how a suppressed identity is kept: never in clear, an HMAC with
// the installation's key, so nobody without it can test an email against
// the list.
func Hash(key []byte, kind, value string) string {
	m := hmac.New(sha256.New, append([]byte("cxloop-suppression\x00"), key...))
	m.Write([]byte(kind + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil))
}
