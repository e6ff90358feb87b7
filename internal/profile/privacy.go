package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/privacy"
)

// PrivacyTables are the profile tables holding a customer's data, for
// erasure and export (docs/privacy.md).
var PrivacyTables = []privacy.Table{
	{Name: "account_members", Where: "customer_id IN ({customers})"},
	{Name: "customer_channels", Where: "customer_id IN ({customers})"},
	{Name: "customer_merges", Where: "from_id IN ({customers}) OR into_id IN ({customers})"},
	{Name: "identities", Where: "customer_id IN ({customers}) OR value IN ({values})"},
	{Name: "customers", Where: "id IN ({customers})"},
}

// Subject gathers the customer ref names for erasure or export: their
// profile id, the ids of profiles merged into it, every identity of them
// all, and the email and phone in their traits as sent (to find mentions).
func (s *Service) Subject(ctx context.Context, ref string) (privacy.Subject, error) {
	id, err := s.Resolve(ctx, ref)
	if err != nil {
		return privacy.Subject{}, err
	}
	sub := privacy.Subject{Customers: []string{id}}
	for i := 0; i < len(sub.Customers); i++ {
		err := s.db.Each(ctx, `SELECT id FROM customers WHERE merged_into = $1 ORDER BY id`, []any{sub.Customers[i]}, func(r *sql.Rows) error {
			var from string
			if err := r.Scan(&from); err != nil {
				return err
			}
			if !slices.Contains(sub.Customers, from) {
				sub.Customers = append(sub.Customers, from)
			}
			return nil
		})
		if err != nil {
			return privacy.Subject{}, err
		}
	}
	err = s.db.EachIn(ctx, `SELECT kind, value FROM identities WHERE customer_id IN `, nil, anys(sub.Customers), func(r *sql.Rows) error {
		var kind, value string
		if err := r.Scan(&kind, &value); err != nil {
			return err
		}
		switch kind {
		case KindUserID:
			sub.UserIDs = append(sub.UserIDs, value)
		case KindAnonymousID:
			sub.AnonymousIDs = append(sub.AnonymousIDs, value)
		case KindEmail:
			sub.Emails = append(sub.Emails, value)
		case KindPhone:
			sub.Phones = append(sub.Phones, value)
		}
		return nil
	})
	if err != nil {
		return privacy.Subject{}, err
	}
	err = s.db.EachIn(ctx, `SELECT traits FROM customers WHERE id IN `, nil, anys(sub.Customers), func(r *sql.Rows) error {
		var raw string
		if err := r.Scan(&raw); err != nil {
			return err
		}
		var t map[string]any
		if json.Unmarshal([]byte(raw), &t) != nil {
			return nil
		}
		for _, k := range []string{"email", "phone"} {
			if v, ok := t[k].(string); ok && strings.TrimSpace(v) != "" {
				sub.Contacts = append(sub.Contacts, strings.TrimSpace(v))
			}
		}
		return nil
	})
	return sub, err
}

func anys(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// NormalizeIdentity is the form profiles keep an identity of the kind in
// (user_id, anonymous_id, email, phone); suppression compares that form.
func NormalizeIdentity(kind, value string) string {
	switch kind {
	case KindEmail:
		return NormalizeEmail(value)
	case KindPhone:
		return NormalizePhone(value)
	}
	return value
}
