package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/ingest"
)

// sourceSnippet is a source with the snippet that sends to it; cxloop keeps
// only a hash of each write key, so the snippet is shown when the key is at
// hand: when the source is created, or when an admin pastes its key.
type sourceSnippet struct {
	Source  ingest.Source
	Snippet string
	Created bool
	Rotated bool // a new key: the old one works until Source.OldKeyUntil (0: no more)
}

// sourcesPage lists the sources events come from; admins also get the forms
// that add a web source or show a key's snippet.
func (c *Console) sourcesPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	c.renderSources(w, r, s, http.StatusOK, "", nil)
}

func (c *Console) renderSources(w http.ResponseWriter, r *http.Request, s auth.Session, status int, msg string, shown *sourceSnippet) {
	list, err := c.Sources.List(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	counts, err := ingest.QuarantineCounts(r.Context(), c.DB)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	waiting := 0
	for _, n := range counts {
		waiting += n.N
	}
	data := map[string]any{"Sources": list, "Admin": s.Principal.Can(auth.RoleAdmin), "Shown": shown, "Quarantined": waiting,
		"Base": c.publicURL(r), "AnalyticsJS": ingest.AnalyticsJSVersion()}
	c.render(w, r, status, "sources", view{Title: "Sources", Session: &s, Nav: "sources", Error: msg, Data: data})
}

// sourcesAction creates a web source (POST /sources) or shows the snippet
// of a pasted write key (POST /sources/snippet).
func (c *Console) sourcesAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "sources need the admin role"))
		return
	}
	what := r.PathValue("what")
	if what != "" && what != "snippet" {
		c.fail(w, r, fault.New(fault.NotFound, "nothing to do at /sources/%s", what))
		return
	}
	ctx := r.Context()
	var shown sourceSnippet
	var err error
	var key string
	if what == "snippet" {
		key = strings.TrimSpace(r.PostFormValue("writeKey"))
		if key == "" {
			err = fault.Field("writeKey", "paste the source's write key")
		} else if shown.Source, err = c.Sources.ByKey(ctx, key); fault.Code(err) == fault.Unauthorized {
			err = fault.Field("writeKey", "no source has this write key")
		}
	} else {
		shown.Source, key, err = c.Sources.Create(ctx, r.PostFormValue("name"), "web", "")
		shown.Created = true
		audit.Note(ctx, audit.Change{ResourceID: shown.Source.ID})
	}
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) {
			c.fail(w, r, err)
			return
		}
		msg := fe.Message
		if fe.Field != "" {
			msg = fe.Field + ": " + msg
		}
		c.renderSources(w, r, s, http.StatusBadRequest, msg, nil)
		return
	}
	shown.Snippet = ingest.Snippet(c.publicURL(r), key)
	c.renderSources(w, r, s, http.StatusOK, "", &shown)
}

// publicURL is where shoppers' browsers reach cxloop: the configured public
// URL, else the host this page was asked from.
func (c *Console) publicURL(r *http.Request) string {
	if c.PublicURL != nil {
		if u := strings.TrimRight(c.PublicURL(), "/"); u != "" {
			return u
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
