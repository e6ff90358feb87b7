-- A customer's score before or after a moment (complaint recovery reads
-- it for every complainer) looks answers up by identity, not by scanning
-- every answer of the metric.
CREATE INDEX survey_scores_user ON survey_scores (user_id, metric, responded_at);
CREATE INDEX survey_scores_anonymous ON survey_scores (anonymous_id, metric, responded_at);
