-- The journey funnel of a period reads the stages from a time on, in
-- time order.
CREATE INDEX an_stages_at ON an_stages (at);
