// Package eventlog owns the append-only event log — the source of truth for
// everything that happens — and the consumer framework that projects it into
// state tables. Appends are group-committed; consumers commit their state and
// checkpoint in one transaction, and can be replayed from the start.
//
// It imports only internal/store and internal/fault; it must never import a
// capability or a surface package.
package eventlog
