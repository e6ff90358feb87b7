-- Orders by customer: the cases consumer reads a customer's spend for every
-- case it opens (a VIP's case opens one priority higher) and Recovery
-- whether a complainer ordered again; both scanned every order.
CREATE INDEX orders_customer ON orders (customer_ref, ordered_at);
