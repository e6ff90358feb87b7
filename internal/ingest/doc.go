// Package ingest is the Segment-compatible collection surface (/v1/*): write
// keys and sources, request limits, message validation and normalisation
// (ids, clock skew, channel), the quarantine for refused messages, and the
// append of accepted messages to the event log. It also serves what a web
// page loads from cxloop (web.go): the vendored analytics.js, its settings
// and chunks, RudderStack's source configuration, and the snippet.
//
// It imports eventlog, store, fault, and privacy and audit (to carry out and
// record erasures); it must never import another capability package, which
// learn of events only through the log.
package ingest
