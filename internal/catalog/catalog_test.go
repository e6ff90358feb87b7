package catalog_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

var fixed = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type product struct {
	ID                string
	SKU               string
	Name              string
	Category          string
	Brand             string
	Price             *float64
	ImageURL          string `json:"image_url"`
	URL               string
	Replenishable     bool
	ReplenishableFrom string   `json:"replenishable_from"`
	PackSize          int      `json:"pack_size"`
	UsageDays         *float64 `json:"usage_days"`
}

// Products come from the e-commerce events sent through /v1 — one in the
// properties or a list in products[] — the latest event's values winning,
// and from the API, whose settings win over the events; a category's
// default decides whether its products are replenishable unless a product
// says otherwise.
func TestCatalog(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		at := func(days int) string { return fixed.AddDate(0, 0, days).Format(time.RFC3339) }
		filter := map[string]any{"product_id": "wf-cart", "sku": "WF-100", "name": "Water filter cartridge", "category": "Water", "brand": "Clearflow",
			"price": 12.5, "image_url": "https://shop.example/img/wf.jpg", "url": "https://shop.example/p/wf-cart"}
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Viewed", "timestamp": at(-5), "properties": filter})
		// A later order renames it; an older event (an import of history) does not.
		renamed := map[string]any{"product_id": "wf-cart", "name": "Water filter cartridge (2-pack)", "quantity": 1, "price": 13}
		gas := map[string]any{"product_id": "gas-230", "name": "Camping gas 230 g", "category": "Fuel", "price": 6, "image_url": "javascript:alert(1)"}
		tent := map[string]any{"sku": "TENT-2P", "name": "Two-person tent", "category": "Tents", "price": 249}
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Order Completed", "timestamp": at(-1),
			"properties": map[string]any{"order_id": "o-1", "products": []any{renamed, gas, tent}}})
		s.MustSend("track", map[string]any{"userId": "bob", "event": "Product Viewed", "timestamp": at(-30),
			"properties": map[string]any{"product_id": "wf-cart", "name": "Old name", "price": 9}})
		s.Sync()

		var got struct{ Products []product }
		if code := s.API("GET", "/api/v1/products", nil, &got); code != 200 || len(got.Products) != 3 {
			t.Fatalf("products: %d %+v", code, got)
		}
		byID := map[string]product{}
		for _, p := range got.Products {
			byID[p.ID] = p
		}
		wf := byID["wf-cart"]
		if wf.Name != renamed["name"] || wf.Price == nil || *wf.Price != float64(renamed["price"].(int)) || wf.SKU != filter["sku"] || wf.Brand != filter["brand"] ||
			wf.ImageURL != filter["image_url"] || wf.URL != filter["url"] || wf.Category != filter["category"] {
			t.Fatalf("water filter: %+v", wf)
		}
		if wf.Replenishable || wf.ReplenishableFrom != "default" || wf.PackSize != 1 {
			t.Fatalf("nothing set: not replenishable, a pack of one: %+v", wf)
		}
		if g := byID["gas-230"]; g.Name != gas["name"] || g.ImageURL != "" {
			t.Fatalf("gas (an image that is not a web address is dropped): %+v", g)
		}
		if tp := byID["TENT-2P"]; tp.Name != tent["name"] || tp.Category != tent["category"] {
			t.Fatalf("a product known by its sku: %+v", tp)
		}

		// The business says what the events cannot.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"id": "wf-cart", "usage_days": 0}, "usage_days"},
			{map[string]any{"id": "wf-cart", "pack_size": 0}, "pack_size"},
			{map[string]any{"id": "", "name": "x"}, "id"},
			{map[string]any{"id": "x", "image_url": "ftp://x/y.jpg"}, "image_url"},
		} {
			var e struct{ Error struct{ Field string } }
			if code := s.API("POST", "/api/v1/products", c.body, &e); code != 400 || e.Error.Field != c.field {
				t.Errorf("POST %v: %d %+v, want 400 naming %s", c.body, code, e, c.field)
			}
		}
		var saved product
		if code := s.API("POST", "/api/v1/products", map[string]any{"id": "wf-cart", "replenishable": true, "pack_size": 2, "usage_days": 30, "name": "Clearflow cartridge"}, &saved); code != 200 ||
			!saved.Replenishable || saved.ReplenishableFrom != "product" || saved.PackSize != 2 || *saved.UsageDays != 30 || saved.Name != "Clearflow cartridge" || saved.Brand != filter["brand"] {
			t.Fatalf("save: %d %+v", code, saved)
		}
		// A field left out keeps what was set.
		if code := s.API("POST", "/api/v1/products", map[string]any{"id": "wf-cart", "brand": "Clearflow Ltd"}, &saved); code != 200 || saved.PackSize != 2 || saved.Name != "Clearflow cartridge" {
			t.Fatalf("partial update: %d %+v", code, saved)
		}
		// A later event does not undo what the business set.
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Viewed", "timestamp": at(0), "properties": map[string]any{"product_id": "wf-cart", "name": "Event name"}})
		s.Sync()
		if s.API("GET", "/api/v1/products/wf-cart", nil, &saved); saved.Name != "Clearflow cartridge" {
			t.Fatalf("after a later event: %+v", saved)
		}
		// A category default; a product only the API knows.
		var cat struct {
			Category      string
			Replenishable bool
			Products      int
		}
		if code := s.API("PUT", "/api/v1/product-categories/Fuel", map[string]any{"replenishable": true}, &cat); code != 200 || !cat.Replenishable || cat.Products != 1 {
			t.Fatalf("category: %d %+v", code, cat)
		}
		var g product
		if s.API("GET", "/api/v1/products/gas-230", nil, &g); !g.Replenishable || g.ReplenishableFrom != "category" {
			t.Fatalf("gas by its category: %+v", g)
		}
		if code := s.API("POST", "/api/v1/products", map[string]any{"id": "gas-450", "name": "Camping gas 450 g", "category": "Fuel"}, &g); code != 200 || !g.Replenishable {
			t.Fatalf("new gas: %d %+v", code, g)
		}
		if code := s.API("POST", "/api/v1/products", map[string]any{"id": "gas-100", "category": "Fuel", "replenishable": false}, &g); code != 200 || g.Replenishable || g.ReplenishableFrom != "product" {
			t.Fatalf("a product overrides its category: %d %+v", code, g)
		}
		if s.API("GET", "/api/v1/products?category=Fuel", nil, &got); len(got.Products) != 3 {
			t.Fatalf("Fuel: %+v", got)
		}
		if code := s.API("GET", "/api/v1/products/nope", nil, nil); code != 404 {
			t.Fatalf("unknown product: %d", code)
		}
	})
}

// Only the catalog names its tables in SQL.
func TestCatalogOwnsItsTables(t *testing.T) {
	sql := regexp.MustCompile(`(?i)\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+(products|product_settings|product_categories)\b`)
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasPrefix(path, filepath.Join(root, "internal", "catalog")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := sql.Find(b); m != nil {
			t.Errorf("%s names a catalog table: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A CSV file of products: valid rows are saved, an empty cell keeps what
// the events said, each refused row names its line and field.
func TestCatalogImport(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Viewed", "timestamp": fixed.Add(-time.Hour).Format(time.RFC3339),
			"properties": map[string]any{"product_id": "gel-12", "name": "Energy gels (12)", "category": "Nutrition"}})
		s.Sync()
		rows := [][]string{
			{"product_id", "name", "category", "replenishable", "pack_size", "usage_days", "price"},
			{"gel-12", "", "", "yes", "12", "2", "18"},
			{"wf-cart", "Water filter cartridge", "Water", "true", "2", "60", ""},
			{"tent-2", "Ridge 2 Tent", "Tents", "no", "", "", "229"},
			{"bad-1", "Bad pack", "", "", "half", "", ""},
			{"bad-2", "Bad flag", "", "maybe", "", "", ""},
		}
		var csv strings.Builder
		for _, r := range rows {
			csv.WriteString(strings.Join(r, ",") + "\n")
		}
		code, body := s.Do("POST", "/api/v1/products", []byte(csv.String()), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
		var res struct {
			Rows, Imported, Refused int
			Errors                  []struct {
				Line  int
				Field string
			}
		}
		if err := json.Unmarshal(body, &res); err != nil || code != 200 || res.Rows != len(rows)-1 || res.Imported != 3 || res.Refused != 2 ||
			res.Errors[0].Line != 5 || res.Errors[0].Field != "pack_size" || res.Errors[1].Line != 6 || res.Errors[1].Field != "replenishable" {
			t.Fatalf("import: %d %s", code, body)
		}
		var p product
		if s.API("GET", "/api/v1/products/gel-12", nil, &p); p.Name != "Energy gels (12)" || p.Category != "Nutrition" || !p.Replenishable || p.PackSize != 12 ||
			*p.UsageDays != 2 || *p.Price != 18 {
			t.Fatalf("gels: %+v", p)
		}
		if s.API("GET", "/api/v1/products/tent-2", nil, &p); p.Replenishable || p.ReplenishableFrom != "product" || p.Name != "Ridge 2 Tent" {
			t.Fatalf("tent: %+v", p)
		}
		if code, _ := s.Do("POST", "/api/v1/products", []byte("name,sku\nx,y\n"), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv"); code != 400 {
			t.Fatalf("a file without ids: %d", code)
		}
	})
}
