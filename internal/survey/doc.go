// Package survey listens to customers in three rhythms: persistent surveys
// triggered by a touchpoint event, periodic relationship surveys sent to a
// segment on a schedule, and pulse surveys sent once to a sample or a list.
// It owns survey definitions, invitations and the contact policy that keeps
// customers from being over-surveyed, the hosted survey pages (/s/{token}),
// the projection of answers into scores (NPS, CSAT, CES, ACSI) with their
// confidence intervals, and open-text answers with their sentiment (read by
// the text package).
//
// Every answer is a Survey Responded event in the log. The package reads
// profiles only through the profile package's exported service, analyses
// text with the text package and writes its texts and durations in the vocab
// package's words (vocab.Text, vocab.Duration); it must never import the api,
// web or app packages.
package survey
