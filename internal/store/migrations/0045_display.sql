-- How figures are presented: the reporting currency (one row).
CREATE TABLE display_state (
    currency TEXT NOT NULL
);
INSERT INTO display_state (currency) VALUES ('');
