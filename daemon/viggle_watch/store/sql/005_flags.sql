-- schema version 5: switches every host obeys and a restart keeps: `paused` (a person said
-- `viggle-watch pause`) and `key_refused` (Viggle refused the API key; a check clears it).
-- While one is raised nothing new is submitted or preprocessed; paid work goes on.
CREATE TABLE IF NOT EXISTS flags (
    name   TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    host   TEXT NOT NULL,
    at     REAL NOT NULL
)
