// Package catalog owns the product catalog: what the e-commerce events say
// about each product (id, SKU, name, category, brand, price, image, page),
// what the business set through the API, and the attributes that decide
// what the connected experiences may do with a product — whether it is a
// consumable that is replenished (per product, or by its category's
// default), the pack it is sold in and how long a unit usually lasts.
//
// Its consumer is the only writer of the products table; the API writes the
// settings and category defaults. It imports eventlog, store, fault, match
// and httpio; it must never import a surface package (api, web, ingest) nor
// the capabilities that read it (experience).
package catalog
