-- Orders by who placed them: referral revenue reads the orders of the few
-- referred customers (from the referrals, through these indexes) instead of
-- testing every order against the referrals, and the senders-vs-spenders
-- matrix sums spend by customer in the index's order.
CREATE INDEX loyalty_orders_user ON loyalty_orders (user_id, at);
CREATE INDEX loyalty_orders_anonymous ON loyalty_orders (anonymous_id, at);
