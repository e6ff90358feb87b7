// Package web is the console: server-rendered pages from embedded
// html/template files (layouts in templates/common, pages in
// templates/views), session sign-in with CSRF-protected forms, and the
// customer search and customer 360 pages that later pages copy.
//
// It may import capability packages; none may import it.
package web
