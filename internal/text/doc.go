// Package text reads customers' free text: the language it is written in,
// its sentiment (positive, neutral, negative, or unknown in a language it
// does not read) and its keywords (Analyze). The survey package analyses
// open-text answers with it, cases the texts its rules match on and social
// mentions, and analytics the negative open answers that signal
// dissatisfaction.
//
// It imports only the standard library.
package text
