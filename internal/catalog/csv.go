package catalog

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
)

// Import saves the products of a CSV file whose header names an id (or
// product_id) column and any of sku, name, category, brand, price,
// image_url, url, replenishable (true/false, yes/no, 1/0), pack_size and
// usage_days. An empty cell leaves the field as it was; each refused row
// names its line and field, and the others are saved.
func (s *Service) Import(ctx context.Context, r io.Reader) (csvimport.Result, error) {
	idCol := "id"
	return csvimport.Read(r, func(cols []string) error {
		for _, c := range cols {
			if c == "product_id" {
				idCol = c
			}
			if c == "id" {
				idCol = c
				return nil
			}
		}
		if idCol == "product_id" {
			return nil
		}
		return fault.Field("id", "the header has no id (or product_id) column")
	}, func(row csvimport.Row) error {
		in := Input{ID: row.Get(idCol)}
		text := func(name string) *string {
			if v := row.Get(name); v != "" {
				return &v
			}
			return nil
		}
		in.SKU, in.Name, in.Category, in.Brand, in.ImageURL, in.URL = text("sku"), text("name"), text("category"), text("brand"), text("image_url"), text("url")
		for _, f := range []struct {
			name string
			to   **float64
		}{{"price", &in.Price}, {"usage_days", &in.UsageDays}} {
			if v := row.Get(f.name); v != "" {
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return fault.Field(f.name, "%s is a number, not %q", f.name, v)
				}
				*f.to = &x
			}
		}
		if v := row.Get("pack_size"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fault.Field("pack_size", "pack_size is a whole number, not %q", v)
			}
			in.PackSize = &n
		}
		if v := row.Get("replenishable"); v != "" {
			var b bool
			switch strings.ToLower(v) {
			case "true", "yes", "1", "y":
				b = true
			case "false", "no", "0", "n":
			default:
				return fault.Field("replenishable", "replenishable is true or false, not %q", v)
			}
			in.Replenishable = &b
		}
		_, err := s.Save(ctx, in)
		return err
	})
}
