package web

import (
	"bytes"
	"net/http"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/survey"
)

// previewSurvey shows the survey's page in a language as a customer sees
// it, with a form that cannot be sent: nothing is recorded. The survey
// page frames it, so it may be framed by the console's own pages only.
func (c *Console) previewSurvey(w http.ResponseWriter, r *http.Request, s auth.Session) {
	sv, err := c.Surveys.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	lang := sv.DefaultLanguage
	for _, l := range sv.Languages {
		if l == r.URL.Query().Get("lang") {
			lang = l
		}
	}
	var buf bytes.Buffer
	if err := survey.Preview(&buf, sv, lang); err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'none'; frame-ancestors 'self'")
	_, _ = buf.WriteTo(w)
}

// surveyQR is a QR code of the survey's open link, as a PNG.
func (c *Console) surveyQR(w http.ResponseWriter, r *http.Request, s auth.Session) {
	sv, err := c.Surveys.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	link, err := c.Surveys.OpenLink(r.Context(), sv.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	png, err := qrcode.Encode(link, qrcode.Medium, 320)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Disposition", `inline; filename="`+sv.ID+`-qr.png"`)
	_, _ = w.Write(png)
}
