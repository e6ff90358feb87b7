package web

import (
	"net/http"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/fault"
)

// productsPage is the catalog: each product with its picture and the
// attributes experiences obey, and the categories' defaults.
func (c *Console) productsPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	category := r.URL.Query().Get("category")
	list, err := c.Catalog.List(ctx, category, 500, 0)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cats, err := c.Catalog.Categories(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "products", view{Title: "Products", Session: &s, Nav: "products", Data: map[string]any{
		"Products": list, "Categories": cats, "Category": category, "Owner": s.Principal.Can(auth.RoleOwner),
	}})
}

// setCategory makes a category's products replenishable or not by default.
func (c *Console) setCategory(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "changing what experiences may do needs the owner role"))
		return
	}
	in := catalog.Category{Category: r.PathValue("category"), Replenishable: r.PostFormValue("replenishable") == "true"}
	if _, err := c.Catalog.SetCategory(r.Context(), in); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/products", http.StatusSeeOther)
}
