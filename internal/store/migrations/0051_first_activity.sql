-- Insights' "All time" starts its outcomes at the month of the first
-- order, answer or signal (analytics.FirstActivity): MIN over an index
-- is one lookup where it would read each table whole.
CREATE INDEX an_orders_at ON an_orders (at);
CREATE INDEX an_answers_at ON an_answers (at);
CREATE INDEX an_signals_at ON an_signals (at);
