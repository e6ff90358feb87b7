-- Orders look for open introductions of their customer.
CREATE INDEX introductions_to ON introductions (to_ref) WHERE converted_at IS NULL;
