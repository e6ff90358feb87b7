-- An import's answer counts the rows a rule fired on, by messageId.
CREATE INDEX rule_firings_message ON rule_firings (message_id);
