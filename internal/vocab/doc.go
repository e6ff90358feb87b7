// Package vocab is the vocabulary capabilities share without depending on
// one another: a text in several languages (Text) and a duration written
// with whole days ("14d", Duration and ParseDuration), as survey
// definitions, rules and alerts spell them.
//
// It imports only the standard library.
package vocab
