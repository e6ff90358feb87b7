-- The profile consumer looks a batch's identities up by value, whatever their kind.
CREATE INDEX identities_value ON identities (value);
