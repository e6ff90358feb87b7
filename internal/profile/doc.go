// Package profile owns customer profiles: the identity graph that resolves
// every userId, anonymousId, alias, email and phone into one customer, the
// merged traits, the channels a customer used, business accounts and their
// members, and the customer 360 read API.
//
// Its consumer is the only writer of its tables. It imports eventlog, store,
// fault and httpio; it must never import a surface package (api, web, ingest).
package profile
